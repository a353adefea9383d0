"""A local stub of Anthropic's messages endpoint (``POST /v1/messages``) with the same fault injection.

It checks the ``x-api-key`` and ``anthropic-version`` headers, returns a thinking block when ``thinking`` is
enabled (and rejects a budget that is not below ``max_tokens``, as the API does), and reports usage.

Examples
--------
>>> with StubAnthropicServer(api_key="k") as stub:
...     stub.base_url.startswith("http://127.0.0.1:")
True
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from tests.support.stub_server import (
    Drop,
    FaultPlan,
    FaultState,
    StubHTTPServer,
    StubResponse,
    fault_response,
    json_response,
)

__all__ = ["StubAnthropicServer"]


def _error(status: int, etype: str, message: str) -> StubResponse:
    return json_response(status, {"type": "error", "error": {"type": etype, "message": message}})


class StubAnthropicServer:
    """Deterministic Anthropic messages stub; a context manager.

    Parameters
    ----------
    api_key
        The key required in ``x-api-key``.
    answer
        Text of every answer.
    faults
        Initial :class:`FaultPlan` (same fault kinds as the OpenAI stub; ``overloaded`` gives 529).
    """

    def __init__(
        self,
        *,
        api_key: str = "test-anthropic-key",
        answer: str = "The answer is (B).",
        faults: FaultPlan | None = None,
    ) -> None:
        self.api_key = api_key
        self.answer = answer
        self.state = FaultState(faults or FaultPlan())
        self._server: StubHTTPServer | None = None

    def __enter__(self) -> StubAnthropicServer:
        self._server = StubHTTPServer(self.handle)
        self._server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    @property
    def base_url(self) -> str:
        """Base URL without ``/v1``."""
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.port}"

    @property
    def records(self) -> list[dict[str, Any]]:
        """Path, body and headers of each request."""
        with self.state.lock:
            return list(self.state.records)

    def fail_next(self, kind: str, times: int = 1, **plan_fields: Any) -> None:
        """Make the next ``times`` requests fail with ``kind``."""
        plan = FaultPlan(**{**self.state.plan.__dict__, **plan_fields})
        plan.queue = [*plan.queue, *[kind] * times]
        self.state.set_plan(plan)

    def stats(self) -> dict[str, Any]:
        """Counters as for the OpenAI stub."""
        return self.state.stats()

    async def handle(self, method: str, path: str, headers: dict[str, str], body: bytes) -> StubResponse | Drop:
        """Serve ``POST /v1/messages``."""
        if method != "POST" or path != "/v1/messages":
            return _error(404, "not_found_error", f"no route {method} {path}")
        try:
            payload = json.loads(body)
        except ValueError:
            return _error(400, "invalid_request_error", "body is not JSON")
        key = headers.get("x-api-key", "")
        record = {
            "path": path,
            "body": payload,
            "headers": {k: v for k, v in headers.items() if k != "x-api-key"},
            "key_ok": key == self.api_key,
        }
        fault = self.state.next_request(path, record)
        model = str(payload.get("model", ""))
        if fault == "timeout":
            await asyncio.sleep(self.state.plan.hang_s)
            fault = None
        if fault is not None and fault not in ("empty", "few_choices"):
            response = fault_response(fault, self.state.plan, model=model, auth=key)
            if response is not None:
                return response
        if key != self.api_key:
            return _error(401, "authentication_error", f"invalid x-api-key {key}")
        if "anthropic-version" not in headers:
            return _error(400, "invalid_request_error", "anthropic-version header is required")
        if model.startswith("unknown"):
            return _error(404, "not_found_error", f"model: {model}")
        max_tokens = payload.get("max_tokens")
        if not isinstance(max_tokens, int):
            return _error(400, "invalid_request_error", "max_tokens: Field required")
        content: list[dict[str, Any]] = []
        thinking_tokens = 0
        thinking = payload.get("thinking")
        if isinstance(thinking, dict) and thinking.get("type") == "enabled":
            budget = int(thinking.get("budget_tokens", 0))
            if budget < 1024 or budget >= max_tokens:
                return _error(
                    400, "invalid_request_error", "thinking.budget_tokens must be >= 1024 and less than max_tokens"
                )
            if "temperature" in payload and payload["temperature"] != 1:
                return _error(400, "invalid_request_error", "temperature may only be set to 1 when thinking")
            thinking_tokens = budget // 2
            content.append({"type": "thinking", "thinking": "Let me reason. " * 3, "signature": "sig"})
        if fault != "empty":
            content.append({"type": "text", "text": self.answer})
        else:
            content = []
        self.state.count_served()
        return json_response(
            200,
            {
                "id": "msg_stub",
                "type": "message",
                "role": "assistant",
                "model": model,
                "content": content,
                "stop_reason": "end_turn",
                "stop_sequence": None,
                "usage": {
                    "input_tokens": sum(len(str(m.get("content", "")).split()) for m in payload["messages"]),
                    "output_tokens": len(self.answer.split()) + thinking_tokens,
                },
            },
        )
