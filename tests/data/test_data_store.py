"""The SQLite run store: round trip, exactly-once writes, runs/questions tables, WAL, bad files."""

from __future__ import annotations

import math
import sqlite3
from pathlib import Path

import pandas as pd
import pytest

from hotmess.data import KEY_COLUMNS, SCHEMA_VERSION, RunStore, Sample, read_samples
from hotmess.errors import StoreError


def _sample(i: int = 0, **kw) -> Sample:
    base = {
        "run_id": "r1",
        "model": "m",
        "task": "t",
        "question_id": f"q{i}",
        "context_id": 0,
        "sample_index": 0,
        "n_options": 4,
        "correct": 1,
        "answer": 1,
        "valid": True,
    }
    base.update(kw)
    return Sample(**base)


def test_round_trip_keeps_every_field(tmp_path):
    rich = _sample(
        0,
        budget="high",
        seed=2**40 + 3,
        probs=(0.1, 0.2, 0.3, 0.4),
        raw_output="<PROB>0.1, 0.2, 0.3, 0.4</PROB>\nünïcode",
        output_tokens=120,
        reasoning_tokens=80,
        actions=3,
        test_outcomes=(1, 0, 1),
        embedding=(0.5, float("nan"), -1.25),
        created_at=1234.5,
    )
    plain = _sample(1, answer=-1, valid=False, error="timeout after 3 retries", created_at=99.0)
    with RunStore(tmp_path / "s.sqlite") as store:
        assert store.write([rich, plain]) == 2
        df = store.samples()
    assert list(df.columns) == list(rich.to_row())
    r = df[df["question_id"] == "q0"].iloc[0]
    assert r["budget"] == "high" and r["seed"] == 2**40 + 3 and r["output_tokens"] == 120
    assert r["reasoning_tokens"] == 80 and r["actions"] == 3 and bool(r["valid"]) is True
    assert r["probs"] == [0.1, 0.2, 0.3, 0.4] and r["test_outcomes"] == [1, 0, 1]
    assert r["embedding"][0] == 0.5 and math.isnan(r["embedding"][1]) and r["embedding"][2] == -1.25
    assert r["raw_output"].endswith("ünïcode") and r["created_at"] == 1234.5 and pd.isna(r["error"])
    p = df[df["question_id"] == "q1"].iloc[0]
    assert p["error"] == "timeout after 3 retries" and p["answer"] == -1 and bool(p["valid"]) is False
    assert pd.isna(p["seed"]) and p["probs"] is None and p["embedding"] is None


def test_write_sets_created_at_and_accepts_plain_dicts(tmp_path):
    with RunStore(tmp_path / "s.sqlite") as store:
        store.write([_sample(0).to_row()])
        assert store.samples()["created_at"].iloc[0] > 1e9


def test_same_key_twice_keeps_one_row_the_first(tmp_path):
    with RunStore(tmp_path / "s.sqlite") as store:
        assert store.write([_sample(0, answer=1)]) == 1
        assert store.write([_sample(0, answer=3)]) == 0
        assert len(store) == 1
        assert store.samples()["answer"].tolist() == [1]
        # another sample index of the same question is a different sample, never collapsed
        assert store.write([_sample(0, sample_index=1, answer=1)]) == 1
        assert len(store) == 2


def test_error_row_is_replaced_by_a_later_good_sample(tmp_path):
    with RunStore(tmp_path / "s.sqlite") as store:
        store.write([_sample(0, answer=-1, valid=False, error="rate limited")])
        assert store.completed_keys() == set()
        assert store.write([_sample(0, answer=2)]) == 1
        df = store.samples()
    assert len(df) == 1 and df["answer"].iloc[0] == 2 and pd.isna(df["error"].iloc[0])


def test_good_row_is_not_replaced_by_an_error_row(tmp_path):
    with RunStore(tmp_path / "s.sqlite") as store:
        store.write([_sample(0, answer=2)])
        assert store.write([_sample(0, answer=-1, valid=False, error="boom")]) == 0
        df = store.samples()
        assert store.completed_keys() == {tuple(_sample(0).key())}
    assert df["answer"].tolist() == [2] and df["error"].isna().all()


def test_filters_by_run_and_errors(tmp_path):
    with RunStore(tmp_path / "s.sqlite") as store:
        store.write([_sample(0), _sample(1, run_id="r2"), _sample(2, error="x", answer=-1, valid=False)])
        assert len(store.samples(run_id="r2")) == 1
        assert len(store.samples(run_id=["r1", "r2"])) == 3
        assert len(store.samples(include_errors=False)) == 2
        assert store.completed_keys(run_id="r1") == {_sample(0).key()}
        batches = list(store.iter_batches(batch_size=2))
    assert [len(b) for b in batches] == [2, 1]
    assert pd.concat(batches)[list(KEY_COLUMNS)].equals(
        pd.concat(batches)[list(KEY_COLUMNS)].sort_values(list(KEY_COLUMNS))
    )


def test_runs_and_questions_tables(tmp_path):
    with RunStore(tmp_path / "s.sqlite") as store:
        store.save_run("r1", {"model": "m", "seed": 3, "contexts": 10})
        store.save_run("r2", {"model": "n"}, status="complete")
        store.set_status("r1", "interrupted")
        store.save_run("r2", {"model": "n", "seed": 4}, status="complete")  # update, not a second row
        runs = store.runs()
        assert runs["run_id"].tolist() == ["r1", "r2"]
        assert runs["status"].tolist() == ["interrupted", "complete"]
        assert store.run_config("r2") == {"model": "n", "seed": 4}
        assert store.run_config("nope") is None
        store.save_questions(
            [
                {"task": "t", "question_id": 1, "text": "2+2?", "options": ["3", "4"], "correct": 1},
                {"task": "t", "question_id": "2", "text": "sky?", "metadata": {"topic": "physics"}},
            ]
        )
        q = store.questions()
    assert q["question_id"].tolist() == ["1", "2"]
    assert q["options"].tolist() == [["3", "4"], []]
    assert q["metadata"].tolist() == [{}, {"topic": "physics"}]


