"""`hotmess run` through the CLI: end to end, bad input, and SIGKILL at random points then resume."""

from __future__ import annotations

import contextlib
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from hotmess.cli.main import main
from hotmess.data import read_samples
from tests.support.helpers import free_port
from tests.support.stub_server import StubOpenAIServer

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def stub(monkeypatch: pytest.MonkeyPatch) -> Iterator[StubOpenAIServer]:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-cli")
    with StubOpenAIServer() as server:
        yield server


def _args(stub_url: str, store: Path, *extra: str) -> list[str]:
    return [
        "run",
        "--model",
        "openai:stub",
        "--base-url",
        stub_url,
        "--task",
        "generated:tracking",
        "--store",
        str(store),
        "--limit",
        "6",
        "--contexts",
        "3",
        "--samples",
        "2",
        "--no-progress",
        *extra,
    ]


def _one_error_line(err: str) -> str:
    """The one `error:` line; `run` also names its endpoint first (where requests go, before any is sent)."""
    lines = [ln for ln in err.strip().splitlines() if ln.strip() and not ln.startswith("endpoint: ")]
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ") and "Traceback" not in err
    return lines[0]


def test_run_then_analyze(stub: StubOpenAIServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = tmp_path / "runs.sqlite"
    assert main(_args(stub.url, store)) == 0
    out = capsys.readouterr().out
    assert "36 new samples" in out and f"hotmess analyze {store}" in out
    assert main(["analyze", str(store), "--metric", "brier", "--json", "--n-boot", "50"]) == 0
    import json

    res = json.loads(capsys.readouterr().out)
    assert res["overall"]["n_questions"] == 6 and res["overall"]["n_samples"] == 36
    # rerunning the same command adds nothing
    assert main(_args(stub.url, store)) == 0
    assert "0 new samples" in capsys.readouterr().out
    assert len(read_samples(store)) == 36


@pytest.mark.parametrize(
    ("fault", "needle"),
    [("unauthorized", "OPENAI_API_KEY"), ("not_found", "model"), ("bad_request", "400")],
)
def test_fatal_backend_errors_are_one_line(
    stub: StubOpenAIServer, tmp_path: Path, capsys: pytest.CaptureFixture[str], fault: str, needle: str
) -> None:
    stub.fail_next(fault, times=100)
    code = main(_args(stub.url, tmp_path / "s.sqlite"))
    assert code != 0
    line = _one_error_line(capsys.readouterr().err)
    assert needle in line and "sk-test-cli" not in line


def test_unreachable_url_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-x")
    code = main(_args(f"http://127.0.0.1:{free_port()}/v1", tmp_path / "s.sqlite"))
    assert code != 0
    assert "127.0.0.1" in _one_error_line(capsys.readouterr().err)


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["--task", "missing.csv"], "missing.csv"),
        (["--task", "generated:nope"], "nope"),
        (["--model", "warp:drive"], "warp:drive"),
        (["--contexts", "0"], "n_contexts"),
        (["--budget", "think:many"], "budget"),
        (["--format", "haiku"], "haiku"),
        (["--option", "api_key=sk-live"], "environment"),
    ],
)
def test_bad_run_options_are_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], needle: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-x")
    base = [
        "run",
        "--model",
        "openai:m",
        "--base-url",
        "http://127.0.0.1:9/v1",
        "--task",
        "generated:arithmetic",
        "--store",
        str(tmp_path / "s.sqlite"),
        "--limit",
        "2",
        "--no-progress",
    ]
    # later options override earlier ones in typer, so the bad value wins
    code = main(base + argv)
    assert code != 0
    assert needle in _one_error_line(capsys.readouterr().err)
    assert not (tmp_path / "s.sqlite").exists() or len(read_samples_safe(tmp_path / "s.sqlite")) == 0


def read_samples_safe(path: Path) -> list[object]:
    from hotmess.data import RunStore

    with RunStore(path) as store:
        return list(store.completed_keys())


