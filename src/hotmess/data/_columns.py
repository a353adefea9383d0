"""Column helpers that do per-value Python work once per *distinct* value, not once per row (private).

A table of a million samples holds a few thousand distinct values in each text column (question ids, option
letters, run ids). Reading it parses each distinct value once and spreads the result back through integer codes;
the answer is the same as parsing every row, because rows that share a code hold interchangeable values:

* text columns (``str``/``string`` dtype, or object columns of ``str`` only) — equal strings;
* integer and boolean columns — equal numbers (NumPy or nullable);
* float columns — equal bit patterns (``-0.0`` and ``0.0`` stay apart: their text differs);
* missing values — grouped by kind (``None``, NaN, ``pd.NA`` …), which parsers tell apart.

Object columns that mix types (``1``, ``1.0`` and ``True`` are equal keys but not the same input) or hold lists
are not grouped: callers fall back to one call per row there, exactly as before.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from functools import cache
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

__all__ = [
    "combine_codes",
    "cumcount",
    "distinct_codes",
    "first_rows",
    "is_none",
    "is_none_or_nan",
    "per_distinct",
    "representatives",
    "text_array",
    "text_codes",
]


_NONE = np.array(None, dtype=object)
"""``None`` as an array: ``np.equal(values, _NONE)`` compares every element with None in one pass."""


def first_rows(codes: NDArray[np.int64]) -> NDArray[np.int64]:
    """First row of each code, for codes numbered by first appearance (0, 1, 2, … in row order).

    Examples
    --------
    >>> first_rows(np.array([0, 0, 1, 0, 2, 1])).tolist()
    [0, 2, 4]
    """
    if codes.size == 0:
        return np.zeros(0, dtype=np.int64)
    top = np.maximum.accumulate(codes)  # code k first appears where the running maximum reaches k
    return np.searchsorted(top, np.arange(int(top[-1]) + 1)).astype(np.int64)


def _na_kinds(values: NDArray[Any]) -> NDArray[np.int64]:
    """0-based kind of each missing value of an object array: all ``None`` (the common case) is one kind."""
    if bool(np.equal(values, _NONE).all()):
        return np.zeros(values.size, dtype=np.int64)
    return np.asarray(pd.factorize(np.array([type(v).__qualname__ for v in values], dtype=object))[0], dtype=np.int64)


def distinct_codes(col: pd.Series) -> NDArray[np.int64] | None:
    """Codes numbered by first appearance, equal where rows hold interchangeable values; None if not groupable.

    Examples
    --------
    >>> distinct_codes(pd.Series(["b", "a", None, "b"], dtype=object)).tolist()
    [0, 1, 2, 0]
    >>> distinct_codes(pd.Series([0.0, -0.0, 0.0])).tolist()
    [0, 1, 0]
    >>> distinct_codes(pd.Series([1, "1", True], dtype=object)) is None
    True
    """
    dtype = col.dtype
    values: NDArray[Any] | None = None
    if isinstance(dtype, np.dtype) and dtype.kind == "f":
        arr = np.ascontiguousarray(col.to_numpy())
        return np.asarray(pd.factorize(arr.view(f"i{arr.itemsize}"))[0], dtype=np.int64)
    if isinstance(dtype, np.dtype) and dtype.kind in "iub":
        return np.asarray(pd.factorize(col.to_numpy())[0], dtype=np.int64)
    if isinstance(dtype, np.dtype) and dtype.kind == "O":
        values = col.to_numpy()
        if pd.api.types.infer_dtype(values, skipna=True) not in ("string", "empty"):
            return None
        codes = np.asarray(pd.factorize(values)[0], dtype=np.int64)
    elif isinstance(dtype, pd.StringDtype) or (
        isinstance(dtype, pd.api.extensions.ExtensionDtype) and dtype.kind in "iub" and hasattr(col.array, "_mask")
    ):
        codes = np.asarray(pd.factorize(col)[0], dtype=np.int64)  # one kind of missing value per extension dtype
    else:
        return None
    na = np.flatnonzero(codes < 0)
    if na.size:
        kinds = np.zeros(na.size, dtype=np.int64) if values is None else _na_kinds(values[na])
        codes[na] = int(codes.max(initial=-1)) + 1 + kinds
        codes = np.asarray(pd.factorize(codes)[0], dtype=np.int64)  # first-appearance numbering again
    return codes


def representatives(col: pd.Series) -> tuple[pd.Series, NDArray[np.int64], NDArray[np.int64] | None]:
    """``(values, rows, codes)``: one value per distinct value of ``col`` (same dtype), its first row, and each
    row's index into ``values`` — ``codes`` is None when every row is its own value (ungroupable or no repeats).

    Values come in order of first appearance, so the first value a parser refuses is also the first such row.

    Examples
    --------
    >>> values, rows, codes = representatives(pd.Series(["b", "a", "b"]))
    >>> values.tolist(), rows.tolist(), codes.tolist()
    (['b', 'a'], [0, 1], [0, 1, 0])
    """
    codes = distinct_codes(col)
    if codes is None:
        return col, np.arange(len(col)), None
    rows = first_rows(codes)
    if rows.size == len(col):
        return col, rows, None
    return col.iloc[rows], rows, codes


def per_distinct(
    col: pd.Series, parse: Callable[[pd.Series, NDArray[np.int64]], Sequence[Any] | NDArray[Any]]
) -> NDArray[Any]:
    """``parse(values, rows)`` on one row per distinct value of ``col`` (see :func:`representatives`), spread back.

    ``parse`` gets a Series of values (the same dtype as ``col``) and their 0-based row numbers (for messages) and
    returns one result per value. Columns that cannot be grouped are parsed row by row.

    Examples
    --------
    >>> per_distinct(pd.Series(["a", "bb", "a"]), lambda v, rows: [len(x) for x in v]).tolist()
    [1, 2, 1]
    """
    values, rows, codes = representatives(col)
    out = _as_array(parse(values, rows))
    return out if codes is None else out[codes]


def _as_array(values: Sequence[Any] | NDArray[Any]) -> NDArray[Any]:
    if isinstance(values, np.ndarray):
        return values
    if isinstance(values, pd.Series | pd.api.extensions.ExtensionArray):
        return np.asarray(values)
    out = np.empty(len(values), dtype=object)
    out[:] = list(values)  # never let NumPy turn a list of lists into a 2-D array
    return out


def text_codes(col: pd.Series, *, sort: bool = False) -> tuple[NDArray[np.int64], NDArray[Any]]:
    """``(codes, uniques)`` of ``col.astype(str)`` without converting every row (sorted uniques with ``sort``).

    Examples
    --------
    >>> codes, uniques = text_codes(pd.Series(["b", "a", "b"]), sort=True)
    >>> codes.tolist(), uniques.tolist()
    ([1, 0, 1], ['a', 'b'])
    """
    if isinstance(col.dtype, pd.StringDtype):  # already text: no conversion at all
        if len(col) and bool((col == col.iloc[0]).all()):  # one value (a model, a task): nothing to hash
            return np.zeros(len(col), dtype=np.int64), np.asarray(col.iloc[:1], dtype=object)
        codes, uniques = pd.factorize(col, use_na_sentinel=False)
        codes, uniques = np.asarray(codes, dtype=np.int64), np.asarray(uniques, dtype=object)
        if sort:  # sort the few uniques, not the many rows (missing last, as pandas sorts)
            na = pd.isna(uniques)
            order = np.r_[np.flatnonzero(~na)[np.argsort(uniques[~na], kind="stable")], np.flatnonzero(na)]
            rank = np.empty(order.size, dtype=np.int64)
            rank[order] = np.arange(order.size)
            codes, uniques = rank[codes], uniques[order]
        return codes, uniques
    values, _, raw = representatives(col)
    text = values.astype(str).to_numpy(dtype=object)  # missing values may stay missing (pandas ≥ 3): a code too
    sub, uniques = pd.factorize(text, sort=sort, use_na_sentinel=False)  # two inputs may share a text: 1 and "1"
    sub = np.asarray(sub, dtype=np.int64)
    return (sub if raw is None else sub[raw]), np.asarray(uniques, dtype=object)


@cache
def _text_dtype() -> Any:
    """The dtype pandas gives a column of Python strings: ``str`` (pyarrow) on pandas ≥ 3, object before."""
    return pd.Series(np.array(["x"], dtype=object)).dtype


def text_array(texts: NDArray[Any], codes: NDArray[np.int64] | None = None) -> Any:
    """``texts[codes]`` (strings) as the column pandas would make of them, built without a Python object per row.

    Examples
    --------
    >>> pd.Series(text_array(np.array(["a", "b"], dtype=object), np.array([1, 1, 0]))).tolist()
    ['b', 'b', 'a']
    """
    dtype = _text_dtype()
    if isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow":
        import pyarrow as pa

        if codes is not None and len(texts) == 1 and isinstance(texts[0], str):  # one text: repeat it, no take
            data = texts[0].encode()
            offsets = np.arange(len(codes) + 1, dtype=np.int64) * len(data)
            buffers = pa.py_buffer(offsets), pa.py_buffer(data * len(codes))
            return pd.array(pa.LargeStringArray.from_buffers(len(codes), *buffers), dtype=dtype)
        arr = pa.array(list(texts), type=pa.large_string())
        if codes is not None:
            arr = arr.take(pa.array(codes, type=pa.int64()))
        return pd.array(arr, dtype=dtype)
    values = texts if codes is None else texts[codes]
    return values if isinstance(dtype, np.dtype) and dtype.kind == "O" else pd.array(values, dtype=dtype)


def combine_codes(
    parts: Sequence[tuple[NDArray[np.int64], int]], *, sort: bool = True, compact: bool = True
) -> NDArray[np.int64]:
    """One code per row for several code columns ``(codes, n_codes)``; sorted codes keep lexicographic order.

    ``compact=False`` skips the final renumbering to ``0 … n − 1``: the codes still tell rows apart (and keep the
    lexicographic order), which is all a duplicate check needs.

    Examples
    --------
    >>> combine_codes([(np.array([1, 0, 1]), 2), (np.array([0, 5, 0]), 6)]).tolist()
    [1, 0, 1]
    """
    out: NDArray[np.int64] | None = None
    size = 1
    for codes, n in parts:
        if out is None:
            out, size = np.asarray(codes, dtype=np.int64), max(int(n), 1)
            continue
        if size * max(int(n), 1) >= 2**62:  # renumber before the product could overflow
            out = _renumber(out, size, sort)
            size = int(out.max(initial=-1)) + 1
        out = out * max(int(n), 1) + codes
        size *= max(int(n), 1)
    if out is None:
        raise ValueError("parts: expected at least one code column")
    return _renumber(out, size, sort) if compact else out


def _renumber(codes: NDArray[np.int64], size: int, sort: bool) -> NDArray[np.int64]:
    """Codes below ``size`` renumbered 0 … k−1 (in sorted order, or in order of first appearance)."""
    if sort and size <= max(4 * codes.size, 1 << 20):  # a table of the codes in use: no hashing, no sorting
        rank = np.cumsum(np.bincount(codes, minlength=size) > 0) - 1
        return rank[codes]
    return np.asarray(pd.factorize(codes, sort=sort)[0], dtype=np.int64)


def cumcount(codes: NDArray[np.int64]) -> NDArray[np.int64]:
    """How many earlier rows have each row's code: ``groupby(codes).cumcount()``, in one pass where the rows of
    each code are contiguous (a table grouped by question).

    Examples
    --------
    >>> cumcount(np.array([3, 3, 1, 1, 1])).tolist(), cumcount(np.array([0, 1, 0])).tolist()
    ([0, 1, 0, 1, 2], [0, 0, 1])
    """
    n = codes.size
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
    if starts.size == pd.unique(codes[starts]).size:  # every code is one run of rows: count up, restart at each
        out = np.ones(n, dtype=np.int64)
        out[starts[1:]] = 1 - np.diff(starts)
        out[0] = 0
        return np.cumsum(out, out=out)
    return np.array(pd.Series(codes).groupby(codes, sort=False).cumcount(), dtype=np.int64)


def is_none(col: pd.Series) -> NDArray[np.bool_]:
    """``[v is None for v in col]`` without a Python call per row (lists and arrays are not None).

    Examples
    --------
    >>> is_none(pd.Series([None, [1.0], float("nan")], dtype=object)).tolist()
    [True, False, False]
    """
    return _missing(col, nan=False)


def is_none_or_nan(col: pd.Series) -> NDArray[np.bool_]:
    """``[v is None or (isinstance(v, float) and math.isnan(v)) for v in col]``, vectorised.

    Examples
    --------
    >>> is_none_or_nan(pd.Series([None, [1.0], float("nan"), pd.NA], dtype=object)).tolist()
    [True, False, True, False]
    """
    return _missing(col, nan=True)


def _missing(col: pd.Series, *, nan: bool) -> NDArray[np.bool_]:
    dtype = col.dtype
    if isinstance(dtype, np.dtype) and dtype.kind == "O":
        values = col.to_numpy()
        try:
            if bool(np.equal(values, _NONE).all()):  # the common column of nothing: one pass, no isna
                return np.ones(len(values), dtype=bool)
        except (TypeError, ValueError):  # an element whose == None is not a bool (an array): look closer
            pass
        na = np.flatnonzero(pd.isna(values))  # None, NaN, pd.NA, NaT: which of them counts is decided below
        out = np.zeros(len(values), dtype=bool)
        if na.size:
            sub = values[na]
            if bool(np.equal(sub, _NONE).all()):
                out[na] = True
            else:
                out[na] = [v is None or (nan and isinstance(v, float)) for v in sub]
        return out
    if isinstance(dtype, np.dtype):
        return np.isnan(col.to_numpy()) if nan and dtype.kind == "f" else np.zeros(len(col), dtype=bool)
    na_value: Hashable = getattr(dtype, "na_value", None)
    if nan and isinstance(na_value, float):  # e.g. the "str" dtype: its missing values iterate as NaN
        return col.isna().to_numpy()
    return np.zeros(len(col), dtype=bool)
