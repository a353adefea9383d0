"""OpenAI-compatible chat/completions backend (OpenAI, vLLM, SGLang, llama.cpp server, Ollama, TGI).

One pooled ``httpx.AsyncClient`` talks to one or more replica base URLs of the same model. ``n`` samples of a
prompt come from one request where the server honours ``n`` ("native"), else from ``n`` parallel requests that
each carry their own ``seed`` ("parallel"). See ``docs/models.md`` for the options and the retry table.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Literal
from urllib.parse import urlsplit

from hotmess.errors import BackendError, ConfigError
from hotmess.models._http import (
    HTTPTransport,
    KeyedProvider,
    Routing,
    check_request,
    gather_all,
    read_api_key,
    server_message,
)
from hotmess.models.base import Completion, GenerateRequest, RetryableError, make_config

__all__ = ["OPENAI_BASE_URL", "OpenAICompatConfig", "OpenAICompatProvider", "default_openai_base_url"]

log = logging.getLogger(__name__)

#: The default base URL (the official OpenAI API).
OPENAI_BASE_URL = "https://api.openai.com/v1"
#: Environment variable naming the base URL when none is given (as in the official SDK).
OPENAI_BASE_URL_ENV = "OPENAI_BASE_URL"


def default_openai_base_url() -> str:
    """``$OPENAI_BASE_URL`` when set and non-empty, else the OpenAI API (the official SDK's rule).

    Used when no base URL is given, by :class:`OpenAICompatProvider` and the OpenAI embedder alike.
    """
    return os.environ.get(OPENAI_BASE_URL_ENV, "").strip() or OPENAI_BASE_URL


_CHOICES = {
    "mode": ("chat", "completions"),
    "n_mode": ("auto", "native", "parallel"),
    "max_tokens_param": ("auto", "max_tokens", "max_completion_tokens"),
    "routing": ("least_busy", "round_robin"),
}


@dataclass(frozen=True)
class OpenAICompatConfig:
    """Options of :class:`OpenAICompatProvider` (saved with every run; holds no secret)."""

    #: Model name sent in every request (and recorded as the provider's name unless ``name`` is set).
    model: str
    #: Base URLs of replicas serving this model, e.g. ``("http://gpu1:8000/v1", "http://gpu2:8000/v1")``.
    #: The provider fills in ``$OPENAI_BASE_URL`` (else the OpenAI API) when none is given.
    base_urls: tuple[str, ...] = (OPENAI_BASE_URL,)
    #: Environment variable holding the API key (sent as ``Authorization: Bearer``); ``None`` sends no key.
    api_key_env: str | None = "OPENAI_API_KEY"
    #: ``"chat"`` posts ``/chat/completions`` with messages; ``"completions"`` posts ``/completions`` with
    #: the messages' contents joined into one prompt.
    mode: Literal["chat", "completions"] = "chat"
    #: ``"native"``: one request with ``n``; ``"parallel"``: ``n`` requests with one seed each; ``"auto"``:
    #: native, unless the request sets ``reasoning_effort`` (per-sample reasoning-token counts need one
    #: request per sample) or the server showed it ignores ``n`` (then parallel from then on). With native ``n``
    #: the server reports one token total for all samples, so per-sample ``output_tokens`` are estimates
    #: (``length_source="estimated"``); ``"parallel"`` gives each sample its own count.
    n_mode: Literal["auto", "native", "parallel"] = "auto"
    #: Name of the token cap field: ``"auto"`` sends ``max_completion_tokens`` to api.openai.com or when
    #: ``reasoning_effort`` is set, else ``max_tokens`` (always ``max_tokens`` in completions mode).
    max_tokens_param: Literal["auto", "max_tokens", "max_completion_tokens"] = "auto"
    #: Send ``temperature`` (some reasoning models accept only the default and need ``False``).
    send_temperature: bool = True
    #: Send ``seed`` (per sample in parallel mode, ``seeds[0]`` for a native-``n`` request).
    send_seed: bool = True
    #: Seconds a request may take end to end before it counts as a ``"timeout"``.
    timeout_s: float = 600.0
    #: Requests the runner should keep in flight (each may open ``n`` HTTP requests in parallel mode).
    max_concurrency: int = 16
    #: Size of the connection pool shared by all replicas; ``None`` means ``max(64, 8 * max_concurrency)``.
    max_connections: int | None = None
    #: How requests are spread over replicas: fewest in flight first, or strict rotation.
    routing: Routing = "least_busy"
    #: Report a connection refused by a URL that never answered as a fatal :class:`BackendError`
    #: ("cannot reach ...") instead of a retryable ``"connection"`` error.
    fail_fast_unreachable: bool = True
    #: Extra JSON fields merged into every request body (e.g. ``{"top_p": 0.95}``).
    extra_body: Mapping[str, Any] = field(default_factory=dict)
    #: Name recorded with the samples; defaults to ``model``.
    name: str | None = None


class OpenAICompatProvider(KeyedProvider):
    """Sample an OpenAI-compatible endpoint.

    Parameters
    ----------
    model
        Model name as the server knows it.
    base_url, base_urls
        One base URL, or several replicas of the same model (not both). Default: ``$OPENAI_BASE_URL`` when set,
        else the OpenAI API (as the official SDK does).
    **options
        Any field of :class:`OpenAICompatConfig`.

    Raises
    ------
    BackendError
        Invalid base URL, or no API key for the official OpenAI API.
    ConfigError
        Unknown or invalid option.

    Examples
    --------
    >>> p = OpenAICompatProvider("qwen3-8b", base_urls=["http://gpu1:8000/v1", "http://gpu2:8000/v1"])
    >>> p.name, p.max_concurrency, p.supports_n
    ('qwen3-8b', 16, True)
    """

    def __init__(
        self,
        model: str,
        *,
        base_url: str | None = None,
        base_urls: Sequence[str] | None = None,
        **options: Any,
    ) -> None:
        if base_url and base_urls:
            raise ConfigError("give base_url or base_urls, not both")
        if isinstance(base_urls, str):
            base_urls = [base_urls]
        urls = tuple(base_urls) if base_urls else ((base_url,) if base_url else (default_openai_base_url(),))
        config = make_config(OpenAICompatConfig, "openai", model=model, base_urls=urls, **options)
        _validate_config(config)
        self.config = config
        self._key = read_api_key(config.api_key_env)
        self._official = any(_is_official(u) for u in urls)
        if self._key is None and self._official and config.api_key_env:
            raise BackendError(
                f"{config.api_key_env} is not set", hint=f"set {config.api_key_env} to your OpenAI API key"
            )
        self._http = HTTPTransport(
            urls,
            label="openai-compatible server" if not self._official else "OpenAI",
            model=model,
            key=self._key,
            key_env=config.api_key_env,
            timeout_s=config.timeout_s,
            max_connections=config.max_connections or max(64, 8 * config.max_concurrency),
            routing=config.routing,
            fail_fast_unreachable=config.fail_fast_unreachable,
        )
        self.name = config.name or model
        self.max_concurrency = config.max_concurrency
        self.supports_n = config.n_mode != "parallel"
        #: Whether the server honours ``n``: None = not yet known (auto mode).
        self._native_ok: bool | None = {"auto": None, "native": True, "parallel": False}[config.n_mode]

    def __repr__(self) -> str:
        c = self.config
        return f"OpenAICompatProvider(model={c.model!r}, base_urls={list(c.base_urls)!r}, mode={c.mode!r})"

    @property
    def endpoints(self) -> tuple[str, ...]:
        """The URLs requests are posted to, one per replica (e.g. ``http://gpu1:8000/v1/chat/completions``)."""
        return tuple(r.base_url + self._path for r in self._http.replicas)

    @property
    def _path(self) -> str:
        return "/chat/completions" if self.config.mode == "chat" else "/completions"

    def describe(self) -> dict[str, Any]:
        """The resolved configuration (no key) plus whether the server was found to honour ``n``."""
        out = {"provider": "openai", "name": self.name, **dataclasses.asdict(self.config)}
        out["base_urls"] = list(self.config.base_urls)
        out["endpoints"] = list(self.endpoints)
        out["extra_body"] = dict(self.config.extra_body)
        out["native_n"] = self._native_ok
        return out

    def replica_stats(self) -> list[dict[str, Any]]:
        """Per-replica counters (requests, successes, failures, in flight)."""
        return self._http.stats()

    async def aclose(self) -> None:
        """Close the pooled HTTP client."""
        await self._http.aclose()

    async def _generate(self, request: GenerateRequest) -> list[Completion]:
        seeds = check_request(request, "openai")
        if request.n > 1 and self._use_native(request):
            return await self._generate_native(request, seeds)
        calls = [partial(self._post, request, 1, seed) for seed in seeds]
        results = await gather_all(calls)
        return [comps[0] for comps in results]

    def _use_native(self, request: GenerateRequest) -> bool:
        if self._native_ok is False:
            return False
        return not (self.config.n_mode == "auto" and request.reasoning_effort is not None)

    async def _generate_native(self, request: GenerateRequest, seeds: list[int | None]) -> list[Completion]:
        n = request.n
        completions = await self._post(request, n, seeds[0], allow_fewer=True)
        if len(completions) >= n:
            self._native_ok = True
            return completions[:n]
        if self._native_ok is None and len(completions) == 1:
            # The server ignores `n` (Ollama, older llama.cpp, TGI): top up and switch to parallel for good.
            log.warning("%s ignores n; sampling with one request per sample from now on", self.name)
            self._native_ok = False
            self.supports_n = False
            rest = await gather_all([partial(self._post, request, 1, seed) for seed in seeds[1:]])
            return completions + [comps[0] for comps in rest]
        raise RetryableError("empty", f"asked for n={n} but the server returned {len(completions)} choices")

    def _body(self, request: GenerateRequest, n: int, seed: int | None) -> dict[str, Any]:
        c = self.config
        body: dict[str, Any] = {"model": c.model}
        if c.mode == "chat":
            body["messages"] = [dict(m) for m in request.messages]
        else:
            body["prompt"] = request.prompt
        body[self._max_tokens_param(request)] = request.max_tokens
        if c.send_temperature:
            body["temperature"] = request.temperature
        if n > 1:
            body["n"] = n
        if seed is not None and c.send_seed:
            body["seed"] = seed
        if request.reasoning_effort is not None:
            body["reasoning_effort"] = request.reasoning_effort
        body.update(c.extra_body)
        body.update(request.extra)
        return body

    def _max_tokens_param(self, request: GenerateRequest) -> str:
        c = self.config
        if c.max_tokens_param != "auto":
            return c.max_tokens_param
        if c.mode == "chat" and (self._official or request.reasoning_effort is not None):
            return "max_completion_tokens"
        return "max_tokens"

    async def _post(
        self, request: GenerateRequest, n: int, seed: int | None, *, allow_fewer: bool = False
    ) -> list[Completion]:
        headers = {"Authorization": f"Bearer {self._key.reveal()}"} if self._key else {}
        data = await self._http.post_json(self._path, self._body(request, n, seed), headers)
        completions = _parse_choices(data, chat=self.config.mode == "chat")
        if len(completions) < n and not allow_fewer:
            raise RetryableError("empty", f"asked for n={n} but the server returned {len(completions)} choices")
        return completions


def _parse_choices(data: Mapping[str, Any], *, chat: bool) -> list[Completion]:
    choices = data.get("choices")
    if choices is None:
        if "error" in data:  # the provider masks the key in this message (generate() scrubs what it raises)
            raise RetryableError("server", f"error in a 200 response: {server_message(json.dumps(dict(data)))}")
        raise RetryableError("malformed", "response has no 'choices'")
    if not isinstance(choices, list):
        raise RetryableError("malformed", "'choices' is not a list")
    if not choices:
        raise RetryableError("empty", "response has no choices")
    if not all(isinstance(ch, dict) for ch in choices):
        raise RetryableError("malformed", "a choice is not a JSON object")
    if all(isinstance(ch.get("index"), int) for ch in choices):
        choices = sorted(choices, key=lambda ch: ch["index"])
    raw_usage = data.get("usage")
    usage: dict[str, Any] = raw_usage if isinstance(raw_usage, dict) else {}
    input_tokens = _int(usage.get("prompt_tokens"))
    parsed = [_choice_text(ch, chat=chat) for ch in choices]
    total, total_reasoning = _usage_counts(usage)
    if len(choices) == 1:  # the response's usage is this one sample's
        counts, reasoning_counts = [total], [total_reasoning]
        sources: list[str | None] = ["api" if total is not None else None]
    else:
        own = [_usage_counts(ch.get("usage")) for ch in choices]  # per-choice usage, where a server gives it
        reasoning_counts = [r for _, r in own]
        sizes = [len(text) + len(reasoning or "") for text, reasoning in parsed]
        counts, sources = _per_choice_tokens(total, [t for t, _ in own], sizes)
    out = []
    for ch, (text, reasoning), tokens, source, reasoning_tokens in zip(
        choices, parsed, counts, sources, reasoning_counts, strict=True
    ):
        out.append(
            Completion(
                text=text,
                output_tokens=tokens,
                reasoning_tokens=reasoning_tokens,
                finish_reason=ch.get("finish_reason"),
                input_tokens=input_tokens,
                reasoning=reasoning,
                length_source=source,
            )
        )
    return out


def _usage_counts(usage: Any) -> tuple[int | None, int | None]:
    """``(completion_tokens, reasoning_tokens)`` of a usage object (either ``None`` when absent)."""
    if not isinstance(usage, dict):
        return None, None
    details = usage.get("completion_tokens_details")
    reasoning = _int(details.get("reasoning_tokens")) if isinstance(details, dict) else None
    return _int(usage.get("completion_tokens")), reasoning


def _per_choice_tokens(
    total: int | None, own: list[int | None], sizes: list[int]
) -> tuple[list[int | None], list[str | None]]:
    """Output tokens and their ``length_source`` for each choice of one response with several choices.

    A choice with its own usage count keeps it (``"api"``). The others share what the response's total leaves,
    in proportion to ``sizes`` (answer plus reasoning characters), marked ``"estimated"``: with native ``n > 1``
    servers (vLLM, SGLang, OpenAI) report one ``completion_tokens`` for all choices. Without a total they get
    ``None``.

    >>> _per_choice_tokens(100, [None, None, None], [12_000, 300, 3_000])
    ([78, 2, 20], ['estimated', 'estimated', 'estimated'])
    >>> _per_choice_tokens(100, [60, None, None], [5, 1, 3])
    ([60, 10, 30], ['api', 'estimated', 'estimated'])
    >>> _per_choice_tokens(None, [7, None], [1, 1])
    ([7, None], ['api', None])
    """
    counts: list[int | None] = list(own)
    sources: list[str | None] = ["api" if t is not None else None for t in own]
    rest = [i for i, t in enumerate(own) if t is None]
    if rest and total is not None:
        left = max(total - sum(t for t in own if t is not None), 0)
        for i, share in zip(rest, _split_tokens(left, [sizes[i] for i in rest]), strict=True):
            counts[i], sources[i] = share, "estimated"
    return counts, sources


def _split_tokens(total: int, sizes: list[int]) -> list[int]:
    """Split ``total`` in proportion to ``sizes`` (equally when all are 0); largest remainders keep the sum exact.

    >>> _split_tokens(10, [4, 1, 0])
    [8, 2, 0]
    >>> _split_tokens(5, [0, 0])
    [3, 2]
    """
    if sum(sizes) == 0:
        base = [total // len(sizes)] * len(sizes)
        for i in range(total - sum(base)):
            base[i] += 1
        return base
    raw = [total * n / sum(sizes) for n in sizes]
    shares = [int(x) for x in raw]
    order = sorted(range(len(raw)), key=lambda i: raw[i] - shares[i], reverse=True)
    for i in order[: total - sum(shares)]:
        shares[i] += 1
    return shares


def _choice_text(choice: Mapping[str, Any], *, chat: bool) -> tuple[str, str | None]:
    if not chat:
        text = choice.get("text")
        if text is not None and not isinstance(text, str):
            raise RetryableError("malformed", "choice 'text' is not a string")
        return text or "", None
    message = choice.get("message")
    if not isinstance(message, dict):
        raise RetryableError("malformed", "choice has no 'message' object")
    content = message.get("content")
    if isinstance(content, list):  # content parts
        content = "".join(p.get("text", "") for p in content if isinstance(p, dict))
    elif content is not None and not isinstance(content, str):
        raise RetryableError("malformed", "message 'content' is not a string")
    reasoning = message.get("reasoning_content") or message.get("reasoning")
    return content or "", reasoning if isinstance(reasoning, str) else None


def _int(value: Any) -> int | None:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _is_official(url: str) -> bool:
    return (urlsplit(url).hostname or "").endswith("api.openai.com")


def _validate_config(config: OpenAICompatConfig) -> None:
    for name, allowed in _CHOICES.items():
        value = getattr(config, name)
        if value not in allowed:
            raise ConfigError(f"{name} must be one of {', '.join(allowed)}; got {value!r}")
    if config.max_concurrency < 1:
        raise ConfigError(f"max_concurrency must be >= 1; got {config.max_concurrency}")
    if not config.timeout_s > 0:
        raise ConfigError(f"timeout_s must be > 0; got {config.timeout_s}")
