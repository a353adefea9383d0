"""normalize_samples parses each distinct value once; it must equal parsing every row, errors included.

The reference below is the straightforward algorithm, one row at a time, written from the rules in
:mod:`hotmess.data.io` (and the messages the checks give). Random tables mix every kind of cell a user file
holds: letters in any case, "(c)", digits, ints, floats, blanks, None, NaN, garbage and options beyond the
question's — in text columns and in object columns that mix types.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from hotmess.data import COLUMNS, normalize_samples, parse_option
from hotmess.data.schema import CHOICE_COLUMNS, MAX_N_OPTIONS
from hotmess.errors import InputError

SOURCE = "t.csv"
NAN = float("nan")

ANSWERS = [
    "A",
    "b",
    "(c)",
    "D.",
    " c: ",
    "( B )",
    "2",
    "+1",
    "0",
    "1.0",
    3,
    0,
    1.0,
    2.5,
    -1,
    -1.0,
    NAN,
    "",
    "  ",
    None,
    "maybe",
    "??",
    "AB",
    "Z",
    True,
    np.int64(2),
    np.float64(1.0),
    "7",
]
CORRECT = ["A", "B", "c", "(d)", "1", "0", 2, 1.0, np.int64(3), "b."]
BAD_CORRECT = ["-1", "-1.0", -1, "x?", "", None, NAN]
QIDS = ["q1", "q2", " q1", "q3 ", "10", 1, 2.0, 0.0, -0.0, np.int64(3), True]
TEXT = ["m1", "m2", " m1", "", None, NAN, pd.NA, 7, 1.5, -0.0, 0.0]
TRUTHY = [True, False, "yes", "no", "1", "0", " True ", "y", 1, 0, 1.0, 0.0, None, NAN, pd.NA, "", "maybe"]
PROBS = [
    None,
    NAN,
    "",
    "[0.25, 0.25, 0.25, 0.25]",
    "[1, 0, 0, 0]",
    "0.1, 0.2, 0.3, 0.4",
    "[0.5, 0.5]",
    "[0.9, 0.3, 0.0, 0.0]",
    "[0.2, -0.1, 0.5, 0.4]",
    "[null, 0.5, 0.25, 0.25]",
    "abc",
    [0.0, 0.0, 1.0, 0.0],
]
ERRORS = [None, NAN, "", "timeout", "  "]
FINISH = [None, NAN, "", "stop", " length ", 3]
LENGTH_SOURCES = [None, NAN, "", "API", " tokenizer ", "estimated"]
LENGTH_SOURCES_BAD = ["bogus"]
N_OPTIONS = [4, 5, 2, NAN, None, "6", 1500]
EMBEDDINGS = [None, NAN, pd.NA, "", "[0.5, 1.5]", "0.5, 1.5", [1.0, 2.0]]  # pd.NA counts as given (no correct needed)


# ---------------------------------------------------------------------------------------------------------------------
# The reference: one row at a time


def _isnan(v: Any) -> bool:
    return isinstance(v, float) and math.isnan(v)


def _missing(v: Any) -> bool:
    return v is None or v is pd.NA or _isnan(v)


def _text(v: Any) -> str:
    return "" if pd.isna(v) else str(v)


def _optional(v: Any) -> str | None:
    text = "" if _missing(v) else str(v).strip()
    return text or None


def _truthy(v: Any) -> bool:
    if isinstance(v, str):
        return v.strip().lower() in ("1", "true", "t", "yes", "y")
    try:
        return bool(v) and not _isnan(v)
    except TypeError:  # pd.NA
        return False


def _parse_list(v: Any, column: str, row: int) -> list[float] | None:
    if _missing(v):
        return None
    if isinstance(v, list):
        items = v
    else:
        text = str(v).strip()
        if not text:
            return None
        try:
            items = json.loads(text) if text.startswith("[") else [float(x) for x in text.split(",")]
        except ValueError:
            raise InputError(
                f"{SOURCE}: row {row}: column '{column}' is not a list of numbers: {text[:60]!r}"
            ) from None
    return [NAN if x is None else float(x) for x in items]


def reference(raw: pd.DataFrame) -> list[dict[str, Any]]:
    raw = raw.rename(columns={c: str(c).strip().lower() for c in raw.columns}).reset_index(drop=True)
    n = len(raw)

    def cells(name: str, default: Any = None) -> list[Any]:
        return list(raw[name]) if name in raw.columns else [default] * n

    rows: list[dict[str, Any]] = [{} for _ in range(n)]
    for i, r in enumerate(rows):
        for name in ("run_id", "model", "task", "budget"):
            r[name] = _text(cells(name, "")[i])
        if pd.isna(cells("question_id")[i]):
            raise InputError(f"{SOURCE}: row {i + 1}: question_id is empty")
        r["question_id"] = str(cells("question_id")[i]).strip()
    for i, r in enumerate(rows):
        v = cells("correct")[i]
        c = parse_option(v)
        e = cells("embedding")[i]
        no_choice = "embedding" in raw.columns and e is not None and not _isnan(e) and str(e) != ""
        if c is None and not no_choice and str(v).strip() not in ("-1", "-1.0"):
            shown = raw["correct"].iloc[i]  # as the table gives it (a NumPy scalar shows as one)
            raise InputError(f"{SOURCE}: row {i + 1}: correct answer {shown!r} is not an option letter or index")
        r["correct"] = -1 if c is None else c
        a = parse_option(cells("answer")[i]) if "answer" in raw.columns else None
        r["answer"] = -1 if a is None else a
    for i, r in enumerate(rows):
        r["probs"] = _parse_list(cells("probs")[i], "probs", i + 1) if "probs" in raw.columns else None
    for i, r in enumerate(rows):
        r["embedding"] = _parse_list(cells("embedding")[i], "embedding", i + 1) if "embedding" in raw.columns else None
    for i, r in enumerate(rows):
        e = cells("error")[i]
        r["error"] = None if not ("error" in raw.columns and not pd.isna(e) and str(e) != "") else e
        r["finish_reason"] = _optional(cells("finish_reason")[i])
    for name in CHOICE_COLUMNS:
        for i, r in enumerate(rows):
            value = _optional(cells(name)[i])
            value = None if value is None else value.lower()
            if value is not None and value not in CHOICE_COLUMNS[name]:
                raise InputError(f"{SOURCE}: row {i + 1}: {name} {raw[name].iloc[i]!r} is not one of")
            r[name] = value
    seen: dict[str, int] = {}  # n_options: the largest option seen in the task
    for r in rows:
        top = max(max(r["answer"], r["correct"]) + 1, len(r["probs"]) if r["probs"] is not None else 0)
        seen[r["task"]] = max(seen.get(r["task"], 0), top)
    for i, r in enumerate(rows):
        given = pd.to_numeric(pd.Series([cells("n_options")[i]], dtype=object), errors="coerce").iloc[0]
        k = max(seen[r["task"]], 2) if pd.isna(given) else given
        if r["correct"] >= 0 and not k <= MAX_N_OPTIONS:
            raise InputError(f"{SOURCE}: row ")  # (which row: checked by the message prefix only)
        r["n_options"] = int(k) if r["correct"] >= 0 else 0
    for i, r in enumerate(rows):
        if r["correct"] >= 0 and r["correct"] >= r["n_options"]:
            raise InputError(f"{SOURCE}: row {i + 1}: correct option {r['correct']} is beyond n_options")
    for r in rows:
        if r["answer"] >= r["n_options"]:
            r["answer"] = -1
    if any(r["correct"] >= 0 and r["n_options"] < 2 for r in rows):
        raise InputError(f"{SOURCE}: n_options must be at least 2")
    for i, r in enumerate(rows):
        p = r["probs"]
        if p is None:
            continue
        a = np.asarray(p, dtype=np.float64)
        if a.size != r["n_options"]:
            raise InputError(f"{SOURCE}: row {i + 1}: probs has {a.size} values but the question has")
        if not np.all(np.isfinite(a)) or np.any(a < 0):
            raise InputError(f"{SOURCE}: row {i + 1}: probs must be finite and non-negative, got {p}")
        s = float(a.sum())
        if abs(s - 1.0) > 0.01:
            raise InputError(f"{SOURCE}: row {i + 1}: probs sum to {s:.4g}, not 1")
        r["probs"] = list(a / s)
        r["answer"] = int(np.argmax(r["probs"]))
    counters: dict[tuple[str, ...], int] = {}
    for i, r in enumerate(rows):
        has = r["probs"] is not None
        ok = r["answer"] >= 0 or has
        r["valid"] = (_truthy(cells("valid")[i]) and ok) if "valid" in raw.columns else ok
        if r["error"] is not None:
            r["valid"] = False
        if not r["valid"]:
            r["answer"] = -1
        key = (r["run_id"], r["model"], r["task"], r["budget"], r["question_id"])
        r["sample_index"] = counters.get(key, 0)
        counters[key] = r["sample_index"] + 1
        r["context_id"] = 0
    return rows


# ---------------------------------------------------------------------------------------------------------------------
# Random tables


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, list | np.ndarray) or isinstance(b, list | np.ndarray):
        return (
            isinstance(a, list | np.ndarray)
            and isinstance(b, list | np.ndarray)
            and len(a) == len(b)
            and all(_same(x, y) for x, y in zip(a, b, strict=True))
        )
    if _isnan(a) or _isnan(b):
        return _isnan(a) and _isnan(b)
    return type(a) is type(b) and a == b if isinstance(a, str) or isinstance(b, str) else a == b


@st.composite
def tables(draw: st.DrawFn) -> pd.DataFrame:
    n = draw(st.integers(1, 30))

    def column(pool: list[Any], *, p_object: float = 0.5) -> pd.Series:
        values = draw(st.lists(st.sampled_from(pool), min_size=n, max_size=n))
        if draw(st.booleans()):  # an object column, as a mixed file or a hand-built frame gives
            return pd.Series(values, dtype=object)
        texts = [v for v in values if isinstance(v, str)]
        return pd.Series(values if len(texts) < n else texts)  # all text: pandas' own text dtype

    out = {
        "Question_ID ": column(draw(st.sampled_from([QIDS, [q for q in QIDS if isinstance(q, str)]]))),
        "correct": column(CORRECT + (BAD_CORRECT if draw(st.integers(0, 4)) == 0 else [])),
    }
    if draw(st.integers(0, 5)) > 0:
        out["answer"] = column(ANSWERS)
    if "answer" not in out or draw(st.integers(0, 3)) == 0:
        out["probs"] = column(PROBS)
    for name, pool in (("model", TEXT), ("task", TEXT), ("valid", TRUTHY), ("error", ERRORS)):
        if draw(st.booleans()):
            out[name] = column(pool)
    if draw(st.integers(0, 3)) == 0:
        out["finish_reason"] = column(FINISH)
    if draw(st.integers(0, 3)) == 0:
        out["length_source"] = column(LENGTH_SOURCES + (LENGTH_SOURCES_BAD if draw(st.booleans()) else []))
    if draw(st.integers(0, 3)) == 0:
        out["n_options"] = column(N_OPTIONS)
    if draw(st.integers(0, 3)) == 0:
        out["embedding"] = column(EMBEDDINGS)
    return pd.DataFrame(out)


def _outcome(f: Any, raw: pd.DataFrame) -> tuple[str, Any]:
    try:
        return "ok", f(raw.copy())
    except InputError as err:
        return "error", str(err)


TRICKY = [  # kinds of missing values that parsers tell apart, and floats whose text differs though they are equal
    pd.DataFrame(
        {
            "question_id": "q",
            "correct": ["A", "x?", "x?"],
            "answer": "A",
            "embedding": pd.Series([None, pd.NA, pd.NA], dtype=object),
        }
    ),
    pd.DataFrame(
        {
            "question_id": pd.Series([0.0, -0.0, 0.0]),
            "correct": "B",
            "answer": ["A", "b", None],
            "model": pd.Series([None, NAN, pd.NA], dtype=object),
            "valid": pd.Series([pd.NA, "y", 1.0]),
        }
    ),
]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables())
@example(TRICKY[0])
@example(TRICKY[1])
def test_fast_normalisation_equals_row_by_row(raw: pd.DataFrame) -> None:
    expected_kind, expected = _outcome(reference, raw)
    kind, got = _outcome(lambda t: normalize_samples(t, source=SOURCE), raw)
    assert kind == expected_kind, (expected, got)
    if kind == "error":
        assert got.startswith(expected), (got, expected)  # the same check, on the same row
        return
    assert list(got.columns) == list(COLUMNS)
    for name in expected[0]:
        want, have = [r[name] for r in expected], got[name].tolist()
        if name == "error":  # a missing error is None or NaN, as the column's dtype holds it
            want, have = ([None if _missing(v) else v for v in x] for x in (want, have))
        assert all(_same(a, b) for a, b in zip(want, have, strict=True)), (name, want, have)


def test_distinct_values_are_parsed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Parsing happens per distinct value: 10,000 rows of four letters are four calls, not 20,000."""
    import hotmess.data._normalize as normalize

    calls = []
    real = normalize.parse_option
    monkeypatch.setattr(normalize, "parse_option", lambda v: calls.append(v) or real(v))
    raw = pd.DataFrame(
        {"question_id": np.repeat([f"q{i}" for i in range(100)], 100), "answer": list("ABCD") * 2500, "correct": "B"}
    )
    df = normalize_samples(raw)
    assert len(calls) == 4 + 1 and df["answer"].tolist()[:4] == [0, 1, 2, 3]
