"""The tool-independent core of the integrations: one question's decomposition, and the dataset's.

Both functions reuse the code ``hotmess analyze`` runs (:func:`hotmess.data.to_arrays`, :func:`hotmess.metrics.
decompose`, :func:`hotmess.analysis.open_ended.test_vectors_by_question`, :func:`hotmess.metrics.
bootstrap_ratio_ci`), so a number an Inspect or lm-eval run prints is the number ``hotmess analyze`` gives for
the same samples imported.

A *record* is one sample of one question, as a plain dict (it travels inside Inspect's score metadata and
lm-eval's per-document results):

- ``kind``: ``"multiple-choice"``, ``"open-ended"`` (right/wrong: a 2-option question whose correct option is
  0) or ``"test-vector"``;
- ``answer`` (option index, −1 = invalid), ``correct``, ``n_options`` and optionally ``probs`` (a probability
  vector over the options) for the first two kinds;
- ``tests`` (``{test name: 0/1}``) for test vectors;
- ``context`` (the few-shot context it was drawn in; informational).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from typing import Any, Final

import numpy as np
import pandas as pd

from hotmess.metrics.bootstrap import bootstrap_ratio_ci
from hotmess.metrics.estimators import resolve_estimator
from hotmess.metrics.kl import DEFAULT_DELTA

__all__ = ["RECORD_KINDS", "STATS", "check_record", "dataset_stats", "question_stats", "target_letters"]

RECORD_KINDS: Final[tuple[str, ...]] = ("multiple-choice", "open-ended", "test-vector")
STATS: Final[tuple[str, ...]] = ("bias", "variance", "error", "accuracy")
"""Per-question numbers a reduced score carries (plus ``samples``, ``invalid`` and ``kind``)."""


def target_letters(target: Any) -> list[str]:
    """Option letters of an Inspect target, split as Inspect's ``choice()`` splits them.

    Examples
    --------
    >>> target_letters("B"), target_letters("AB"), target_letters(["A", "C"]), target_letters("A, C")
    (['B'], ['A', 'B'], ['A', 'C'], ['A', 'C'])
    """
    items = target if isinstance(target, list) else [target]
    out: list[str] = []
    for t in items:
        for tok in str(t).replace(",", " ").split():
            out.extend([tok] if tok.isnumeric() else list(tok))
    return out


def check_record(record: Any) -> dict[str, Any]:
    """A record as a plain dict, or ValueError naming what is wrong with it."""
    if not isinstance(record, Mapping):
        raise ValueError(f"record: expected a mapping, got {type(record).__name__}")
    kind = record.get("kind")
    if kind not in RECORD_KINDS:
        raise ValueError(f"record: kind must be one of {', '.join(RECORD_KINDS)}, got {kind!r}")
    if kind == "test-vector":
        tests = record.get("tests")
        if not isinstance(tests, Mapping) or not tests:
            raise ValueError("record: a test-vector record needs tests {name: 0/1} with at least one test")
        return {"kind": kind, "tests": {str(k): int(v) for k, v in tests.items()}, "context": record.get("context")}
    n = record.get("n_options")
    if not isinstance(n, int) or n < 2:
        raise ValueError(f"record: n_options must be an integer ≥ 2, got {n!r}")
    correct, answer = record.get("correct"), record.get("answer")
    if not isinstance(correct, int) or not 0 <= correct < n:
        raise ValueError(f"record: correct must be an option index in [0, {n}), got {correct!r}")
    if not isinstance(answer, int) or not -1 <= answer < n:
        raise ValueError(f"record: answer must be −1 (invalid) or an option index in [0, {n}), got {answer!r}")
    probs = record.get("probs")
    if probs is not None:
        p = [float(x) for x in probs]
        if len(p) != n or any(not math.isfinite(x) or x < 0 for x in p) or abs(sum(p) - 1) > 1e-6:
            raise ValueError(f"record: probs must be {n} non-negative numbers summing to 1, got {probs!r}")
        probs = tuple(p)
    return {"kind": kind, "n_options": n, "correct": correct, "answer": answer, "probs": probs}


def question_stats(
    records: Sequence[Mapping[str, Any]],
    *,
    metric: str = "kl",
    delta: float = DEFAULT_DELTA,
    estimator: str = "plugin",
) -> dict[str, Any]:
    """Bias, variance, error and accuracy of one question from its samples' records.

    Parameters
    ----------
    records
        One record per sample of the question (see the module docstring); all of one kind.
    metric
        "kl" or "brier" (test vectors always use the test-vector decomposition).
    delta
        KL smoothing δ.
    estimator
        "plugin" or "corrected".

    Returns
    -------
    dict
        ``kind``, ``bias``, ``variance``, ``error``, ``accuracy`` (share of samples answering correctly; for
        test vectors the share of runs passing every test), ``samples`` and ``invalid``.

    Examples
    --------
    >>> recs = [{"kind": "multiple-choice", "answer": a, "correct": 0, "n_options": 4} for a in (0, 0, 1, -1)]
    >>> s = question_stats(recs, metric="brier")
    >>> s["samples"], s["invalid"], round(s["accuracy"], 2), round(s["error"] - s["bias"] - s["variance"], 12)
    (4, 1, 0.5, 0.0)
    """
    if metric not in ("kl", "brier"):
        raise ValueError(f"metric: expected 'kl' or 'brier', got {metric!r}")
    if not records:
        raise ValueError("records: a question needs at least one sample")
    recs = [check_record(r) for r in records]
    kinds = {r["kind"] for r in recs}
    if len(kinds) > 1:
        raise ValueError(f"records: one question mixes kinds {sorted(kinds)}")
    kind = recs[0]["kind"]
    if kind == "test-vector":
        return _test_vector_stats(recs, estimator)
    from hotmess.data.frames import to_arrays
    from hotmess.metrics.summary import decompose

    df = pd.DataFrame(
        {
            "task": "t",
            "question_id": "q",
            "answer": [r["answer"] for r in recs],
            "correct": [r["correct"] for r in recs],
            "n_options": [r["n_options"] for r in recs],
            "valid": [r["answer"] >= 0 for r in recs],
            "probs": pd.Series([r["probs"] for r in recs], dtype=object),
            "error": None,
        }
    )
    arrays, _ = to_arrays(df)
    est = resolve_estimator(metric, estimator)
    d = decompose(arrays, metric, delta=delta, estimator=est)
    return {
        "kind": kind,
        "bias": float(d.bias[0]),
        "variance": float(d.variance[0]),
        "error": float(d.error[0]),
        "accuracy": float(arrays.hard_accuracy()[0]),
        "samples": len(recs),
        "invalid": int(arrays.n_invalid[0]),
    }


def _test_vector_stats(recs: list[dict[str, Any]], estimator: str) -> dict[str, Any]:
    from hotmess.analysis.open_ended import test_vectors_by_question

    names = sorted({t for r in recs for t in r["tests"]})
    df = pd.DataFrame(
        {
            "model": "m",
            "budget": "",
            "task": "t",
            "question_id": "q",
            "error": None,
            "test_outcomes": [tuple(r["tests"].get(t, 0) for t in names) for r in recs],
        }
    )
    pq = test_vectors_by_question(df, unbiased=estimator == "corrected")
    row = pq.iloc[0]
    return {
        "kind": "test-vector",
        "bias": float(row["bias"]),
        "variance": float(row["variance"]),
        "error": float(row["error"]),
        "accuracy": float(row["resolved"]),
        "samples": len(recs),
        "invalid": 0,
    }


def dataset_stats(
    per_question: Mapping[str, Mapping[str, Any]],
    *,
    n_boot: int = 1000,
    level: float = 0.95,
    seed: int = 0,
) -> dict[str, float]:
    """Dataset numbers from per-question stats: means over questions, incoherence = Σ variance / Σ error.

    Parameters
    ----------
    per_question
        Question id → the dict :func:`question_stats` returns. Questions are taken in sorted id order, so
        the bootstrap interval does not depend on the order the tool hands them over.
    n_boot, level, seed
        Bootstrap over questions (``n_boot=0``: no interval), as ``hotmess analyze`` does it.

    Returns
    -------
    dict
        ``incoherence``, ``incoherence_low``, ``incoherence_high``, ``bias``, ``variance``, ``error``,
        ``accuracy``, ``questions`` and ``samples``. Incoherence is NaN when the total error is zero.

    Examples
    --------
    >>> pq = {"a": {"kind": "multiple-choice", "bias": 0.1, "variance": 0.3, "error": 0.4, "accuracy": 0.5,
    ...             "samples": 4},
    ...       "b": {"kind": "multiple-choice", "bias": 0.0, "variance": 0.0, "error": 0.0, "accuracy": 1.0,
    ...             "samples": 4}}
    >>> out = dataset_stats(pq, n_boot=0)
    >>> round(out["incoherence"], 12), round(out["error"], 12), int(out["questions"])
    (0.75, 0.2, 2)
    """
    if not per_question:
        raise ValueError("per_question: no question was scored")
    kinds = {str(s.get("kind")) for s in per_question.values()}
    if len(kinds) > 1:
        raise ValueError(
            f"per_question: questions of several kinds ({', '.join(sorted(kinds))}) are never pooled; "
            "score each kind in its own task"
        )
    keys = sorted(per_question)
    cols = {k: np.array([float(per_question[q][k]) for q in keys]) for k in STATS}
    v, e = cols["variance"], cols["error"]
    total = float(e.sum())
    out: dict[str, float] = {
        "incoherence": float(v.sum()) / total if total > 0 else float("nan"),
        "bias": float(cols["bias"].mean()),
        "variance": float(v.mean()),
        "error": float(e.mean()),
        "accuracy": float(cols["accuracy"].mean()),
        "questions": float(len(keys)),
        "samples": float(sum(int(per_question[q].get("samples", 0)) for q in keys)),
    }
    low = high = float("nan")
    if n_boot > 0:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ci = bootstrap_ratio_ci(
                {"incoherence": v}, {"incoherence": e}, n_boot=n_boot, level=level, rng=np.random.default_rng(seed)
            )
        low, high = ci["incoherence"].low, ci["incoherence"].high
    out["incoherence_low"], out["incoherence_high"] = float(low), float(high)
    return out
