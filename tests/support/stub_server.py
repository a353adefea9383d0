"""A real local OpenAI-compatible HTTP server for tests and benchmarks, with fault injection.

The server is a small HTTP/1.1 keep-alive server on raw ``asyncio`` streams, started on ``127.0.0.1`` with a
free port, either in a background thread of this process (default; counters are read directly) or in a child
process (``StubOpenAIServer(..., subprocess=True)``; it gets its own core and GIL, for benchmarks; counters
come from ``GET /_stub/stats``). It serves ``/v1/chat/completions``, ``/v1/completions`` and ``/v1/models``.

Answers are deterministic: each question (prompt) has a probability distribution over the letters, and the
letter of sample ``i`` of a request with seed ``s`` is drawn from it with a uniform number hashed from
``(prompt, s, i)``. Without a seed the draw is random. The answer text is ``"Let me think. <k words> The answer
is (X)."`` with ``k`` also hashed, truncated to ``max_tokens`` words (one word = one token).

Faults are injected per request number (``fail_at``), for the next requests (``fail_next``), or with a
probability (``fail_with_probability``): see :data:`FAULT_KINDS`.

Examples
--------
>>> with StubOpenAIServer() as stub:
...     stub.url.startswith("http://127.0.0.1:")
True
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import http
import json
import random
import subprocess as sp
import sys
import threading
import urllib.request
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from email.utils import formatdate
from typing import Any

__all__ = [
    "FAULT_KINDS",
    "Drop",
    "FaultPlan",
    "StubConfig",
    "StubHTTPServer",
    "StubOpenAIServer",
    "StubResponse",
    "json_response",
]

#: Faults the stub can inject, and what the client sees.
FAULT_KINDS: dict[str, str] = {
    "rate_limit": "429 with Retry-After (seconds, or an HTTP-date) and optionally retry-after-ms",
    "server_error": "500 with a JSON error",
    "unavailable": "503 with a JSON error",
    "overloaded": "529 overloaded (Anthropic style)",
    "timeout": "no answer for hang_s seconds (longer than the client timeout)",
    "drop": "the connection is closed mid-response (headers and part of the body sent)",
    "malformed": "200 with a body that is not JSON",
    "empty": "200 with an empty choices list",
    "few_choices": "200 with one choice fewer than n (at least one)",
    "unauthorized": "401 whose message echoes the key it received",
    "error_in_200": "200 whose JSON body is an error (no choices) echoing the key: ... key=<key>",
    "echo_key": "200 with a body that is not JSON and echoes the key it received",
    "forbidden": "403",
    "not_found": "404 model not found",
    "bad_request": "400 with a message",
}


def _uniform(*parts: object) -> float:
    digest = hashlib.blake2b("\x1f".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2.0**64


# ----------------------------------------------------------------------------------------------------------
# Generic HTTP/1.1 server core
# ----------------------------------------------------------------------------------------------------------


@dataclass
class StubResponse:
    """An HTTP response to send."""

    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Drop:
    """Close the connection after sending ``partial`` (a response cut short)."""

    partial: bytes = b'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 4096\r\n\r\n{"id"'


def json_response(status: int, payload: Any, headers: Mapping[str, str] | None = None) -> StubResponse:
    """A JSON response."""
    return StubResponse(status, json.dumps(payload).encode(), {"content-type": "application/json", **(headers or {})})


Handler = Callable[[str, str, dict[str, str], bytes], Awaitable["StubResponse | Drop"]]


class StubHTTPServer:
    """Minimal keep-alive HTTP/1.1 server running ``handler`` in its own event loop thread."""

    def __init__(self, handler: Handler, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.handler = handler
        self.host = host
        self.port = port
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.base_events.Server | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._ready = threading.Event()
        self._error: BaseException | None = None

    def start(self) -> None:
        """Start serving in a daemon thread; returns once the port is bound."""
        self._thread = threading.Thread(target=self._run, name="stub-http-server", daemon=True)
        self._thread.start()
        self._ready.wait(10)
        if self._error is not None:
            raise self._error

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            self._server = loop.run_until_complete(
                asyncio.start_server(self._client, self.host, self.port, backlog=4096)
            )
            self.port = self._server.sockets[0].getsockname()[1]
        except BaseException as exc:  # pragma: no cover - reported to start()
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            loop.close()

    def stop(self) -> None:
        """Stop accepting, cut every open connection and join the thread."""
        loop = self._loop
        if loop is None or self._thread is None:
            return

        async def shutdown() -> None:
            if self._server is not None:
                self._server.close()
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)

        with contextlib.suppress(RuntimeError):
            asyncio.run_coroutine_threadsafe(shutdown(), loop).result(10)
            loop.call_soon_threadsafe(loop.stop)
        self._thread.join(10)
        self._loop = None

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            while True:
                line = await reader.readline()
                if not line.strip():
                    break
                method, target, _ = line.decode("latin-1").split(" ", 2)
                headers: dict[str, str] = {}
                while True:
                    raw = await reader.readline()
                    if raw in (b"\r\n", b"\n", b""):
                        break
                    key, _, value = raw.decode("latin-1").partition(":")
                    headers[key.strip().lower()] = value.strip()
                length = int(headers.get("content-length", "0") or 0)
                body = await reader.readexactly(length) if length else b""
                result = await self.handler(method, target.split("?", 1)[0], headers, body)
                if isinstance(result, Drop):
                    writer.write(result.partial)
                    await writer.drain()
                    break
                phrase = "Overloaded" if result.status == 529 else http.HTTPStatus(result.status).phrase
                head = [f"HTTP/1.1 {result.status} {phrase}", f"content-length: {len(result.body)}"]
                head += [f"{k}: {v}" for k, v in result.headers.items()]
                writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + result.body)
                await writer.drain()
                if headers.get("connection", "").lower() == "close":
                    break
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError, ValueError):
            pass
        finally:
            self._tasks.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()


# ----------------------------------------------------------------------------------------------------------
# Faults
# ----------------------------------------------------------------------------------------------------------


@dataclass
class FaultPlan:
    """Which requests fail and how (JSON-serialisable, so a child-process server can take it)."""

    #: 1-based request number -> fault kind.
    at: dict[int, str] = field(default_factory=dict)
    #: Faults for the next requests, in order (consumed).
    queue: list[str] = field(default_factory=list)
    #: Fault kind -> probability per request (checked in a fixed order, from a seeded RNG).
    probabilities: dict[str, float] = field(default_factory=dict)
    seed: int = 0
    #: Value of the Retry-After header of a 429 (seconds, or "date:<seconds>" for an HTTP-date that far ahead).
    retry_after: str | None = "1"
    #: Value of the retry-after-ms header of a 429, if any.
    retry_after_ms: int | None = None
    #: How long a "timeout" fault keeps the client waiting.
    hang_s: float = 30.0

    def __post_init__(self) -> None:
        self.at = {int(k): v for k, v in self.at.items()}
        for kind in [*self.at.values(), *self.queue, *self.probabilities]:
            if kind not in FAULT_KINDS:
                raise ValueError(f"unknown fault {kind!r}; expected one of {', '.join(FAULT_KINDS)}")


def fault_response(kind: str, plan: FaultPlan, *, model: str, auth: str) -> StubResponse | Drop | None:
    """The response for an injected fault (``None`` for faults applied to a normal body or by waiting)."""

    def err(status: int, message: str, etype: str, **extra: str) -> StubResponse:
        return json_response(status, {"error": {"message": message, "type": etype, **extra}})

    if kind == "rate_limit":
        headers = {}
        if plan.retry_after is not None:
            if plan.retry_after.startswith("date:"):
                import time

                headers["retry-after"] = formatdate(time.time() + float(plan.retry_after[5:]), usegmt=True)
            else:
                headers["retry-after"] = plan.retry_after
        if plan.retry_after_ms is not None:
            headers["retry-after-ms"] = str(plan.retry_after_ms)
        resp = err(429, "Rate limit reached for requests", "rate_limit_error")
        resp.headers.update(headers)
        return resp
    if kind == "server_error":
        return err(500, "The server had an error while processing your request.", "server_error")
    if kind == "unavailable":
        return err(503, "Service unavailable", "server_error")
    if kind == "overloaded":
        return json_response(529, {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}})
    if kind == "drop":
        return Drop()
    if kind == "malformed":
        return StubResponse(200, b'{"choices": [ {"message": oops', {"content-type": "application/json"})
    if kind == "error_in_200":
        message = f"upstream rejected the request (key={auth or '(none)'})"
        return json_response(200, {"type": "error", "error": {"message": message, "type": "api_error"}})
    if kind == "echo_key":
        return StubResponse(200, f"<html>gateway error for key {auth or '(none)'}</html>".encode(), {})
    if kind == "unauthorized":
        return err(401, f"Incorrect API key provided: {auth or '(none)'}.", "invalid_request_error")
    if kind == "forbidden":
        return err(403, "You are not allowed to sample from this model", "permission_error")
    if kind == "not_found":
        return err(404, f"The model `{model}` does not exist", "invalid_request_error", code="model_not_found")
    if kind == "bad_request":
        return err(400, "max_tokens is too large for this model", "invalid_request_error")
    return None


class FaultState:
    """Thread-safe request counting and fault decisions."""

    def __init__(self, plan: FaultPlan) -> None:
        self.lock = threading.Lock()
        self.plan = plan
        self.rng = random.Random(plan.seed)
        self.requests = 0
        self.served = 0
        self.faults: Counter[str] = Counter()
        self.paths: Counter[str] = Counter()
        self.records: list[dict[str, Any]] = []
        self.record_limit = 100_000

    def set_plan(self, plan: FaultPlan) -> None:
        with self.lock:
            self.plan = plan
            self.rng = random.Random(plan.seed)

    def next_request(self, path: str, record: dict[str, Any]) -> str | None:
        """Count a request and decide its fault (``None`` = serve normally)."""
        with self.lock:
            self.requests += 1
            self.paths[path] += 1
            if len(self.records) < self.record_limit:
                self.records.append(record)
            plan = self.plan
            kind = plan.at.get(self.requests)
            if kind is None and plan.queue:
                kind = plan.queue.pop(0)
            if kind is None:
                for name, p in plan.probabilities.items():
                    if self.rng.random() < p:
                        kind = name
                        break
            if kind is not None:
                self.faults[kind] += 1
            return kind

    def count_served(self) -> None:
        with self.lock:
            self.served += 1

    def stats(self) -> dict[str, Any]:
        with self.lock:
            return {
                "requests": self.requests,
                "served": self.served,
                "faults": dict(self.faults),
                "faults_total": sum(self.faults.values()),
                "paths": dict(self.paths),
            }


# ----------------------------------------------------------------------------------------------------------
# The OpenAI-compatible stub
# ----------------------------------------------------------------------------------------------------------


@dataclass
class StubConfig:
    """Behaviour of :class:`StubOpenAIServer` (JSON-serialisable)."""

    #: Answer letters.
    letters: str = "ABCD"
    #: Per-question distributions over ``letters``: the first key that occurs in the prompt wins.
    distributions: dict[str, list[float]] = field(default_factory=dict)
    #: Whether ``n`` is honoured (``False`` returns one choice whatever ``n`` is, like Ollama).
    supports_n: bool = True
    #: Model names served (404 for others); empty serves any name.
    models: list[str] = field(default_factory=list)
    #: Required API key (401 without ``Authorization: Bearer <key>``); ``None`` accepts anything.
    api_key: str | None = None
    #: Seconds every request waits before answering.
    latency_s: float = 0.0
    #: Reasoning tokens reported per ``reasoning_effort`` (before a hashed jitter of up to +100%).
    reasoning_tokens: dict[str, int] = field(
        default_factory=lambda: {"minimal": 0, "low": 32, "medium": 128, "high": 512}
    )
    #: Most filler words before the answer.
    max_filler: int = 20
    #: Characters of visible reasoning text returned beside choice ``i`` (cycled; empty: none), as reasoning
    #: servers (vLLM, SGLang) do; it is words of 3 letters ("hmm hmm ..."), one token each, and counts toward
    #: ``completion_tokens``.
    reasoning_chars: list[int] = field(default_factory=list)
    #: Message field carrying that text (``"reasoning_content"`` as vLLM and SGLang, or ``"reasoning"``).
    reasoning_field: str = "reasoning_content"
    #: Give every choice its own ``usage`` (``completion_tokens``), beside the response's total.
    per_choice_usage: bool = False


def default_distribution(prompt: str, letters: str) -> list[float]:
    """A question's hashed distribution: a mode letter with probability in [0.4, 0.95], the rest uniform."""
    k = len(letters)
    mode = int(_uniform(prompt, "mode") * k)
    p_mode = 0.4 + 0.55 * _uniform(prompt, "sharpness")
    rest = (1.0 - p_mode) / (k - 1) if k > 1 else 0.0
    return [p_mode if i == mode else rest for i in range(k)]


