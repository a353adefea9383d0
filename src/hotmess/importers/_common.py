"""What every importer returns, and the one place imported samples are written to a run store.

A store holds each *source sample* (an Inspect sample and epoch, an lm-eval document and repeat) at most once
per (model, task), and one description per question: :func:`write_imported` checks both against the store
before it writes anything (see docs/importers/inspect.md, "Re-importing").
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Final, Literal

from hotmess.data.schema import Sample
from hotmess.data.store import RunStore
from hotmess.errors import InputError

__all__ = [
    "KINDS",
    "ImportReport",
    "ImportedLog",
    "Kind",
    "check_paths",
    "dataset_run_id",
    "file_digest",
    "find_inputs",
    "write_imported",
]

Kind = Literal["multiple-choice", "open-ended", "test-vector"]
KINDS: Final[tuple[str, ...]] = ("multiple-choice", "open-ended", "test-vector")
"""How an imported task is represented (see docs/importers/): options, correct/incorrect, or unit tests."""


@dataclass(frozen=True)
class ImportedLog:
    """One log (or samples file) read and validated, ready to be written.

    Attributes
    ----------
    source
        The file it came from.
    run_id
        Deterministic run id (from the log's eval id, or the file's content hash).
    kind
        "multiple-choice", "open-ended" or "test-vector".
    model, task
        As stored in the samples.
    samples
        One :class:`~hotmess.data.Sample` per (question, repeat).
    questions
        Rows for :meth:`RunStore.save_questions` (text, options, correct, metadata with ``kind``).
    config
        What is saved as the run's configuration (source, format, scorer or filter, seeds, counts).
    warnings
        Things the user should know (skipped filters, tests missing from a run, ...).
    source_id
        What the samples were read from, whatever the options: ``inspect:<eval_id>`` or ``lm-eval:<sha256>``.
    options
        The reading options that decide the samples' keys or stored values (by CLI flag, e.g.
        ``{"--kind": "multiple-choice"}``): a source is stored under one (model, task) with one set of them.
    """

    source: str
    run_id: str
    kind: Kind
    model: str
    task: str
    samples: tuple[Sample, ...]
    questions: tuple[dict[str, Any], ...]
    config: dict[str, Any]
    warnings: tuple[str, ...] = ()
    source_id: str = ""
    options: Mapping[str, Any] = field(default_factory=dict)

    def with_run_id(self, run_id: str) -> ImportedLog:
        """The same log with another run id (in the log and in every sample)."""
        return replace(self, run_id=run_id, samples=tuple(replace(s, run_id=run_id) for s in self.samples))

    @property
    def n_questions(self) -> int:
        """Distinct questions in the log."""
        return len({s.question_id for s in self.samples})

    @property
    def n_errors(self) -> int:
        """Error samples (never scored)."""
        return sum(s.error is not None for s in self.samples)

    def summary(self) -> dict[str, Any]:
        """JSON-ready description (no samples)."""
        return {
            "source": self.source,
            "run_id": self.run_id,
            "kind": self.kind,
            "model": self.model,
            "task": self.task,
            "questions": self.n_questions,
            "samples": len(self.samples),
            "errors": self.n_errors,
            "limit_hits": int(self.config.get("limit_hits", 0)),
            "warnings": list(self.warnings),
        }


@dataclass(frozen=True)
class ImportReport:
    """What :func:`write_imported` did: the logs, and how many samples were new."""

    logs: tuple[ImportedLog, ...]
    n_samples: int
    n_new: int
    store: str
    warnings: tuple[str, ...] = field(default_factory=tuple)

    @property
    def n_already_stored(self) -> int:
        """Samples whose key was already in the store (re-imports add nothing twice)."""
        return self.n_samples - self.n_new

    @property
    def run_ids(self) -> list[str]:
        """Run ids of the imported logs, in order, without repeats."""
        return list(dict.fromkeys(log.run_id for log in self.logs))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready report."""
        return {
            "store": self.store,
            "samples": self.n_samples,
            "new": self.n_new,
            "already_stored": self.n_already_stored,
            "logs": [log.summary() for log in self.logs],
            "warnings": list(self.warnings),
        }


def file_digest(path: Path, *, chunk: int = 1 << 20) -> str:
    """SHA-256 of a file's bytes (hex)."""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def dataset_run_id(base: str, model: str, task: str, own: tuple[str, str]) -> str:
    """``base`` when (model, task) are the source's ``own`` names, else ``base`` plus a hash of the names.

    A source imported under other names (``--model``, ``--task``) is a separately named dataset: its own run.
    """
    return base if (model, task) == own else f"{base}-{_names_hash(model, task)}"


def _names_hash(model: str, task: str) -> str:
    return hashlib.sha256("\0".join((model, task)).encode()).hexdigest()[:8]


def check_paths(paths: Sequence[str | Path], suffixes: Iterable[str], what: str) -> list[Path]:
    """Existing files among ``paths`` (directories are searched for ``suffixes``); InputError otherwise."""
    return [p for p, _ in find_inputs(paths, suffixes, what)]


