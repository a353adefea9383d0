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


def _unscored(score: Mapping[str, Any]) -> bool:
    v = score.get("value")
    return v is None or (isinstance(v, float) and v != v) or v == "NaN"


def has_records(scores: Sequence[Any]) -> bool:
    """True when every scored score carries a hotmess record (and at least one does); NaN scores are unscored."""
    present = [s for s in scores if isinstance(s, Mapping) and not _unscored(s)]
    return bool(present) and all(isinstance(_record(s), Mapping) for s in present)


def record_rows(
    path: Path,
    samples: Sequence[Mapping[str, Any]],
    scores: Sequence[Any],
    common: Sequence[dict[str, Any]],
    task: str,
    question_text: Any,
    warnings: list[str] | None = None,
) -> tuple[str, list[dict[str, Any]], list[dict[str, Any]]]:
    """Kind, sample rows and question rows of a log scored with records (errors and unscored are error rows)."""
    rows: list[dict[str, Any]] = []
    questions: dict[str, dict[str, Any]] = {}
    kinds: set[str] = set()
    # a question's tests: the union over its runs; a test a run did not report counts as failing (as the
    # decomposition reducer counts it)
    tests_of: dict[str, list[str]] = {}
    for sc, base in zip(scores, common, strict=True):
        raw = _record(sc)
        if isinstance(raw, Mapping) and isinstance(raw.get("tests"), Mapping):
            union = set(tests_of.get(base["question_id"], [])) | {str(t) for t in raw["tests"]}
            tests_of[base["question_id"]] = sorted(union)
    n_missing = 0
    for s, sc, base in zip(samples, scores, common, strict=True):
        where = f"{path}: sample {s.get('id')!r} epoch {s.get('epoch')}"
        raw = _record(sc)
        row: dict[str, Any] = {**base, "answer": -1, "valid": False, "probs": None}
        if not isinstance(raw, Mapping):  # unscored (an error without a score, or a NaN score)
            err = s.get("error")
            msg = (err.get("message") if isinstance(err, Mapping) else err) or "sample was not scored"
            row.update(n_options=0, correct=-1, error=str(msg).strip().splitlines()[0][:500] or "sample failed")
            rows.append(row)
            continue
        # a record is what Inspect reduced, also for a sample scored despite an error (score_on_error)
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
            names: list[str] = tests_of[qid]
            n_missing += sum(1 for t in names if t not in rec["tests"])
            row.update(n_options=0, correct=-1, valid=True, error=None)
            row["test_outcomes"] = tuple(int(rec["tests"].get(t, 0)) for t in names)
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
    if n_missing and warnings is not None:
        warnings.append(f"{path}: {n_missing} test result(s) missing from run reports, counted as failing")
    if len(kinds) > 1:
        raise InputError(
            f"{path}: records of several kinds ({', '.join(sorted(kinds))})", hint="score one kind per task"
        )
    if not kinds:
        raise InputError(f"{path}: no sample was scored", hint="score the log first (`inspect score`)")
    return kinds.pop(), rows, list(questions.values())
