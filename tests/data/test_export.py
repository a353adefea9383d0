"""Streaming export of a store: the same samples, one fixed Arrow schema, questions and runs beside them."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from hotmess.cli.main import main
from hotmess.data import RunStore, read_samples, write_samples
from hotmess.data.export import ARROW_SCHEMA, export_store, sidecar_paths
from tests.data.test_engines import mixed_samples

pytestmark = pytest.mark.filterwarnings("ignore")


@pytest.fixture
def store(tmp_path: Path) -> Path:
    p = tmp_path / "runs.sqlite"
    write_samples(mixed_samples(3), p)
    with RunStore(p) as st:
        st.save_run("r", {"model": "m1", "seed": 7}, status="complete")
        st.save_questions([{"task": "t", "question_id": "q000", "text": "Q?", "options": ["a", "b"], "correct": 0}])
    return p


@pytest.mark.parametrize("suffix", [".parquet", ".csv", ".jsonl"])
def test_export_keeps_every_sample(store: Path, tmp_path: Path, suffix: str, monkeypatch: pytest.MonkeyPatch) -> None:
    want = read_samples(store)
    monkeypatch.setattr(RunStore, "samples", lambda *a, **k: pytest.fail("export must not load the whole store"))
    out = tmp_path / f"out{suffix}"
    assert export_store(store, out, batch_size=37) == len(want)  # many small batches
    got = read_samples(out)
    assert len(got) == len(want)
    for c in ("run_id", "model", "task", "question_id", "context_id", "sample_index", "budget", "answer", "kind"):
        assert got[c].tolist() == want[c].tolist(), c
    for c in ("probs", "test_outcomes"):
        for a, b in zip(want[c], got[c], strict=True):
            assert (a is None) == (b is None) and (a is None or np.allclose(a, b, atol=1e-15)), c
    questions, runs = sidecar_paths(out)
    assert questions.is_file() and json.loads(runs.read_text())[0]["config"] == {"model": "m1", "seed": 7}


def test_parquet_schema_does_not_depend_on_the_data(store: Path, tmp_path: Path) -> None:
    """`seed` and `embedding` are all null here; their types are still int64 and list<double>."""
    export_store(store, tmp_path / "a.parquet")
    schema = pq.read_schema(tmp_path / "a.parquet")
    assert schema.remove_metadata() == ARROW_SCHEMA
    assert str(schema.field("seed").type) == "int64" and str(schema.field("embedding").type) == "list<element: double>"
    empty = tmp_path / "empty.sqlite"
    RunStore(empty).close()
    assert export_store(empty, tmp_path / "e.parquet") == 0
    assert pq.read_schema(tmp_path / "e.parquet").remove_metadata() == ARROW_SCHEMA


def test_convert_streams_a_store(store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "x.parquet"
    assert main(["convert", str(store), str(out), "--run", "r"]) == 0
    err = capsys.readouterr().err
    assert "x.questions.parquet" in err and "x.runs.json" in err
    assert len(read_samples(out)) == len(read_samples(store))
