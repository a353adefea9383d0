"""The optional ``round`` column of the run store (adaptive runs): added on demand, old stores read unchanged."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from hotmess.data import read_samples
from hotmess.data.schema import COLUMNS, Sample
from hotmess.data.store import ROUND_COLUMN, SCHEMA_VERSION, RunStore


def _sample(q: str, i: int, *, error: str | None = None) -> Sample:
    return Sample(
        model="m", task="t", question_id=q, context_id=0, sample_index=i, n_options=2, correct=0,
        answer=-1 if error else 0, valid=error is None, error=error,
    )  # fmt: skip


def _columns(path: Path) -> set[str]:
    with sqlite3.connect(path) as conn:
        return {r[1] for r in conn.execute("PRAGMA table_info(samples)")}


def test_round_column_is_added_by_the_first_round_write_only(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    with RunStore(path) as store:
        store.write([_sample("q0", 0)])
        assert ROUND_COLUMN not in _columns(path)
        assert store.sample_rounds()["round"].isna().all()  # a store without the column: null rounds
        store.write([_sample("q1", 0), _sample("q1", 1)], sample_round=0)
        store.write([_sample("q1", 1), _sample("q2", 0)], sample_round=3)  # q1/1 is stored: it keeps round 0
        assert store.schema_version == SCHEMA_VERSION  # no new schema version: older hotmess reads it
    assert ROUND_COLUMN in _columns(path)
    with RunStore(path, create=False) as store:
        r = store.sample_rounds().set_index(["question_id", "sample_index"])["round"]
    assert r.isna().tolist() == [True, False, False, False]
    assert r.dropna().astype(int).tolist() == [0, 0, 3]
    df = read_samples(path)  # the samples table keeps the schema's columns: analyses never see the round
    assert list(df.columns) == list(COLUMNS) and len(df) == 4


def test_error_row_replaced_by_a_later_sample_keeps_its_round(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    with RunStore(path) as store:
        store.write([_sample("q", 0, error="timeout")], sample_round=1)
        store.write([_sample("q", 0)], sample_round=1)
        rounds = store.sample_rounds()
        assert rounds["round"].tolist() == [1] and store.count_samples("") == 1


def test_old_store_without_the_column_reads_and_writes_rounds(tmp_path: Path) -> None:
    """A store written before rounds existed (read-only too) still reads; writing rounds into it adds the column."""
    path = tmp_path / "old.sqlite"
    with RunStore(path) as store:
        store.write([_sample("q", 0)])
    path.chmod(0o444)
    try:
        with RunStore(path, create=False) as store:
            assert len(store.samples()) == 1 and store.sample_rounds()["round"].isna().all()
    finally:
        path.chmod(0o644)
    with RunStore(path) as store:
        store.write([_sample("q", 1)], sample_round=2)
        assert store.sample_rounds()["round"].tolist()[1] == 2
