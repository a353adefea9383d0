"""`hotmess run --target-ci` against the stub server: stops on the target, records rounds, resumes exactly once."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from hotmess.cli.main import main
from hotmess.data import read_samples
from hotmess.data.store import RunStore
from tests.support.stub_server import StubOpenAIServer

KEY = ["run_id", "question_id", "context_id", "sample_index", "budget"]


@pytest.fixture
def stub(monkeypatch: pytest.MonkeyPatch) -> Iterator[StubOpenAIServer]:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-adaptive")
    with StubOpenAIServer() as server:
        yield server


def _args(url: str, store: Path, *extra: str) -> list[str]:
    return [
        "run",
        "--model",
        "openai:stub",
        "--base-url",
        url,
        "--task",
        "generated:tracking",
        "--store",
        str(store),
        "--limit",
        "12",
        "--contexts",
        "8",
        "--no-progress",
        *extra,
    ]


def test_stops_on_the_target_records_rounds_and_analyze_works(
    stub: StubOpenAIServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = tmp_path / "a.sqlite"
    assert main(_args(stub.url, store, "--target-ci", "0.2", "--json")) == 0
    out = capsys.readouterr()
    res = json.loads(out.out)
    assert res["stop_reason"].startswith("reached the target") and res["complete"]
    rounds = res["rounds"]
    assert rounds[-1]["half_width"] <= 0.2 < rounds[0]["half_width"]
    assert "stop: reached the target" in out.err
    n = len(read_samples(store))
    assert n == rounds[-1]["samples"] < 12 * 8 * 2  # fewer than every context of every question
    with RunStore(store) as s:
        r = s.sample_rounds()
    assert r["round"].notna().all() and set(r["round"]) == set(range(len(rounds)))
    assert (r[r["round"] == 0]["context_id"] < 2).all()  # round 0: the first round's 2 contexts × 2 samples
    # analyze reads the adaptive store unchanged
    assert main(["analyze", str(store), "--json", "--n-boot", "50", "--estimator", "corrected"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["overall"]["n_samples"] == n and summary["overall"]["n_questions"] == 12
    assert any("sampled adaptively" in w for w in summary["warnings"])  # analyses say how the data were drawn
    assert main(["analyze", str(store), "--json", "--n-boot", "0"]) == 0
    plugin = json.loads(capsys.readouterr().out)
    assert any("plug-in estimator is biased low" in w for w in plugin["warnings"])
    # a fixed run of the same slots draws the same samples: analysed together they are counted once
    assert main(_args(stub.url, store, "--samples", "2")) == 0  # 8 contexts × 2 samples, like the rounds
    capsys.readouterr()
    assert main(["analyze", str(store), "--json", "--n-boot", "0"]) == 0
    both = json.loads(capsys.readouterr().out)
    assert both["overall"]["n_samples"] == 12 * 8 * 2  # every slot once, not the adaptive ones twice
    # rerunning the same command replays the rounds from the store and samples nothing
    n_all = len(read_samples(store))
    assert main(_args(stub.url, store, "--target-ci", "0.2")) == 0
    assert "0 new samples" in capsys.readouterr().out
    assert len(read_samples(store)) == n_all


def test_capped_invocations_resume_to_the_uninterrupted_store(
    stub: StubOpenAIServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Stopping an adaptive run anywhere and rerunning it gives the store an uninterrupted run writes: the same
    keys, answers and rounds. --max-samples cuts rounds in the middle; it is a multiple of the samples per context,
    so that no request is split (the stub, like OpenAI, draws a request's choices from one seed)."""
    ref, cut = tmp_path / "ref.sqlite", tmp_path / "cut.sqlite"
    assert main(_args(stub.url, ref, "--target-ci", "0.1")) == 0
    for _ in range(40):
        assert main(_args(stub.url, cut, "--target-ci", "0.1", "--max-samples", "36")) == 0
        if "stopped:" not in capsys.readouterr().err:
            break
    else:
        pytest.fail("the capped run never finished")
    a = read_samples(ref).sort_values(KEY).reset_index(drop=True)
    b = read_samples(cut).sort_values(KEY).reset_index(drop=True)
    assert len(a) > 36 * 2 and a[KEY].equals(b[KEY]) and a["answer"].tolist() == b["answer"].tolist()
    with RunStore(ref) as s1, RunStore(cut) as s2:
        assert s1.sample_rounds()["round"].tolist() == s2.sample_rounds()["round"].tolist()


def test_bad_adaptive_options_are_one_line_errors(
    stub: StubOpenAIServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = tmp_path / "x.sqlite"
    for extra, needle in [
        (["--target-ci", "0.1", "--first-round", "2by2"], "--first-round"),
        (["--target-ci", "0.1", "--first-round", "9x2"], "--first-round"),
        (["--target-ci", "0.1", "--first-round", "2x2", "--samples", "3"], "disagree"),
        (["--target-ci", "0", "--first-round", "2x2"], "--target-ci"),
        (["--target-ci", "0.1", "--budget", "low", "--budget", "high"], "one budget"),
        (["--target-ci", "2"], "--target-ci"),
        (["--first-round", "2x2"], "--target-ci"),
        (["--max-rounds", "3"], "--target-ci"),
        (["--target-ci", "0.1", "--first-round", "2", "--samples", "0"], "--samples"),
    ]:
        assert main(_args(stub.url, store, *extra)) != 0
        err = capsys.readouterr().err
        assert needle in err and "Traceback" not in err, err
    assert not store.exists() or len(read_samples(store)) == 0
