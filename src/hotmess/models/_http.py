"""Shared HTTP plumbing of the API providers: keys, one pooled client, replicas, error classification.

Internal; the public providers are :class:`~hotmess.models.openai_compat.OpenAICompatProvider` and
:class:`~hotmess.models.anthropic.AnthropicProvider`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Literal, TypeVar
from urllib.parse import quote, urlsplit

from hotmess.errors import BackendError, ConfigError, HotmessError
from hotmess.models.base import Completion, GenerateRequest, Provider, RetryableError

__all__ = [
    "ApiKey",
    "HTTPTransport",
    "KeyedProvider",
    "Replica",
    "check_request",
    "classify_status",
    "gather_all",
    "parse_retry_after",
    "read_api_key",
    "redact",
    "scrub_exception",
    "server_message",
    "validate_base_url",
]

T = TypeVar("T")
E = TypeVar("E", bound=BaseException)

#: Things that look like API keys, masked in any text that may reach a user even when we do not know the key.
_KEY_LIKE = re.compile(r"\b(sk-ant-|sk-|sk_|key-|Bearer\s+|AIza)[A-Za-z0-9_\-*.]{6,}")
#: ``api_key=...``, ``token=...``, ``key=...`` (query strings, config dumps): the value is masked.
_KEY_ASSIGNED = re.compile(  # (?<![\w-]) rather than \b: no restart inside long runs of word characters
    r"(?i)(?<![\w-])((?:[\w-]*?(?:api[-_]?key|token|secret|password))|key)(\s*=\s*[\"']?)([^\s\"'&,;)}\]]{6,})"
)
#: ``"api_key": "..."``, ``x-api-key: ...`` (JSON, headers): the value is masked.
_KEY_LABELLED = re.compile(
    r"(?i)(?<![\w-])([\w-]*?(?:api[-_]?key|secret|password))([\"']?\s*:\s*[\"']?)([^\s\"'&,;)}\]]{6,})"
)
#: Known secrets at least this long are masked wherever they occur; shorter ones (``EMPTY``, ``x``: placeholder
#: keys of local servers) only where they stand alone, so that ordinary words and numbers survive.
_SHORT_SECRET = 8
_MESSAGE_LIMIT = 300


class ApiKey:
    """An API key read from the environment; its value is never part of a repr, str or message.

    >>> key = ApiKey("sk-secret-value", env="OPENAI_API_KEY")
    >>> key
    ApiKey(env='OPENAI_API_KEY', value=***)
    """

    __slots__ = ("_value", "env")

    def __init__(self, value: str, *, env: str) -> None:
        self._value = value
        self.env = env

    def reveal(self) -> str:
        """The key itself, only for building request headers."""
        return self._value

    def __repr__(self) -> str:
        return f"ApiKey(env={self.env!r}, value=***)"

    __str__ = __repr__

    def __reduce__(self) -> Any:  # never pickle a secret into a store or a subprocess by accident
        raise TypeError("ApiKey cannot be pickled")


def read_api_key(env: str | None) -> ApiKey | None:
    """Read a key from environment variable ``env``; ``None`` when ``env`` is ``None``, unset or empty."""
    if not env:
        return None
    value = os.environ.get(env, "").strip()
    return ApiKey(value, env=env) if value else None


def redact(text: str, secrets: Iterable[str | None] = ()) -> str:
    """Mask every known secret and anything key-like in ``text``.

    A known secret is masked as given and URL-encoded, whatever it looks like; without knowing the key, values
    of key-shaped tokens (``sk-…``, ``Bearer …``) and of assignments such as ``api_key=…`` are masked.

    >>> redact("Incorrect API key provided: sk-abc123456789", ["sk-abc123456789"])
    'Incorrect API key provided: ***'
    >>> redact("denied for key=plainsecretvalue123 (see docs)", ["plainsecretvalue123"])
    'denied for key=*** (see docs)'
    >>> redact("bad key sk-zzzzzzzzzz")
    'bad key sk-***'
    >>> redact('GET /v1?api_key=abcdef123456&x=1 {"client_secret": "hunter2hunter2"}')
    'GET /v1?api_key=***&x=1 {"client_secret": "***"}'
    >>> redact("EMPTY key rejected; EMPTYING is fine", ["EMPTY"])
    '*** key rejected; EMPTYING is fine'
    """
    for secret in secrets:
        if not secret:
            continue
        for form in dict.fromkeys((secret, quote(secret, safe=""))):
            if len(form) >= _SHORT_SECRET:
                text = text.replace(form, "***")
            else:
                text = re.sub(rf"(?<![A-Za-z0-9]){re.escape(form)}(?![A-Za-z0-9])", "***", text)
    text = _KEY_LIKE.sub(lambda m: m.group(1) + "***", text)
    text = _KEY_ASSIGNED.sub(lambda m: m.group(1) + m.group(2) + "***", text)
    return _KEY_LABELLED.sub(lambda m: m.group(1) + m.group(2) + "***", text)


def scrub_exception(exc: E, secrets: Iterable[str | None]) -> E:
    """Redact ``secrets`` (and key-like text) from ``exc``'s message and from its chained causes, in place.

    Called where an exception leaves a provider, so that no message built anywhere below it -- ours, a
    server's, an HTTP library's -- can carry the key into a store, a log or a traceback.

    >>> err = BackendError("rejected plainsecretvalue123", hint="rotate plainsecretvalue123")
    >>> str(scrub_exception(err, ["plainsecretvalue123"]))
    'rejected *** (rotate ***)'
    """
    known = [s for s in secrets if s]
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, HotmessError):
            current.message = redact(current.message, known)
            if current.hint:
                current.hint = redact(current.hint, known)
        with contextlib.suppress(AttributeError, TypeError):
            current.args = tuple(redact(a, known) if isinstance(a, str) else a for a in current.args)
        current = current.__cause__ or current.__context__
    return exc


class KeyedProvider(Provider):
    """A provider that holds an API key: whatever its :meth:`generate` raises has the key masked.

    Subclasses implement :meth:`_generate` and set ``_key`` (an :class:`ApiKey` or None).
    """

    _key: ApiKey | None = None

    async def generate(self, request: GenerateRequest) -> list[Completion]:
        """Return ``request.n`` completions, or raise :class:`RetryableError` / :class:`BackendError`.

        Whatever is raised has the API key (and anything key-like) masked in its message.
        """
        try:
            return await self._generate(request)
        except Exception as exc:
            scrub_exception(exc, [self._key.reveal() if self._key else None])
            raise

    async def _generate(self, request: GenerateRequest) -> list[Completion]:
        raise NotImplementedError


def validate_base_url(url: str) -> str:
    """Check that ``url`` is an absolute http(s) URL and return it without a trailing slash."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise BackendError(
            f"invalid base URL {url!r}: expected http(s)://host[:port]/...",
            hint="pass a base URL such as http://localhost:8000/v1",
        )
    if parts.username is not None or parts.password is not None:  # the URL is saved with runs and shown in errors
        raise BackendError(
            f"the base URL of {parts.hostname} carries credentials (user:password@)",
            hint="drop them from the URL and put the key in an environment variable (api_key_env)",
        )
    return url.strip().rstrip("/")


