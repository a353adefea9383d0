"""The API key never leaves a provider: not in RetryableError / BackendError text, not in a run store.

The key used here does not look like a key (no ``sk-`` prefix), so that pattern-based masking cannot hide a
missing known-key redaction.
"""

from __future__ import annotations

import asyncio
import sqlite3
import traceback
from pathlib import Path
from typing import Any

import httpx
import pytest

from hotmess.data import RunStore
from hotmess.errors import BackendError, HotmessError
from hotmess.models import AnthropicProvider, GenerateRequest, OpenAICompatProvider, OpenAIEmbedder, RetryableError
from hotmess.models._http import redact, scrub_exception, server_message
from hotmess.sampling import RunConfig, sample_task
from hotmess.tasks import load_task
from tests.support.anthropic_stub import StubAnthropicServer
from tests.support.helpers import run
from tests.support.stub_server import StubOpenAIServer

#: A key with no key-like shape: only known-key redaction can mask it.
PLAIN = "plainsecretvalue123"
KEY_ENV = "HOTMESS_TEST_PLAIN_KEY"


def ask() -> GenerateRequest:
    return GenerateRequest(messages=({"role": "user", "content": "Which letter? A B C D"},), n=2, seeds=(1, 2))


def everything_about(exc: BaseException) -> str:
    """Message, repr and the full formatted traceback (causes included) of ``exc``."""
    parts = [str(exc), repr(exc), "".join(traceback.format_exception(exc))]
    if isinstance(exc, HotmessError):
        parts += [exc.message, exc.hint or ""]
    return "\n".join(parts)


async def failure(provider: Any, request: GenerateRequest) -> BaseException:
    try:
        await provider.generate(request)
    except Exception as exc:
        return exc
    finally:
        await provider.aclose()
    raise AssertionError("the request did not fail")


# -- the helpers ----------------------------------------------------------------------------------------------


def test_redact_masks_the_known_key_whatever_its_shape() -> None:
    assert redact(f"upstream said key={PLAIN}.", [PLAIN]) == "upstream said key=***."
    assert redact(f"{PLAIN}{PLAIN}, {PLAIN}", [PLAIN]) == "******, ***"
    # URL-encoded, as a proxy may echo it in a query string
    odd = "p@ss/word+42=="
    assert "p%40ss" not in redact("GET /v1?auth=p%40ss%2Fword%2B42%3D%3D", [odd])
    # placeholder keys of local servers are masked as words, not inside other words
    assert redact("key x was refused; expected a valid key", ["x"]) == "key *** was refused; expected a valid key"


def test_redact_masks_key_like_assignments_without_knowing_the_key() -> None:
    text = redact('proxy error: api_key=abcdef123456; {"x-api-key": "qwertyuiop"}; token=zzzzzzzz')
    assert "abcdef123456" not in text and "qwertyuiop" not in text and "zzzzzzzz" not in text
    # ordinary messages survive
    for message in ("max_tokens is too large for this model", "The model `gpt-4o` does not exist", "token=512"):
        assert redact(message) == message


def test_server_message_masks_before_cutting() -> None:
    body = b'{"error": {"message": "' + b"x" * 290 + b" " + PLAIN.encode() + b'"}}'
    message = server_message(body, secrets=[PLAIN])
    assert "plains" not in message and message.endswith(
        "***"
    )  # half a key cut at the length limit must not leak either


def test_scrub_exception_cleans_message_hint_args_and_causes() -> None:
    try:
        try:
            raise ValueError(f"low level {PLAIN}")
        except ValueError as inner:
            raise BackendError(f"failed with {PLAIN}", hint=f"rotate {PLAIN}") from inner
    except BackendError as exc:
        scrub_exception(exc, [PLAIN])
        assert PLAIN not in everything_about(exc)
        assert str(exc) == "failed with *** (rotate ***)"
    error = scrub_exception(RetryableError("server", f"echo {PLAIN}", retry_after=2.0), [PLAIN])
    assert str(error) == "server: echo ***" and error.kind == "server" and error.retry_after == 2.0


