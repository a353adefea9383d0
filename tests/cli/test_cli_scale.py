"""``hotmess analyze`` / ``report`` on several inputs, and with the DuckDB engine, through the real CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hotmess.cli.main import main
from hotmess.data import write_samples
from tests.data.test_engines import mixed_samples

pytestmark = pytest.mark.filterwarnings("ignore")


@pytest.fixture(scope="module")
def parts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("parts")
    df = mixed_samples(7, tests=False)
    write_samples(df[df["model"] == "m1"], d / "m1.sqlite")
    write_samples(df[df["model"] == "m2"], d / "pq" / "m2.parquet")
    write_samples(df, d / "all.parquet")
    return d


def _json(args: list[str], capsys: pytest.CaptureFixture[str]) -> dict:
    assert main(["analyze", *args, "--json", "--n-boot", "200"]) == 0, capsys.readouterr().err
    return json.loads(capsys.readouterr().out)


def test_several_inputs_are_one_dataset(parts: Path, capsys: pytest.CaptureFixture[str]) -> None:
    whole = _json([str(parts / "all.parquet")], capsys)
    split = _json([str(parts / "m1.sqlite"), str(parts / "pq" / "m2.parquet")], capsys)
    assert split["overall"]["n_samples"] == whole["overall"]["n_samples"]
    for k in ("bias", "variance", "error", "incoherence"):
        assert split["overall"][k] == pytest.approx(whole["overall"][k], abs=1e-12)
    assert split["overall"]["ci"] == whole["overall"]["ci"]  # row order does not move the interval
    assert [g["model"] for g in split["groups"]] == [g["model"] for g in whole["groups"]]


def test_duckdb_engine_gives_the_memory_numbers(parts: Path, capsys: pytest.CaptureFixture[str]) -> None:
    mem = _json([str(parts / "all.parquet")], capsys)
    duck = _json([str(parts / "m1.sqlite"), str(parts / "pq"), "--engine", "duckdb"], capsys)
    assert duck["engine"] == "duckdb" and mem["engine"] == "memory"
    for k in ("bias", "variance", "error", "incoherence", "accuracy"):
        assert duck["overall"][k] == pytest.approx(mem["overall"][k], abs=1e-9)
    assert duck["overall"]["ci"].keys() == mem["overall"]["ci"].keys()
    for k, bounds in mem["overall"]["ci"].items():
        assert duck["overall"]["ci"][k] == pytest.approx(bounds, abs=1e-9), k
    assert any("duckdb" in w for w in duck["warnings"])


def test_a_folder_goes_to_duckdb_by_itself(parts: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _json([str(parts / "pq")], capsys)["engine"] == "duckdb"


@pytest.mark.parametrize("engine", ["memory", "duckdb"])
def test_a_sample_in_two_inputs_is_refused(parts: Path, capsys: pytest.CaptureFixture[str], engine: str) -> None:
    code = main(["analyze", str(parts / "all.parquet"), str(parts / "m1.sqlite"), "--engine", engine])
    err = capsys.readouterr().err
    assert code != 0 and "error:" in err and "Traceback" not in err
    assert "more than one input" in err or "present 2 times" in err


def test_report_of_two_stores(parts: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    other = tmp_path / "m2.sqlite"
    write_samples(mixed_samples(7, tests=False).query("model == 'm2'"), other)
    out = tmp_path / "r.html"
    code = main(["report", str(parts / "m1.sqlite"), str(other), "-o", str(out), "--n-boot", "50"])
    assert code == 0, capsys.readouterr().err
    html = out.read_text()
    assert "m1" in html and "m2" in html


def test_unknown_engine_and_run_with_duckdb(parts: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["analyze", str(parts / "all.parquet"), "--engine", "polars"]) == 2
    assert "unknown engine" in capsys.readouterr().err
    assert main(["analyze", str(parts / "pq"), "--run", "r"]) != 0
    assert "--engine memory" in capsys.readouterr().err