def parse_retry_after(headers: Mapping[str, str], *, now: datetime | None = None) -> float | None:
    """Seconds to wait from ``retry-after-ms``, or ``Retry-After`` (seconds or an HTTP-date).

    Returns ``None`` when no usable header is present; negative waits become 0.

    >>> parse_retry_after({"Retry-After": "3"})
    3.0
    >>> parse_retry_after({"retry-after-ms": "250"})
    0.25
    >>> parse_retry_after({"retry-after": "Wed, 21 Oct 2015 07:28:10 GMT"},
    ...                   now=datetime(2015, 10, 21, 7, 28, 0, tzinfo=UTC))
    10.0
    >>> parse_retry_after({"retry-after": "soon"}) is None
    True
    """
    lowered = {k.lower(): v for k, v in headers.items()}
    ms = lowered.get("retry-after-ms")
    if ms is not None:
        try:
            return max(0.0, float(ms) / 1000.0)
        except ValueError:
            pass
    value = lowered.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def server_message(body: bytes | str, *, secrets: Iterable[str | None] = ()) -> str:
    """The error message a server put in its body, on one line, shortened and with secrets masked.

    Understands OpenAI/Anthropic ``{"error": {"message": ...}}``, Ollama/TGI ``{"error": "..."}``,
    FastAPI ``{"detail": ...}`` and plain text.

    >>> server_message(b'{"error": {"message": "The model `x` does not exist", "type": "invalid_request_error"}}')
    'The model `x` does not exist'
    """
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    message: Any = text
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if isinstance(data, dict):
        err = data.get("error", data.get("detail", data.get("message")))
        if isinstance(err, dict):
            message = err.get("message") or err.get("type") or json.dumps(err)
        elif err is not None:
            message = err if isinstance(err, str) else json.dumps(err)
    message = redact(" ".join(str(message).split()), secrets)  # before cutting: half a key would not match
    if len(message) > _MESSAGE_LIMIT:
        message = message[: _MESSAGE_LIMIT - 3] + "..."
    return message or "(empty body)"


