"""Export → import round trips (store, Parquet, CSV, JSONL) and the dense arrays built from a table."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from hotmess.data import COLUMNS, KEY_COLUMNS, LIST_COLUMNS, normalize_samples, read_samples, to_arrays, write_samples
from hotmess.errors import InputError

NAN = float("nan")


def _full_table() -> pd.DataFrame:
    raw = pd.DataFrame(
        {
            "run_id": ["r1", "r1", "r1", "r2", "r2"],
            "model": ["m", "m", "m", "m2", "m2"],
            "task": ["t", "t", "t", "t", "swe"],
            "question_id": ["q1", "q1", "q2", "q1", "s1"],
            "context_id": [0, 0, 1, 0, 0],
            "sample_index": [0, 1, 0, 0, 0],
            "budget": ["", "", "high", "", ""],
            "seed": [2**40 + 1, None, 3, 4, None],
            "n_options": [3, 3, 3, 3, None],
            "correct": ["B", "B", "A", "B", None],
            "answer": ["A", "", None, "C", None],
            "probs": [None, None, [0.2, 0.3, 0.5], None, None],
            "valid": [True, False, True, True, False],
            "raw_output": ['a "quoted", comma\nnewline', "", "z", "(C)", ""],
            "output_tokens": [5, None, 7, 9, None],
            "reasoning_tokens": [None, None, 100, None, None],
            "length_source": ["api", None, "estimated", "tokenizer", None],
            "finish_reason": ["stop", None, "length", "stop", "max_tokens"],
            "actions": [None, None, None, None, 12],
            "test_outcomes": [None, None, None, None, [1, 0, NAN]],
            "embedding": [None, None, None, [0.5, NAN, -2.0], None],
            "error": [None, "timeout", None, None, None],
            "created_at": [1.5, 2.5, 3.5, 4.5, 5.5],
        }
    )
    return normalize_samples(raw)


def _same(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, list | tuple | np.ndarray):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if pd.isna(a) or pd.isna(b):
        return bool(pd.isna(a) and pd.isna(b))
    if isinstance(a, float) or isinstance(b, float):
        return math.isclose(float(a), float(b), rel_tol=1e-15)
    return a == b


@pytest.mark.parametrize("suffix", [".parquet", ".csv", ".jsonl", ".sqlite"])
def test_export_import_round_trip_preserves_every_column(tmp_path, suffix):
    df = _full_table()
    # the fixture really exercises NaN inside lists, None lists, missing ints and an error row
    assert math.isnan(df["embedding"].iloc[3][1]) and df["probs"].iloc[0] is None
    assert pd.isna(df["seed"].iloc[1]) and df["error"].notna().sum() == 1
    path = write_samples(df, tmp_path / f"out{suffix}")
    back = read_samples(path)
    assert list(back.columns) == list(COLUMNS)
    df = df.sort_values(list(KEY_COLUMNS)).reset_index(drop=True)
    back = back.sort_values(list(KEY_COLUMNS)).reset_index(drop=True)
    assert len(back) == len(df)
    for col in COLUMNS:
        for i, (x, y) in enumerate(zip(df[col], back[col], strict=True)):
            assert _same(x, y), (suffix, col, i, x, y)
    for col in ("seed", "output_tokens", "reasoning_tokens", "actions"):
        assert back[col].dtype == "Int64", col
    assert back["seed"].iloc[0] == 2**40 + 1
    for col in LIST_COLUMNS:
        assert all(v is None or isinstance(v, list) for v in back[col]), col


def test_store_export_is_merged_exactly_once(tmp_path):
    df = _full_table()
    path = tmp_path / "s.sqlite"
    write_samples(df, path)
    write_samples(df, path)
    assert len(read_samples(path)) == len(df)


def test_unsupported_output_suffix(tmp_path):
    with pytest.raises(InputError, match="unsupported output type"):
        write_samples(_full_table(), tmp_path / "out.xlsx")


# ------------------------------------------------------------------------------------------ to_arrays
def _table(rows):
    return normalize_samples(pd.DataFrame(rows, columns=["task", "question_id", "answer", "correct"]))


def test_to_arrays_ragged_questions():
    df = _table(
        [
            ("t", "q1", "A", "A"),
            ("t", "q2", "B", "C"),
            ("t", "q1", "", "A"),
            ("t", "q2", "C", "C"),
            ("t", "q1", "D", "A"),
            ("u", "q1", "B", "B"),  # same id in another task is another question
        ]
    )
    arr, info = to_arrays(df)
    assert info[["task", "question_id"]].values.tolist() == [["t", "q1"], ["t", "q2"], ["u", "q1"]]
    assert arr.mask.tolist() == [[True, True, True], [True, True, False], [True, False, False]]
    assert arr.answers.tolist() == [[0, -1, 3], [1, 2, -1], [1, -1, -1]]
    assert arr.targets.tolist() == [0, 2, 1]
    assert arr.n_options.tolist() == [4, 4, 2]
    assert info["n_samples"].tolist() == [3, 2, 1]
    np.testing.assert_allclose(arr.probs[0, 1], [0.25] * 4)  # invalid → uniform over the question's options
    np.testing.assert_allclose(arr.probs[2, 0], [0, 1, 0, 0])


def test_to_arrays_conflicting_correct_answers():
    df = _table([("t", "q1", "A", "A"), ("t", "q1", "B", "B")])
    with pytest.raises(InputError, match="different correct answers"):
        to_arrays(df)


def test_to_arrays_skips_error_rows_and_mixes_probs_with_answers():
    raw = pd.DataFrame(
        {
            "question_id": ["q1", "q1", "q1", "q1"],
            "answer": ["A", "B", None, "A"],
            "correct": "B",
            "probs": [None, "[0.1, 0.9]", None, None],
            "error": [None, None, None, "500 from server"],
            "output_tokens": [10, 20, 30, 1000],
        }
    )
    arr, info = to_arrays(normalize_samples(raw))
    assert arr.mask.tolist() == [[True, True, True]]  # the error row is not scored
    np.testing.assert_allclose(arr.probs[0], [[1, 0], [0.1, 0.9], [0.5, 0.5]])
    assert arr.valid.tolist() == [[True, True, False]]
    assert info["output_tokens"].tolist() == [20.0]


def test_to_arrays_with_nothing_scorable():
    df = normalize_samples(pd.DataFrame({"question_id": ["q"], "answer": ["A"], "correct": ["A"], "error": ["x"]}))
    with pytest.raises(InputError, match="no scorable"):
        to_arrays(df)
