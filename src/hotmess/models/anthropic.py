"""Anthropic messages API backend over httpx, with extended-thinking budgets.

The API has no ``n`` and no seed: ``n`` samples are ``n`` concurrent requests. With a thinking budget the
request carries ``thinking={"type": "enabled", "budget_tokens": B}`` and ``max_tokens = B + request.max_tokens``
(so the answer keeps its own cap beyond the budget), and omits ``temperature`` (the API accepts only the
default with thinking).
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from hotmess.errors import BackendError, ConfigError
from hotmess.models._http import (
    HTTPTransport,
    KeyedProvider,
    check_request,
    gather_all,
    read_api_key,
    server_message,
)
from hotmess.models.base import Completion, GenerateRequest, RetryableError, make_config

__all__ = ["ANTHROPIC_BASE_URL", "AnthropicConfig", "AnthropicProvider", "default_anthropic_base_url"]

#: The default base URL (without ``/v1``).
ANTHROPIC_BASE_URL = "https://api.anthropic.com"
#: Environment variable naming the base URL when none is given (as in the official SDK).
ANTHROPIC_BASE_URL_ENV = "ANTHROPIC_BASE_URL"


def default_anthropic_base_url() -> str:
    """``$ANTHROPIC_BASE_URL`` when set and non-empty, else the Anthropic API (the official SDK's rule)."""
    return os.environ.get(ANTHROPIC_BASE_URL_ENV, "").strip() or ANTHROPIC_BASE_URL


@dataclass(frozen=True)
class AnthropicConfig:
    """Options of :class:`AnthropicProvider` (saved with every run; holds no secret)."""

    #: Model name, e.g. ``"claude-sonnet-4-5"``.
    model: str
    #: API base URL; ``/v1/messages`` is appended (a base URL already ending in ``/v1`` also works). The
    #: provider fills in ``$ANTHROPIC_BASE_URL`` (else the Anthropic API) when none is given.
    base_url: str = ANTHROPIC_BASE_URL
    #: Environment variable holding the key, sent as ``x-api-key``.
    api_key_env: str = "ANTHROPIC_API_KEY"
    #: Value of the ``anthropic-version`` header.
    api_version: str = "2023-06-01"
    #: Values for the ``anthropic-beta`` header (joined with commas), if any.
    beta: tuple[str, ...] = ()
    #: Seconds a request may take before it counts as a ``"timeout"`` (thinking can take minutes).
    timeout_s: float = 600.0
    #: Requests the runner should keep in flight (each opens ``n`` HTTP requests).
    max_concurrency: int = 4
    #: Report a connection refused by a URL that never answered as a fatal "cannot reach" error.
    fail_fast_unreachable: bool = True
    #: Extra JSON fields merged into every request body (e.g. ``{"top_k": 40}``).
    extra_body: Mapping[str, Any] = field(default_factory=dict)
    #: Name recorded with the samples; defaults to ``model``.
    name: str | None = None


class AnthropicProvider(KeyedProvider):
    """Sample Anthropic's messages API.

    Parameters
    ----------
    model
        Model name.
    base_url
        API base URL. Default: ``$ANTHROPIC_BASE_URL`` when set, else the Anthropic API (as the official SDK
        does).
    **options
        Any other field of :class:`AnthropicConfig`.

    Raises
    ------
    BackendError
        ``ANTHROPIC_API_KEY`` (or the configured variable) is not set, or the base URL is invalid.
    ConfigError
        Unknown option.
    """

    def __init__(self, model: str, *, base_url: str | None = None, **options: Any) -> None:
        base_url = base_url or default_anthropic_base_url()
        config = make_config(AnthropicConfig, "anthropic", model=model, base_url=base_url, **options)
        if config.max_concurrency < 1:
            raise ConfigError(f"max_concurrency must be >= 1; got {config.max_concurrency}")
        self.config = config
        self._key = read_api_key(config.api_key_env)
        if self._key is None:
            raise BackendError(
                f"{config.api_key_env} is not set", hint=f"set {config.api_key_env} to your Anthropic API key"
            )
        base = config.base_url.rstrip("/")
        self._path = "/messages" if base.endswith("/v1") else "/v1/messages"
        self._http = HTTPTransport(
            [base],
            label="Anthropic",
            model=model,
            key=self._key,
            key_env=config.api_key_env,
            timeout_s=config.timeout_s,
            max_connections=max(64, 8 * config.max_concurrency),
            fail_fast_unreachable=config.fail_fast_unreachable,
        )
        self.name = config.name or model
        self.max_concurrency = config.max_concurrency
        self.supports_n = False

    def __repr__(self) -> str:
        return f"AnthropicProvider(model={self.config.model!r}, base_url={self.config.base_url!r})"

    @property
    def endpoints(self) -> tuple[str, ...]:
        """The URL requests are posted to (e.g. ``https://api.anthropic.com/v1/messages``)."""
        return tuple(r.base_url + self._path for r in self._http.replicas)

    def describe(self) -> dict[str, Any]:
        """The resolved configuration (no key)."""
        out = {"provider": "anthropic", "name": self.name, **dataclasses.asdict(self.config)}
        out["endpoints"] = list(self.endpoints)
        out["extra_body"] = dict(self.config.extra_body)
        out["beta"] = list(self.config.beta)
        return out

    async def aclose(self) -> None:
        """Close the pooled HTTP client."""
        await self._http.aclose()

    async def _generate(self, request: GenerateRequest) -> list[Completion]:
        check_request(request, "anthropic")
        if request.reasoning_effort is not None:
            raise ConfigError("reasoning_effort is not supported by the Anthropic backend", hint="use thinking_budget")
        body = self._body(request)
        return await gather_all([partial(self._post, body) for _ in range(request.n)])

    def _body(self, request: GenerateRequest) -> dict[str, Any]:
        system = "\n\n".join(m["content"] for m in request.messages if m.get("role") == "system")
        messages = [{"role": m["role"], "content": m["content"]} for m in request.messages if m.get("role") != "system"]
        body: dict[str, Any] = {"model": self.config.model, "messages": messages}
        if system:
            body["system"] = system
        if request.thinking_budget is not None:
            body["thinking"] = {"type": "enabled", "budget_tokens": request.thinking_budget}
            body["max_tokens"] = request.thinking_budget + request.max_tokens
        else:
            body["max_tokens"] = request.max_tokens
            body["temperature"] = request.temperature
        body.update(self.config.extra_body)
        body.update(request.extra)
        return body

    async def _post(self, body: Mapping[str, Any]) -> Completion:
        assert self._key is not None  # checked in __init__
        headers = {"x-api-key": self._key.reveal(), "anthropic-version": self.config.api_version}
        if self.config.beta:
            headers["anthropic-beta"] = ",".join(self.config.beta)
        data = await self._http.post_json(self._path, body, headers)
        return _parse_message(data)


def _parse_message(data: Mapping[str, Any]) -> Completion:
    if data.get("type") == "error":  # the provider masks the key in this message (generate() scrubs it)
        raise RetryableError("server", f"error in a 200 response: {server_message(json.dumps(dict(data)))}")
    content = data.get("content")
    if not isinstance(content, list) or not all(isinstance(b, dict) for b in content):
        raise RetryableError("malformed", "response has no 'content' list")
    if not content:
        raise RetryableError("empty", "response has empty content")
    text = "".join(str(b.get("text", "")) for b in content if b.get("type") == "text")
    thinking = "".join(str(b.get("thinking", "")) for b in content if b.get("type") == "thinking")
    raw_usage = data.get("usage")
    usage: dict[str, Any] = raw_usage if isinstance(raw_usage, dict) else {}
    tokens = _int(usage.get("output_tokens"))
    return Completion(
        text=text,
        output_tokens=tokens,
        reasoning_tokens=None,  # the API counts thinking inside output_tokens and reports no split
        finish_reason=data.get("stop_reason"),
        input_tokens=_int(usage.get("input_tokens")),
        reasoning=thinking or None,
        length_source="api" if tokens is not None else None,  # one sample per request: its own usage
    )


def _int(value: Any) -> int | None:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
