"""Anthropic backend against a local stub of the messages endpoint."""

from __future__ import annotations

from typing import Any

import pytest

from hotmess.errors import BackendError, ConfigError
from hotmess.models import AnthropicProvider, GenerateRequest, RetryableError
from tests.support.anthropic_stub import StubAnthropicServer
from tests.support.helpers import SECRET, run


def make(stub: StubAnthropicServer, **opts: Any) -> AnthropicProvider:
    return AnthropicProvider("claude-test", base_url=stub.base_url, **opts)


def ask(**kw: Any) -> GenerateRequest:
    messages = ({"role": "system", "content": "Answer with a letter."}, {"role": "user", "content": "Which? A B"})
    return GenerateRequest(messages=messages, **kw)


async def generate(provider: AnthropicProvider, request: GenerateRequest) -> list[Any]:
    try:
        return await provider.generate(request)
    finally:
        await provider.aclose()


def test_message_request_headers_and_usage(anthropic_stub: StubAnthropicServer) -> None:
    (c,) = run(generate(make(anthropic_stub), ask(max_tokens=50, temperature=0.5)))
    assert c.text == "The answer is (B)." and c.finish_reason == "end_turn"
    assert c.output_tokens == 4 and c.input_tokens == 3 and c.reasoning is None
    (rec,) = anthropic_stub.records
    assert rec["key_ok"] and rec["headers"]["anthropic-version"] == "2023-06-01"
    body = rec["body"]
    assert body["system"] == "Answer with a letter."
    assert body["messages"] == [{"role": "user", "content": "Which? A B"}]
    assert body["max_tokens"] == 50 and body["temperature"] == 0.5 and "thinking" not in body


def test_thinking_budget(anthropic_stub: StubAnthropicServer) -> None:
    (c,) = run(generate(make(anthropic_stub), ask(max_tokens=200, thinking_budget=2048, temperature=0.3)))
    body = anthropic_stub.records[0]["body"]
    assert body["thinking"] == {"type": "enabled", "budget_tokens": 2048}
    assert body["max_tokens"] == 2048 + 200 and "temperature" not in body
    assert c.reasoning is not None and c.reasoning.startswith("Let me reason.")
    assert c.output_tokens == 4 + 1024 and c.text == "The answer is (B)."


def test_n_samples_are_n_requests(anthropic_stub: StubAnthropicServer) -> None:
    provider = make(anthropic_stub)
    assert provider.supports_n is False
    out = run(generate(provider, ask(n=3)))
    assert len(out) == 3 and anthropic_stub.stats()["served"] == 3


def test_beta_header(anthropic_stub: StubAnthropicServer) -> None:
    run(generate(make(anthropic_stub, beta=("interleaved-thinking-2025-05-14",)), ask()))
    assert anthropic_stub.records[0]["headers"]["anthropic-beta"] == "interleaved-thinking-2025-05-14"


def test_base_url_with_v1_also_works(anthropic_stub: StubAnthropicServer) -> None:
    provider = AnthropicProvider("claude-test", base_url=anthropic_stub.base_url + "/v1/")
    assert len(run(generate(provider, ask()))) == 1


@pytest.mark.parametrize(
    ("fault", "kind"),
    [
        ("overloaded", "server"),
        ("server_error", "server"),
        ("rate_limit", "rate_limit"),
        ("drop", "connection"),
        ("malformed", "malformed"),
        ("empty", "empty"),
    ],
)
def test_transient_faults(anthropic_stub: StubAnthropicServer, fault: str, kind: str) -> None:
    anthropic_stub.fail_next(fault, retry_after="4")
    with pytest.raises(RetryableError) as info:
        run(generate(make(anthropic_stub), ask()))
    assert info.value.kind == kind
    if fault == "rate_limit":
        assert info.value.retry_after == 4.0
    if fault == "overloaded":
        assert "overloaded" in str(info.value)


def test_wrong_key_is_fatal_and_not_echoed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", SECRET)
    with StubAnthropicServer(api_key="another-key") as stub, pytest.raises(BackendError) as info:
        run(generate(make(stub), ask()))
    text = str(info.value)
    assert "HTTP 401" in text and "set ANTHROPIC_API_KEY" in text and SECRET not in text


def test_unknown_model_and_bad_request(anthropic_stub: StubAnthropicServer) -> None:
    with pytest.raises(BackendError, match=r"unknown model 'unknown-claude'.*model: unknown-claude"):
        run(generate(AnthropicProvider("unknown-claude", base_url=anthropic_stub.base_url), ask()))
    with pytest.raises(BackendError, match=r"HTTP 400.*budget_tokens must be >= 1024"):
        run(generate(make(anthropic_stub), ask(thinking_budget=10)))


def test_missing_key_fails_at_construction() -> None:
    with pytest.raises(BackendError, match=r"ANTHROPIC_API_KEY is not set \(set ANTHROPIC_API_KEY"):
        AnthropicProvider("claude-test")


def test_key_not_in_repr_or_describe(anthropic_stub: StubAnthropicServer) -> None:
    provider = make(anthropic_stub)
    assert SECRET not in repr(provider) and SECRET not in str(provider.describe())


@pytest.mark.parametrize(
    ("request_kw", "match"),
    [({"reasoning_effort": "high"}, "use thinking_budget"), ({"options": ("A", "B")}, "scoring")],
)
def test_unsupported_request_fields(
    anthropic_stub: StubAnthropicServer, request_kw: dict[str, Any], match: str
) -> None:
    with pytest.raises(ConfigError, match=match):
        run(generate(make(anthropic_stub), ask(**request_kw)))


def test_anthropic_base_url_env_is_the_default_endpoint(
    anthropic_stub: StubAnthropicServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_BASE_URL", anthropic_stub.base_url)
    provider = AnthropicProvider("claude-test")
    assert provider.endpoints == (anthropic_stub.base_url + "/v1/messages",)
    assert provider.describe()["base_url"] == anthropic_stub.base_url
    assert len(run(generate(provider, ask(n=2)))) == 2
    assert anthropic_stub.stats()["requests"] == 2


def test_explicit_anthropic_base_url_wins_over_the_env(
    anthropic_stub: StubAnthropicServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "http://127.0.0.1:9")
    provider = make(anthropic_stub)
    assert provider.endpoints == (anthropic_stub.base_url + "/v1/messages",)
    assert len(run(generate(provider, ask()))) == 1
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "")
    assert AnthropicProvider("claude-test").endpoints == ("https://api.anthropic.com/v1/messages",)
