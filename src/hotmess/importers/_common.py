"""What every importer returns, and the one place imported samples are written to a run store."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
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
    "file_digest",
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


def check_paths(paths: Sequence[str | Path], suffixes: Iterable[str], what: str) -> list[Path]:
    """Existing files among ``paths`` (directories are searched for ``suffixes``); InputError otherwise."""
    out: list[Path] = []
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
            out.extend(found)
        else:
            out.append(p)
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


def write_imported(store: str | Path | RunStore, logs: Sequence[ImportedLog]) -> ImportReport:
    """Write validated logs to a run store: all samples in one transaction, then run and question records.

    Samples whose key is already stored are left as they are, so importing the same log twice adds
    nothing. Nothing is written when ``logs`` fail validation (duplicate keys across logs).

    Parameters
    ----------
    store
        A :class:`~hotmess.data.RunStore` or the path of one (created if missing).
    logs
        Logs read by :func:`~hotmess.importers.read_inspect_log` or :func:`~hotmess.importers.read_lm_eval_samples`.
    """
    kept, notes = _dedupe(logs)
    samples = [s for log in kept for s in log.samples]
    own = not isinstance(store, RunStore)
    st = RunStore(store) if not isinstance(store, RunStore) else store
    try:
        n_new = st.write(samples)
        for log in kept:
            st.save_run(log.run_id, _jsonable(log.config), status="imported")
        st.save_questions([q for log in kept for q in log.questions])
    finally:
        if own:
            st.close()
    warnings = [w for log in kept for w in log.warnings] + notes
    return ImportReport(
        logs=tuple(kept), n_samples=len(samples), n_new=n_new, store=str(st.path), warnings=tuple(warnings)
    )


def _jsonable(config: Mapping[str, Any]) -> dict[str, Any]:
    return dict(json.loads(json.dumps(config, default=str)))