def find_inputs(paths: Sequence[str | Path], suffixes: Iterable[str], what: str) -> list[tuple[Path, bool]]:
    """Like :func:`check_paths`, with for each file whether it was found in a folder (not named by the user)."""
    out: list[tuple[Path, bool]] = []
    sfx = tuple(suffixes)
    if not paths:
        raise InputError(f"no {what} given", hint="pass at least one file")
    for raw in paths:
        p = Path(raw)
        if not p.exists():
            raise InputError(f"{p} does not exist", hint="check the path")
        if p.is_dir():
            found = sorted(f for f in p.rglob("*") if f.is_file() and f.name.endswith(sfx))
            if not found:
                raise InputError(f"{p} holds no {what} ({', '.join(sfx)})", hint="pass the files themselves")
            out.extend((f, True) for f in found)
        else:
            out.append((p, False))
    return out


def _dedupe(logs: Sequence[ImportedLog]) -> tuple[list[ImportedLog], list[str]]:
    """Drop repeated copies of one log (same run id and same samples); refuse conflicting ones."""
    seen: dict[str, ImportedLog] = {}
    kept: list[ImportedLog] = []
    notes: list[str] = []
    for log in logs:
        prev = seen.get(log.run_id)
        if prev is None:
            seen[log.run_id] = log
            kept.append(log)
            continue
        if [s.to_row() for s in prev.samples] != [s.to_row() for s in log.samples]:
            raise InputError(
                f"{log.source} and {prev.source} have the same run id {log.run_id} but different samples",
                hint="import them separately, or pass distinct --task/--model names",
            )
        notes.append(f"{log.source} is the same log as {prev.source}; read once")
    keys: dict[tuple[Any, ...], str] = {}
    for log in kept:
        for s in log.samples:
            k = s.key()
            if k in keys:
                raise InputError(
                    f"{log.source}: sample {k[3]!r} (context {k[4]}, index {k[5]}) also comes from {keys[k]}",
                    hint="each repeat of a question must have its own key",
                )
            keys[k] = log.source
    return kept, notes


def write_imported(
    store: str | Path | RunStore, logs: Sequence[ImportedLog], *, notes: Sequence[str] = ()
) -> ImportReport:
    """Write validated logs to a run store: all samples in one transaction, then run and question records.

    Samples whose key is already stored are left as they are, so importing the same log twice adds
    nothing. Nothing is written when ``logs`` fail validation: duplicate keys across logs, a source already
    stored under the same (model, task) with other reading options (:attr:`ImportedLog.options`), or a
    question that the store (or another log) describes otherwise (kind, options, correct option, tests).

    Parameters
    ----------
    store
        A :class:`~hotmess.data.RunStore` or the path of one (created if missing).
    logs
        Logs read by :func:`~hotmess.importers.read_inspect_log` or :func:`~hotmess.importers.read_lm_eval_samples`.
    notes
        Notes to add to the report's warnings (e.g. files of a folder skipped as not being logs).

    Raises
    ------
    hotmess.errors.InputError
        One of the conflicts above; the message names the log, what is stored and the way out.
    """
    kept, dedupe_notes = _dedupe(logs)
    _check_questions(kept, _stored_questions(store, kept))
    own = not isinstance(store, RunStore)
    st = RunStore(store) if not isinstance(store, RunStore) else store
    try:
        kept = _match_stored_datasets(st, kept)
        samples = [s for log in kept for s in log.samples]
        n_new = st.write(samples)
        for log in kept:
            config = {**log.config, "source_id": log.source_id, "reading": dict(log.options)}
            st.save_run(log.run_id, _jsonable(config), status="imported")
        st.save_questions([q for log in kept for q in log.questions])
    finally:
        if own:
            st.close()
    warnings = [*notes, *(w for log in kept for w in log.warnings), *dedupe_notes]
    return ImportReport(
        logs=tuple(kept), n_samples=len(samples), n_new=n_new, store=str(st.path), warnings=tuple(warnings)
    )


def _jsonable(config: Mapping[str, Any]) -> dict[str, Any]:
    return dict(json.loads(json.dumps(config, default=str)))


# -- one source per (model, task), one description per question ----------------------------------------------

_FIX = "re-import with the stored options (adds nothing), write into another store, or pass another --task name"