class StubOpenAIServer:
    """Deterministic OpenAI-compatible server with fault injection; a context manager.

    Parameters
    ----------
    config
        Behaviour (see :class:`StubConfig`); keyword arguments override its fields.
    faults
        Initial :class:`FaultPlan`.
    distribution
        ``prompt -> probabilities over letters``, overriding ``config.distributions`` (thread mode only).
    subprocess
        Run the server in a child process (for benchmarks), controlled over HTTP.
    """

    def __init__(
        self,
        config: StubConfig | None = None,
        *,
        faults: FaultPlan | None = None,
        distribution: Callable[[str], Sequence[float]] | None = None,
        subprocess: bool = False,
        **overrides: Any,
    ) -> None:
        self.config = config or StubConfig()
        for key, value in overrides.items():
            if not hasattr(self.config, key):
                raise TypeError(f"unknown StubConfig field {key!r}")
            setattr(self.config, key, value)
        self.distribution = distribution
        self.state = FaultState(faults or FaultPlan())
        self.subprocess = subprocess
        if subprocess and distribution is not None:
            raise ValueError("distribution callables need the in-thread server; use config.distributions")
        self._server: StubHTTPServer | None = None
        self._proc: sp.Popen[str] | None = None
        self.port = 0
        self._uncounted = 0

    # -- lifecycle -------------------------------------------------------------------------------------------
    def start(self) -> StubOpenAIServer:
        """Start serving; returns ``self``."""
        if self.subprocess:
            payload = json.dumps({"config": asdict(self.config), "faults": asdict(self.state.plan)})
            self._proc = sp.Popen([sys.executable, __file__, "--json", payload], stdout=sp.PIPE, text=True, bufsize=1)
            assert self._proc.stdout is not None
            line = self._proc.stdout.readline()
            if not line.startswith("PORT "):
                self._proc.kill()
                raise RuntimeError(f"stub server did not start: {line!r}")
            self.port = int(line.split()[1])
        else:
            self._server = StubHTTPServer(self.handle)
            self._server.start()
            self.port = self._server.port
        return self

    def stop(self) -> None:
        """Stop serving (idempotent)."""
        if self._server is not None:
            self._server.stop()
            self._server = None
        if self._proc is not None:
            self._proc.terminate()
            try:
                self._proc.wait(5)
            except sp.TimeoutExpired:  # pragma: no cover
                self._proc.kill()
                self._proc.wait()
            self._proc = None

    def __enter__(self) -> StubOpenAIServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """Base URL including ``/v1``."""
        return f"http://127.0.0.1:{self.port}/v1"

    # -- control ---------------------------------------------------------------------------------------------
    def set_faults(self, plan: FaultPlan) -> None:
        """Replace the fault plan (and reseed its RNG)."""
        if self._proc is not None:
            self._control("POST", "/_stub/faults", asdict(plan))
        self.state.set_plan(plan)

    def fail_next(self, kind: str, times: int = 1, **plan_fields: Any) -> None:
        """Make the next ``times`` requests fail with ``kind`` (other plan fields, e.g. retry_after, too)."""
        plan = FaultPlan(**{**asdict(self.state.plan), **plan_fields})
        plan.queue = plan.queue + [kind] * times
        self.set_faults(plan)

    def fail_at(self, schedule: Mapping[int, str], **plan_fields: Any) -> None:
        """Make the requests with these 1-based numbers fail with the given kinds."""
        plan = FaultPlan(**{**asdict(self.state.plan), **plan_fields})
        plan.at = {**plan.at, **{int(k): v for k, v in schedule.items()}}
        self.set_faults(plan)

    def fail_with_probability(self, probabilities: Mapping[str, float], *, seed: int = 0, **plan_fields: Any) -> None:
        """Make every request fail with each kind at the given probability (seeded)."""
        plan = FaultPlan(**{**asdict(self.state.plan), **plan_fields})
        plan.probabilities = dict(probabilities)
        plan.seed = seed
        self.set_faults(plan)

    def clear_faults(self) -> None:
        """Serve every later request normally."""
        self.set_faults(FaultPlan())

    def stats(self) -> dict[str, Any]:
        """Counters: ``requests``, ``served``, ``faults`` (per kind), ``faults_total``, ``paths``."""
        if self._proc is not None:
            result: dict[str, Any] = self._control("GET", "/_stub/stats")
            return result
        return self.state.stats()

    @property
    def records(self) -> list[dict[str, Any]]:
        """What each request carried: path, body, authorization header (thread mode only)."""
        with self.state.lock:
            return list(self.state.records)

    def _control(self, method: str, path: str, payload: Any = None) -> Any:
        data = json.dumps(payload).encode() if payload is not None else None
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", data=data, method=method)
        with urllib.request.urlopen(req, timeout=10) as resp:
            return json.loads(resp.read())

    # -- serving ---------------------------------------------------------------------------------------------
    async def handle(self, method: str, path: str, headers: dict[str, str], body: bytes) -> StubResponse | Drop:
        """Route one request."""
        if path == "/_stub/stats":
            return json_response(200, self.state.stats())
        if path == "/_stub/faults" and method == "POST":
            self.state.set_plan(FaultPlan(**json.loads(body)))
            return json_response(200, {"ok": True})
        if path == "/v1/models" and method == "GET":
            names = self.config.models or ["stub-model"]
            return json_response(200, {"object": "list", "data": [{"id": m, "object": "model"} for m in names]})
        if method != "POST" or path not in ("/v1/chat/completions", "/v1/completions"):
            return json_response(404, {"error": {"message": f"no route {method} {path}", "type": "not_found"}})
        try:
            payload = json.loads(body)
        except ValueError:
            return json_response(400, {"error": {"message": "body is not JSON", "type": "invalid_request_error"}})
        auth = headers.get("authorization", "")
        token = auth.removeprefix("Bearer ").strip()
        fault = self.state.next_request(path, {"path": path, "body": payload, "authorization": auth})
        if self.config.latency_s:
            await asyncio.sleep(self.config.latency_s)
        model = str(payload.get("model", ""))
        if fault == "timeout":
            await asyncio.sleep(self.state.plan.hang_s)
            fault = None
        if fault is not None:
            response = fault_response(fault, self.state.plan, model=model, auth=token)
            if response is not None:
                return response
        if self.config.api_key is not None and token != self.config.api_key:
            return fault_response("unauthorized", self.state.plan, model=model, auth=token) or Drop()
        if self.config.models and model not in self.config.models:
            return fault_response("not_found", self.state.plan, model=model, auth=token) or Drop()
        try:
            result = self._complete(payload, chat=path.endswith("chat/completions"), fault=fault)
        except (KeyError, TypeError, ValueError) as exc:
            return json_response(400, {"error": {"message": f"bad request: {exc}", "type": "invalid_request_error"}})
        self.state.count_served()
        return json_response(200, result)

    def _probabilities(self, prompt: str) -> list[float]:
        if self.distribution is not None:
            return list(self.distribution(prompt))
        for key, probs in self.config.distributions.items():
            if key in prompt:
                return list(probs)
        return default_distribution(prompt, self.config.letters)

    def answer(self, prompt: str, seed: int | None, index: int, max_tokens: int) -> tuple[str, int, str]:
        """``(text, tokens, finish_reason)`` of sample ``index`` of a request with ``seed``."""
        probs = self._probabilities(prompt)
        u = _uniform(prompt, seed, index) if seed is not None else random.random()
        cumulative = 0.0
        letter = self.config.letters[-1]
        for lt, p in zip(self.config.letters, probs, strict=False):
            cumulative += p
            if u < cumulative:
                letter = lt
                break
        k = int(
            (_uniform(prompt, seed, index, "len") if seed is not None else random.random()) * self.config.max_filler
        )
        words = ["Let", "me", "think.", *(["hmm"] * k), "The", "answer", "is", f"({letter})."]
        if len(words) > max_tokens:
            return " ".join(words[: max(max_tokens, 0)]), max(max_tokens, 0), "length"
        return " ".join(words), len(words), "stop"

    def reasoning_text(self, index: int) -> str:
        """The visible reasoning text of choice ``index`` (``config.reasoning_chars``; ``""`` for none)."""
        sizes = self.config.reasoning_chars
        if not sizes:
            return ""
        return " ".join(["hmm"] * (sizes[index % len(sizes)] // 4))

    def _complete(self, payload: dict[str, Any], *, chat: bool, fault: str | None) -> dict[str, Any]:
        if chat:
            messages = payload["messages"]
            if not isinstance(messages, list) or not messages:
                raise ValueError("messages must be a non-empty list")
            prompt = "\n\n".join(str(m["content"]) for m in messages)
        else:
            prompt = str(payload["prompt"])
        n = int(payload.get("n", 1)) if self.config.supports_n else 1
        if n < 1:
            raise ValueError("n must be >= 1")
        max_tokens = int(payload.get("max_completion_tokens", payload.get("max_tokens", 256)))
        seed = payload.get("seed")
        effort = payload.get("reasoning_effort")
        count = 0 if fault == "empty" else (max(1, n - 1) if fault == "few_choices" else n)
        choices = []
        completion_tokens = 0
        reasoning_total = 0
        for i in range(count):
            text, tokens, finish = self.answer(prompt, seed, i, max_tokens)
            reasoning = 0
            if effort is not None:
                base = self.config.reasoning_tokens.get(str(effort), 0)
                reasoning = base + int(base * _uniform(prompt, seed, i, "reasoning"))
            thought = self.reasoning_text(i)
            tokens += len(thought.split())
            completion_tokens += tokens + reasoning
            reasoning_total += reasoning
            if chat:
                message = {"role": "assistant", "content": text}
                if thought:
                    message[self.config.reasoning_field] = thought
                choice: dict[str, Any] = {"index": i, "message": message, "finish_reason": finish}
            else:
                choice = {"index": i, "text": text, "finish_reason": finish, "logprobs": None}
            if self.config.per_choice_usage:
                choice["usage"] = {"completion_tokens": tokens + reasoning}
            choices.append(choice)
        prompt_tokens = len(prompt.split())
        return {
            "id": f"stub-{self.state.requests}",
            "object": "chat.completion" if chat else "text_completion",
            "model": payload.get("model", ""),
            "choices": choices,
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
                "completion_tokens_details": {"reasoning_tokens": reasoning_total},
            },
        }


def _main(argv: Sequence[str] | None = None) -> None:
    """Child-process entry point: serve until terminated; print ``PORT <n>`` once listening."""
    parser = argparse.ArgumentParser(description="hotmess stub OpenAI-compatible server")
    parser.add_argument("--json", default="{}", help='{"config": {...StubConfig}, "faults": {...FaultPlan}}')
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    spec = json.loads(args.json)
    stub = StubOpenAIServer(StubConfig(**spec.get("config", {})), faults=FaultPlan(**spec.get("faults", {})))
    server = StubHTTPServer(stub.handle, port=args.port)
    server.start()
    print(f"PORT {server.port}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:  # pragma: no cover
        pass
    finally:
        server.stop()


if __name__ == "__main__":
    _main()
