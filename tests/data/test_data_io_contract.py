"""The hand-written samples file contract of read_samples / normalize_samples, per format."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from hotmess.data import COLUMNS, RunStore, Sample, normalize_samples, parse_option, read_samples
from hotmess.errors import InputError, StoreError

MINIMAL = "question_id,answer,correct\nq1,A,A\nq1,B,A\nq2,(C),c\nq2,,C\n"


def _csv(tmp_path, text: str, name: str = "s.csv"):
    p = tmp_path / name
    p.write_text(text)
    return p


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("A", 0),
        ("b", 1),
        ("(B)", 1),
        (" ( d ) ", 3),
        ("C.", 2),
        ("0", 0),
        ("3", 3),
        (2, 2),
        (np.int64(1), 1),
        (1.0, 1),
        ("", None),
        ("   ", None),
        (None, None),
        (float("nan"), None),
        ("maybe", None),
        ("AB", None),
        (-1, None),
        (1.5, None),
        (True, None),
    ],
)
def test_parse_option(value, expected):
    assert parse_option(value) == expected


def test_minimal_csv_letters_parens_and_empty_answer(tmp_path):
    df = read_samples(_csv(tmp_path, MINIMAL))
    assert list(df.columns) == list(COLUMNS)
    assert df["answer"].tolist() == [0, 1, 2, -1]
    assert df["correct"].tolist() == [0, 0, 2, 2]
    assert df["valid"].tolist() == [True, True, True, False]
    assert df["n_options"].tolist() == [3, 3, 3, 3]  # largest seen in the task: C
    assert df["sample_index"].tolist() == [0, 1, 0, 1] and df["context_id"].tolist() == [0] * 4
    assert (df["model"] == "").all() and (df["task"] == "").all() and df["error"].isna().all()


def test_zero_based_indices(tmp_path):
    df = read_samples(_csv(tmp_path, "question_id,answer,correct\nq1,0,1\nq1,1,1\nq1,3,1\n"))
    assert df["answer"].tolist() == [0, 1, 3] and df["correct"].tolist() == [1, 1, 1]
    assert df["n_options"].tolist() == [4, 4, 4]


def test_n_options_is_the_largest_seen_per_task(tmp_path):
    text = "task,question_id,answer,correct\nt1,q1,A,B\nt1,q2,D,A\nt2,q1,A,B\nt2,q1,,A\n"
    df = read_samples(_csv(tmp_path, text))
    assert df["n_options"].tolist() == [4, 4, 2, 2]


def test_explicit_n_options_wins_and_answers_beyond_it_are_invalid(tmp_path):
    text = "question_id,answer,correct,n_options\nq1,A,B,5\nq1,F,B,5\n"
    df = read_samples(_csv(tmp_path, text))
    assert df["n_options"].tolist() == [5, 5]
    assert df["answer"].tolist() == [0, -1] and df["valid"].tolist() == [True, False]


def test_missing_n_options_cells_are_inferred_per_task(tmp_path):
    text = "task,question_id,answer,correct,n_options\nt,q1,A,B,\nt,q2,D,A,\nt,q3,A,A,5\nu,q1,A,A,\n"
    df = read_samples(_csv(tmp_path, text))
    assert df["n_options"].tolist() == [4, 4, 5, 2]


def test_probs_json_lists_override_answer(tmp_path):
    text = 'question_id,answer,correct,probs\nq1,A,B,"[0.1, 0.7, 0.2]"\nq1,C,B,"0.5, 0.25, 0.25"\nq1,B,B,\n'
    df = read_samples(_csv(tmp_path, text))
    assert df["answer"].tolist() == [1, 0, 1]  # argmax of probs, not the answer column
    assert df["probs"].iloc[0] == pytest.approx([0.1, 0.7, 0.2]) and df["probs"].iloc[2] is None
    assert df["valid"].all()


def test_probs_that_do_not_sum_to_one_are_an_error(tmp_path):
    text = 'question_id,answer,correct,probs\nq1,A,B,"[0.5, 0.7]"\n'
    with pytest.raises(InputError, match=r"row 1: probs sum to 1\.2"):
        read_samples(_csv(tmp_path, text))
    with pytest.raises(InputError, match="non-negative"):
        read_samples(_csv(tmp_path, 'question_id,correct,probs\nq1,A,"[1.5, -0.5]"\n'))
    with pytest.raises(InputError, match="not a list of numbers"):
        read_samples(_csv(tmp_path, 'question_id,correct,probs\nq1,A,"[0.5, oops]"\n'))


def test_probs_of_the_wrong_length_are_an_error(tmp_path):
    text = 'question_id,answer,correct,n_options,probs\nq1,A,B,3,"[0.5, 0.5]"\n'
    with pytest.raises(InputError, match="row 1: probs has 2 values but the question has 3 options"):
        read_samples(_csv(tmp_path, text))


def test_probs_only_file_infers_options_from_the_vectors(tmp_path):
    text = 'question_id,correct,probs\nq1,A,"[0.2, 0.2, 0.6]"\nq1,A,\n'
    df = read_samples(_csv(tmp_path, text))
    assert df["n_options"].tolist() == [3, 3]
    assert df["answer"].tolist() == [2, -1] and df["valid"].tolist() == [True, False]


def test_unparseable_correct_value_is_an_error_naming_the_row(tmp_path):
    with pytest.raises(InputError, match=r"row 2: correct answer 'maybe'"):
        read_samples(_csv(tmp_path, "question_id,answer,correct\nq1,A,A\nq1,A,maybe\n"))
    with pytest.raises(InputError, match="row 1: correct answer"):
        read_samples(_csv(tmp_path, "question_id,answer,correct\nq1,A,\n"))


def test_missing_columns_are_named(tmp_path):
    with pytest.raises(InputError, match=r"missing column\(s\) correct"):
        read_samples(_csv(tmp_path, "question_id,answer\nq1,A\n"))
    with pytest.raises(InputError, match=r"answer \(or probs\)"):
        read_samples(_csv(tmp_path, "question_id,correct\nq1,A\n"))


def test_headers_are_case_and_space_insensitive(tmp_path):
    df = read_samples(_csv(tmp_path, " Question_ID ,ANSWER,Correct\nq1,B,B\n"))
    assert df["answer"].tolist() == [1]


def test_error_rows_and_valid_column(tmp_path):
    text = "question_id,answer,correct,error,valid\nq1,A,A,,true\nq1,A,A,timeout,true\nq1,B,A,,0\n"
    df = read_samples(_csv(tmp_path, text))
    assert df["error"].isna().tolist() == [True, False, True]
    assert df["valid"].tolist() == [True, False, False]
    assert df["answer"].tolist() == [0, -1, -1]


def test_repeated_keys_and_empty_question_ids_are_errors(tmp_path):
    with pytest.raises(InputError, match="row 2 repeats the key"):
        read_samples(_csv(tmp_path, "question_id,answer,correct,sample_index\nq1,A,A,0\nq1,B,A,0\n"))
    with pytest.raises(InputError, match="row 2: question_id is empty"):
        read_samples(_csv(tmp_path, "question_id,answer,correct\nq1,A,A\n,B,A\n"))
    with pytest.raises(InputError, match="negative"):
        read_samples(_csv(tmp_path, "question_id,answer,correct,output_tokens\nq1,A,A,-3\n"))


def test_jsonl_and_parquet_readers_follow_the_same_contract(tmp_path):
    rows = [
        {"question_id": 7, "answer": "B", "correct": "(b)"},
        {"question_id": 7, "answer": None, "correct": 1},
        {"question_id": 8, "answer": 2, "correct": "C", "probs": [0.0, 0.5, 0.5]},
    ]
    jl = tmp_path / "s.jsonl"
    jl.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    a = read_samples(jl)
    pq = tmp_path / "s.parquet"
    pd.DataFrame(
        {
            "question_id": ["7", "7", "8"],
            "answer": ["B", None, "C"],
            "correct": ["(b)", "B", "2"],
            "probs": [None, None, [0.0, 0.5, 0.5]],
        }
    ).to_parquet(pq)  # strings with real nulls, lists as Parquet lists
    b = read_samples(pq)
    for df in (a, b):
        assert df["question_id"].tolist() == ["7", "7", "8"]
        assert df["correct"].tolist() == [1, 1, 2]
        assert df["answer"].tolist() == [1, -1, 1]  # probs argmax (first maximum) overrides answer 2
        assert df["n_options"].tolist() == [3, 3, 3]


def test_read_samples_from_a_store_and_by_run(tmp_path):
    path = tmp_path / "runs.db"
    samples = [
        Sample(
            run_id=r,
            model="m",
            task="t",
            question_id="q",
            context_id=0,
            sample_index=i,
            n_options=2,
            correct=0,
            answer=i % 2,
            valid=True,
        )
        for r in ("a", "b")
        for i in range(3)
    ]
    with RunStore(path) as store:
        store.write(samples)
    assert len(read_samples(path)) == 6
    assert read_samples(path, run_id="b")["run_id"].unique().tolist() == ["b"]
    with pytest.raises(InputError, match="no samples for run 'c'"):
        read_samples(path, run_id="c")
    empty = tmp_path / "empty.sqlite"
    RunStore(empty).close()
    with pytest.raises(InputError, match="holds no samples"):
        read_samples(empty)


def test_bad_files(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        read_samples(tmp_path / "nope.csv")
    with pytest.raises(InputError, match="is a directory"):
        read_samples(tmp_path)
    with pytest.raises(InputError, match="holds no samples"):
        read_samples(_csv(tmp_path, "question_id,answer,correct\n"))
    with pytest.raises(InputError, match="could not be parsed"):
        read_samples(_csv(tmp_path, ""))
    with pytest.raises(InputError, match="unsupported file type"):
        read_samples(_csv(tmp_path, "x", name="s.xlsx"))
    bad_pq = tmp_path / "s.parquet"
    bad_pq.write_bytes(b"PAR1 not really parquet")
    with pytest.raises(InputError, match="could not be parsed as parquet"):
        read_samples(bad_pq)
    bad_jl = tmp_path / "s.jsonl"
    bad_jl.write_text('{"question_id": 1, "answer": "A"\n')
    with pytest.raises(InputError, match="could not be parsed as jsonl"):
        read_samples(bad_jl)
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"\x00\x01junk" * 100)
    with pytest.raises(StoreError):
        read_samples(junk)


def test_normalize_samples_ignores_the_callers_index():
    # A filtered DataFrame keeps its old index labels; the error column must stay with its row.
    raw = pd.DataFrame(
        {
            "question_id": ["a", "a", "b"],
            "answer": ["A", "B", "A"],
            "correct": "A",
            "error": [None, "boom", None],
            "created_at": [1.0, 2.0, 3.0],
        },
        index=[5, 6, 7],
    )
    df = normalize_samples(raw)
    assert df["error"].isna().tolist() == [True, False, True]
    assert df["valid"].tolist() == [True, False, True]
    assert df["created_at"].tolist() == [1.0, 2.0, 3.0]


def test_no_choice_rows_need_no_correct_answer():
    raw = pd.DataFrame(
        {
            "question_id": ["s1", "s2"],
            "answer": [None, None],
            "correct": [None, None],
            "test_outcomes": ["[1, 0, 1]", None],
            "embedding": [None, "[0.5, 0.25]"],
        }
    )
    df = normalize_samples(raw)
    assert df["correct"].tolist() == [-1, -1] and df["n_options"].tolist() == [0, 0]
    assert df["test_outcomes"].iloc[0] == [1.0, 0.0, 1.0] and df["embedding"].iloc[1] == [0.5, 0.25]
    assert not math.isnan(df["created_at"].iloc[0])