def _legacy_identity(config: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """Source id and reading options of a run imported before they were saved (from what its config holds)."""
    if config.get("source") == "inspect" and config.get("eval_id"):
        return f"inspect:{config['eval_id']}", {"--kind": config.get("kind"), "--scorer": config.get("scorer")}
    if config.get("source") == "lm-eval" and config.get("sha256"):
        opts = {"--filter": config.get("filter"), "--context-id": config.get("context_id")}
        return f"lm-eval:{config['sha256']}", opts
    return "", {}


def _match_stored_datasets(st: RunStore, logs: list[ImportedLog]) -> list[ImportedLog]:
    """Refuse a source already stored under the same (model, task) with other options; reuse its run id."""
    names: dict[str, set[tuple[str, str]]] = {}
    for run_id, model, task in st.connection.execute("SELECT DISTINCT run_id, model, task FROM samples"):
        names.setdefault(str(run_id), set()).add((str(model), str(task)))
    stored: dict[tuple[str, str, str], list[tuple[str, dict[str, Any]]]] = {}
    runs = st.runs()
    for run_id, config in zip(runs["run_id"], runs["config"], strict=True):
        if not isinstance(config, dict):
            continue
        if config.get("source_id"):
            source, opts = str(config["source_id"]), dict(config.get("reading") or {})
        else:
            source, opts = _legacy_identity(config)
        for model, task in names.get(str(run_id), set()) if source else ():
            stored.setdefault((source, model, task), []).append((str(run_id), opts))
    out: list[ImportedLog] = []
    for log in logs:
        same = stored.get((log.source_id, log.model, log.task), []) if log.source_id else []
        for run_id, opts in same:
            diff = [k for k in log.options if k in opts and opts[k] != log.options[k]]
            if diff:
                was = ", ".join(f"{k} {opts[k]!r}" for k in diff)
                now = ", ".join(f"{k} {log.options[k]!r}" for k in diff)
                raise InputError(
                    f"{log.source} is already in {st.path} as run {run_id} (model {log.model}, task {log.task}) "
                    f"read with {was}; this import asks for {now}, which would store its samples twice or "
                    "change them",
                    hint=_FIX,
                )
        if same and log.run_id not in {r for r, _ in same}:
            log = log.with_run_id(same[0][0])  # a run imported before: the dataset keeps its run id
        elif not same and names.get(log.run_id, {(log.model, log.task)}) != {(log.model, log.task)}:
            # the run id belongs to another (model, task) (e.g. a file read from another folder): a run of its own
            log = log.with_run_id(f"{log.run_id}-{_names_hash(log.model, log.task)}")
        out.append(log)
    return out


def _description(q: Mapping[str, Any]) -> dict[str, Any]:
    """What a question row says about how its samples are read: kind, options, correct option, tests."""
    raw = q.get("metadata")
    meta: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
    d: dict[str, Any] = {
        "kind": meta.get("kind"),
        "options": [str(o) for o in q.get("options") or []],
        "correct": None if q.get("correct") is None else int(q["correct"]),
    }
    if meta.get("kind") == "test-vector":
        d["tests"] = [str(t) for t in meta.get("tests") or []]
        d["fail_to_pass"] = [str(t) for t in meta.get("fail_to_pass") or []]
    return d


def _differs(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    keys = set(a) & set(b) - ({"kind"} if a.get("kind") is None or b.get("kind") is None else set())
    return any(a[k] != b[k] for k in keys)


def _say(d: Mapping[str, Any]) -> str:
    kind = d.get("kind") or "multiple-choice"
    if kind == "test-vector":
        tests = d.get("tests") or []
        return f"test-vector with {len(tests)} test(s) ({', '.join(tests)[:80]})"
    opts = d.get("options") or []
    shown = ", ".join(repr(o) for o in opts)
    return f"{kind} with {len(opts)} option(s) ({shown[:80]}), correct option {d.get('correct')}"


def _stored_questions(store: str | Path | RunStore, logs: list[ImportedLog]) -> dict[tuple[str, str], dict[str, Any]]:
    """Descriptions of the stored questions of the logs' tasks (none when the store does not exist yet)."""
    tasks = sorted({str(q["task"]) for log in logs for q in log.questions})
    if not tasks:
        return {}
    if isinstance(store, RunStore):
        conn = store.connection
    elif Path(store).exists():
        with RunStore(store, create=False) as st:
            return _stored_questions(st, logs)
    else:
        return {}
    marks = ", ".join("?" for _ in tasks)
    rows = conn.execute(
        f"SELECT task, question_id, options, correct, metadata FROM questions WHERE task IN ({marks})", tasks
    ).fetchall()
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for task, qid, options, correct, metadata in rows:
        q = {"options": json.loads(options) if options else [], "correct": correct}
        q["metadata"] = json.loads(metadata) if metadata else {}
        out[(str(task), str(qid))] = _description(q)
    return out


def _check_questions(logs: list[ImportedLog], stored: Mapping[tuple[str, str], dict[str, Any]]) -> None:
    """Refuse a question described otherwise by the store or by another of the logs."""
    seen: dict[tuple[str, str], tuple[dict[str, Any], str]] = {}
    for log in logs:
        for q in log.questions:
            key = (str(q["task"]), str(q["question_id"]))
            d = _description(q)
            if key in stored and _differs(stored[key], d):
                raise InputError(
                    f"{log.source}: question {key[1]!r} of task {key[0]!r} is stored as {_say(stored[key])}; "
                    f"this log describes it as {_say(d)}",
                    hint="import it under another --task name, or into another store",
                )
            if key in seen and _differs(seen[key][0], d):
                raise InputError(
                    f"{log.source}: question {key[1]!r} of task {key[0]!r} is {_say(d)}, but {seen[key][1]} "
                    f"describes it as {_say(seen[key][0])}",
                    hint="import them separately under different --task names",
                )
            seen.setdefault(key, (d, log.source))
