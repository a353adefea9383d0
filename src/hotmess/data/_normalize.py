"""A user's samples table turned into the full schema, column by column (private; see :mod:`hotmess.data.io`).

Every text column is parsed once per distinct value, not once per row (:mod:`hotmess.data._columns`): a million
samples of ten thousand questions answered with four letters are ten thousand question ids and four answers to
parse. Python work per row is left only where each row holds its own list (``probs``, ``test_outcomes``,
``embedding``), and only for the rows that hold one. The result is the same as parsing every row, errors
included: each check reports the first offending row, in the same order of checks as always.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from hotmess.data._columns import combine_codes, cumcount, per_distinct, representatives, text_array
from hotmess.data.schema import CHOICE_COLUMNS, COLUMNS, MAX_N_OPTIONS
from hotmess.errors import InputError

__all__ = ["normalize_samples", "parse_option"]

_LETTER = re.compile(r"^\(?\s*([A-Za-z])\s*\)?[.:]?$")
_PROB_TOL = 0.01
_NO_OPTION = -2  # a parsed option that is not one (an int64 stand-in for None)


def parse_option(value: Any) -> int | None:
    """An option letter or 0-based index as an int; None when empty or unparseable.

    Examples
    --------
    >>> [parse_option(v) for v in ["B", "(c)", 2, "3", 1.0, "", None, "maybe", -1]]
    [1, 2, 2, 3, 1, None, None, None, None]
    """
    if value is None or value is pd.NA:
        return None
    if isinstance(value, bool):
        return None
    if isinstance(value, int | np.integer):
        return int(value) if value >= 0 else None
    if isinstance(value, float | np.floating):
        if math.isnan(value) or value < 0 or not float(value).is_integer():
            return None
        return int(value)
    text = str(value).strip()
    if not text:
        return None
    if text.lstrip("+").isdigit():
        return int(text)
    m = _LETTER.match(text)
    if m:
        return ord(m.group(1).upper()) - ord("A")
    return None


def _parse_list(value: Any, column: str, row: int, path: str) -> list[float] | None:
    if value is None or value is pd.NA:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, list | tuple | np.ndarray):
        items = list(value)
    else:
        text = str(value).strip()
        if not text:
            return None
        try:
            items = json.loads(text) if text.startswith("[") else [float(x) for x in text.split(",")]
        except (ValueError, json.JSONDecodeError):
            raise InputError(
                f"{path}: row {row}: column '{column}' is not a list of numbers: {text[:60]!r}",
                hint='write it as a JSON list such as "[0.2, 0.8]"',
            ) from None
    try:
        return [float("nan") if x is None else float(x) for x in items]
    except (TypeError, ValueError):
        raise InputError(
            f"{path}: row {row}: column '{column}' holds a non-number: {items!r}"[:200],
            hint='write it as a JSON list such as "[0.2, 0.8]"',
        ) from None


def _isnan(x: Any) -> bool:
    return isinstance(x, float) and math.isnan(x)


def _truthy(v: Any) -> bool:
    if isinstance(v, str):
        return v.strip().lower() in ("1", "true", "t", "yes", "y")
    try:
        return bool(v) and not (isinstance(v, float) and math.isnan(v))
    except (TypeError, ValueError):
        return False


def _optional_text(values: pd.Series) -> list[str | None]:
    """Text values with empty cells (None, NaN, "") as None."""
    out: list[str | None] = []
    for v in values:
        text = "" if v is None or v is pd.NA or _isnan(v) else str(v).strip()
        out.append(text or None)
    return out


def _first(mask: NDArray[np.bool_]) -> int:
    return int(np.flatnonzero(mask)[0])


def _text(col: pd.Series, convert: Any) -> tuple[Any, NDArray[np.int64]]:
    """A text column (``convert`` of each distinct value) and codes of its distinct *results*."""
    values, _, codes = representatives(col)
    texts = np.asarray(convert(values), dtype=object)
    sub, uniques = pd.factorize(texts)  # two inputs may give one text (" q1" and "q1")
    sub = np.asarray(sub, dtype=np.int64)
    out_codes = sub if codes is None else sub[codes]
    return text_array(np.asarray(uniques, dtype=object), out_codes), out_codes


def _filled_text(values: pd.Series) -> NDArray[Any]:
    return values.astype(object).fillna("").astype(str).to_numpy(dtype=object)


def _stripped_text(values: pd.Series) -> NDArray[Any]:
    return values.astype(str).str.strip().to_numpy(dtype=object)


def _present(values: pd.Series, rows: NDArray[np.int64]) -> list[bool]:
    return [v is not None and not _isnan(v) and str(v) != "" for v in values]


def _no_choice_rows(raw: pd.DataFrame) -> NDArray[np.bool_]:
    """Rows that are test-vector or open-ended samples (no correct option needed)."""
    flag = np.zeros(len(raw), dtype=bool)
    for name in ("test_outcomes", "embedding"):
        if name in raw.columns:
            flag |= per_distinct(raw[name], _present).astype(bool)
    return flag


def _correct(raw: pd.DataFrame, source: str) -> NDArray[np.int64]:
    col = raw["correct"]
    values, _, codes = representatives(col)
    parsed = [parse_option(v) for v in values]
    minus_one = values.astype(str).str.strip().isin(["-1", "-1.0"]).to_numpy()
    none = np.fromiter((p is None for p in parsed), dtype=bool, count=len(parsed))
    if codes is not None:
        none, minus_one = none[codes], minus_one[codes]
    no_choice = _no_choice_rows(raw) | minus_one
    bad = none & ~no_choice
    if bad.any():
        i = _first(bad)
        raise InputError(
            f"{source}: row {i + 1}: correct answer {col.iloc[i]!r} is not an option letter or index",
            hint="write the correct option as a letter (A, B, ...) or a 0-based index",
        )
    out = np.asarray([_NO_OPTION if p is None else p for p in parsed], dtype=np.int64)
    if codes is not None:
        out = out[codes]
    out[none] = -1
    return out


def _answers(col: pd.Series) -> NDArray[np.int64]:
    def parse(values: pd.Series, rows: NDArray[np.int64]) -> NDArray[np.int64]:
        return np.asarray([-1 if a is None else a for a in map(parse_option, values)], dtype=np.int64)

    return np.asarray(per_distinct(col, parse), dtype=np.int64)


def _lists(col: pd.Series, name: str, source: str) -> tuple[NDArray[Any], NDArray[np.bool_]]:
    """Parsed lists (None where empty) and where they are; rows sharing a text get lists of their own."""
    values, rows, codes = representatives(col)
    parsed = np.empty(len(values), dtype=object)
    parsed[:] = [_parse_list(v, name, int(r) + 1, source) for v, r in zip(values, rows, strict=True)]
    have = np.fromiter((v is not None for v in parsed), dtype=bool, count=len(parsed))
    if codes is None:
        return parsed, have
    present = have[codes]
    out = np.full(len(col), None, dtype=object)
    at = np.flatnonzero(present)
    out[at] = [list(parsed[c]) for c in codes[at]]
    return out, present


def _choice(raw: pd.DataFrame, name: str, source: str) -> NDArray[Any]:
    """A column of :data:`CHOICE_COLUMNS` checked against its values (case-insensitive; empty = unknown)."""
    allowed = CHOICE_COLUMNS[name]
    values, rows, codes = representatives(raw[name])
    lowered = np.empty(len(values), dtype=object)
    lowered[:] = [None if v is None else v.lower() for v in _optional_text(values)]
    bad = np.fromiter((v is not None and v not in allowed for v in lowered), dtype=bool, count=len(lowered))
    if bad.any():
        i = int(rows[_first(bad)])
        raise InputError(
            f"{source}: row {i + 1}: {name} {raw[name].iloc[i]!r} is not one of {', '.join(allowed)}",
            hint=f"write {', '.join(allowed)}, or leave it empty (see docs/data.md)",
        )
    return lowered if codes is None else lowered[codes]


def _optional_column(raw: pd.DataFrame, name: str) -> NDArray[Any]:
    def parse(values: pd.Series, rows: NDArray[np.int64]) -> list[str | None]:
        return _optional_text(values)

    return per_distinct(raw[name], parse)


_BLANK, _NONE, _NA_INT = "<blank text>", "<None>", "<missing int>"
"""Markers of a column that holds one value in every row (built once, below, and shared where safe)."""

_TEXT = ("run_id", "model", "task", "question_id", "budget", "raw_output")

_SHARE = int(pd.__version__.split(".")[0]) >= 3
"""Columns may share one array under copy-on-write (pandas ≥ 3): a write to one copies it first."""


def _frame(out: dict[str, Any], n: int) -> pd.DataFrame:
    """The normalised table from its columns, without copying them; constant columns are built once."""
    index = pd.RangeIndex(n)
    made: dict[str, pd.Series] = {}

    def constant(marker: str) -> pd.Series:
        if marker in made:
            return made[marker]
        if marker == _BLANK:
            s = pd.Series(text_array(np.array([""], dtype=object), np.zeros(n, dtype=np.int64)), index=index)
        elif marker == _NONE:  # object, holding None where unknown (a str column would hold NaN)
            s = pd.Series(np.full(n, None, dtype=object), index=index, dtype=object, copy=False)
        else:
            s = pd.Series(pd.arrays.IntegerArray(np.zeros(n, dtype=np.int64), np.ones(n, dtype=bool)), index=index)
        if _SHARE:
            made[marker] = s
        return s

    columns: dict[str, pd.Series] = {}
    for name in COLUMNS:
        v = out[name]
        if isinstance(v, str) and v in (_BLANK, _NONE, _NA_INT):
            columns[name] = constant(v)
        elif isinstance(v, pd.Series):
            columns[name] = v
        elif isinstance(v, np.ndarray) and v.dtype == object and name not in _TEXT:
            columns[name] = pd.Series(v, index=index, dtype=object, copy=False)
        elif isinstance(v, float):  # np.zeros: pages the system gives on first write, so none for a 0.0 column
            columns[name] = pd.Series(np.zeros(n) + v if v else np.zeros(n), index=index, copy=False)
        else:
            columns[name] = pd.Series(v, index=index, copy=False)
    return pd.DataFrame(columns, copy=False)


def normalize_samples(raw: pd.DataFrame, *, source: str = "<table>") -> pd.DataFrame:
    """Turn a user table into the full schema (see :mod:`hotmess.data.io` for the rules)."""
    return normalize_owned([raw], source=source)


def normalize_owned(box: list[pd.DataFrame], *, source: str = "<table>") -> pd.DataFrame:
    """:func:`normalize_samples` of the one table in ``box``, which it takes out of the list.

    When nothing else refers to that table (a file just read), each of its large text columns (question ids,
    answers, correct options) is dropped, and its memory returned, as soon as it is parsed: the file's columns
    and the normalised ones are never all held at once.
    """
    raw = box.pop()
    if raw.empty:
        raise InputError(f"{source} holds no samples", hint="the file must have one row per sample")
    raw = raw.rename(columns={c: str(c).strip().lower() for c in raw.columns}).reset_index(drop=True)
    missing = [c for c in ("question_id", "correct") if c not in raw.columns]
    if "answer" not in raw.columns and "probs" not in raw.columns:
        missing.append("answer (or probs)")
    if missing:
        raise InputError(
            f"{source}: missing column(s) {', '.join(missing)}; found {', '.join(map(str, raw.columns))}",
            hint="a samples file needs question_id, answer and correct (see docs/data.md)",
        )
    n = len(raw)
    out: dict[str, Any] = {}
    key: dict[str, NDArray[np.int64]] = {}  # codes of the key columns' values
    zeros = np.zeros(n, dtype=np.int64)
    for name in ("run_id", "model", "task", "budget"):
        out[name], key[name] = _text(raw[name], _filled_text) if name in raw.columns else (_BLANK, zeros)
    qid = raw["question_id"]
    if qid.isna().any():
        row = _first(qid.isna().to_numpy()) + 1
        raise InputError(f"{source}: row {row}: question_id is empty", hint="every sample needs a question_id")
    out["question_id"], key["question_id"] = _text(qid, _stripped_text)
    del qid
    _drop(raw, "question_id")

    correct = _correct(raw, source)
    _drop(raw, "correct")
    answer = _answers(raw["answer"]) if "answer" in raw.columns else np.full(n, -1, dtype=np.int64)
    _drop(raw, "answer")
    lists: dict[str, tuple[NDArray[Any], NDArray[np.bool_]]] = {}
    for name in ("probs", "test_outcomes", "embedding"):
        if name in raw.columns:
            lists[name] = _lists(raw[name], name, source)
    if "error" in raw.columns:

        def nonempty(values: pd.Series, rows: NDArray[np.int64]) -> NDArray[np.bool_]:
            return (values.notna() & (values.astype(str) != "")).to_numpy(dtype=bool)

        out["error"] = raw["error"].where(per_distinct(raw["error"], nonempty).astype(bool), None)
    else:
        out["error"] = _NONE
    out["raw_output"] = _text(raw["raw_output"], _filled_text)[0] if "raw_output" in raw.columns else _BLANK
    for name in ("seed", "output_tokens", "reasoning_tokens", "actions"):
        if name in raw.columns:
            vals = pd.to_numeric(raw[name], errors="coerce")
            if (vals.dropna() < 0).any():
                raise InputError(f"{source}: column '{name}' has negative values", hint="counts must be ≥ 0")
            out[name] = vals.round().astype("Int64").array
        else:
            out[name] = _NA_INT
    out["created_at"] = pd.to_numeric(raw["created_at"], errors="coerce").fillna(0.0) if "created_at" in raw else 0.0
    out["finish_reason"] = _optional_column(raw, "finish_reason") if "finish_reason" in raw.columns else _NONE
    for name in CHOICE_COLUMNS:
        out[name] = _choice(raw, name, source) if name in raw.columns else _NONE

    probs, has_probs = lists.get("probs", (None, np.zeros(n, dtype=bool)))
    n_options = _fill_n_options(correct, answer, probs, has_probs, key["task"], raw, source)
    answer[(answer >= n_options)] = -1  # an answer naming a non-existent option is invalid, like any unparseable one
    if probs is not None:
        probs, best = _check_probs(probs, has_probs, n_options, source)
        answer[has_probs] = best
    if "valid" in raw.columns:

        def truthy(values: pd.Series, rows: NDArray[np.int64]) -> NDArray[np.bool_]:
            return np.fromiter(map(_truthy, values), dtype=bool, count=len(values))

        valid = per_distinct(raw["valid"], truthy).astype(bool) & ((answer >= 0) | has_probs)
    else:
        valid = (answer >= 0) | has_probs
    if isinstance(out["error"], pd.Series):
        valid &= ~out["error"].notna().to_numpy()
    answer[~valid] = -1

    for name in ("context_id", "sample_index"):
        if name in raw.columns:
            vals = pd.to_numeric(raw[name], errors="coerce")
            if vals.isna().any():
                raise InputError(
                    f"{source}: column '{name}' must be an integer in every row",
                    hint="fill it, or drop the column to number samples automatically",
                )
            out[name] = vals.astype(np.int64).to_numpy()
    context = out.get("context_id", zeros)
    key["context_id"] = np.asarray(pd.factorize(context)[0], dtype=np.int64) if "context_id" in out else zeros
    if "sample_index" not in raw.columns:  # numbered within each key, so no key can repeat
        cols = ["run_id", "model", "task", "budget", "question_id"] + (["context_id"] if "context_id" in raw else [])
        group = combine_codes([(key[c], int(key[c].max(initial=-1)) + 1) for c in cols], sort=False, compact=False)
        out["sample_index"] = cumcount(group)
    else:
        key["sample_index"] = np.asarray(pd.factorize(out["sample_index"])[0], dtype=np.int64)
        cols = ["run_id", "model", "task", "question_id", "context_id", "sample_index", "budget"]
        ids = combine_codes([(key[c], int(key[c].max(initial=-1)) + 1) for c in cols], sort=False, compact=False)
        dup = pd.Series(ids).duplicated().to_numpy()
        if dup.any():
            raise InputError(
                f"{source}: row {_first(dup) + 1} repeats the key of an earlier sample (same question, context and "
                "sample index)",
                hint="give each sample its own sample_index, or drop the column",
            )
    out["context_id"] = context
    out |= {"n_options": n_options, "correct": correct, "answer": answer, "valid": valid, "probs": probs}
    for name in ("test_outcomes", "embedding"):
        out[name] = lists[name][0] if name in lists else None
    for name in ("probs", "test_outcomes", "embedding"):
        if out[name] is None or not (has_probs if name == "probs" else lists[name][1]).any():
            out[name] = _NONE
    return _frame(out, n)


def _drop(raw: pd.DataFrame, name: str) -> None:
    """Drop a parsed column from the working copy of the user's table and give its memory back."""
    if name in raw.columns:
        del raw[name]
        release_arrow_memory()


