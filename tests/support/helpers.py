"""Small helpers shared by the backend tests."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Coroutine
from typing import Any, TypeVar

__all__ = ["SECRET", "free_port", "run"]

T = TypeVar("T")

#: A key-shaped secret that must never show up in a message, repr or exception.
SECRET = "sk-test-SECRETSECRET-0123456789"


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run one coroutine in a fresh event loop (no pytest async plugin needed)."""
    return asyncio.run(coro)


def free_port() -> int:
    """A local TCP port that nothing listens on (bound and released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port
