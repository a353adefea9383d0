"""Import Inspect logs (``.eval`` / ``.json``): one hotmess sample per (sample id, epoch).

Which kind of task a log is follows from its scorer (see docs/importers/inspect.md):

- **multiple-choice** — the ``choice`` scorer: the score's ``answer`` letter (already mapped back to the
  original option order when Inspect shuffled the choices) becomes the option index; the sample's target
  letter is the correct option; an empty answer (no ``ANSWER: X`` found) is invalid.
- **test-vector** — a scorer that reports per-test FAIL_TO_PASS / PASS_TO_PASS results (inspect_evals'
  ``swe_bench_scorer`` and similar): ``test_outcomes`` holds one 0/1 per test; a run that hit a limit
  (``sample.limit``) or failed (``sample.error``) counts its tests as unchanged: PASS_TO_PASS pass,
  FAIL_TO_PASS fail (``limit_hits="logged"`` keeps the test report a limit-hit run has).
- **open-ended** — any other scorer (``match``, ``includes``, ``model_graded_qa``, ...): the answer text is
  kept in ``raw_output`` (for embedding variance) and correctness becomes a 2-option question whose correct
  option is 0: ``C`` (or 1/true) → answer 0, ``I`` (0/false) → answer 1; ``P`` and fractional scores s become
  the probability vector (s, 1−s); ``N`` (no answer) is invalid.

A score whose value is NaN (Inspect's "unscored" sentinel) or null (how older Inspect versions wrote it) is
not scored: an error row, as a sample without a score.

Every sample also records output and reasoning tokens (summed over the sample's model calls of the evaluated
model) and ``actions`` = the number of assistant messages (model turns; the length axis of agent runs).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from hotmess.data.schema import Sample
from hotmess.data.store import RunStore
from hotmess.errors import InputError
from hotmess.importers._common import (
    ImportedLog,
    ImportReport,
    Kind,
    dataset_run_id,
    find_inputs,
    write_imported,
)
from hotmess.importers._inspect_files import NotAnInspectLogError, Reader, non_log_reason, read_raw_log
from hotmess.importers._inspect_records import has_records, record_rows
from hotmess.importers._tests import TestResults, parse_test_results, sample_test_lists, task_test_vectors
from hotmess.integrations._core import target_letters

__all__ = ["import_inspect", "read_inspect_log"]

KindOption = Literal["auto", "multiple-choice", "open-ended", "test-vector"]
LimitHits = Literal["baseline", "logged"]
_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_VALUE_FLOAT = {"C": 1.0, "I": 0.0, "P": 0.5}


def read_inspect_log(
    path: str | Path,
    *,
    scorer: str | None = None,
    kind: KindOption = "auto",
    model: str | None = None,
    task: str | None = None,
    budget: str | None = None,
    errors_as_unchanged: bool = True,
    reader: Reader = "auto",
    limit_hits: LimitHits = "baseline",
) -> ImportedLog:
    """Read and validate one Inspect log (nothing is written).

    Parameters
    ----------
    path
        A ``.eval`` or ``.json`` log.
    scorer
        Which scorer's scores to use when there are several (default: the log's first scorer).
    kind
        Force "multiple-choice", "open-ended" or "test-vector" instead of deciding from the scorer.
    model, task, budget
        Override the names stored with the samples (default: the log's model and task; the budget is the
        generate config's ``reasoning_effort`` or ``reasoning_tokens``, else ""). Other names than the log's
        make a separately named dataset, with a run id of its own.
    errors_as_unchanged
        Test-vector logs: count samples that failed with an error as "tests unchanged" (as limit hits). When
        false they become error rows, which are never scored.
    reader
        "auto" (Inspect's reader when installed), "inspect" or "builtin" (zipfile + zstandard).
    limit_hits
        Test-vector logs: "baseline" (default) gives a run that hit a limit (``sample.limit``) the baseline
        vector (PASS_TO_PASS pass, FAIL_TO_PASS fail); "logged" keeps the test report the scorer logged for
        it (a limit-hit run without one falls back to the baseline, with a warning).

    Returns
    -------
    ImportedLog
        With run id ``inspect-<eval_id>`` (plus a hash of the names when ``model`` or ``task`` rename the
        dataset): importing the same log again (either format) adds nothing.

    Raises
    ------
    hotmess.errors.InputError
        Not an Inspect log, truncated/corrupt, no samples, unknown scorer, or scores that do not fit the kind.
    """
    p = Path(path)
    if not p.exists():
        raise InputError(f"{p} does not exist", hint="check the path")
    if limit_hits not in ("baseline", "logged"):
        raise InputError(f"unknown limit_hits {limit_hits!r}", hint="use baseline or logged")
    raw = read_raw_log(p, reader)
    header, samples = raw["header"], raw["samples"]
    spec: dict[str, Any] = header["eval"]
    eval_id = str(spec.get("eval_id") or spec.get("run_id") or "")
    if not eval_id:
        raise InputError(f"{p}: the log has no eval_id", hint="pass a log written by `inspect eval`")
    scorer_name = _pick_scorer(p, spec, samples, scorer)
    model_name = model or str(spec["model"])
    task_name = task or str(spec["task"])
    gen_cfg = spec.get("model_generate_config") or {}
    budget_label = budget if budget is not None else _budget(gen_cfg)
    seed = gen_cfg.get("seed") if isinstance(gen_cfg.get("seed"), int) else None
    scores = [(s.get("scores") or {}).get(scorer_name) for s in samples]
    # scores of hotmess.integrations.inspect.hotmess_scorer carry the sample itself: read it as the metrics did
    from_records = kind == "auto" and has_records(scores)
    resolved: Any = kind
    if kind == "auto" and not from_records:
        resolved = _decide_kind(p, scorer_name, samples, scores)
    run_id = dataset_run_id(f"inspect-{eval_id}", model_name, task_name, (str(spec["model"]), str(spec["task"])))
    common: list[dict[str, Any]] = []
    for s in samples:
        tokens, reasoning = _usage(s, str(spec["model"]))
        common.append(
            {
                "run_id": run_id,
                "model": model_name,
                "task": task_name,
                "question_id": str(s["id"]),
                "context_id": 0,
                "sample_index": int(s["epoch"]) - 1,
                "budget": budget_label,
                "seed": seed,
                "raw_output": _completion(s),
                "output_tokens": tokens,
                "length_source": "api" if tokens is not None else None,  # the sample's own model usage
                "reasoning_tokens": reasoning,
                "finish_reason": _stop_reason(s),
                "actions": sum(1 for m in s.get("messages") or [] if m.get("role") == "assistant"),
            }
        )
    warnings: list[str] = list(raw.get("notes") or [])
    if from_records:
        resolved, rows, questions = record_rows(p, samples, scores, common, task_name, _input_text, warnings)
    elif resolved == "multiple-choice":
        rows, questions = _multiple_choice(p, samples, scores, common, task_name)
    elif resolved == "open-ended":
        rows, questions = _open_ended(p, samples, scores, common, task_name)
    elif resolved == "test-vector":
        rows, questions = _test_vector(
            p, samples, scores, common, task_name, errors_as_unchanged, limit_hits == "logged", warnings
        )
    else:
        raise InputError(f"unknown kind {kind!r}", hint="use auto, multiple-choice, open-ended or test-vector")
    n_limit_hits = sum(1 for s in samples if s.get("limit"))
    n_errors = sum(1 for s in samples if s.get("error"))
    # the options that decide keys or stored values: one set per (log, model, task) in a store
    options: dict[str, Any] = {"--kind": resolved, "--scorer": scorer_name, "--budget": budget_label}
    if resolved == "test-vector" and n_errors:
        options["--errors-as-rows"] = not errors_as_unchanged
    if resolved == "test-vector" and n_limit_hits:
        options["--limit-hits"] = limit_hits
    config = {
        "source": "inspect",
        "log": str(p),
        "format": p.suffix.lstrip("."),
        "eval_id": eval_id,
        "inspect_run_id": spec.get("run_id"),
        "task": spec.get("task"),
        "model": spec.get("model"),
        "scorer": scorer_name,
        "kind": resolved,
        "epochs": (spec.get("config") or {}).get("epochs"),
        "status": header.get("status"),
        "samples": len(samples),
        "limit_hits": n_limit_hits,
        "limit_hits_as": limit_hits if resolved == "test-vector" else None,
        "errors": n_errors,
        "generate_config": gen_cfg,
        "packages": spec.get("packages"),
    }
    if header.get("status") not in (None, "success"):
        warnings.append(f"{p}: log status is {header.get('status')!r}; only the samples it holds were read")
    return ImportedLog(
        source=str(p),
        run_id=run_id,
        kind=resolved,
        model=model_name,
        task=task_name,
        samples=tuple(Sample(**r) for r in rows),
        questions=tuple(questions),
        config=config,
        warnings=tuple(warnings),
        source_id=f"inspect:{eval_id}",
        options=options,
    )


def import_inspect(
    paths: Sequence[str | Path],
    store: str | Path | RunStore,
    **options: Any,
) -> ImportReport:
    """Read every log in ``paths`` (files or folders of ``.eval``/``.json``), then write them all at once.

    ``options`` are those of :func:`read_inspect_log`. A bad file raises before anything is written. In a
    folder, ``.json`` files that are not Inspect logs (``eval-set.json`` and ``logs.json`` written by
    ``eval_set()``, an lm-eval results file, ...) are skipped with a note in the report's warnings; a file
    named in ``paths`` must be a log.

    Examples
    --------
    >>> report = import_inspect(["logs/"], "runs.sqlite")  # doctest: +SKIP
    >>> report.n_new, report.n_already_stored  # doctest: +SKIP
    (24, 0)
    """
    logs: list[ImportedLog] = []
    notes: list[str] = []
    for f, in_folder in find_inputs(paths, (".eval", ".json"), "Inspect logs"):
        if not (in_folder and f.suffix.lower() == ".json"):
            logs.append(read_inspect_log(f, **options))
            continue
        why = non_log_reason(f)
        if why is not None:
            notes.append(f"{f}: skipped, not an Inspect log ({why})")
            continue
        try:
            logs.append(read_inspect_log(f, **options))
        except NotAnInspectLogError:
            notes.append(f"{f}: skipped, not an Inspect log (no eval spec with task and model)")
    if not logs:
        raise InputError(
            f"{', '.join(str(p) for p in paths)}: no Inspect logs found ({len(notes)} other .json file(s) skipped)",
            hint="pass a folder of logs written by `inspect eval` or `eval_set()`",
        )
    return write_imported(store, logs, notes=notes)


# -- pieces ------------------------------------------------------------------------------------------------


def _pick_scorer(path: Path, spec: Mapping[str, Any], samples: list[dict[str, Any]], scorer: str | None) -> str:
    names = [str(sc.get("name")) for sc in spec.get("scorers") or [] if isinstance(sc, Mapping)]
    seen = list(dict.fromkeys(k for s in samples for k in (s.get("scores") or {})))
    available = list(dict.fromkeys([*names, *seen]))
    if scorer is not None:
        if scorer not in seen:
            raise InputError(
                f"{path}: no scores from scorer {scorer!r}", hint=f"choose among {', '.join(available) or '(none)'}"
            )
        return scorer
    for name in available:
        if name in seen:
            return name
    raise InputError(f"{path}: no sample was scored", hint="score the log first (`inspect score`)")


def _decide_kind(path: Path, scorer: str, samples: list[dict[str, Any]], scores: list[Any]) -> Kind:
    if any(parse_test_results(sc) is not None for sc in scores if isinstance(sc, Mapping)):
        return "test-vector"
    if scorer.split("/")[-1] == "choice":
        if not all(s.get("choices") for s in samples):
            raise InputError(f"{path}: the choice scorer was used but samples have no choices", hint="check the log")
        return "multiple-choice"
    return "open-ended"


def _budget(gen_cfg: Mapping[str, Any]) -> str:
    if gen_cfg.get("reasoning_effort"):
        return str(gen_cfg["reasoning_effort"])
    if gen_cfg.get("reasoning_tokens"):
        return f"tokens:{gen_cfg['reasoning_tokens']}"
    return ""


def _usage(sample: Mapping[str, Any], model: str) -> tuple[int | None, int | None]:
    usage = sample.get("model_usage") or {}
    entries = [usage[model]] if model in usage else list(usage.values())
    if not entries and isinstance(sample.get("output"), Mapping) and sample["output"].get("usage"):
        entries = [sample["output"]["usage"]]

    def total(field: str) -> int | None:
        vals = [int(e[field]) for e in entries if isinstance(e, Mapping) and e.get(field) is not None]
        return sum(vals) if vals else None

    return total("output_tokens"), total("reasoning_tokens")


def _stop_reason(sample: Mapping[str, Any]) -> str | None:
    """Why the model stopped: ``output.stop_reason``, else that of the output's first choice."""
    out = sample.get("output")
    if not isinstance(out, Mapping):
        return None
    reason = out.get("stop_reason")
    choices = out.get("choices")
    if reason is None and isinstance(choices, list) and choices and isinstance(choices[0], Mapping):
        reason = choices[0].get("stop_reason")
    return str(reason) if reason else None


def _completion(sample: Mapping[str, Any]) -> str:
    out = sample.get("output")
    if isinstance(out, Mapping) and isinstance(out.get("completion"), str):
        return str(out["completion"])
    return ""


def _error(sample: Mapping[str, Any]) -> str | None:
    err = sample.get("error")
    if not err:
        return None
    msg = err.get("message") if isinstance(err, Mapping) else str(err)
    return str(msg or "sample failed").strip().splitlines()[0][:500] or "sample failed"


def _unscored(score: Any) -> str | None:
    """Why a score does not count: missing, or a NaN/null value (Inspect's "unscored" sentinel); else None."""
    if not isinstance(score, Mapping):
        return "sample was not scored"
    value = score.get("value")
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "sample was not scored (score value is " + ("null)" if value is None else "NaN)")
    return None


def _multiple_choice(
    path: Path, samples: list[dict[str, Any]], scores: list[Any], common: list[dict[str, Any]], task: str
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    rows: list[dict[str, Any]] = []
    questions: dict[str, dict[str, Any]] = {}
    for s, sc, base in zip(samples, scores, common, strict=True):
        choices = [str(c) for c in s.get("choices") or []]
        where = f"{path}: sample {s['id']!r} epoch {s['epoch']}"
        if len(choices) < 2:
            raise InputError(f"{where} has {len(choices)} choices", hint="a multiple-choice sample needs ≥ 2")
        letters = target_letters(s.get("target"))
        if len(letters) != 1 or letters[0].upper() not in set(_LETTERS[: len(choices)]):
            raise InputError(
                f"{where}: target {s.get('target')!r} is not one option letter among {len(choices)} choices",
                hint="questions with several correct options cannot be decomposed; use --kind open-ended",
            )
        correct = _LETTERS.index(letters[0].upper())
        answer, err = -1, _error(s)
        if err is None:
            err = _unscored(sc)
        if err is None and isinstance(sc, Mapping):
            got = str(sc.get("answer") or "").strip().upper()
            if len(got) == 1 and got in _LETTERS[: len(choices)] and str(sc.get("value")) != "N":
                answer = _LETTERS.index(got)
        rows.append(
            {
                **base,
                "n_options": len(choices),
                "correct": correct,
                "answer": answer,
                "valid": answer >= 0,
                "error": err,
            }
        )
        questions.setdefault(
            base["question_id"],
            {
                "task": task,
                "question_id": base["question_id"],
                "text": _input_text(s),
                "options": choices,
                "correct": correct,
                "metadata": {"kind": "multiple-choice", "source": "inspect"},
            },
        )
    return rows, list(questions.values())


def _correctness(path: Path, where: str, value: Any) -> float | None:
    """Score value → probability that the answer is correct; None = no answer."""
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        v = value.strip().upper()
        if v == "N":
            return None
        if v in _VALUE_FLOAT:
            return _VALUE_FLOAT[v]
        try:
            value = float(v)
        except ValueError:
            raise InputError(
                f"{where}: score value {value!r} is not C/I/P/N or a number", hint="pass --scorer with a C/I scorer"
            ) from None
    if isinstance(value, int | float) and math.isfinite(value) and 0.0 <= float(value) <= 1.0:
        return float(value)
    raise InputError(
        f"{where}: score value {value!r} is not a correctness in [0, 1]",
        hint="open-ended import needs C/I (or 0–1) scores; choose another scorer with --scorer",
    )


def _open_ended(
    path: Path, samples: list[dict[str, Any]], scores: list[Any], common: list[dict[str, Any]], task: str
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    rows: list[dict[str, Any]] = []
    questions: dict[str, dict[str, Any]] = {}
    for s, sc, base in zip(samples, scores, common, strict=True):
        where = f"{path}: sample {s['id']!r} epoch {s['epoch']}"
        err = _error(s)
        if err is None:
            err = _unscored(sc)
        p_correct = (
            None if err is not None or not isinstance(sc, Mapping) else _correctness(path, where, sc.get("value"))
        )
        row = {**base, "n_options": 2, "correct": 0, "answer": -1, "valid": False, "probs": None, "error": err}
        row["kind"] = "open-ended"  # a right/wrong two-option question: never pooled with multiple choice
        if p_correct is not None:
            row["valid"] = True
            row["answer"] = 0 if p_correct >= 0.5 else 1
            if 0.0 < p_correct < 1.0:
                row["probs"] = (p_correct, 1.0 - p_correct)
        if not row["raw_output"] and isinstance(sc, Mapping) and isinstance(sc.get("answer"), str):
            row["raw_output"] = sc["answer"]
        rows.append(row)
        target = s.get("target")
        questions.setdefault(
            base["question_id"],
            {
                "task": task,
                "question_id": base["question_id"],
                "text": _input_text(s),
                "options": ["correct", "incorrect"],
                "correct": 0,
                "metadata": {"kind": "open-ended", "source": "inspect", "target": target},
            },
        )
    return rows, list(questions.values())


def _test_vector(
    path: Path,
    samples: list[dict[str, Any]],
    scores: list[Any],
    common: list[dict[str, Any]],
    task: str,
    errors_as_unchanged: bool,
    keep_logged: bool,
    warnings: list[str],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    by_q: dict[str, list[int]] = {}
    for i, base in enumerate(common):
        by_q.setdefault(base["question_id"], []).append(i)
    rows: list[dict[str, Any]] = [{**b, "kind": "test-vector"} for b in common]
    questions: list[dict[str, Any]] = []
    missing_total = 0
    no_logged = 0
    for qid, idx in by_q.items():
        results: list[TestResults | None] = []
        hit: list[bool] = []
        known_f2p: list[str] = []
        known_p2p: list[str] = []
        for i in idx:
            s, sc = samples[i], scores[i]
            err = _error(s)
            logged = parse_test_results(sc if isinstance(sc, Mapping) else None)
            stopped = bool(s.get("limit")) or (err is not None and errors_as_unchanged)
            if keep_logged and s.get("limit") and err is None:
                # keep the limit-hit run's own report; without one it falls back to the baseline
                stopped = logged is None
                no_logged += int(stopped)
            results.append(None if stopped else logged)
            hit.append(stopped)
            f2p, p2p = sample_test_lists(s.get("metadata"))
            known_f2p.extend(f2p)
            known_p2p.extend(p2p)
            rows[i].update(n_options=0, correct=-1, answer=-1, valid=True, error=None)
            if err is not None and not errors_as_unchanged:
                rows[i].update(valid=False, error=err)
        try:
            tt = task_test_vectors(results, hit, (known_f2p, known_p2p))
        except ValueError as exc:
            raise InputError(f"{path}: sample {qid!r}: {exc}", hint="check the scorer's test report") from None
        missing_total += tt.n_missing
        for r_i, i in enumerate(idx):
            if rows[i]["error"] is None:
                rows[i]["test_outcomes"] = tuple(int(v) for v in tt.outcomes[r_i])
        no_report = sum(1 for r, h in zip(results, hit, strict=True) if r is None and not h)
        if no_report:
            warnings.append(f"{path}: {qid}: {no_report} run(s) without a test report counted as all tests failing")
        questions.append(
            {
                "task": task,
                "question_id": qid,
                "text": _input_text(samples[idx[0]]),
                "options": [],
                "correct": None,
                "metadata": {
                    "kind": "test-vector",
                    "source": "inspect",
                    "tests": list(tt.tests),
                    "fail_to_pass": list(tt.fail_to_pass),
                    "pass_to_pass": list(tt.pass_to_pass),
                    "limit_hits": [int(samples[i]["epoch"]) for i in idx if samples[i].get("limit")],
                },
            },
        )
    if missing_total:
        warnings.append(f"{path}: {missing_total} test result(s) missing from run reports, counted as failing")
    if no_logged:
        warnings.append(
            f"{path}: {no_logged} run(s) hit a limit without a logged test report; counted as tests unchanged "
            "(the baseline) although --limit-hits logged was asked for"
        )
    return rows, questions


def _input_text(sample: Mapping[str, Any]) -> str:
    inp = sample.get("input")
    if isinstance(inp, str):
        return inp
    if isinstance(inp, list):  # chat messages
        parts = [m.get("content") for m in inp if isinstance(m, Mapping) and isinstance(m.get("content"), str)]
        return "\n".join(str(p) for p in parts)
    return ""
