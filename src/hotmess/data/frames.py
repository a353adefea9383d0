"""From a samples table to the dense per-question arrays the metrics work on."""

from __future__ import annotations

import numpy as np
import pandas as pd

from hotmess.errors import InputError
from hotmess.metrics.arrays import SampleArrays

__all__ = ["QUESTION_KEY", "scored_samples", "to_arrays"]

QUESTION_KEY = ["task", "question_id"]
"""Columns that identify a question across models and runs."""


def scored_samples(df: pd.DataFrame) -> pd.DataFrame:
    """Multiple-choice samples that count: not error rows (failures are never scored as wrong)."""
    keep = df["error"].isna() & (df["correct"] >= 0) & (df["n_options"] >= 2)
    return df[keep]


def to_arrays(df: pd.DataFrame, *, question_key: list[str] | None = None) -> tuple[SampleArrays, pd.DataFrame]:
    """Dense arrays of the scored samples in ``df`` plus one row of per-question info.

    Questions are identified by ``question_key`` (default ``task, question_id``); samples of one question are
    laid along the sample axis in table order, ragged counts masked.

    Returns
    -------
    arrays : SampleArrays
    questions : DataFrame
        One row per question, aligned with the arrays: the key columns, ``n_samples``, and the mean of
        ``output_tokens``, ``reasoning_tokens`` and ``actions`` over the question's samples (NaN when absent).

    Examples
    --------
    >>> df = pd.DataFrame({"task": "t", "question_id": ["a", "a", "b"], "answer": [0, 1, 1],
    ...                    "correct": [0, 0, 1], "n_options": 2, "valid": True, "probs": None,
    ...                    "error": None, "output_tokens": [10, 20, 5]})
    >>> arr, q = to_arrays(df)
    >>> arr.mask.tolist(), q["output_tokens"].tolist()
    ([[True, True], [True, False]], [15.0, 5.0])
    """
    key = question_key or QUESTION_KEY
    df = scored_samples(df)
    if df.empty:
        raise InputError(
            "no scorable multiple-choice samples (all rows are errors or lack a correct option)",
            hint="check the input, or use the test-vector / embedding analyses for such rows",
        )
    codes, uniques = pd.MultiIndex.from_frame(df[key].astype(str)).factorize()
    Q = len(uniques)
    pos = pd.Series(codes).groupby(codes).cumcount().to_numpy()
    S = int(pos.max()) + 1
    k_rows = df["n_options"].to_numpy(dtype=np.int64)
    C = int(k_rows.max())
    n_options = np.zeros(Q, dtype=np.int64)
    np.maximum.at(n_options, codes, k_rows)
    targets = np.full(Q, -1, dtype=np.int64)
    c_rows = df["correct"].to_numpy(dtype=np.int64)
    targets[codes] = c_rows
    conflict = targets[codes] != c_rows
    if conflict.any():
        i = int(np.flatnonzero(conflict)[0])
        raise InputError(
            f"question {df[key].iloc[i].tolist()} has samples with different correct answers",
            hint="each question must have one correct option (or give questions distinct ids)",
        )
    mask = np.zeros((Q, S), dtype=bool)
    mask[codes, pos] = True
    valid = np.zeros((Q, S), dtype=bool)
    valid[codes, pos] = df["valid"].to_numpy(dtype=bool)
    has_probs = df["probs"].map(lambda v: v is not None).to_numpy() & df["valid"].to_numpy(dtype=bool)
    if has_probs.any():
        probs = np.zeros((Q, S, C))
        answers = np.where(df["valid"].to_numpy(dtype=bool), df["answer"].to_numpy(dtype=np.int64), -1)
        hot = np.flatnonzero(~has_probs)
        ans_hot = answers[hot]
        hit = ans_hot >= 0
        probs[codes[hot][hit], pos[hot][hit], ans_hot[hit]] = 1.0
        rows = np.flatnonzero(has_probs)
        vectors = df["probs"].to_numpy()[rows]
        sizes = np.fromiter((len(v) for v in vectors), dtype=np.int64, count=rows.size)
        for size in np.unique(sizes):  # one block copy per vector length, not one per row
            pick = sizes == size
            block = np.asarray(np.stack([np.asarray(v, dtype=np.float64) for v in vectors[pick]]))
            probs[codes[rows[pick]], pos[rows[pick]], :size] = block
        arrays = SampleArrays.from_probs(probs, targets, n_options=n_options, mask=mask, valid=valid)
    else:
        answers = np.full((Q, S), -1, dtype=np.int64)
        answers[codes, pos] = np.where(df["valid"].to_numpy(dtype=bool), df["answer"].to_numpy(np.int64), -1)
        arrays = SampleArrays.from_answers(answers, targets, n_classes=C, n_options=n_options, mask=mask)
    info = uniques.to_frame(index=False, name=list(key))  # factorize drops the level names
    info["n_samples"] = mask.sum(axis=1)
    for col in ("output_tokens", "reasoning_tokens", "actions"):
        if col in df.columns:
            vals = pd.to_numeric(df[col], errors="coerce").astype(float)
            info[col] = vals.groupby(codes).mean().reindex(range(Q)).to_numpy()
        else:
            info[col] = np.nan
    return arrays, info