def classify_status(
    status: int,
    body: bytes,
    headers: Mapping[str, str],
    *,
    url: str,
    model: str,
    label: str,
    key: ApiKey | None,
    key_env: str | None,
) -> Exception:
    """Map an HTTP error status to :class:`RetryableError` (transient) or :class:`BackendError` (fatal)."""
    msg = server_message(body, secrets=[key.reveal() if key else None])
    where = f"HTTP {status} from {url}"
    if status == 429:
        if "insufficient_quota" in msg or "exceeded your current quota" in msg:
            return BackendError(f"{label} quota exhausted ({where}): {msg}", hint="check the account's plan")
        return RetryableError("rate_limit", f"{where}: {msg}", retry_after=parse_retry_after(headers))
    if status in (401, 403):
        if key_env is None:
            hint = "this endpoint needs an API key: pass api_key_env=<name of the variable holding it>"
        elif key is None:
            hint = f"{key_env} is not set: set {key_env}"
        else:
            hint = f"set {key_env} to a valid key with access to {model!r}"
        what = "rejected the API key" if status == 401 else "refused access"
        return BackendError(f"{label} {what} ({where}): {msg}", hint=hint)
    if status == 404:
        return BackendError(
            f"unknown model {model!r} or endpoint ({where}): {msg}",
            hint="check the model name and the base URL (OpenAI-compatible servers usually end in /v1)",
        )
    if status == 408:
        return RetryableError("timeout", f"{where}: {msg}")
    if status == 409:
        return RetryableError("server", f"{where}: {msg}", retry_after=parse_retry_after(headers))
    if status == 529:
        return RetryableError("server", f"overloaded ({where}): {msg}", retry_after=parse_retry_after(headers))
    if status >= 500:
        return RetryableError("server", f"{where}: {msg}", retry_after=parse_retry_after(headers))
    return BackendError(
        f"{label} bad request ({where}): {msg}",
        hint="check the options this model accepts (max_tokens, temperature, n, reasoning settings)",
    )


@dataclass
class Replica:
    """One base URL serving the model, with the counters used for routing."""

    base_url: str
    in_flight: int = 0
    requests: int = 0
    successes: int = 0
    failures: int = 0
    #: Whether any HTTP response ever came back from this URL.
    reached: bool = False
    #: ``time.monotonic()`` before which routing avoids this replica after a connection failure.
    down_until: float = 0.0


Routing = Literal["least_busy", "round_robin"]

#: Connections per client shard (see :class:`HTTPTransport`).
_SHARD_SIZE = 4


@dataclass
class _Shard:
    client: Any
    in_flight: int = 0