def _stored(path: Path) -> int:
    """Rows committed to a store, read without writing to it (0 before the file exists)."""
    import sqlite3

    if not path.exists():
        return 0
    try:
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)) as conn:
            return int(conn.execute("SELECT COUNT(*) FROM samples").fetchone()[0])
    except sqlite3.OperationalError:  # tables not created yet
        return 0


@pytest.mark.slow
def test_sigkill_at_random_points_then_resume_gives_the_uninterrupted_keys(tmp_path: Path) -> None:
    """Kill `hotmess run` with SIGKILL ≥ 10 times at random moments; every resume continues exactly once."""
    env = {**os.environ, "OPENAI_API_KEY": "sk-test-kill", "PYTHONPATH": str(ROOT / "src")}
    sizes = ["--limit", "20", "--contexts", "10", "--samples", "3"]
    with StubOpenAIServer(latency_s=0.2) as stub:
        args = [
            sys.executable,
            "-m",
            "hotmess.cli.main",
            *_args(stub.url, tmp_path / "killed.sqlite"),
            *sizes,
            "--concurrency",
            "4",
        ]
        rng = random.Random(1234)
        kills = 0
        for _ in range(40):
            # kill after a random number of newly stored samples (or, now and then, during start-up)
            target = _stored(tmp_path / "killed.sqlite") + rng.randint(-3, 25)
            proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            while proc.poll() is None and _stored(tmp_path / "killed.sqlite") < target:
                time.sleep(0.01)
            if proc.poll() is not None:
                break  # finished before the kill
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            kills += 1
            if kills >= 12:
                break
        assert kills >= 10, "the run finished too fast to be killed ten times; raise the stub latency"
        done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        ref = subprocess.run(
            [
                *args[:3],
                *_args(stub.url, tmp_path / "ref.sqlite"),
                *sizes,
                "--concurrency",
                "32",  # concurrency is not part of the run's identity: same run id, same samples
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert ref.returncode == 0, ref.stderr
    key = ["run_id", "question_id", "context_id", "sample_index", "budget"]
    killed = read_samples(tmp_path / "killed.sqlite").sort_values(key).reset_index(drop=True)
    reference = read_samples(tmp_path / "ref.sqlite").sort_values(key).reset_index(drop=True)
    assert len(killed) == len(reference) == 20 * 10 * 3
    assert killed[key].equals(reference[key])
    assert not killed.duplicated(subset=key).any()
    assert killed["answer"].tolist() == reference["answer"].tolist()
    assert killed["error"].isna().all()


def test_model_written_evals_task_with_a_task_option(
    stub: StubOpenAIServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = tmp_path / "mwe.sqlite"
    args = [
        "run",
        "--model",
        "openai:stub",
        "--base-url",
        stub.url,
        "--task",
        str(ROOT / "examples/tasks/mwe_sample.jsonl"),
        "--store",
        str(store),
        "--contexts",
        "2",
        "--samples",
        "2",
        "--k-shot",
        "0",
        "--no-progress",
    ]
    assert main(args) != 0  # the target behaviour must be chosen
    assert "--task-option target=matching" in _one_error_line(capsys.readouterr().err)
    assert main([*args, "--task-option", "target=matching"]) == 0
    df = read_samples(store)
    assert len(df) > 0 and (df["n_options"] >= 2).all() and df["valid"].any()
    # the option is part of the run's identity: the other target is another run, beside the first
    assert main([*args, "--task-option", "target=not_matching"]) == 0
    both = read_samples(store)
    assert both["run_id"].nunique() == 2
    assert sorted(both["task"].unique()) == ["mwe_sample:matching", "mwe_sample:not_matching"]
    # both runs analyse side by side: each target is its own task, so a question never has two correct options
    capsys.readouterr()
    assert main(["analyze", str(store), "--metric", "brier", "--n-boot", "0"]) == 0
    out = capsys.readouterr().out
    assert "mwe_sample:matching" in out and "mwe_sample:not_matching" in out
