"""Import lm-evaluation-harness sample logs (``--log_samples``: ``samples_<task>_<date>.jsonl``).

Every element of a document's ``resps`` is one sample (see docs/importers/lm-eval.md):

- **multiple-choice** (log-likelihood) tasks: ``resps`` holds one list per option with one
  ``[loglikelihood, is_greedy]`` pair per repeat; repeat r becomes a sample whose probabilities are the
  softmax of the options' log-likelihoods (lm-eval's ``acc`` picks their argmax).
- **generation** tasks: ``resps`` is ``[[text_1, ..., text_R]]`` (``repeats: R``); each text is a sample.
  Its answer is extracted with the task's filter, re-applied per repeat (``regex``, ``remove_whitespace``,
  ``lowercase``, ``uppercase``; reducers such as ``take_first`` are skipped), and scored with the task's
  ``exact_match`` options. These are open-ended samples: the text is kept in ``raw_output`` and correctness
  is a 2-option question (correct option 0), as for Inspect's open-ended scorers. An answer the filter could
  not extract (lm-eval's ``[invalid]``) is invalid.

Documents are grouped by ``doc_id``. The ``results_<date>.json`` file beside the samples (when present)
gives the model name, the task config (filters, metric options, ``repeats``, ``doc_to_choice``) and the seeds.
``resps`` that do not fit a document — another number of log-likelihoods than it has choices (by its
``arguments`` or the config's ``doc_to_choice``), or another number of repeats than ``repeats`` (or than the
other documents) — stop the import.

Files from different few-shot seeds are different contexts: ``context_id`` is the fewshot seed (0 for
zero-shot runs; a number derived from the file's hash when the seed is unknown), and the run id is derived
from the file's hash, so importing the same file twice adds nothing; a file already stored under the same
(model, task) with other options (``--filter``, ``--context-id``, ``--budget``, ``--tokenizer``) is refused
(see :func:`~hotmess.importers.write_imported`).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from hotmess._extras import install_hint
from hotmess.data.schema import Sample
from hotmess.data.store import RunStore
from hotmess.errors import InputError
from hotmess.importers._common import (
    ImportedLog,
    ImportReport,
    Kind,
    check_paths,
    dataset_run_id,
    file_digest,
    write_imported,
)
from hotmess.importers._lm_eval_extract import Extractor, exact_match, make_extractor
from hotmess.importers._lm_eval_records import doc_records, record_rows

__all__ = ["hf_token_counter", "import_lm_eval", "read_lm_eval_samples"]

_NAME = re.compile(r"^samples_(?P<task>.+)_(?P<date>\d{4}-\d{2}-\d{2}T[0-9\-.:]+)\.jsonl$")
_HINT = "pass a samples_<task>_<date>.jsonl file written by `lm_eval --log_samples`"
_TEXT_FIELDS = ("question", "query", "problem", "prompt", "text", "input", "sentence", "ctx")


def read_lm_eval_samples(
    path: str | Path,
    *,
    model: str | None = None,
    task: str | None = None,
    filter_name: str | None = None,
    context_id: int | None = None,
    budget: str = "",
    token_counter: Callable[[str], int] | None = None,
) -> ImportedLog:
    """Read and validate one lm-eval samples file (nothing is written).

    Parameters
    ----------
    path
        ``samples_<task>_<date>.jsonl``.
    model, task
        Override the names (default: ``model_name`` of the results file, else the folder name; the task
        from the file name). Other names than these make a separately named dataset, with a run id of its own.
    filter_name
        Which filter's records to read when the task has several (default: the first in the file).
    context_id
        Override the context id (default: the fewshot seed, see the module docstring).
    budget
        Budget label stored with the samples.
    token_counter
        Counts the output tokens of a generation (e.g. :func:`hf_token_counter`; ``length_source`` is then
        ``"tokenizer"``); without one ``output_tokens`` and ``length_source`` stay empty (lm-eval does not log
        token counts, nor why generation stopped). Its ``name`` attribute, when it has one, is saved with the
        run (:func:`hf_token_counter` sets the tokenizer folder).

    Raises
    ------
    hotmess.errors.InputError
        Not JSONL, truncated, not lm-eval sample records, unsupported output type, inconsistent ``resps``.
    """
    p = Path(path)
    if not p.exists():
        raise InputError(f"{p} does not exist", hint="check the path")
    if p.suffix.lower() != ".jsonl":
        raise InputError(f"{p}: unsupported file type '{p.suffix}'", hint=_HINT)
    records = _records(p)
    m = _NAME.match(p.name)
    task_name = task or (m.group("task") if m else p.stem)
    results = _results(p, m.group("date") if m else None)
    cfg: dict[str, Any] = dict((results.get("configs") or {}).get(m.group("task") if m else task_name) or {})
    run_cfg: dict[str, Any] = dict(results.get("config") or {})
    filters = list(dict.fromkeys(str(r.get("filter", "none")) for _, r in records))
    chosen = filter_name or filters[0]
    if chosen not in filters:
        raise InputError(f"{p}: no records for filter {chosen!r}", hint=f"choose among {', '.join(filters)}")
    records = [(i, r) for i, r in records if str(r.get("filter", "none")) == chosen]
    warnings: list[str] = []
    if len(filters) > 1:
        warnings.append(
            f"{p}: read filter {chosen!r}; the file also has {', '.join(f for f in filters if f != chosen)}"
        )
    # documents scored by hotmess.integrations.lm_eval carry their repeats as records: read them as lm-eval did
    native = all(doc_records(r) is not None for _, r in records)
    kind = _native_kind(p, records) if native else _kind(p, cfg, records)
    digest = file_digest(p)
    base_id = f"lm-eval-{digest[:16]}" + (f"-{chosen}" if len(filters) > 1 else "")
    n_shot = (results.get("n-shot") or {}).get(m.group("task") if m else task_name, cfg.get("num_fewshot"))
    if context_id is None:
        if n_shot == 0:
            context_id = 0
        elif isinstance(run_cfg.get("fewshot_seed"), int):
            context_id = int(run_cfg["fewshot_seed"])
        else:
            context_id = int(digest[:7], 16)
            warnings.append(f"{p}: fewshot seed unknown (no results file); context id {context_id} from the file hash")
    own = (_model_name(results, p), m.group("task") if m else p.stem)
    model_name = model or own[0]
    run_id = dataset_run_id(base_id, model_name, task_name, own)
    base = {"run_id": run_id, "model": model_name, "task": task_name, "context_id": context_id, "budget": budget}
    seen: set[int] = set()
    rows: list[dict[str, Any]] = []
    questions: list[dict[str, Any]] = []
    metric_opts: dict[str, Any] = {}
    if native:
        convert = _native_rows
        extractor = Extractor(description="hotmess records")
    elif kind == "multiple-choice":
        convert = _mc_rows
        extractor = Extractor()
    else:
        convert = _gen_rows
        extractor, metric_opts = _gen_config(p, cfg, chosen, warnings)
    mismatches = 0
    repeats: list[tuple[int, str]] = []  # expected repeats per document, and who says so
    if _count(cfg.get("repeats")):
        repeats.append((int(cfg["repeats"]), "the task config says repeats:"))
    for line_no, rec in records:
        doc_id = rec["doc_id"]
        if doc_id in seen:
            raise InputError(f"{p}: line {line_no}: doc_id {doc_id} appears twice for filter {chosen!r}", hint=_HINT)
        seen.add(doc_id)
        where = f"{p}: line {line_no}"
        if not native:
            _check_resps(where, rec, kind, cfg, repeats, line_no)
        q_rows, q, mismatch = convert(where, rec, base, extractor, metric_opts, token_counter, run_cfg)
        mismatches += mismatch
        rows.extend(q_rows)
        questions.append({"task": task_name, "question_id": str(doc_id), **q})
    if mismatches:
        warnings.append(
            f"{p}: for {mismatches} document(s) the re-applied filter/metric disagrees with lm-eval's own first repeat"
        )
    config = {
        "source": "lm-eval",
        "file": str(p),
        "sha256": digest,
        "task": task_name,
        "model": model_name,
        "kind": kind,
        "filter": chosen,
        "extraction": extractor.description,
        "output_type": cfg.get("output_type"),
        "num_fewshot": n_shot,
        "context_id": context_id,
        "seeds": {k: run_cfg.get(k) for k in ("random_seed", "numpy_seed", "torch_seed", "fewshot_seed")},
        "model_args": run_cfg.get("model_args"),
        "lm_eval_version": results.get("lm_eval_version"),
        "repeats": cfg.get("repeats"),
    }
    # the options that decide keys or stored values: one set per (file, model, task) in a store
    options: dict[str, Any] = {"--filter": chosen, "--context-id": context_id, "--budget": budget}
    if kind == "open-ended" or native:
        options["--tokenizer"] = None if token_counter is None else str(getattr(token_counter, "name", "custom"))
    return ImportedLog(
        source=str(p),
        run_id=run_id,
        kind=kind,
        model=model_name,
        task=task_name,
        samples=tuple(Sample(**r) for r in rows),
        questions=tuple(questions),
        config=config,
        warnings=tuple(warnings),
        source_id=f"lm-eval:{digest}",
        options=options,
    )


def import_lm_eval(paths: Sequence[str | Path], store: str | Path | RunStore, **options: Any) -> ImportReport:
    """Read every samples file in ``paths`` (files, or folders searched for ``samples_*.jsonl``), then write.

    ``options`` are those of :func:`read_lm_eval_samples`. A bad file raises before anything is written.

    Examples
    --------
    >>> report = import_lm_eval(["out/"], "runs.sqlite")  # doctest: +SKIP
    """
    files = check_paths(paths, (".jsonl",), "lm-eval samples files")  # a file of another type is refused
    return write_imported(store, [read_lm_eval_samples(f, **options) for f in files])


def hf_token_counter(path: str | Path, *, gguf_file: str | None = None) -> Callable[[str], int]:
    """Token counter from a local Hugging Face tokenizer (offline; ``gguf_file`` for GGUF checkpoints)."""
    if not Path(path).is_dir():
        raise InputError(f"tokenizer path {path} is not a folder", hint="pass a local Hugging Face model folder")
    try:
        from transformers import AutoTokenizer
    except ImportError:
        raise InputError("counting tokens needs transformers", hint=install_hint("local")) from None
    kwargs: dict[str, Any] = {"local_files_only": True}
    if gguf_file:
        kwargs["gguf_file"] = gguf_file
    try:
        tok = AutoTokenizer.from_pretrained(str(path), **kwargs)
    except Exception as exc:
        reason = " ".join(str(exc).split())[:300]  # transformers' messages span lines
        raise InputError(
            f"no tokenizer could be loaded from {path}: {reason}", hint="pass a local model folder"
        ) from None

    def count(text: str) -> int:
        return len(tok(text, add_special_tokens=False)["input_ids"])

    count.name = str(path) + (f"::{gguf_file}" if gguf_file else "")  # type: ignore[attr-defined]
    return count


# -- pieces ------------------------------------------------------------------------------------------------


def _records(p: Path) -> list[tuple[int, dict[str, Any]]]:
    out: list[tuple[int, dict[str, Any]]] = []
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{p} is not a UTF-8 text file", hint=_HINT) from None
    for i, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"{p}: line {i} is not valid JSON (truncated?): {exc.msg}", hint=_HINT) from None
        if (
            not isinstance(rec, dict)
            or not isinstance(rec.get("doc_id"), int)
            or not isinstance(rec.get("resps"), list)
        ):
            raise InputError(f"{p}: line {i} is not an lm-eval sample record (no doc_id/resps)", hint=_HINT)
        if "target" not in rec:
            raise InputError(f"{p}: line {i} has no target", hint=_HINT)
        out.append((i, rec))
    if not out:
        raise InputError(f"{p} holds no sample records", hint=_HINT)
    return out


def _results(p: Path, date: str | None) -> dict[str, Any]:
    if date is None:
        return {}
    f = p.with_name(f"results_{date}.json")
    if not f.exists():
        return {}
    try:
        data = json.loads(f.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(
            f"{f} (the results file of {p.name}) is not valid JSON: {exc}", hint="restore or remove it"
        ) from None
    return data if isinstance(data, dict) else {}


def _model_name(results: Mapping[str, Any], p: Path) -> str:
    name = results.get("model_name")
    args = (results.get("config") or {}).get("model_args")
    if isinstance(name, str) and name:
        if "/" in name and Path(name).is_absolute():  # a local folder: keep its last part (and the GGUF file)
            name = Path(name).name
            if isinstance(args, Mapping) and args.get("gguf_file"):
                name = f"{name}/{args['gguf_file']}"
        return name
    return p.parent.name


def _kind(p: Path, cfg: Mapping[str, Any], records: list[tuple[int, dict[str, Any]]]) -> Kind:
    out_type = cfg.get("output_type")
    if out_type == "multiple_choice":
        return "multiple-choice"
    if out_type == "generate_until":
        return "open-ended"
    if out_type in ("loglikelihood", "loglikelihood_rolling"):
        raise InputError(
            f"{p}: output type {out_type!r} has no options or answers to decompose",
            hint="import multiple_choice or generate_until tasks",
        )
    first = records[0][1]["resps"]
    if len(first) == 1 and isinstance(first[0], list) and all(isinstance(x, str) for x in first[0]):
        return "open-ended"
    if len(first) >= 2 and all(isinstance(x, list) and x and isinstance(x[0], list) for x in first):
        return "multiple-choice"
    raise InputError(f"{p}: cannot tell the task type from resps of doc {records[0][1]['doc_id']}", hint=_HINT)


def _native_kind(p: Path, records: list[tuple[int, dict[str, Any]]]) -> Kind:
    first = (doc_records(records[0][1]) or [{}])[0]
    kind = first.get("kind") if isinstance(first, Mapping) else None
    if kind not in ("multiple-choice", "open-ended"):
        raise InputError(f"{p}: line {records[0][0]}: hotmess record of unknown kind {kind!r}", hint=_HINT)
    return kind


def _native_rows(
    where: str,
    rec: Mapping[str, Any],
    base: Mapping[str, Any],
    extractor: Extractor,
    metric_opts: Mapping[str, Any],
    token_counter: Callable[[str], int] | None,
    run_cfg: Mapping[str, Any],
) -> tuple[list[dict[str, Any]], dict[str, Any], int]:
    seed = run_cfg.get("torch_seed") if isinstance(run_cfg.get("torch_seed"), int) else None
    _, rows, q = record_rows(where, rec, doc_records(rec) or [], base, seed)
    for row in rows:
        text = row["raw_output"]
        row["output_tokens"] = token_counter(text) if token_counter else None
        row["length_source"] = "tokenizer" if token_counter else None
    q["text"] = _doc_text(rec)
    return rows, q, 0


def _count(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v > 0


def _doc_field(doc: Any, path: str) -> Any:
    """``doc["a"]["b"]`` for ``"a.b"`` (None when missing)."""
    for part in path.split("."):
        if not isinstance(doc, Mapping) or part not in doc:
            return None
        doc = doc[part]
    return doc


def _n_choices(rec: Mapping[str, Any], cfg: Mapping[str, Any]) -> list[tuple[int, str]]:
    """How many choices the document has, by each source that tells: its arguments, the config's doc_to_choice."""
    out: list[tuple[int, str]] = []
    args = rec.get("arguments")
    by_request = isinstance(args, Mapping) and all(re.fullmatch(r"gen_args_\d+", str(k)) for k in args)
    if args and (by_request or isinstance(args, list)):  # one log-likelihood request per choice
        out.append((len(args), "the document's arguments"))
    spec = cfg.get("doc_to_choice")
    if isinstance(spec, list) and spec:
        out.append((len(spec), "the task config's doc_to_choice"))
    elif isinstance(spec, str):
        m = re.fullmatch(r"\s*(?:\{\{\s*)?([A-Za-z_][\w.]*)(?:\s*\}\})?\s*", spec)
        value = _doc_field(rec.get("doc"), m.group(1)) if m else None
        if isinstance(value, list) and value:
            out.append((len(value), f"the doc's {m.group(1) if m else spec!r} field, the config's doc_to_choice"))
    return out


