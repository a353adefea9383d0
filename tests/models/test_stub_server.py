"""The stub server itself: fault plans, counters, determinism, child-process mode."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import pytest

from tests.support.stub_server import FaultPlan, StubOpenAIServer


def post(stub: StubOpenAIServer, body: dict[str, Any]) -> tuple[int, Any]:
    req = urllib.request.Request(
        stub.url + "/chat/completions", data=json.dumps(body).encode(), headers={"content-type": "application/json"}
    )
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


BODY = {"model": "m", "messages": [{"role": "user", "content": "Q?"}], "seed": 1}


def test_fault_schedule_queue_and_counters(stub: StubOpenAIServer) -> None:
    stub.fail_at({2: "server_error"})
    stub.fail_next("rate_limit", times=2)
    statuses = [post(stub, BODY)[0] for _ in range(5)]
    # request 1 and 3 take the queued 429s; request 2 is scheduled
    assert statuses == [429, 500, 429, 200, 200]
    stats = stub.stats()
    assert stats["requests"] == 5 and stats["served"] == 2
    assert stats["faults"] == {"rate_limit": 2, "server_error": 1} and stats["faults_total"] == 3


def test_fault_probability_is_seeded(stub: StubOpenAIServer) -> None:
    def statuses() -> list[int]:
        stub.fail_with_probability({"server_error": 0.3}, seed=4)
        return [post(stub, BODY)[0] for _ in range(40)]

    first, second = statuses(), statuses()
    assert first == second and 3 <= first.count(500) <= 25


def test_distribution_per_question() -> None:
    with StubOpenAIServer(distributions={"always-b": [0.0, 1.0, 0.0, 0.0]}) as stub:
        letters = {stub.answer("always-b?", seed, 0, 99)[0][-3] for seed in range(30)}
        assert letters == {"B"}
        mixed = {stub.answer("some other question", seed, 0, 99)[0][-3] for seed in range(200)}
        assert len(mixed) > 1


def test_unknown_fault_kind_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown fault"):
        FaultPlan(queue=["meltdown"])


def test_child_process_mode_is_controlled_over_http() -> None:
    with StubOpenAIServer(subprocess=True) as stub:
        stub.fail_next("bad_request")
        assert post(stub, BODY)[0] == 400
        status, data = post(stub, {**BODY, "n": 3})
        assert status == 200 and len(data["choices"]) == 3
        stats = stub.stats()
        assert stats["requests"] == 2 and stats["served"] == 1 and stats["faults"] == {"bad_request": 1}