# -- OpenAI-compatible ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "kind"),
    [("error_in_200", "server"), ("echo_key", "malformed"), ("unauthorized", None)],
)
def test_openai_errors_never_carry_the_key(
    stub: StubOpenAIServer, monkeypatch: pytest.MonkeyPatch, fault: str, kind: str | None
) -> None:
    monkeypatch.setenv(KEY_ENV, PLAIN)
    stub.fail_next(fault)
    provider = OpenAICompatProvider("stub-model", base_url=stub.url, api_key_env=KEY_ENV, n_mode="parallel")
    exc = run(failure(provider, ask()))
    assert stub.records[0]["authorization"] == f"Bearer {PLAIN}"  # the stub did receive (and echo) the key
    if kind is None:
        assert isinstance(exc, BackendError)
    else:
        assert isinstance(exc, RetryableError) and exc.kind == kind
    assert PLAIN not in everything_about(exc)
    assert "***" in str(exc)


def test_openai_error_in_200_keeps_the_server_message(stub: StubOpenAIServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, PLAIN)
    stub.fail_next("error_in_200")
    provider = OpenAICompatProvider("stub-model", base_url=stub.url, api_key_env=KEY_ENV)
    exc = run(failure(provider, GenerateRequest(messages=({"role": "user", "content": "Q?"},))))
    assert str(exc) == "server: error in a 200 response: upstream rejected the request (key=***)"


# -- Anthropic --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("fault", "kind"), [("error_in_200", "server"), ("echo_key", "malformed")])
def test_anthropic_errors_never_carry_the_key(monkeypatch: pytest.MonkeyPatch, fault: str, kind: str) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", PLAIN)
    with StubAnthropicServer(api_key=PLAIN) as stub:
        stub.fail_next(fault)
        provider = AnthropicProvider("claude-test", base_url=stub.base_url)
        exc = run(failure(provider, GenerateRequest(messages=({"role": "user", "content": "Q?"},))))
    assert isinstance(exc, RetryableError) and exc.kind == kind
    assert PLAIN not in everything_about(exc) and "***" in str(exc)


# -- the store: what a run records ------------------------------------------------------------------------------


@pytest.mark.parametrize("fault", ["error_in_200", "echo_key"])
def test_key_never_lands_in_the_store(
    stub: StubOpenAIServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, fault: str
) -> None:
    monkeypatch.setenv(KEY_ENV, PLAIN)
    stub.fail_with_probability({fault: 1.0})
    config = RunConfig(
        model="openai:stub",
        task="generated:arithmetic",
        n_contexts=2,
        samples_per_context=2,
        limit=2,
        max_retries=1,
        model_options={"base_url": stub.url, "api_key_env": KEY_ENV},
    )
    provider = OpenAICompatProvider("stub", base_url=stub.url, api_key_env=KEY_ENV)
    path = tmp_path / "s.sqlite"

    async def go() -> None:
        try:
            with RunStore(path) as store:
                await sample_task(
                    provider, load_task(config.task), store, config, progress=False, retry_base=0.001, retry_cap=0.01
                )
        finally:
            await provider.aclose()

    asyncio.run(go())
    with sqlite3.connect(path) as conn:
        errors = [row[0] for row in conn.execute("SELECT error FROM samples")]
    assert errors and all(e is not None and "***" in e for e in errors)
    assert not any(PLAIN in e for e in errors)
    assert PLAIN.encode() not in path.read_bytes()  # nowhere in the file: samples, runs, questions
    assert stub.stats()["faults"][fault] >= 8  # the key was sent, and echoed, every time


# -- embeddings -------------------------------------------------------------------------------------------------


def test_embedder_errors_never_carry_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, PLAIN)

    async def refuse(self: httpx.AsyncClient, url: str, **kw: Any) -> httpx.Response:
        raise httpx.ConnectError(f"proxy refused credentials {PLAIN}")

    monkeypatch.setattr(httpx.AsyncClient, "post", refuse)
    embedder = OpenAIEmbedder("emb", base_url="http://127.0.0.1:9/v1", api_key_env=KEY_ENV, max_attempts=1)
    with pytest.raises(BackendError) as info:
        embedder.embed(["a text"])
    assert "proxy refused credentials ***" in str(info.value)
    assert PLAIN not in everything_about(info.value)


def test_redacting_a_long_error_body_takes_linear_time() -> None:
    """A 40 KB error body of word characters and hyphens: masked in milliseconds, not minutes (the regexes used
    to restart at every word boundary)."""
    import time

    from hotmess.models._http import server_message

    body = ("ab-" * 14_000 + " api_key=plainsecretvalue123").encode()
    t0 = time.perf_counter()
    message = server_message(body, secrets=["plainsecretvalue123"])
    assert time.perf_counter() - t0 < 1.0
    assert "plainsecretvalue123" not in message
