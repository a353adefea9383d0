"""From a samples table to the dense per-question arrays the metrics work on."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from hotmess.data._columns import combine_codes, cumcount, is_none, text_array, text_codes
from hotmess.errors import InputError
from hotmess.metrics.arrays import SampleArrays

__all__ = [
    "QUESTION_KEY",
    "SAMPLE_ORDER",
    "key_codes",
    "question_codes",
    "question_means",
    "scored_samples",
    "to_arrays",
]

QUESTION_KEY = ["task", "question_id"]
"""Columns that identify a question across models and runs."""

SAMPLE_ORDER = ("run_id", "context_id", "sample_index")
"""Columns that order the samples of one question (those a table has), whatever the order of its rows."""


def scored_samples(df: pd.DataFrame) -> pd.DataFrame:
    """Multiple-choice samples that count: not error rows (failures are never scored as wrong)."""
    keep = df["error"].isna() & (df["correct"] >= 0) & (df["n_options"] >= 2)
    return df if bool(keep.all()) else df[keep]


def _key_parts(df: pd.DataFrame, key: Sequence[str]) -> tuple[list[tuple[NDArray[np.int64], int]], list[NDArray]]:
    parts, uniques = [], []
    for c in key:
        codes_c, uniques_c = text_codes(df[c], sort=True)
        parts.append((codes_c, len(uniques_c)))
        uniques.append(uniques_c)
    return parts, uniques


def key_codes(df: pd.DataFrame, key: Sequence[str]) -> tuple[NDArray[np.int64], int]:
    """Each row's group as a code 0 … G−1 in sorted (string) order of the ``key`` columns, and G.

    Examples
    --------
    >>> key_codes(pd.DataFrame({"model": ["m", "m", "l"], "question_id": ["b", "a", "b"]}), ["model", "question_id"])
    (array([2, 1, 0]), 3)
    """
    parts, _ = _key_parts(df, key)
    varying = [p for p in parts if p[1] > 1]  # a column with one value does not split groups
    codes = combine_codes(varying, sort=True) if varying else np.zeros(len(df), dtype=np.int64)
    return codes, int(codes.max(initial=-1)) + 1


def question_codes(
    df: pd.DataFrame, key: Sequence[str], *, order: Sequence[str] = SAMPLE_ORDER
) -> tuple[NDArray[np.int64], NDArray[np.int64], pd.DataFrame]:
    """Each row's question, numbered in sorted order of its key; each row's place among its question's samples.

    Questions are numbered 0 … Q−1 in sorted (string) order of the ``key`` columns, and the samples of one
    question are placed by the ``order`` columns the table has (then by row), so the same samples give the same
    numbering whatever the order of the rows — and so does every bootstrap over questions.

    Returns
    -------
    codes : ndarray (n_rows,)
        Question of each row.
    pos : ndarray (n_rows,)
        Place of each row among its question's samples (0, 1, …).
    keys : DataFrame
        One row per question, in code order: the ``key`` columns as text.

    Examples
    --------
    >>> df = pd.DataFrame({"question_id": ["b", "a", "b"], "sample_index": [1, 0, 0]})
    >>> codes, pos, keys = question_codes(df, ["question_id"])
    >>> codes.tolist(), pos.tolist(), keys["question_id"].tolist()
    ([1, 0, 1], [1, 0, 0], ['a', 'b'])
    """
    n = len(df)
    parts, uniques = _key_parts(df, key)
    varying = [p for p in parts if p[1] > 1]  # a column with one value does not split questions
    codes = combine_codes(varying, sort=True) if varying else np.zeros(n, dtype=np.int64)
    Q = int(codes.max(initial=-1)) + 1
    within = [_order_codes(df[c]) for c in order if c in df.columns and c not in key]
    within = [p for p in within if p[1] > 1]
    pos = cumcount(codes)  # place in row order: right when each question's rows already come in sample order
    start = np.r_[0, np.cumsum(np.bincount(codes, minlength=Q))[:-1]].astype(np.int64)
    if within:
        place = start[codes]
        place += pos
        by_place = np.empty(n, dtype=np.int64)
        by_place[place] = combine_codes(within, sort=True, compact=False)  # the order columns, question by question
        del place
        rising = by_place[1:] > by_place[:-1]
        del by_place
        rising[start[1:] - 1] = True  # where one question ends and the next begins
        if not bool(rising.all()):
            rows = np.argsort(combine_codes([(codes, Q), *within], sort=True, compact=False), kind="stable")
            pos[rows] = np.arange(n) - start[codes[rows]]  # by question, then the order columns, then row
    first = np.empty(Q, dtype=np.int64)  # the first sample of each question
    at = np.flatnonzero(pos == 0)
    first[codes[at]] = at
    keys = pd.DataFrame(
        {c: text_array(u, p[first]) for c, u, (p, _) in zip(key, uniques, parts, strict=True)},
        index=pd.RangeIndex(Q),
    )
    return codes, pos, keys


def _order_codes(col: pd.Series) -> tuple[NDArray[np.int64], int]:
    """Codes that sort like ``col`` (numbers as numbers, anything else as text), and how many there can be."""
    if isinstance(col.dtype, np.dtype) and col.dtype.kind in "iu":
        values = col.to_numpy()
        low, high = (int(values.min()), int(values.max())) if values.size else (0, 0)
        if low >= 0 and high < 2**31:  # small non-negative ints (context ids, sample indices) are their own codes
            return np.asarray(values, dtype=np.int64), high + 1
        oc, ou = pd.factorize(values, sort=True)
        return np.asarray(oc, dtype=np.int64), len(ou)
    oc, ou = text_codes(col, sort=True)
    return oc, len(ou)


def to_arrays(df: pd.DataFrame, *, question_key: list[str] | None = None) -> tuple[SampleArrays, pd.DataFrame]:
    """Dense arrays of the scored samples in ``df`` plus one row of per-question info.

    Questions are identified by ``question_key`` (default ``task, question_id``) and come in sorted order of
    it; the samples of a question are laid along the sample axis by ``run_id``, ``context_id`` and
    ``sample_index`` where the table has them (see :func:`question_codes`), ragged counts masked. The same samples
    therefore give the same arrays whatever the order of the rows or the file they came from.

    Returns
    -------
    arrays : SampleArrays
    questions : DataFrame
        One row per question, aligned with the arrays: the key columns, ``n_samples``, and the mean of
        ``output_tokens``, ``reasoning_tokens`` and ``actions`` over the question's samples (NaN when absent).

    Examples
    --------
    >>> df = pd.DataFrame({"task": "t", "question_id": ["b", "b", "a"], "answer": [0, 1, 1],
    ...                    "correct": [0, 0, 1], "n_options": 2, "valid": True, "probs": None,
    ...                    "error": None, "output_tokens": [10, 20, 5]})
    >>> arr, q = to_arrays(df)
    >>> q["question_id"].tolist(), arr.mask.tolist(), q["output_tokens"].tolist()
    (['a', 'b'], [[True, False], [True, True]], [5.0, 15.0])
    """
    key = question_key or QUESTION_KEY
    df = scored_samples(df)
    if df.empty:
        raise InputError(
            "no scorable multiple-choice samples (all rows are errors or lack a correct option)",
            hint="check the input, or use the test-vector / embedding analyses for such rows",
        )
    codes, pos, info = question_codes(df, key)
    Q = len(info)
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
    valid_rows = df["valid"].to_numpy(dtype=bool)
    mask = np.zeros((Q, S), dtype=bool)
    mask[codes, pos] = True
    valid = np.zeros((Q, S), dtype=bool)
    valid[codes, pos] = valid_rows
    has_probs = ~is_none(df["probs"]) & valid_rows
    if has_probs.any():
        probs = np.zeros((Q, S, C))
        answers = np.where(valid_rows, df["answer"].to_numpy(dtype=np.int64), -1)
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
        answers[codes, pos] = np.where(valid_rows, df["answer"].to_numpy(np.int64), -1)
        arrays = SampleArrays.from_answers(answers, targets, n_classes=C, n_options=n_options, mask=mask)
    info["n_samples"] = mask.sum(axis=1)
    for col, values in question_means(df, codes, pos, Q).items():
        info[col] = values
    return arrays, info


def question_means(
    df: pd.DataFrame,
    codes: NDArray[np.int64],
    pos: NDArray[np.int64],
    Q: int,
    columns: Sequence[str] = ("output_tokens", "reasoning_tokens", "actions"),
) -> dict[str, NDArray[np.float64]]:
    """Mean of each of ``columns`` over each question's samples (NaN where none is known, or no such column).

    Samples are summed in their order within the question (``pos``), so the means do not depend on row order.
    """
    out: dict[str, NDArray[np.float64]] = {}
    rows: NDArray[np.int64] | None = None
    for col in columns:
        known = col in df.columns and not bool(df[col].isna().all())  # an all-missing column: nothing to convert
        vals = pd.to_numeric(df[col], errors="coerce").astype(float).to_numpy() if known else None
        if vals is None or bool(np.isnan(vals).all()):
            out[col] = np.full(Q, np.nan)
            continue
        if rows is None:  # rows by question, then by place: no sort needed, the places say where each goes
            start = np.r_[0, np.cumsum(np.bincount(codes, minlength=Q))[:-1]]
            rows = np.empty(codes.size, dtype=np.int64)
            rows[start[codes] + pos] = np.arange(codes.size)
        out[col] = pd.Series(vals[rows]).groupby(codes[rows]).mean().reindex(range(Q)).to_numpy(dtype=float)
    return out
