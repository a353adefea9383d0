"""``hotmess import inspect|lm-eval`` and ``hotmess embed`` through a typer app built with their register()."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer

import hotmess.cli.main as cli_main
from hotmess.cli import embed as embed_cmd
from hotmess.cli import import_cmd
from hotmess.data import RunStore, read_samples
from tests.importers.conftest import INSPECT, LM_EVAL
from tests.models.test_embedders import EmbeddingStub


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Iterator:
    app = typer.Typer(pretty_exceptions_enable=False)

    @app.callback()
    def _root() -> None:
        """test app"""

    import_cmd.register(app)
    embed_cmd.register(app)
    monkeypatch.setattr(cli_main, "app", app)

    def call(*args: str) -> tuple[int, str, str]:
        code = cli_main.main([str(a) for a in args])
        out, err = capsys.readouterr()
        return code, out, err

    yield call


def test_import_inspect_prints_incoherence_and_is_idempotent(run, store: Path) -> None:
    code, out, err = run("import", "inspect", INSPECT, "--store", store, "--n-boot", "50", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["import"]["new"] == 56 and data["import"]["already_stored"] == 0
    rows = {r["task"]: r for r in data["summary"]}
    assert rows["mc_quiz"]["kind"] == "multiple-choice" and rows["swe_mini"]["kind"] == "test-vector"
    for r in rows.values():
        assert 0.0 <= r["incoherence"] <= 1.0
        assert r["bias"] + r["variance"] == pytest.approx(r["error"])
    assert rows["swe_mini"]["n_questions"] == 3 and rows["swe_mini"]["n_samples"] == 12
    code, out, err = run("import", "inspect", INSPECT / "mc_quiz.eval", "--store", store, "--n-boot", "0")
    err = " ".join(err.split())  # rich wraps long lines
    assert code == 0 and "0 new sample(s)" in err and "24 already stored" in err
    assert "incoherence" in out and "mc_quiz" in out


def test_import_lm_eval_table(run, store: Path) -> None:
    code, out, err = run("import", "lm-eval", LM_EVAL, "--store", store, "--n-boot", "0")
    assert code == 0, err
    err = " ".join(err.split())
    assert "hm_mc" in out and "hm_gen" in out and "30 new sample(s)" in err
    assert "hotmess embed" in err  # the open-ended hint


def test_bad_input_is_one_line_error_and_nothing_written(run, store: Path, tmp_path: Path) -> None:
    bad = tmp_path / "broken.eval"
    bad.write_bytes((INSPECT / "mc_quiz.eval").read_bytes()[:1000])
    code, _, err = run("import", "inspect", INSPECT / "swe_mini.eval", bad, "--store", store)
    assert code == 2 and err.startswith("error: ") and "broken.eval" in err and err.count("\n") == 1
    assert not store.exists() or len(RunStore(store)) == 0
    code, _, err = run("import", "inspect", INSPECT, "--store", store, "--kind", "banana")
    assert code == 2 and "unknown kind" in err


def test_embed_with_an_openai_compatible_endpoint(run, store: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("HOTMESS_TEST_EMBED_KEY", "k")
    run("import", "inspect", INSPECT / "open_qa.eval", "--store", store, "--n-boot", "0")
    stub = EmbeddingStub()
    try:
        args = [
            "embed",
            store,
            "--embedder",
            "openai:stub",
            "--base-url",
            stub.url,
            "--api-key-env",
            "HOTMESS_TEST_EMBED_KEY",
            "--buckets",
            "2",
        ]
        code, out, err = run(*args, "--plot", tmp_path / "v.png", "--json")
        assert code == 0, err
        data = json.loads(out)
        assert data["embedded"] == 19 and data["saved"] == 19 and len(data["questions"]) == 4
        la = data["length_analysis"]["mockllm/model"]
        assert [b["n_questions"] for b in la["buckets"]] == [2, 2]
        assert (tmp_path / "v.png").exists()
        df = read_samples(store)
        assert df["embedding"].notna().sum() == 19
        n_requests = len(stub.requests)
        code, out, err = run(*args)  # already embedded: no new requests, same table
        assert code == 0 and len(stub.requests) == n_requests and "embedding variance" in out
    finally:
        stub.close()


def test_embed_refuses_stores_without_open_ended_answers(run, store: Path, tmp_path: Path) -> None:
    run("import", "inspect", INSPECT / "mc_quiz.eval", "--store", store, "--n-boot", "0")
    code, _, err = run("embed", store, "--embedder", "openai:x", "--base-url", "http://127.0.0.1:9/v1")
    assert code == 2 and "no open-ended samples" in err
    parquet = tmp_path / "s.parquet"
    shutil.copyfile(store, parquet)
    code, _, err = run("embed", parquet)
    assert code == 2 and "not a run store" in err
