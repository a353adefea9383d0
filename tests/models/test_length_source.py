"""Per-sample output tokens and how they were obtained (``length_source``), against the stub server.

One request with native ``n > 1`` reports one ``completion_tokens`` for all choices; vLLM and SGLang return the
reasoning text separately (``reasoning_content`` / ``reasoning``). The split must follow answer *and* reasoning
length, and be marked as an estimate.
"""

from __future__ import annotations

from typing import Any

import pytest

from hotmess.models import GenerateRequest, OpenAICompatProvider
from tests.support.helpers import run
from tests.support.stub_server import StubOpenAIServer

QUESTION = "Which letter? A B C D"
#: Reasoning characters per choice: very different lengths, the longest first (the defect: it got the fewest).
CHARS = [12_000, 300, 3_000]


def _generate(stub: StubOpenAIServer, n: int, **opts: Any) -> list[Any]:
    provider = OpenAICompatProvider("stub-model", base_url=stub.url, api_key_env=None, **opts)

    async def go() -> list[Any]:
        try:
            req = GenerateRequest(messages=({"role": "user", "content": QUESTION},), n=n, seeds=tuple(range(n)))
            return await provider.generate(req)
        finally:
            await provider.aclose()

    return run(go())


def _true_tokens(stub: StubOpenAIServer, seed: int, index: int) -> int:
    """What the stub generated for choice ``index`` of a request with ``seed``: answer plus reasoning words."""
    _, tokens, _ = stub.answer(QUESTION, seed, index, 512)
    return tokens + len(stub.reasoning_text(index).split())


@pytest.mark.parametrize("field", ["reasoning_content", "reasoning"])
def test_native_n_splits_the_total_by_answer_and_reasoning_text(field: str) -> None:
    with StubOpenAIServer(reasoning_chars=CHARS, reasoning_field=field) as stub:
        out = _generate(stub, 3)
        truth = [_true_tokens(stub, 0, i) for i in range(3)]  # native: every choice under seeds[0] = 0
    assert [len(c.reasoning or "") for c in out] == [11_999, 299, 2_999]
    counts = [c.output_tokens for c in out]
    assert all(c.length_source == "estimated" for c in out)
    assert sum(counts) == sum(truth)  # the total, split exactly
    assert counts[0] > counts[2] > counts[1]  # the 12,000-character reasoning gets the largest share
    for got, true in zip(counts, truth, strict=True):
        assert abs(got - true) <= 0.1 * true + 3, (counts, truth)
    assert all(c.reasoning_tokens is None for c in out)  # a total's reasoning part is not attributed


def test_one_choice_carries_its_exact_count_from_the_api() -> None:
    with StubOpenAIServer(reasoning_chars=[3_000]) as stub:
        (c,) = _generate(stub, 1)
        true = _true_tokens(stub, 0, 0)
    assert c.length_source == "api" and c.output_tokens == true and true > 700
    assert c.finish_reason == "stop"


def test_parallel_mode_gives_every_sample_its_own_count() -> None:
    with StubOpenAIServer(reasoning_chars=CHARS) as stub:
        out = _generate(stub, 3, n_mode="parallel")
        # parallel: sample i is choice 0 of a request with seed i, so its reasoning is that of choice 0
        truth = [_true_tokens(stub, i, 0) for i in range(3)]
    assert [c.output_tokens for c in out] == truth
    assert all(c.length_source == "api" for c in out)


def test_per_choice_usage_is_used_when_the_server_gives_it() -> None:
    with StubOpenAIServer(reasoning_chars=CHARS, per_choice_usage=True) as stub:
        out = _generate(stub, 3)
        truth = [_true_tokens(stub, 0, i) for i in range(3)]
    assert [c.output_tokens for c in out] == truth
    assert all(c.length_source == "api" for c in out)


def test_no_usage_means_no_count_and_no_source(stub: StubOpenAIServer, monkeypatch: pytest.MonkeyPatch) -> None:
    from hotmess.models import openai_compat

    real = openai_compat._parse_choices
    monkeypatch.setattr(openai_compat, "_parse_choices", lambda data, chat: real({**data, "usage": None}, chat=chat))
    out = _generate(stub, 3)
    assert all(c.output_tokens is None and c.length_source is None for c in out)


def test_anthropic_samples_carry_their_own_api_count(anthropic_stub: Any) -> None:
    from hotmess.models import AnthropicProvider

    provider = AnthropicProvider("claude-test", base_url=anthropic_stub.base_url)

    async def go() -> list[Any]:
        try:
            msgs = ({"role": "user", "content": "Which? A B"},)
            return await provider.generate(GenerateRequest(messages=msgs, n=2, max_tokens=200, thinking_budget=2048))
        finally:
            await provider.aclose()

    out = run(go())
    assert [c.output_tokens for c in out] == [4 + 1024] * 2  # thinking included
    assert all(c.length_source == "api" and c.finish_reason == "end_turn" for c in out)