def _check_resps(
    where: str, rec: Mapping[str, Any], kind: Kind, cfg: Mapping[str, Any], repeats: list[tuple[int, str]], line: int
) -> None:
    """Refuse resps that do not fit the document: options vs its choices, repeats vs the config (or doc 1)."""
    resps = rec["resps"]
    if kind == "multiple-choice":
        if not resps or not all(isinstance(o, list) and o for o in resps):
            return  # malformed: the converter says how
        for n, source in _n_choices(rec, cfg):
            if n != len(resps):
                raise InputError(
                    f"{where}: expected {n} option(s) (from {source}), found {len(resps)} in resps",
                    hint="the file is inconsistent: re-run lm_eval --log_samples",
                )
        found = len(resps[0])
    elif len(resps) == 1 and isinstance(resps[0], list):
        found = len(resps[0])
    else:
        return
    if not repeats:
        repeats.append((found, f"line {line} has"))
    elif found != repeats[0][0]:
        n, source = repeats[0]
        raise InputError(
            f"{where}: expected {n} repeat(s) ({source} {n}), found {found} in resps",
            hint="the file is inconsistent: re-run lm_eval --log_samples",
        )


def _gen_config(p: Path, cfg: Mapping[str, Any], chosen: str, warnings: list[str]) -> tuple[Extractor, dict[str, Any]]:
    filters = {str(f.get("name")): f.get("filter") for f in cfg.get("filter_list") or [] if isinstance(f, Mapping)}
    if chosen in filters:
        extractor = make_extractor(filters[chosen])
    elif chosen == "none":
        extractor = Extractor()
    else:
        extractor = Extractor(exact=False, description="raw response (filter config not found)")
    if not extractor.exact:
        warnings.append(f"{p}: answers are the {extractor.description}")
    metrics = [m for m in cfg.get("metric_list") or [] if isinstance(m, Mapping)]
    em = next((m for m in metrics if m.get("metric") == "exact_match"), None)
    if em is None:
        warnings.append(f"{p}: no exact_match metric in the task config; repeats scored by plain exact match")
    opts = {k: v for k, v in (em or {}).items() if k not in ("metric", "aggregation", "higher_is_better")}
    return extractor, opts