def release_arrow_memory() -> None:
    """Return memory that pyarrow's pool holds for reuse to the system (a large table read leaves hundreds of MB)."""
    try:
        import pyarrow as pa

        pa.default_memory_pool().release_unused()
    except (ImportError, AttributeError):  # pragma: no cover - an older pyarrow keeps its pool
        pass


def _fill_n_options(
    correct: NDArray[np.int64],
    answer: NDArray[np.int64],
    probs: NDArray[Any] | None,
    has_probs: NDArray[np.bool_],
    task: NDArray[np.int64],
    raw: pd.DataFrame,
    source: str,
) -> NDArray[np.int64]:
    seen = np.maximum(answer, correct) + 1  # the largest option each row names
    if probs is not None and has_probs.any():
        at = np.flatnonzero(has_probs)
        seen[at] = np.maximum(seen[at], np.fromiter((len(v) for v in probs[at]), dtype=np.int64, count=at.size))
    per_task = np.zeros(int(task.max(initial=-1)) + 1, dtype=np.int64)
    np.maximum.at(per_task, task, seen)
    inferred = np.maximum(per_task, 2)[task]
    given = pd.to_numeric(raw["n_options"], errors="coerce") if "n_options" in raw.columns else None
    k = inferred if given is None else given.fillna(pd.Series(inferred, index=given.index)).to_numpy()
    choice = correct >= 0
    huge = choice & ~(k <= MAX_N_OPTIONS)  # also catches inf
    if huge.any():
        i = _first(huge)
        if given is not None and pd.notna(given.iloc[i]):
            raise InputError(
                f"{source}: row {i + 1}: n_options {given.iloc[i]:g} is more than the {MAX_N_OPTIONS:,} options "
                "a question may have",
                hint=f"fix the n_options column (at most {MAX_N_OPTIONS:,})",
            )
        same = task == task[i]
        j = int(np.flatnonzero(same)[np.argmax(seen[same])])  # the row naming the largest option
        raise InputError(
            f"{source}: row {j + 1}: option index {int(seen[j]) - 1:,} implies n_options {int(seen[j]):,}, more "
            f"than the {MAX_N_OPTIONS:,} options a question may have",
            hint="fix that answer, correct option or probs, or give an n_options column",
        )
    n_options = np.where(choice, k.astype(np.int64), 0)
    over = choice & (correct >= n_options)
    if over.any():
        i = _first(over)
        raise InputError(
            f"{source}: row {i + 1}: correct option {correct[i]} is beyond n_options {n_options[i]}",
            hint="fix n_options or the correct answer",
        )
    if (choice & (n_options < 2)).any():
        raise InputError(f"{source}: n_options must be at least 2", hint="fix the n_options column")
    return n_options