def test_store_uses_a_wal_journal(tmp_path):
    path = tmp_path / "s.sqlite"
    with RunStore(path) as store:
        store.write([_sample(0)])
        assert (tmp_path / "s.sqlite-wal").exists()
        assert store._conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    con = sqlite3.connect(path)
    assert con.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()[0] == str(SCHEMA_VERSION)
    con.close()


def test_store_persists_across_connections(tmp_path):
    path = tmp_path / "deep" / "dir" / "s.sqlite"
    with RunStore(path) as store:
        store.write([_sample(0), _sample(1)])
    with RunStore(path, create=False) as store:
        assert len(store) == 2
    assert len(read_samples(path)) == 2


@pytest.mark.parametrize(
    "content", [b"this is plain text, not a database\n" * 20, bytes(range(256)) * 16], ids=["text", "binary"]
)
def test_a_file_that_is_not_a_store_gives_store_error(tmp_path, content):
    path = tmp_path / "x.sqlite"
    path.write_bytes(content)
    with pytest.raises(StoreError, match="not a hotmess run store"):
        RunStore(path, create=False)
    assert path.read_bytes() == content


def test_another_applications_database_is_refused_and_left_untouched(tmp_path):
    path = tmp_path / "other.sqlite"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE users (name TEXT)")
    con.commit()
    con.close()
    before = path.read_bytes()
    with pytest.raises(StoreError, match="not a hotmess run store"):
        RunStore(path, create=False)
    assert path.read_bytes() == before


def test_missing_store_and_newer_schema(tmp_path):
    with pytest.raises(StoreError, match="does not exist"):
        RunStore(tmp_path / "missing.sqlite", create=False)
    path = tmp_path / "s.sqlite"
    RunStore(path).close()
    con = sqlite3.connect(path)
    con.execute("UPDATE meta SET value=? WHERE key='schema_version'", (str(SCHEMA_VERSION + 1),))
    con.commit()
    con.close()
    with pytest.raises(StoreError, match="newer"):
        RunStore(path)


def test_incomplete_key_gives_store_error(tmp_path):
    row = _sample(0).to_row()
    row["question_id"] = None
    with RunStore(tmp_path / "s.sqlite") as store, pytest.raises(StoreError, match="could not be stored"):
        store.write([row])


def test_a_store_opens_while_another_process_writes_to_it(tmp_path: Path) -> None:
    """Readers and further workers open a store that a run is writing: they wait for the lock, never fail."""
    import subprocess
    import sys
    import time

    path = tmp_path / "busy.sqlite"
    RunStore(path).close()
    code = (
        "import sys; from hotmess.data import RunStore, Sample\n"
        "with RunStore(sys.argv[1]) as s:\n"
        "    for i in range(400):\n"
        "        s.write([Sample(model='m', task='t', question_id=f'q{i}', context_id=0, sample_index=j,"
        " n_options=2, correct=0, answer=0, valid=True) for j in range(100)])\n"
    )
    writer = subprocess.Popen([sys.executable, "-c", code, str(path)])
    opened = 0
    try:
        while writer.poll() is None:
            with RunStore(path, create=False) as store:
                len(store)
            with RunStore(path) as store:  # as a second `hotmess run` would
                opened += 1
            time.sleep(0.001)
    finally:
        writer.wait()
    assert writer.returncode == 0 and opened > 5
    with RunStore(path, create=False) as store:
        assert len(store) == 40_000


def test_many_processes_create_one_new_store_at_once(tmp_path: Path) -> None:
    """Several `hotmess run` started together on a store that does not exist yet: all open it, none fails."""
    import subprocess
    import sys

    path = tmp_path / "new.sqlite"
    code = (
        "import sys, time; from hotmess.data import RunStore, Sample\n"
        "time.sleep(max(0.0, float(sys.argv[2]) - time.time()))\n"
        "with RunStore(sys.argv[1]) as s:\n"
        "    s.write([Sample(model='m', task='t', question_id=sys.argv[3], context_id=0, sample_index=0,"
        " n_options=2, correct=0, answer=0, valid=True)])\n"
    )
    import time

    start = time.time() + 2.0  # every process is ready to open at the same moment
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, str(path), str(start), f"q{i}"], stderr=subprocess.PIPE, text=True
        )
        for i in range(8)
    ]
    errors = [p.communicate(timeout=120)[1] for p in procs]
    assert all(p.returncode == 0 for p in procs), errors
    with RunStore(path, create=False) as store:
        assert len(store) == 8


def test_a_reader_does_not_wait_for_a_writer(tmp_path: Path) -> None:
    import time

    path = tmp_path / "held.sqlite"
    RunStore(path).close()
    writer = sqlite3.connect(path)
    writer.execute("BEGIN IMMEDIATE")  # a run in the middle of writing a batch
    try:
        t0 = time.monotonic()
        with RunStore(path, create=False) as store:
            assert len(store) == 0
        with RunStore(path) as store:  # a complete store opens without writing, even for a writer
            assert len(store) == 0
        assert time.monotonic() - t0 < 1.0
    finally:
        writer.rollback()
        writer.close()
