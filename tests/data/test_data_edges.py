"""Store and file edge cases: empty files, rows without a correct option."""

from __future__ import annotations

import pytest


def test_reading_an_empty_file_does_not_turn_it_into_a_store(tmp_path):
    from hotmess.data import read_samples
    from hotmess.errors import StoreError

    empty = tmp_path / "empty.sqlite"
    empty.write_bytes(b"")
    with pytest.raises(StoreError, match="empty"):
        read_samples(empty)
    assert empty.stat().st_size == 0


def test_rows_without_a_correct_option_survive_a_round_trip(tmp_path):
    import pandas as pd

    from hotmess.data import normalize_samples, read_samples, write_samples

    raw = pd.DataFrame({"question_id": ["q1", "q1", "q2"], "answer": ["A", "B", ""], "correct": ["A", "A", "-1"]})
    df = normalize_samples(raw)
    assert df["correct"].tolist() == [0, 0, -1]
    for suffix in (".csv", ".parquet", ".jsonl"):
        back = read_samples(write_samples(df, tmp_path / f"s{suffix}"))
        assert back["correct"].tolist() == [0, 0, -1]
