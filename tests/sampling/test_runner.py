"""The runner against the stub OpenAI-compatible server: faults, retries, error rows, caps, resume."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from hotmess.data import RunStore, read_samples
from hotmess.errors import BackendError
from hotmess.models import GenerateRequest, Provider, RetryableError, resolve_model
from hotmess.models.base import Completion
from hotmess.sampling import RunConfig, RunStats, sample_seed, sample_task
from hotmess.tasks import load_task
from tests.support.stub_server import StubOpenAIServer

KEY = ["question_id", "context_id", "sample_index", "budget"]


@pytest.fixture
def stub(monkeypatch: pytest.MonkeyPatch) -> Iterator[StubOpenAIServer]:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-runner")
    with StubOpenAIServer() as server:
        yield server


def _config(stub: StubOpenAIServer, **kw: Any) -> RunConfig:
    base: dict[str, Any] = {
        "model": "openai:stub",
        "task": "generated:arithmetic",
        "n_contexts": 4,
        "samples_per_context": 3,
        "limit": 10,
        "model_options": {"base_url": stub.url},
    }
    base.update(kw)
    return RunConfig(**base)


def _run(store_path: Path, config: RunConfig, provider: Provider | None = None) -> RunStats:
    task = load_task(config.task)

    async def go() -> RunStats:
        prov = provider or resolve_model(config.model, **config.model_options)
        try:
            with RunStore(store_path) as store:
                return await sample_task(prov, task, store, config, progress=False, retry_base=0.001, retry_cap=0.01)
        finally:
            await prov.aclose()

    return asyncio.run(go())


def _keys(df: pd.DataFrame) -> list[tuple[Any, ...]]:
    return sorted(map(tuple, df[KEY].to_numpy().tolist()))


def test_full_run_stores_every_key_once(stub: StubOpenAIServer, tmp_path: Path) -> None:
    stats = _run(tmp_path / "s.sqlite", _config(stub))
    df = read_samples(tmp_path / "s.sqlite")
    assert stats.complete and stats.written == 10 * 4 * 3 == len(df)
    assert len(set(_keys(df))) == len(df)
    assert df["error"].isna().all()
    # answers are in original option order and the stub's answers are extracted
    assert df["valid"].all()
    assert set(df["answer"]) <= {0, 1, 2, 3}
    # per-sample seeds are the documented stable hash of the key
    row = df.iloc[0]
    assert row["seed"] == sample_seed(0, "arithmetic", row["question_id"], row["context_id"], row["sample_index"], "")
    # the config is saved with the run
    with RunStore(tmp_path / "s.sqlite") as store:
        runs = store.runs()
    assert runs["status"].tolist() == ["complete"]
    assert runs["config"][0]["n_contexts"] == 4


def test_transient_faults_are_retried_and_classified(stub: StubOpenAIServer, tmp_path: Path) -> None:
    stub.fail_with_probability(
        {"rate_limit": 0.08, "server_error": 0.08, "malformed": 0.05, "drop": 0.05, "empty": 0.05}, seed=3
    )
    stats = _run(tmp_path / "s.sqlite", _config(stub, max_retries=20))
    df = read_samples(tmp_path / "s.sqlite")
    assert stats.complete and not stats.error_rows
    assert len(df) == 120 and len(set(_keys(df))) == 120
    faults = stub.stats()["faults"]
    assert sum(faults.values()) > 0
    # every injected fault was retried once and counted under its class
    assert stats.retries["rate_limit"] == faults.get("rate_limit", 0)
    assert stats.retries["server"] == faults.get("server_error", 0)
    assert stats.retries["malformed"] == faults.get("malformed", 0)
    assert stats.retries["empty"] == faults.get("empty", 0)
    assert stats.retries["connection"] == faults.get("drop", 0)


def test_exhausted_retries_become_error_rows_then_a_rerun_fills_them(stub: StubOpenAIServer, tmp_path: Path) -> None:
    stub.fail_next("server_error", times=3)
    cfg = _config(stub, max_retries=2, concurrency=1)
    stats = _run(tmp_path / "s.sqlite", cfg)
    assert stats.error_rows == {"server": 3}  # one unit of 3 samples failed 3 times
    df = read_samples(tmp_path / "s.sqlite")
    errors = df[df["error"].notna()]
    assert len(errors) == 3 and not errors["valid"].any() and (errors["answer"] == -1).all()
    assert "server" in errors["error"].iloc[0]
    # error rows are not scored: the analysis counts them apart
    from hotmess.analysis import summarize_samples

    res = summarize_samples(df, "brier", n_boot=0)
    assert res.n_error_rows == 3 and res.overall.n_samples == 117
    stats2 = _run(tmp_path / "s.sqlite", cfg)
    assert stats2.written == 3 and stats2.already_done == 117
    df2 = read_samples(tmp_path / "s.sqlite")
    assert len(df2) == 120 and df2["error"].isna().all()


def test_fatal_error_stops_the_run_and_keeps_written_samples(stub: StubOpenAIServer, tmp_path: Path) -> None:
    stub.fail_at({8: "unauthorized"})
    with pytest.raises(BackendError) as info:
        _run(tmp_path / "s.sqlite", _config(stub, concurrency=1))
    assert "sk-test-runner" not in str(info.value)
    df = read_samples(tmp_path / "s.sqlite")
    assert len(df) == 7 * 3  # the seven units before the failure are on disk
    with RunStore(tmp_path / "s.sqlite") as store:
        assert store.runs()["status"].tolist() == ["failed"]


def test_resume_after_cap_equals_uninterrupted_run(stub: StubOpenAIServer, tmp_path: Path) -> None:
    full = _run(tmp_path / "full.sqlite", _config(stub))
    assert full.complete
    capped = _run(tmp_path / "part.sqlite", _config(stub, max_samples=30, concurrency=2))
    assert capped.stopped and "max-samples" in capped.stopped and not capped.complete
    assert 30 <= capped.written < 120
    resumed = _run(tmp_path / "part.sqlite", _config(stub))
    assert resumed.complete and resumed.already_done == capped.written
    a = read_samples(tmp_path / "full.sqlite").sort_values(KEY).reset_index(drop=True)
    b = read_samples(tmp_path / "part.sqlite").sort_values(KEY).reset_index(drop=True)
    assert _keys(a) == _keys(b)
    # same seeds → the deterministic stub gives the same answers: resuming changes nothing
    assert a["answer"].tolist() == b["answer"].tolist()
    assert a["run_id"].iloc[0] == b["run_id"].iloc[0]


def test_budgets_are_sampled_separately(stub: StubOpenAIServer, tmp_path: Path) -> None:
    from hotmess.sampling import Budget

    cfg = _config(stub, budgets=(Budget.parse("low"), Budget.parse("high")), limit=3, n_contexts=2)
    stats = _run(tmp_path / "s.sqlite", cfg)
    df = read_samples(tmp_path / "s.sqlite")
    assert stats.complete and sorted(df["budget"].unique()) == ["high", "low"]
    assert len(df) == 2 * 3 * 2 * 3
    bodies = [r["body"] for r in stub.records]
    assert {b.get("reasoning_effort") for b in bodies} == {"low", "high"}


class _Flaky(Provider):
    """Scripted provider: fails a given number of times with a given error, then answers."""

    name = "flaky"
    supports_n = True

    def __init__(self, failures: list[BaseException]) -> None:
        self.failures = list(failures)
        self.calls = 0

    async def generate(self, request: GenerateRequest) -> list[Completion]:
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        return [Completion(text="Answer: A", output_tokens=5) for _ in range(request.n)]


def test_retry_after_is_honoured(tmp_path: Path) -> None:
    prov = _Flaky([RetryableError("rate_limit", "slow down", retry_after=0.3)])
    cfg = RunConfig(model="flaky", task="generated:arithmetic", n_contexts=1, samples_per_context=2, limit=1)
    stats = _run(tmp_path / "s.sqlite", cfg, provider=prov)
    assert stats.complete and stats.retries == {"rate_limit": 1}
    assert stats.elapsed >= 0.3
    assert stats.output_tokens == 10


def test_token_cap_stops_the_run(tmp_path: Path) -> None:
    prov = _Flaky([])
    cfg = RunConfig(
        model="flaky",
        task="generated:arithmetic",
        n_contexts=5,
        samples_per_context=2,
        limit=10,
        max_total_tokens=50,
        concurrency=1,
    )
    stats = _run(tmp_path / "s.sqlite", cfg, provider=prov)
    assert stats.stopped and "max-total-tokens" in stats.stopped
    assert 50 <= stats.output_tokens < 100


def test_retry_after_beyond_the_time_limit_gives_up_at_once(tmp_path: Path) -> None:
    prov = _Flaky([RetryableError("rate_limit", "come back tomorrow", retry_after=86400.0)])
    cfg = RunConfig(
        model="flaky", task="generated:arithmetic", n_contexts=1, samples_per_context=2, limit=1, max_retry_seconds=5.0
    )
    stats = _run(tmp_path / "s.sqlite", cfg, provider=prov)
    assert stats.error_rows == {"rate_limit": 2} and stats.elapsed < 5.0