def _mc_rows(
    where: str,
    rec: Mapping[str, Any],
    base: Mapping[str, Any],
    extractor: Extractor,
    metric_opts: Mapping[str, Any],
    token_counter: Callable[[str], int] | None,
    run_cfg: Mapping[str, Any],
) -> tuple[list[dict[str, Any]], dict[str, Any], int]:
    resps = rec["resps"]
    C = len(resps)
    if C < 2 or not all(isinstance(o, list) and o for o in resps):
        raise InputError(f"{where}: expected one list of log-likelihoods per option, got {str(resps)[:80]}", hint=_HINT)
    R = len(resps[0])
    if any(len(o) != R for o in resps):
        raise InputError(f"{where}: options have different numbers of repeats", hint=_HINT)
    try:
        ll = np.array([[float(o[r][0] if isinstance(o[r], list) else o[r]) for o in resps] for r in range(R)])
    except (TypeError, ValueError, IndexError):
        raise InputError(f"{where}: log-likelihoods are not numbers: {str(resps)[:80]}", hint=_HINT) from None
    continuations = _continuations(rec, C)
    correct = _mc_target(where, rec, continuations, C)
    rows = []
    for r in range(R):
        finite = np.isfinite(ll[r])
        row = {**base, "question_id": str(rec["doc_id"]), "sample_index": r, "n_options": C, "correct": correct}
        if not finite.any() or np.isnan(ll[r]).any():
            # a broken score is a failure of the harness, not an answer: an error row, never scored
            rows.append(
                {
                    **row,
                    "answer": -1,
                    "valid": False,
                    "raw_output": json.dumps([None if np.isnan(x) else float(x) for x in ll[r]]),
                    "error": "lm-eval log-likelihoods are NaN or all -inf",
                }
            )
            continue
        z = np.where(finite, ll[r] - ll[r][finite].max(), -np.inf)
        probs = np.exp(z) / np.exp(z).sum()
        rows.append(
            {
                **row,
                "answer": int(np.argmax(probs)),
                "valid": True,
                "probs": tuple(float(x) for x in probs),
                "raw_output": "loglikelihoods: " + json.dumps([round(float(x), 6) for x in ll[r]]),
            }
        )
    q = {
        "text": _doc_text(rec),
        "options": continuations,
        "correct": correct,
        "metadata": {"kind": "multiple-choice", "source": "lm-eval", "doc_hash": rec.get("doc_hash")},
    }
    return rows, q, 0


