"""Samples scored by :func:`hotmess.integrations.inspect.hotmess_scorer`: the score's record is the sample.

The scorer leaves a record in each score's metadata (``{"hotmess": {...}}``, see
:mod:`hotmess.integrations._core`); when every scored sample of the chosen scorer has one, the importer takes
kind, option chosen, correct option, number of options, probabilities, test results and the few-shot context
from it, so ``hotmess analyze`` on the imported log sees exactly what the Inspect metrics saw.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from hotmess.errors import InputError
from hotmess.integrations._core import check_record

__all__ = ["RECORD_KEY", "has_records", "record_rows"]

RECORD_KEY = "hotmess"


def _record(score: Any) -> Any:
    meta = score.get("metadata") if isinstance(score, Mapping) else None
    return meta.get(RECORD_KEY) if isinstance(meta, Mapping) else None


def has_records(scores: Sequence[Any]) -> bool:
    """True when every score present carries a hotmess record (and at least one does)."""
    present = [s for s in scores if isinstance(s, Mapping)]
    return bool(present) and all(isinstance(_record(s), Mapping) for s in present)


def record_rows(
    path: Path,
    samples: Sequence[Mapping[str, Any]],
    scores: Sequence[Any],
    common: Sequence[dict[str, Any]],
    task: str,
    question_text: Any,
) -> tuple[str, list[dict[str, Any]], list[dict[str, Any]]]:
    """Kind, sample rows and question rows of a log scored with records (errors and unscored are error rows)."""
    rows: list[dict[str, Any]] = []
    questions: dict[str, dict[str, Any]] = {}
    kinds: set[str] = set()
    tests_of: dict[str, list[str]] = {}
    for s, sc, base in zip(samples, scores, common, strict=True):
        where = f"{path}: sample {s.get('id')!r} epoch {s.get('epoch')}"
        err = s.get("error")
        raw = _record(sc)
        row: dict[str, Any] = {**base, "answer": -1, "valid": False, "probs": None}
        if err or not isinstance(raw, Mapping):
            msg = (err.get("message") if isinstance(err, Mapping) else err) or "sample was not scored"
            row.update(n_options=0, correct=-1, error=str(msg).strip().splitlines()[0][:500] or "sample failed")
            rows.append(row)
            continue
        try:
            rec = check_record(raw)
        except ValueError as exc:
            raise InputError(f"{where}: {exc}", hint="re-score the log with hotmess_scorer") from None
        kinds.add(rec["kind"])
        ctx = raw.get("context")
        if isinstance(ctx, int) and ctx >= 0:
            row["context_id"] = ctx
        row["kind"] = rec["kind"]
        qid = base["question_id"]
        if rec["kind"] == "test-vector":
            names = tests_of.setdefault(qid, sorted(rec["tests"]))
            if sorted(rec["tests"]) != names:
                raise InputError(f"{where}: its runs report different tests", hint="check the scorer's test report")
            row.update(n_options=0, correct=-1, valid=True, error=None)
            row["test_outcomes"] = tuple(int(rec["tests"][t]) for t in names)
            meta: dict[str, Any] = {"kind": "test-vector", "source": "inspect", "tests": names}
            options: list[str] = []
            correct: int | None = None
        else:
            row.update(
                n_options=rec["n_options"],
                correct=rec["correct"],
                answer=rec["answer"],
                valid=rec["answer"] >= 0,
                probs=rec["probs"],
                error=None,
            )
            choices = [str(c) for c in s.get("choices") or []]
            options = choices if rec["kind"] == "multiple-choice" else ["correct", "incorrect"]
            correct = rec["correct"]
            meta = {"kind": rec["kind"], "source": "inspect"}
            if rec["kind"] == "open-ended":
                meta["target"] = s.get("target")
        rows.append(row)
        questions.setdefault(
            qid,
            {
                "task": task,
                "question_id": qid,
                "text": question_text(s),
                "options": options,
                "correct": correct,
                "metadata": meta,
            },
        )
    if len(kinds) > 1:
        raise InputError(
            f"{path}: records of several kinds ({', '.join(sorted(kinds))})", hint="score one kind per task"
        )
    if not kinds:
        raise InputError(f"{path}: no sample was scored", hint="score the log first (`inspect score`)")
    return kinds.pop(), rows, list(questions.values())