def _check_probs(
    probs: NDArray[Any], has: NDArray[np.bool_], n_options: NDArray[np.int64], source: str
) -> tuple[NDArray[Any], NDArray[np.int64]]:
    """Probability vectors checked and normalised (one block per vector length), and each one's argmax."""
    rows = np.flatnonzero(has)
    vectors = probs[rows]
    sizes = np.fromiter((len(v) for v in vectors), dtype=np.int64, count=rows.size)
    fault = np.where(sizes != n_options[rows], 1, 0)  # the first check a row fails: 1 size, 2 values, 3 sum
    sums = np.zeros(rows.size)
    best = np.zeros(rows.size, dtype=np.int64)
    out = np.full(len(probs), None, dtype=object)
    for size in np.unique(sizes):
        pick = np.flatnonzero(sizes == size)
        block = np.array([np.asarray(v, dtype=np.float64) for v in vectors[pick]]).reshape(pick.size, int(size))
        s = block.sum(axis=1)
        bad_values = ~(np.isfinite(block).all(axis=1) & ~(block < 0).any(axis=1))
        bad_sum = np.abs(s - 1.0) > _PROB_TOL
        fault[pick] = np.where(fault[pick] > 0, fault[pick], np.where(bad_values, 2, np.where(bad_sum, 3, 0)))
        sums[pick] = s
        with np.errstate(invalid="ignore", divide="ignore"):
            normed = block / s[:, None]
        if size > 0:
            best[pick] = np.argmax(normed, axis=1)
        out[rows[pick]] = [list(r) for r in normed]
    if fault.any():
        j = _first(fault > 0)
        i, v = int(rows[j]), vectors[j]
        if fault[j] == 1:
            raise InputError(
                f"{source}: row {i + 1}: probs has {sizes[j]} values but the question has {n_options[i]} options",
                hint="give one probability per option",
            )
        if fault[j] == 2:
            raise InputError(
                f"{source}: row {i + 1}: probs must be finite and non-negative, got {v}",
                hint="leave probs empty for an invalid sample",
            )
        raise InputError(
            f"{source}: row {i + 1}: probs sum to {float(sums[j]):.4g}, not 1",
            hint="normalise each probability vector to sum to 1",
        )
    return out, best
