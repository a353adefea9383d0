"""OpenAI-compatible backend against the local stub server: requests, n, seeds, usage, replicas, errors."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from hotmess.errors import BackendError, ConfigError
from hotmess.models import GenerateRequest, OpenAICompatProvider, RetryableError
from tests.support.helpers import SECRET, free_port, run
from tests.support.stub_server import StubConfig, StubOpenAIServer


def make(stub: StubOpenAIServer, **opts: Any) -> OpenAICompatProvider:
    opts.setdefault("api_key_env", None)
    return OpenAICompatProvider("stub-model", base_url=stub.url, **opts)


def ask(question: str = "Which letter? A B C D", **kw: Any) -> GenerateRequest:
    return GenerateRequest(messages=({"role": "user", "content": question},), **kw)


async def generate(provider: OpenAICompatProvider, request: GenerateRequest) -> list[Any]:
    try:
        return await provider.generate(request)
    finally:
        await provider.aclose()


def bodies(stub: StubOpenAIServer) -> list[dict[str, Any]]:
    return [r["body"] for r in stub.records]


# -- requests, n, seeds, usage --------------------------------------------------------------------------------


def test_single_sample_carries_text_usage_and_options(stub: StubOpenAIServer) -> None:
    out = run(generate(make(stub), ask(n=1, seeds=(7,), max_tokens=64, temperature=0.7)))
    assert len(out) == 1
    words = out[0].text.split()
    assert out[0].text.startswith("Let me think.") and "The answer is" in out[0].text
    assert out[0].output_tokens == len(words)
    assert out[0].input_tokens == 6  # words of "Which letter? A B C D"
    assert out[0].reasoning_tokens == 0
    assert out[0].finish_reason == "stop"
    (body,) = bodies(stub)
    assert body["seed"] == 7 and body["temperature"] == 0.7 and body["max_tokens"] == 64
    assert "n" not in body and "max_completion_tokens" not in body
    assert body["messages"] == [{"role": "user", "content": "Which letter? A B C D"}]


def test_native_n_is_one_request_with_first_seed(stub: StubOpenAIServer) -> None:
    out = run(generate(make(stub), ask(n=5, seeds=(11, 12, 13, 14, 15))))
    assert len(out) == 5
    (body,) = bodies(stub)
    assert body["n"] == 5 and body["seed"] == 11
    # usage is a total over the choices: split in proportion to each text's length, summing to the total
    assert all(c.reasoning_tokens is None for c in out)
    counts = [c.output_tokens for c in out]
    assert all(isinstance(t, int) and t > 0 for t in counts)
    by_len = sorted(zip([len(c.text) for c in out], counts, strict=True))
    assert [t for _, t in by_len] == sorted(t for _, t in by_len)
    expected = [stub.answer("Which letter? A B C D", 11, i, 512)[0] for i in range(5)]
    assert [c.text for c in out] == expected


def test_parallel_mode_sends_one_seed_per_sample(stub: StubOpenAIServer) -> None:
    seeds = (101, 202, 303, 404)
    out = run(generate(make(stub, n_mode="parallel"), ask(n=4, seeds=seeds, max_tokens=40)))
    sent = bodies(stub)
    assert sorted(b["seed"] for b in sent) == list(seeds)
    assert all("n" not in b for b in sent)
    # completions come back in seed order, each with its own usage
    assert [c.text for c in out] == [stub.answer("Which letter? A B C D", s, 0, 40)[0] for s in seeds]
    assert all(c.output_tokens == len(c.text.split()) for c in out)


def test_same_seeds_reproduce_different_seeds_differ(stub: StubOpenAIServer) -> None:
    provider = make(stub, n_mode="parallel")

    async def twice() -> tuple[list[str], list[str], list[str]]:
        a = await provider.generate(ask(n=6, seeds=tuple(range(6))))
        b = await provider.generate(ask(n=6, seeds=tuple(range(6))))
        c = await provider.generate(ask(n=6, seeds=tuple(range(100, 106))))
        await provider.aclose()
        return [x.text for x in a], [x.text for x in b], [x.text for x in c]

    a, b, c = run(twice())
    assert a == b and a != c


def test_auto_n_falls_back_to_parallel_when_server_ignores_n() -> None:
    with StubOpenAIServer(supports_n=False) as stub:
        provider = make(stub)

        async def go() -> tuple[list[Any], list[Any]]:
            first = await provider.generate(ask(n=4, seeds=(1, 2, 3, 4)))
            second = await provider.generate(ask(n=3, seeds=(5, 6, 7)))
            await provider.aclose()
            return first, second

        first, second = run(go())
        assert len(first) == 4 and len(second) == 3
        sent = bodies(stub)
        assert [b.get("n") for b in sent] == [4, None, None, None, None, None, None]
        assert sorted(b["seed"] for b in sent) == [1, 2, 3, 4, 5, 6, 7]
        assert provider.supports_n is False and provider.describe()["native_n"] is False
        # once parallel, each sample carries its own usage
        assert all(c.output_tokens is not None for c in second)


def test_native_mode_with_fewer_choices_is_empty(stub: StubOpenAIServer) -> None:
    stub.fail_next("few_choices")
    with pytest.raises(RetryableError) as info:
        run(generate(make(stub, n_mode="native"), ask(n=3)))
    assert info.value.kind == "empty"


def test_reasoning_effort_uses_max_completion_tokens_and_reports_reasoning_tokens(stub: StubOpenAIServer) -> None:
    out = run(generate(make(stub), ask(n=2, seeds=(1, 2), max_tokens=300, reasoning_effort="high")))
    sent = bodies(stub)
    assert len(sent) == 2  # auto n_mode: one request per sample to attribute reasoning tokens
    assert all(b["reasoning_effort"] == "high" and b["max_completion_tokens"] == 300 for b in sent)
    assert all("max_tokens" not in b for b in sent)
    for c in out:
        assert c.reasoning_tokens is not None and 512 <= c.reasoning_tokens <= 1024
        assert c.output_tokens == len(c.text.split()) + c.reasoning_tokens


@pytest.mark.parametrize(
    ("param", "absent"), [("max_tokens", "max_completion_tokens"), ("max_completion_tokens", "max_tokens")]
)
def test_max_tokens_param_is_configurable(stub: StubOpenAIServer, param: str, absent: str) -> None:
    run(generate(make(stub, max_tokens_param=param, send_temperature=False), ask(max_tokens=9)))
    (body,) = bodies(stub)
    assert body[param] == 9 and absent not in body and "temperature" not in body


def test_max_tokens_truncates_like_a_server(stub: StubOpenAIServer) -> None:
    (c,) = run(generate(make(stub), ask(max_tokens=3, seeds=(1,))))
    assert c.finish_reason == "length" and c.output_tokens == 3


def test_completions_mode_posts_prompt(stub: StubOpenAIServer) -> None:
    req = GenerateRequest(
        messages=({"role": "system", "content": "Be brief."}, {"role": "user", "content": "Q?"}), n=2, seeds=(3, 4)
    )
    out = run(generate(make(stub, mode="completions"), req))
    assert len(out) == 2 and all("answer is" in c.text for c in out)
    (rec,) = stub.records
    assert rec["path"] == "/v1/completions" and rec["body"]["prompt"] == "Be brief.\n\nQ?"
    assert "messages" not in rec["body"] and rec["body"]["max_tokens"] == 512


def test_extra_fields_pass_through(stub: StubOpenAIServer) -> None:
    run(generate(make(stub, extra_body={"top_p": 0.9}), ask(extra={"stop": ["\n"]})))
    (body,) = bodies(stub)
    assert body["top_p"] == 0.9 and body["stop"] == ["\n"]


def test_many_concurrent_requests(stub: StubOpenAIServer) -> None:
    provider = make(stub, n_mode="parallel", max_concurrency=32)

    async def go() -> list[list[Any]]:
        try:
            return await asyncio.gather(*[provider.generate(ask(f"Q{i}", n=2, seeds=(i, -i))) for i in range(150)])
        finally:
            await provider.aclose()

    results = run(go())
    assert all(len(r) == 2 for r in results)
    assert stub.stats()["served"] == 300


def test_provider_survives_a_new_event_loop(stub: StubOpenAIServer) -> None:
    provider = make(stub)
    assert len(run(provider.generate(ask()))) == 1
    assert len(run(provider.generate(ask()))) == 1  # a second asyncio.run: the client is rebuilt
    run(provider.aclose())


# -- replicas -------------------------------------------------------------------------------------------------


def test_requests_spread_over_replicas() -> None:
    with StubOpenAIServer() as a, StubOpenAIServer() as b:
        provider = OpenAICompatProvider("m", base_urls=[a.url, b.url], api_key_env=None, n_mode="parallel")

        async def go() -> None:
            await asyncio.gather(*[provider.generate(ask(f"Q{i}", n=2)) for i in range(20)])
            await provider.aclose()

        run(go())
        served = a.stats()["served"], b.stats()["served"]
        assert sum(served) == 40 and min(served) >= 10
        assert [s["successes"] for s in provider.replica_stats()] == list(served)


def test_round_robin_alternates() -> None:
    with StubOpenAIServer() as a, StubOpenAIServer() as b:
        provider = OpenAICompatProvider("m", base_urls=[a.url, b.url], api_key_env=None, routing="round_robin")

        async def go() -> None:
            for _ in range(6):
                await provider.generate(ask())
            await provider.aclose()

        run(go())
        assert a.stats()["served"] == 3 and b.stats()["served"] == 3


def test_a_dead_replica_is_avoided_after_a_connection_failure() -> None:
    with StubOpenAIServer() as a, StubOpenAIServer() as b:
        provider = OpenAICompatProvider("m", base_urls=[a.url, b.url], api_key_env=None, routing="round_robin")

        async def go() -> list[str]:
            kinds = []
            for _ in range(2):  # one request reaches each replica
                await provider.generate(ask())
            a.stop()
            for _ in range(6):
                try:
                    await provider.generate(ask())
                    kinds.append("ok")
                except RetryableError as exc:
                    kinds.append(exc.kind)
            await provider.aclose()
            return kinds

        kinds = run(go())
        assert kinds.count("connection") == 1 and kinds.count("ok") == 5
        assert b.stats()["served"] == 1 + 5


# -- error classification ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "kind"),
    [
        ("rate_limit", "rate_limit"),
        ("server_error", "server"),
        ("unavailable", "server"),
        ("overloaded", "server"),
        ("drop", "connection"),
        ("malformed", "malformed"),
        ("empty", "empty"),
    ],
)
def test_transient_faults_are_retryable(stub: StubOpenAIServer, fault: str, kind: str) -> None:
    provider = make(stub)

    async def go() -> RetryableError:
        try:
            with pytest.raises(RetryableError) as info:
                await provider.generate(ask(n=2))
            # the fault was transient: the next request succeeds on the same provider
            assert len(await provider.generate(ask(n=2))) == 2
            return info.value
        finally:
            await provider.aclose()

    stub.fail_next(fault)
    error = run(go())
    assert error.kind == kind
    assert provider.should_retry(error)
    assert stub.stats()["faults"] == {fault: 1}


def test_timeout_is_retryable() -> None:
    with StubOpenAIServer() as stub:
        stub.fail_next("timeout", hang_s=3.0)
        provider = make(stub, timeout_s=0.3)
        start = time.monotonic()
        with pytest.raises(RetryableError) as info:
            run(generate(provider, ask()))
        assert info.value.kind == "timeout"
        assert time.monotonic() - start < 2.5


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"retry_after": "2"}, 2.0),
        ({"retry_after": None, "retry_after_ms": 250}, 0.25),
        ({"retry_after": "date:30"}, 30.0),
    ],
)
def test_rate_limit_carries_retry_after(stub: StubOpenAIServer, fields: dict[str, Any], expected: float) -> None:
    stub.fail_next("rate_limit", **fields)
    with pytest.raises(RetryableError) as info:
        run(generate(make(stub), ask()))
    assert info.value.kind == "rate_limit"
    assert info.value.retry_after == pytest.approx(expected, abs=2.0 if expected == 30.0 else 1e-9)


def test_rate_limit_without_header_has_no_retry_after(stub: StubOpenAIServer) -> None:
    stub.fail_next("rate_limit", retry_after=None)
    with pytest.raises(RetryableError) as info:
        run(generate(make(stub), ask()))
    assert info.value.retry_after is None


@pytest.mark.parametrize(
    ("fault", "words"),
    [
        ("unauthorized", ["rejected the API key", "HTTP 401", "set MY_KEY"]),
        ("forbidden", ["refused access", "HTTP 403", "set MY_KEY"]),
        ("not_found", ["unknown model 'stub-model'", "HTTP 404", "does not exist"]),
        ("bad_request", ["bad request", "HTTP 400", "max_tokens is too large"]),
    ],
)
def test_fatal_statuses_are_backend_errors_without_the_key(
    stub: StubOpenAIServer, monkeypatch: pytest.MonkeyPatch, fault: str, words: list[str]
) -> None:
    monkeypatch.setenv("MY_KEY", SECRET)
    stub.fail_next(fault)
    provider = make(stub, api_key_env="MY_KEY")
    with pytest.raises(BackendError) as info:
        run(generate(provider, ask()))
    text = str(info.value)
    for word in words:
        assert word in text
    assert SECRET not in text and SECRET not in repr(info.value) and "\n" not in text
    assert not provider.should_retry(info.value)
    # the key did travel to the server
    assert stub.records[0]["authorization"] == f"Bearer {SECRET}"


def test_wrong_key_against_a_server_that_checks_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    with StubOpenAIServer(api_key="the-right-key") as stub:
        provider = OpenAICompatProvider("m", base_url=stub.url)
        with pytest.raises(BackendError) as info:
            run(generate(provider, ask()))
    assert "set OPENAI_API_KEY" in str(info.value) and SECRET not in str(info.value)


def test_missing_key_hint_says_it_is_not_set(stub: StubOpenAIServer) -> None:
    stub.fail_next("unauthorized")
    with pytest.raises(BackendError, match="OPENAI_API_KEY is not set"):
        run(generate(OpenAICompatProvider("m", base_url=stub.url), ask()))


def test_unknown_model_from_server_model_list() -> None:
    with (
        StubOpenAIServer(StubConfig(models=["served"])) as stub,
        pytest.raises(BackendError, match="unknown model 'other'"),
    ):
        run(generate(OpenAICompatProvider("other", base_url=stub.url, api_key_env=None), ask()))


def test_unreachable_url_fails_fast() -> None:
    provider = OpenAICompatProvider("m", base_url=f"http://127.0.0.1:{free_port()}/v1", api_key_env=None)
    with pytest.raises(BackendError) as info:
        run(generate(provider, ask()))
    assert "cannot reach http://127.0.0.1:" in str(info.value) and "server is running" in str(info.value)


def test_unreachable_url_can_be_retryable() -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"
    provider = OpenAICompatProvider("m", base_url=url, api_key_env=None, fail_fast_unreachable=False)
    with pytest.raises(RetryableError) as info:
        run(generate(provider, ask()))
    assert info.value.kind == "connection"


def test_lost_server_after_success_is_retryable() -> None:
    stub = StubOpenAIServer().start()
    provider = make(stub)

    async def go() -> None:
        await provider.generate(ask())
        stub.stop()
        try:
            with pytest.raises(RetryableError) as info:
                await provider.generate(ask())
            assert info.value.kind == "connection"
        finally:
            await provider.aclose()

    run(go())


@pytest.mark.parametrize("url", ["localhost:8000/v1", "ftp://host/v1", "not a url"])
def test_invalid_base_url(url: str) -> None:
    with pytest.raises(BackendError, match="invalid base URL"):
        OpenAICompatProvider("m", base_url=url, api_key_env=None)


# -- configuration and key hygiene ----------------------------------------------------------------------------


def test_official_api_without_key_fails_at_construction() -> None:
    with pytest.raises(BackendError) as info:
        OpenAICompatProvider("gpt-4o-mini")
    assert str(info.value) == "OPENAI_API_KEY is not set (set OPENAI_API_KEY to your OpenAI API key)"


def test_key_never_in_repr_describe_or_config(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    provider = OpenAICompatProvider("gpt-4o-mini")
    for text in (repr(provider), str(provider.describe()), repr(provider.config), repr(vars(provider))):
        assert SECRET not in text
    assert provider._key is not None and provider._key.reveal() == SECRET


@pytest.mark.parametrize(
    ("request_kw", "match"),
    [
        ({"n": 2, "seeds": (1,)}, "seeds must have n=2"),
        ({"n": 0}, "n must be >= 1"),
        ({"thinking_budget": 2048}, "thinking_budget is not supported"),
        ({"options": ("A", "B")}, "scoring"),
    ],
)
def test_invalid_requests_are_config_errors(stub: StubOpenAIServer, request_kw: dict[str, Any], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        run(generate(make(stub), ask(**request_kw)))
    assert stub.stats()["requests"] == 0


@pytest.mark.parametrize(
    "opts", [{"mode": "chatty"}, {"n_mode": "sometimes"}, {"max_concurrency": 0}, {"colour": "red"}]
)
def test_invalid_options_are_config_errors(opts: dict[str, Any]) -> None:
    with pytest.raises(ConfigError):
        OpenAICompatProvider("m", base_url="http://localhost:1/v1", api_key_env=None, **opts)


def test_a_key_that_does_not_look_like_a_key_is_masked_too(
    stub: StubOpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    plain = "correct-horse-battery-staple-42"
    monkeypatch.setenv("LOCAL_KEY", plain)
    stub.fail_next("unauthorized")  # the stub echoes the key it received
    with pytest.raises(BackendError) as info:
        run(generate(make(stub, api_key_env="LOCAL_KEY"), ask()))
    assert "Incorrect API key provided: ***" in str(info.value) and plain not in str(info.value)


# -- OPENAI_BASE_URL and endpoints ------------------------------------------------------------------------------


def test_openai_base_url_env_is_the_default_endpoint(stub: StubOpenAIServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", stub.url)
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)  # a real key must not send the requests to api.openai.com
    provider = OpenAICompatProvider("stub-model")
    assert provider.endpoints == (stub.url + "/chat/completions",)
    assert provider.describe()["base_urls"] == [stub.url]
    out = run(generate(provider, ask(n=2, seeds=(1, 2))))
    assert len(out) == 2 and stub.stats()["requests"] == 1
    assert stub.records[0]["authorization"] == f"Bearer {SECRET}"


def test_explicit_base_url_wins_over_the_env(stub: StubOpenAIServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    provider = make(stub, mode="completions")
    assert provider.endpoints == (stub.url + "/completions",)
    assert len(run(generate(provider, ask()))) == 1


def test_unset_or_empty_openai_base_url_means_the_openai_api(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    monkeypatch.setenv("OPENAI_BASE_URL", " ")
    assert OpenAICompatProvider("gpt-4o-mini").endpoints == ("https://api.openai.com/v1/chat/completions",)
    monkeypatch.delenv("OPENAI_BASE_URL")
    assert OpenAICompatProvider("gpt-4o-mini").endpoints == ("https://api.openai.com/v1/chat/completions",)


def test_replica_endpoints() -> None:
    provider = OpenAICompatProvider("m", base_urls=["http://a:1/v1/", "http://b:2/v1"], api_key_env=None)
    assert provider.endpoints == ("http://a:1/v1/chat/completions", "http://b:2/v1/chat/completions")
    assert provider.describe()["endpoints"] == list(provider.endpoints)


def test_invalid_openai_base_url_env_is_a_one_line_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "localhost:8000")
    with pytest.raises(BackendError, match="invalid base URL 'localhost:8000'"):
        OpenAICompatProvider("m", api_key_env=None)


# -- what "server unreachable" looks like -----------------------------------------------------------------------


def test_unreachable_server_kinds_are_connection_and_timeout() -> None:
    """A circuit breaker keys on these kinds: refused/dropped connections and timeouts, nothing else."""
    with StubOpenAIServer() as stub:
        provider = make(stub, timeout_s=0.3)

        async def go() -> list[str]:
            kinds = []
            assert len(await provider.generate(ask())) == 1  # reached once: later refusals are retryable
            stub.fail_next("timeout", hang_s=2.0)
            for fault in ("timeout", "drop", "server_error"):
                if fault != "timeout":
                    stub.fail_next(fault)
                with pytest.raises(RetryableError) as info:
                    await provider.generate(ask())
                kinds.append(info.value.kind)
            stub.stop()
            with pytest.raises(RetryableError) as info:
                await provider.generate(ask())
            kinds.append(info.value.kind)
            await provider.aclose()
            return kinds

        assert run(go()) == ["timeout", "connection", "server", "connection"]
