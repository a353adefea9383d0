"""Fixtures for the model backend tests: fresh stub servers per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.anthropic_stub import StubAnthropicServer
from tests.support.helpers import SECRET
from tests.support.stub_server import StubOpenAIServer


@pytest.fixture
def stub() -> Iterator[StubOpenAIServer]:
    """A fresh in-thread OpenAI-compatible stub server (own counters and fault plan)."""
    with StubOpenAIServer() as server:
        yield server


@pytest.fixture
def anthropic_stub(monkeypatch: pytest.MonkeyPatch) -> Iterator[StubAnthropicServer]:
    """A fresh Anthropic messages stub, with ANTHROPIC_API_KEY set to the key it expects."""
    monkeypatch.setenv("ANTHROPIC_API_KEY", SECRET)
    with StubAnthropicServer(api_key=SECRET) as server:
        yield server


@pytest.fixture(autouse=True)
def _no_real_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep real keys and endpoints of the machine out of every test."""
    for name in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "OPENAI_BASE_URL", "ANTHROPIC_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