class HTTPTransport:
    """A pooled HTTP client over one or more replica base URLs.

    The pool is a few ``httpx.AsyncClient`` shards of :data:`_SHARD_SIZE` connections each (sharing one SSL
    context), each request going to the least busy shard: one client with a large pool gets slower as its
    pool grows (httpcore scans every connection for every request; measured 940 -> 160 req/s going from 1
    to 128 concurrent requests), while small shards keep ~1000 req/s. Clients are created lazily inside the
    running event loop (and afresh if a later call runs in another loop), because an ``httpx.AsyncClient``
    must not outlive its loop.
    """

    def __init__(
        self,
        base_urls: Sequence[str],
        *,
        label: str,
        model: str,
        key: ApiKey | None,
        key_env: str | None,
        timeout_s: float,
        max_connections: int,
        routing: Routing = "least_busy",
        fail_fast_unreachable: bool = True,
        cooldown_s: float = 5.0,
    ) -> None:
        if not base_urls:
            raise BackendError("no base URL given", hint="pass base_url= or base_urls=")
        self.replicas = [Replica(validate_base_url(u)) for u in base_urls]
        self.label = label
        self.model = model
        self.key = key
        self.key_env = key_env
        self.timeout_s = timeout_s
        self.max_connections = max_connections
        self.routing: Routing = routing
        self.fail_fast_unreachable = fail_fast_unreachable
        self.cooldown_s = cooldown_s
        self._rr = 0
        self._max_shards = max(1, -(-max_connections // _SHARD_SIZE))
        self._shards: list[_Shard] = []
        self._ssl: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _get_shard(self) -> _Shard:
        """The least busy client shard, opening another while all are full and the pool allows."""
        import httpx

        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            self._shards = []  # clients of an older loop cannot be used (or closed) from this one
            self._loop = loop
        best = min(self._shards, key=lambda sh: sh.in_flight, default=None)
        if best is None or (best.in_flight >= _SHARD_SIZE and len(self._shards) < self._max_shards):
            if self._ssl is None:
                self._ssl = httpx.create_ssl_context()
            # pool=None: wait for a free connection instead of timing out; the runner bounds concurrency.
            client = httpx.AsyncClient(
                timeout=httpx.Timeout(self.timeout_s, pool=None),
                limits=httpx.Limits(max_connections=_SHARD_SIZE, max_keepalive_connections=_SHARD_SIZE),
                verify=self._ssl,
                follow_redirects=True,
            )
            best = _Shard(client)
            self._shards.append(best)
        return best

    def pick(self) -> Replica:
        """The replica the next request goes to (healthy ones first; least busy or round robin)."""
        now = time.monotonic()
        healthy = [r for r in self.replicas if r.down_until <= now] or self.replicas
        if self.routing == "round_robin" or len(healthy) == 1:
            self._rr += 1
            return healthy[(self._rr - 1) % len(healthy)]
        return min(healthy, key=lambda r: (r.in_flight, r.requests))

    def _mark_down(self, replica: Replica) -> None:
        replica.failures += 1
        if len(self.replicas) > 1:
            replica.down_until = time.monotonic() + self.cooldown_s

    async def post_json(self, path: str, body: Mapping[str, Any], headers: Mapping[str, str]) -> dict[str, Any]:
        """POST ``body`` to ``<replica>/<path>`` and return the decoded JSON object, or raise a classified error."""
        import httpx

        shard = self._get_shard()
        replica = self.pick()
        url = replica.base_url + path
        replica.in_flight += 1
        replica.requests += 1
        shard.in_flight += 1
        try:
            response = await shard.client.post(url, json=body, headers=dict(headers))
        except httpx.TimeoutException as exc:
            self._mark_down(replica)
            raise self._scrub(
                RetryableError("timeout", f"no complete response from {url} within {self.timeout_s:g} s")
            ) from exc
        except httpx.ConnectError as exc:
            self._mark_down(replica)
            if self.fail_fast_unreachable and not replica.reached:
                raise self._scrub(
                    BackendError(
                        f"cannot reach {url}: {_one_line(exc, self._secrets)}",
                        hint="check the base URL and that the server is running",
                    )
                ) from exc
            raise self._scrub(
                RetryableError("connection", f"cannot connect to {url}: {_one_line(exc, self._secrets)}")
            ) from exc
        except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
            raise self._scrub(
                BackendError(f"invalid URL {url!r}: {_one_line(exc, self._secrets)}", hint="check the base URL")
            ) from exc
        except httpx.TransportError as exc:  # dropped connection, read/write error, protocol error
            self._mark_down(replica)
            raise self._scrub(
                RetryableError("connection", f"connection to {url} failed: {_one_line(exc, self._secrets)}")
            ) from exc
        finally:
            replica.in_flight -= 1
            shard.in_flight -= 1
        replica.reached = True
        if response.status_code >= 400:
            replica.failures += 1
            raise self._scrub(
                classify_status(
                    response.status_code,
                    response.content,
                    response.headers,
                    url=url,
                    model=self.model,
                    label=self.label,
                    key=self.key,
                    key_env=self.key_env,
                )
            )
        try:
            data = response.json()
        except ValueError as exc:
            replica.failures += 1
            raise self._scrub(
                RetryableError(
                    "malformed", f"response from {url} is not JSON: {_snippet(response.text, self._secrets)}"
                )
            ) from exc
        if not isinstance(data, dict):
            replica.failures += 1
            raise self._scrub(
                RetryableError(
                    "malformed", f"response from {url} is not a JSON object: {_snippet(response.text, self._secrets)}"
                )
            )
        replica.successes += 1
        return data

    @property
    def _secrets(self) -> list[str | None]:
        return [self.key.reveal() if self.key else None]

    def _scrub(self, exc: E) -> E:
        """``exc`` with this transport's key (and anything key-like) masked in its message."""
        return scrub_exception(exc, self._secrets)

    def stats(self) -> list[dict[str, Any]]:
        """Per-replica counters (base URL, requests, successes, failures, in flight)."""
        return [
            {
                "base_url": r.base_url,
                "requests": r.requests,
                "successes": r.successes,
                "failures": r.failures,
                "in_flight": r.in_flight,
            }
            for r in self.replicas
        ]

    async def aclose(self) -> None:
        """Close the pooled clients (a later request opens new ones)."""
        shards, self._shards = self._shards, []
        same_loop = self._loop is asyncio.get_running_loop()
        for shard in shards:
            if same_loop:
                # RuntimeError: the event loop is closing and the sockets went with it.
                with contextlib.suppress(RuntimeError):
                    await shard.client.aclose()


def _one_line(exc: BaseException, secrets: Iterable[str | None] = ()) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return redact(text, secrets)[:_MESSAGE_LIMIT]


def _snippet(text: str, secrets: Iterable[str | None] = ()) -> str:
    # redact before cutting: a key cut in half would no longer match and its first half would leak
    return redact(" ".join(text.split()), secrets)[:80] or "(empty body)"


async def gather_all(factories: Sequence[Callable[[], Awaitable[T]]]) -> list[T]:
    """Run coroutines concurrently; on the first failure cancel the rest and raise it.

    A fatal error (anything not a :class:`RetryableError`) wins over a transient one, so that e.g. a bad key
    stops a run even if a sibling request timed out first.
    """
    tasks = [asyncio.ensure_future(f()) for f in factories]
    try:
        done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
    except BaseException:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
    errors: list[BaseException] = [e for t in done if not t.cancelled() and (e := t.exception()) is not None]
    if errors:
        for t in pending:
            t.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        fatal = [e for e in errors if not isinstance(e, RetryableError)]
        raise (fatal or errors)[0]
    return [t.result() for t in tasks]


def check_request(request: GenerateRequest, backend: str) -> list[int | None]:
    """Validate what every API backend needs; return one seed (or None) per sample."""
    if request.n < 1:
        raise ConfigError(f"n must be >= 1; got {request.n}")
    if request.seeds is not None and len(request.seeds) != request.n:
        raise ConfigError(f"seeds must have n={request.n} entries; got {len(request.seeds)}")
    if request.options is not None:
        raise ConfigError(
            f"log-likelihood scoring (options=...) is not supported by the {backend} backend",
            hint="use a local model for scoring, or leave options unset to generate",
        )
    if backend == "openai" and request.thinking_budget is not None:
        raise ConfigError(
            "thinking_budget is not supported by OpenAI-compatible backends",
            hint="use reasoning_effort, or pass a server-specific field through extra",
        )
    return list(request.seeds) if request.seeds is not None else [None] * request.n