def _continuations(rec: Mapping[str, Any], C: int) -> list[str]:
    args = rec.get("arguments")
    out: list[str] = []
    if isinstance(args, Mapping):
        for i in range(C):
            a = args.get(f"gen_args_{i}")
            out.append(str(a.get("arg_1", "")).strip() if isinstance(a, Mapping) else "")
    elif isinstance(args, list):  # older lm-eval: [[context, continuation], ...]
        out = [str(a[1]).strip() if isinstance(a, list) and len(a) > 1 else "" for a in args[:C]]
    return out if len(out) == C else [""] * C


def _mc_target(where: str, rec: Mapping[str, Any], continuations: list[str], C: int) -> int:
    t = rec["target"]
    if isinstance(t, bool):
        t = int(t)
    if isinstance(t, str) and t.strip().lstrip("-").isdigit():
        t = int(t.strip())
    if isinstance(t, int):
        if 0 <= t < C:
            return t
    elif isinstance(t, str) and t.strip() in continuations:
        return continuations.index(t.strip())
    raise InputError(f"{where}: target {rec['target']!r} is not one of the {C} options", hint=_HINT)


def _gen_rows(
    where: str,
    rec: Mapping[str, Any],
    base: Mapping[str, Any],
    extractor: Extractor,
    metric_opts: Mapping[str, Any],
    token_counter: Callable[[str], int] | None,
    run_cfg: Mapping[str, Any],
) -> tuple[list[dict[str, Any]], dict[str, Any], int]:
    resps = rec["resps"]
    if len(resps) != 1 or not isinstance(resps[0], list) or not all(isinstance(x, str) for x in resps[0]):
        raise InputError(
            f"{where}: expected resps [[text, ...]] for a generation task, got {str(resps)[:80]}", hint=_HINT
        )
    texts: list[str] = resps[0]
    target = rec["target"]
    refs = [str(x) for x in target] if isinstance(target, list) else str(target)
    filtered = rec.get("filtered_resps")
    per_repeat = None
    if isinstance(filtered, list) and len(filtered) == 1 and isinstance(filtered[0], list):
        filtered = filtered[0]
    if isinstance(filtered, list) and len(filtered) == len(texts) > 1 and all(isinstance(x, str) for x in filtered):
        per_repeat = filtered  # the filter kept every repeat: use lm-eval's own extraction
    seed = run_cfg.get("torch_seed") if isinstance(run_cfg.get("torch_seed"), int) else None
    rows = []
    correct_first: bool | None = None
    for r, text in enumerate(texts):
        if per_repeat is not None:
            answer_text, ok = per_repeat[r], per_repeat[r] != "[invalid]"
        else:
            answer_text, ok = extractor(text)
        hit = ok and exact_match(answer_text, refs, metric_opts)
        if r == 0:
            correct_first = hit if ok else False
        rows.append(
            {
                **base,
                "question_id": str(rec["doc_id"]),
                "sample_index": r,
                "seed": seed,
                "kind": "open-ended",  # a right/wrong two-option question: never pooled with multiple choice
                "n_options": 2,
                "correct": 0,
                "answer": (0 if hit else 1) if ok else -1,
                "valid": ok,
                "raw_output": text,
                "output_tokens": token_counter(text) if token_counter else None,
                "length_source": "tokenizer" if token_counter else None,
            }
        )
    mismatch = 0
    logged = rec.get("exact_match")
    # lm-eval's metric is that of the first repeat only when the filter takes it (not a majority vote)
    first_logged = extractor.takes_first or len(texts) == 1
    if per_repeat is None and extractor.exact and first_logged and isinstance(logged, int | float):
        value = float(logged)
        mismatch = int(math.isfinite(value) and (value >= 0.5) != bool(correct_first))
    q = {
        "text": _doc_text(rec),
        "options": ["correct", "incorrect"],
        "correct": 0,
        "metadata": {"kind": "open-ended", "source": "lm-eval", "target": target, "doc_hash": rec.get("doc_hash")},
    }
    return rows, q, mismatch


def _doc_text(rec: Mapping[str, Any]) -> str:
    doc = rec.get("doc")
    if isinstance(doc, Mapping):
        for k in _TEXT_FIELDS:
            if isinstance(doc.get(k), str):
                return str(doc[k])
    args = rec.get("arguments")
    if isinstance(args, Mapping) and isinstance(args.get("gen_args_0"), Mapping):
        return str(args["gen_args_0"].get("arg_0", ""))
    return ""
