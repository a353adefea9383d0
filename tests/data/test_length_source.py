"""The ``length_source`` and ``finish_reason`` columns: files, validation, and schema-1 stores (read, upgraded).

A schema-1 store (written before these columns existed) must stay readable — its new columns read as null —
also from a read-only file, where it cannot be upgraded; opened for writing it is upgraded in place (the two
columns added, the version raised) with its old rows intact.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from pathlib import Path

import pandas as pd
import pytest

from hotmess.data import COLUMNS, LENGTH_SOURCES, SCHEMA_VERSION, RunStore, Sample, read_samples, write_samples
from hotmess.data import store as store_module
from hotmess.errors import InputError, StoreError

#: The schema-1 ``samples`` table, exactly as hotmess 1 created it (no length_source, no finish_reason).
V1_DDL = """
CREATE TABLE samples (
  run_id TEXT NOT NULL,
  model TEXT NOT NULL,
  task TEXT NOT NULL,
  question_id TEXT NOT NULL,
  context_id INTEGER NOT NULL,
  sample_index INTEGER NOT NULL,
  budget TEXT NOT NULL,
  seed INTEGER,
  n_options INTEGER NOT NULL,
  correct INTEGER NOT NULL,
  answer INTEGER NOT NULL,
  probs TEXT,
  valid INTEGER NOT NULL,
  raw_output TEXT,
  output_tokens INTEGER,
  reasoning_tokens INTEGER,
  actions INTEGER,
  test_outcomes TEXT,
  embedding TEXT,
  error TEXT,
  created_at REAL,
  PRIMARY KEY (run_id, model, task, question_id, context_id, sample_index, budget)
) WITHOUT ROWID;
CREATE TABLE runs (
  run_id TEXT PRIMARY KEY,
  created_at REAL NOT NULL,
  updated_at REAL NOT NULL,
  status TEXT NOT NULL,
  config TEXT NOT NULL
);
CREATE TABLE questions (
  task TEXT NOT NULL,
  question_id TEXT NOT NULL,
  text TEXT,
  options TEXT,
  correct INTEGER,
  metadata TEXT,
  PRIMARY KEY (task, question_id)
) WITHOUT ROWID;
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO meta VALUES ('schema_version', '1');
"""


def _v1_store(path: Path) -> Path:
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode=WAL")
    con.executescript(V1_DDL)
    con.executemany(
        "INSERT INTO samples (run_id, model, task, question_id, context_id, sample_index, budget, seed, n_options, "
        "correct, answer, probs, valid, raw_output, output_tokens, created_at) "
        "VALUES ('r1', 'm', 't', ?, 0, ?, '', ?, 4, 1, ?, NULL, 1, 'The answer is (B).', ?, 1.5)",
        [(f"q{i}", j, 10 * i + j, i % 4, 100 + i) for i in range(3) for j in range(2)],
    )
    con.execute("INSERT INTO runs VALUES ('r1', 1.0, 2.0, 'complete', '{\"model\": \"m\"}')")
    con.commit()
    con.close()
    return path


def _file_state(path: Path) -> tuple[str, list[str]]:
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        version = con.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()[0]
        cols = [r[1] for r in con.execute("SELECT * FROM pragma_table_info('samples')")]
        return version, cols
    finally:
        con.close()


def _new(i: int, **kw: object) -> Sample:
    return Sample(
        run_id="r2", model="m", task="t", question_id=f"q{i}", context_id=0, sample_index=0, n_options=4,
        correct=1, answer=1, valid=True, **kw,
    )  # fmt: skip


def test_the_schema_names_both_columns() -> None:
    assert SCHEMA_VERSION == 2 and COLUMNS["length_source"] == "str" and COLUMNS["finish_reason"] == "str"
    assert LENGTH_SOURCES == ("api", "tokenizer", "estimated")
    with pytest.raises(ValueError, match="length_source"):
        _new(0, length_source="guessed")


def test_a_v1_store_is_read_with_null_columns_and_left_as_it_was(tmp_path: Path) -> None:
    path = _v1_store(tmp_path / "old.sqlite")
    before = _file_state(path)
    df = read_samples(path)
    assert len(df) == 6 and list(df.columns) == list(COLUMNS)
    assert df["length_source"].isna().all() and df["finish_reason"].isna().all()
    assert df["output_tokens"].tolist() == [100, 100, 101, 101, 102, 102]
    with RunStore(path, create=False) as store:
        assert len(list(store.iter_batches(4))) == 2
        assert store.schema_version == 1
    assert _file_state(path) == before  # reading upgrades nothing
    assert "length_source" not in before[1]


@pytest.fixture
def read_only(monkeypatch: pytest.MonkeyPatch):
    """Make a file read-only for SQLite: chmod, and (root ignores file modes) open it with ``mode=ro``."""
    paths: list[Path] = []
    real = sqlite3.connect

    def connect(database, *args, **kwargs):  # type: ignore[no-untyped-def]
        if any(Path(database) == p for p in paths):
            return real(f"file:{database}?mode=ro", *args, uri=True, **kwargs)
        return real(database, *args, **kwargs)

    monkeypatch.setattr(store_module.sqlite3, "connect", connect)

    def make(path: Path) -> Path:
        os.chmod(path, 0o444)
        paths.append(path)
        return path

    yield make
    for p in paths:
        os.chmod(p, 0o644)


def test_a_read_only_v1_store_is_still_read_and_refuses_only_writes(tmp_path: Path, read_only) -> None:
    path = read_only(_v1_store(tmp_path / "old.sqlite"))
    before = _file_state(path)
    df = read_samples(path)
    assert len(df) == 6 and df["length_source"].isna().all()
    # opened for writing: the upgrade fails (read-only), reading still works, a write says why it cannot
    with RunStore(path) as store:
        assert len(store.samples()) == 6 and store.schema_version == 1
        with pytest.raises(StoreError, match=r"cannot write to the run store .*older schema.*upgrading it failed"):
            store.write([_new(9)])
    assert _file_state(path) == before


def test_writing_upgrades_a_v1_store_in_place(tmp_path: Path) -> None:
    path = _v1_store(tmp_path / "old.sqlite")
    old = read_samples(path)
    with RunStore(path) as store:  # opened for writing: upgraded at once
        assert store.schema_version == SCHEMA_VERSION
        store.write([_new(0, output_tokens=7, length_source="estimated", finish_reason="length")])
    version, cols = _file_state(path)
    assert version == str(SCHEMA_VERSION) and {"length_source", "finish_reason"} <= set(cols)
    df = read_samples(path)
    assert len(df) == 7
    kept = df[df["run_id"] == "r1"].reset_index(drop=True)
    pd.testing.assert_frame_equal(kept, old, check_like=True)  # the old rows, intact (new columns null)
    new = df[df["run_id"] == "r2"].iloc[0]
    assert (new["output_tokens"], new["length_source"], new["finish_reason"]) == (7, "estimated", "length")
    with RunStore(path) as store:  # opening again changes nothing
        assert store.schema_version == SCHEMA_VERSION and len(store) == 7


def test_a_store_opened_for_reading_is_upgraded_on_its_first_write(tmp_path: Path) -> None:
    path = _v1_store(tmp_path / "old.sqlite")
    with RunStore(path, create=False) as store:
        assert store.schema_version == 1
        assert store.write([_new(1, length_source="api")]) == 1
        assert store.schema_version == SCHEMA_VERSION
        assert store.samples()["length_source"].tolist().count("api") == 1


def test_the_upgrade_waits_for_another_writer_and_happens_once(tmp_path: Path) -> None:
    path = _v1_store(tmp_path / "old.sqlite")
    other = sqlite3.connect(path, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")  # another process holds the write lock for a moment
    other.execute("UPDATE runs SET status='running'")
    timer = threading.Timer(0.5, other.commit)
    timer.start()
    t0 = time.monotonic()
    try:
        with RunStore(path) as a, RunStore(path) as b:  # two writers open it; the second finds it upgraded
            assert time.monotonic() - t0 >= 0.4
            assert a.schema_version == b.schema_version == SCHEMA_VERSION
            a.write([_new(1)])
            b.write([_new(2, length_source="tokenizer")])
    finally:
        timer.join()
        other.close()
    _, cols = _file_state(path)
    assert cols.count("length_source") == 1 and len(read_samples(path)) == 8


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet"])
def test_files_without_the_columns_read_them_as_null(tmp_path: Path, suffix: str) -> None:
    df = pd.DataFrame({"question_id": ["q1", "q1"], "answer": ["A", "B"], "correct": ["A", "A"]})
    path = tmp_path / f"s{suffix}"
    {
        ".csv": df.to_csv,
        ".jsonl": lambda p, **_: df.to_json(p, orient="records", lines=True),
        ".parquet": df.to_parquet,
    }[suffix](path, index=False)
    back = read_samples(path)
    assert back["length_source"].tolist() == [None, None] and back["finish_reason"].tolist() == [None, None]


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet", ".sqlite"])
def test_both_columns_round_trip(tmp_path: Path, suffix: str) -> None:
    sources = ["api", "tokenizer", "estimated", None]
    reasons = ["stop", "length", None, "content_filter"]
    rows = [
        _new(i, length_source=s, finish_reason=r).to_row()
        for i, (s, r) in enumerate(zip(sources, reasons, strict=True))
    ]
    path = write_samples(pd.DataFrame(rows), tmp_path / f"s{suffix}")
    back = read_samples(path).sort_values("question_id")
    assert back["length_source"].tolist() == sources and back["finish_reason"].tolist() == reasons


def test_an_unknown_length_source_is_one_input_error_naming_the_row(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_text("question_id,answer,correct,output_tokens,length_source\nq1,A,A,10,API\nq1,B,A,12,guess\n")
    with pytest.raises(InputError, match=r"row 2: length_source 'guess' is not one of api, tokenizer, estimated") as e:
        read_samples(path)
    assert e.value.hint and "\n" not in str(e.value)


def test_a_store_refuses_an_unknown_length_source(tmp_path: Path) -> None:
    row = _new(0).to_row() | {"length_source": "made-up"}
    with RunStore(tmp_path / "s.sqlite") as store, pytest.raises(StoreError, match="length_source 'made-up'"):
        store.write([row])
