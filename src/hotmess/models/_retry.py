"""Bounded retries with exponential backoff and jitter: one rule for the sampling runner and the OpenAI embedder.

Internal. :func:`backoff_delay` is the one backoff formula of the package (the runner calls it between
attempts of a provider, :func:`retry_async` between attempts of anything else); callers look it up on this
module at call time, so a test that replaces it sees every caller.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from typing import TypeVar

from hotmess.models.base import RetryableError

__all__ = ["backoff_delay", "retry_async"]

T = TypeVar("T")


def backoff_delay(
    attempt: int, *, base: float, cap: float, rng: random.Random, retry_after: float | None = None
) -> float:
    """Seconds to wait before retry number ``attempt``: exponential, jittered, at least the server's Retry-After.

    Parameters
    ----------
    attempt
        1 before the first retry, 2 before the second, ...
    base, cap
        The first retry waits about ``base`` seconds and each later one twice as long, at most ``cap``.
    rng
        Source of the jitter (the runner's is seeded from the run's seed).
    retry_after
        Seconds the server asked for (``Retry-After``), a floor: the delay may then exceed ``cap``, and the
        caller, which bounds the total time, gives up rather than wait that long.

    Notes
    -----
    ``delay = max(min(cap, base · 2^(attempt−1)) · u, retry_after)`` with ``u ~ Uniform[0.5, 1]``: the jitter
    spreads out workers that failed together while keeping at least half of the exponential wait.

    Examples
    --------
    >>> rng = random.Random(0)
    >>> [0.5 * 2 ** (a - 1) <= backoff_delay(a, base=1.0, cap=30.0, rng=rng) <= 2 ** (a - 1) for a in (1, 2, 3)]
    [True, True, True]
    >>> backoff_delay(1, base=1.0, cap=30.0, rng=rng, retry_after=7.0)
    7.0
    """
    if attempt < 1:
        raise ValueError(f"attempt must be >= 1 (1 before the first retry); got {attempt}")
    if base < 0 or cap < 0:
        raise ValueError(f"base and cap must be >= 0 seconds; got base={base}, cap={cap}")
    delay = min(cap, base * 2 ** (attempt - 1)) * rng.uniform(0.5, 1.0)
    if retry_after is not None:
        delay = max(delay, retry_after)
    return delay


def _is_retryable(error: BaseException) -> bool:
    return isinstance(error, RetryableError)


async def retry_async(
    call: Callable[[], Awaitable[T]],
    *,
    max_attempts: int,
    max_wait: float,
    base: float,
    cap: float,
    rng: random.Random,
    should_retry: Callable[[BaseException], bool] = _is_retryable,
) -> T:
    """Await ``call()`` until it succeeds, retrying transient failures with :func:`backoff_delay` between tries.

    Parameters
    ----------
    call
        Makes one attempt (a fresh awaitable per call).
    max_attempts
        Tries in all (1: no retry).
    max_wait
        Seconds of waiting between tries, in all; a retry whose wait would pass it is not made.
    base, cap, rng
        See :func:`backoff_delay`; the ``retry_after`` of a :class:`RetryableError` is honoured as a floor.
    should_retry
        Which errors are transient (default: :class:`RetryableError`); anything else is raised at once.

    Raises
    ------
    Exception
        The first non-transient error, or the last transient one once the tries or the waiting run out.
    """
    if max_attempts < 1:
        raise ValueError(f"max_attempts must be >= 1; got {max_attempts}")
    waited = 0.0
    attempt = 0
    while True:
        try:
            return await call()
        except Exception as exc:
            if not should_retry(exc):
                raise
            attempt += 1
            retry_after = exc.retry_after if isinstance(exc, RetryableError) else None
            delay = backoff_delay(attempt, base=base, cap=cap, rng=rng, retry_after=retry_after)
            if attempt >= max_attempts or waited + delay > max_wait:
                raise
            await asyncio.sleep(delay)
            waited += delay
