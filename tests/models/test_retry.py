"""The one backoff rule (``backoff_delay``) and the bounded retry loop, and that the runner and the OpenAI
embedder both go through them."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hotmess.data import RunStore
from hotmess.errors import BackendError
from hotmess.models import Completion, GenerateRequest, OpenAIEmbedder, Provider, RetryableError, _retry
from hotmess.models._retry import backoff_delay, retry_async
from hotmess.sampling import RunConfig, sample_task
from hotmess.tasks import load_task
from tests.models.test_embedders import EmbeddingStub


def test_backoff_grows_with_jitter_within_bounds() -> None:
    rng = random.Random(0)
    for a in range(1, 8):
        d = backoff_delay(a, base=1.0, cap=100.0, rng=rng)
        assert 0.5 * 2 ** (a - 1) <= d <= 2 ** (a - 1)
    assert all(1.5 <= backoff_delay(10, base=1.0, cap=3.0, rng=rng) <= 3.0 for _ in range(50))  # capped
    # jittered, not constant; and the same seed gives the same delays
    assert len({backoff_delay(3, base=1.0, cap=100.0, rng=rng) for _ in range(20)}) > 1
    first = [backoff_delay(a, base=0.5, cap=8.0, rng=random.Random(7)) for a in (1, 2, 3)]
    assert first == [backoff_delay(a, base=0.5, cap=8.0, rng=random.Random(7)) for a in (1, 2, 3)]


def test_retry_after_is_a_floor_even_above_the_cap() -> None:
    rng = random.Random(1)
    assert backoff_delay(1, base=1.0, cap=100.0, rng=rng, retry_after=7.0) == 7.0
    assert backoff_delay(1, base=1.0, cap=3.0, rng=rng, retry_after=3600.0) == 3600.0  # callers give up instead
    assert 4.0 <= backoff_delay(4, base=1.0, cap=100.0, rng=rng, retry_after=0.0) <= 8.0  # a low floor: no effect


@pytest.mark.parametrize(
    ("attempt", "base", "cap", "needle"), [(0, 1.0, 1.0, "attempt"), (1, -1.0, 1.0, "base"), (1, 1.0, -2.0, "cap")]
)
def test_backoff_refuses_bad_arguments(attempt: int, base: float, cap: float, needle: str) -> None:
    with pytest.raises(ValueError, match=needle):
        backoff_delay(attempt, base=base, cap=cap, rng=random.Random(0))


def _flaky(errors: list[BaseException]) -> tuple[list[int], Any]:
    calls: list[int] = []

    async def call() -> str:
        calls.append(len(calls))
        if errors:
            raise errors.pop(0)
        return "ok"

    return calls, call


def test_retry_async_bounds_attempts_and_waiting() -> None:
    opts: dict[str, Any] = {"base": 0.001, "cap": 0.002, "rng": random.Random(0)}
    calls, call = _flaky([RetryableError("server", "x"), RetryableError("server", "y")])
    assert asyncio.run(retry_async(call, max_attempts=3, max_wait=1.0, **opts)) == "ok" and len(calls) == 3
    calls, call = _flaky([RetryableError("server", "x")] * 5)
    with pytest.raises(RetryableError):
        asyncio.run(retry_async(call, max_attempts=2, max_wait=1.0, **opts))
    assert len(calls) == 2
    calls, call = _flaky([RetryableError("rate_limit", "x", retry_after=5.0)])
    with pytest.raises(RetryableError):  # waiting 5 s would pass max_wait: give up without sleeping
        asyncio.run(retry_async(call, max_attempts=4, max_wait=1.0, **opts))
    assert len(calls) == 1
    calls, call = _flaky([BackendError("bad key")])
    with pytest.raises(BackendError):  # not transient: never retried
        asyncio.run(retry_async(call, max_attempts=4, max_wait=1.0, **opts))
    assert len(calls) == 1
    with pytest.raises(ValueError, match="max_attempts"):
        asyncio.run(retry_async(call, max_attempts=0, max_wait=1.0, **opts))


class _FailsOnce(Provider):
    name = "fails-once"
    supports_n = True

    def __init__(self) -> None:
        self.failed = False

    async def generate(self, request: GenerateRequest) -> list[Completion]:
        if not self.failed:
            self.failed = True
            raise RetryableError("rate_limit", "slow down", retry_after=0.01)
        return [Completion(text="Answer: A", output_tokens=5) for _ in range(request.n)]


@pytest.fixture
def spy(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[dict[str, Any]]]:
    """Replaces the one backoff rule; records every call (no waiting)."""
    calls: list[dict[str, Any]] = []

    def record(attempt: int, **kw: Any) -> float:
        calls.append({"attempt": attempt, **kw})
        return 0.0

    monkeypatch.setattr(_retry, "backoff_delay", record)
    yield calls


def test_runner_and_embedder_use_the_same_backoff(spy: list[dict[str, Any]], tmp_path: Path) -> None:
    cfg = RunConfig(model="fails-once", task="generated:arithmetic", n_contexts=1, samples_per_context=2, limit=1)

    async def go() -> Any:
        with RunStore(tmp_path / "s.sqlite") as store:
            return await sample_task(
                _FailsOnce(), load_task(cfg.task), store, cfg, progress=False, retry_base=0.25, retry_cap=4.0
            )

    stats = asyncio.run(go())
    assert stats.complete and stats.retries == {"rate_limit": 1}
    assert [(c["attempt"], c["base"], c["cap"], c["retry_after"]) for c in spy] == [(1, 0.25, 4.0, 0.01)]

    spy.clear()
    stub = EmbeddingStub()
    try:
        stub.plan = [503, 429]
        out = OpenAIEmbedder("emb", base_url=stub.url, api_key_env=None, max_attempts=3).embed(["x"])
    finally:
        stub.close()
    assert out.shape == (1, 8) and len(stub.requests) == 3
    assert [(c["attempt"], c["retry_after"]) for c in spy] == [(1, None), (2, 0.0)]
    assert {(c["base"], c["cap"]) for c in spy} == {(0.5, 8.0)}
