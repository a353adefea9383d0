"""The runner: every (budget, question, context, sample index) sampled exactly once, safely on disk.

Work is cut into *units* — one prompt (a question under one few-shot context and budget) and the sample
indices of it still missing from the store. A fixed pool of workers takes units from a bounded queue (memory
stays flat however many samples a run has), calls the provider, retries transient failures with exponential
backoff and jitter (honouring ``Retry-After``), extracts answers, and hands samples to a writer that commits
them in batches, one transaction each. A failure that survives its retries becomes an *error row* — never
answer text, never scored — which a later run replaces. A non-transient failure (bad key, unknown model) stops
the run with one clear line. Resuming is rerunning: keys already stored are skipped.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import random
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from hotmess.data.schema import Sample
from hotmess.data.store import RunStore
from hotmess.models.base import Completion, GenerateRequest, Provider, RetryableError
from hotmess.sampling.config import Budget, RunConfig
from hotmess.tasks import Question, Task, build_prompt

__all__ = ["RunStats", "sample_seed", "sample_task"]

_FLUSH_ROWS = 256
_FLUSH_SECONDS = 0.5


def sample_seed(root: int, *parts: object) -> int:
    """A stable 31-bit seed for one sample, from the run's root seed and the sample's key.

    Examples
    --------
    >>> sample_seed(0, "task", "q1", 0, 1) == sample_seed(0, "task", "q1", 0, 1)
    True
    """
    text = "\x1f".join(map(str, (root, *parts)))
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=4).digest(), "big") & 0x7FFFFFFF


@dataclass
class RunStats:
    """What a call to :func:`sample_task` did."""

    run_id: str
    planned: int = 0
    """Samples the run should contain (questions × budgets × contexts × samples per context)."""
    already_done: int = 0
    """Samples found in the store at the start (skipped)."""
    written: int = 0
    """New samples written by this call (error rows excluded)."""
    error_rows: Counter[str] = field(default_factory=Counter)
    """Error rows written, by failure kind."""
    retries: Counter[str] = field(default_factory=Counter)
    """Retried failures, by kind."""
    invalid: int = 0
    """New samples with no extractable answer."""
    output_tokens: int = 0
    """Output tokens of the new samples (where known)."""
    elapsed: float = 0.0
    stopped: str | None = None
    """Why the run stopped early (a cap), or None."""

    @property
    def complete(self) -> bool:
        """Whether every planned sample is now stored without error."""
        return self.already_done + self.written >= self.planned

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary."""
        return {
            "run_id": self.run_id,
            "planned": self.planned,
            "already_done": self.already_done,
            "written": self.written,
            "error_rows": dict(self.error_rows),
            "retries": dict(self.retries),
            "invalid": self.invalid,
            "output_tokens": self.output_tokens,
            "elapsed_s": round(self.elapsed, 3),
            "stopped": self.stopped,
            "complete": self.complete,
        }


@dataclass(frozen=True)
class _Unit:
    budget: Budget
    question: Question
    context_id: int
    indices: tuple[int, ...]


class _Writer:
    """Buffers samples and commits them in batches (one transaction per batch)."""

    def __init__(self, store: RunStore) -> None:
        self.store = store
        self.buffer: list[Sample] = []
        self.last = time.monotonic()

    def add(self, samples: list[Sample]) -> None:
        self.buffer.extend(samples)
        if len(self.buffer) >= _FLUSH_ROWS or time.monotonic() - self.last > _FLUSH_SECONDS:
            self.flush()

    def flush(self) -> None:
        if self.buffer:
            self.store.write(self.buffer)
            self.buffer = []
        self.last = time.monotonic()


def _backoff(attempt: int, retry_after: float | None, base: float, cap: float, rng: random.Random) -> float:
    """Exponential backoff with jitter; a server's Retry-After is a floor (the caller bounds total time)."""
    delay = min(cap, base * 2 ** (attempt - 1)) * rng.uniform(0.5, 1.0)
    if retry_after is not None:
        delay = max(delay, retry_after)
    return delay


class _Run:
    def __init__(
        self,
        provider: Provider,
        task: Task,
        store: RunStore,
        config: RunConfig,
        run_id: str,
        retry_base: float,
        retry_cap: float,
    ) -> None:
        self.provider, self.task, self.store, self.config = provider, task, store, config
        self.run_id = run_id
        self.fmt = config.fmt or task.default_format
        self.writer = _Writer(store)
        self.stats = RunStats(run_id=run_id)
        self.retry_base, self.retry_cap = retry_base, retry_cap
        self.rng = random.Random(config.seed)
        self.in_flight = 0
        self.stop_reason: str | None = None
        self.on_progress: Any = None

    # -- planning -------------------------------------------------------------------------------------------
    def questions(self) -> tuple[Question, ...]:
        qs = self.task.questions
        return qs[: self.config.limit] if self.config.limit is not None else qs

    def units(self, done: set[tuple[Any, ...]]) -> Iterator[_Unit]:
        spc = self.config.samples_per_context
        name = self.provider.name
        for budget in self.config.budgets:
            for q in self.questions():
                for ctx in range(self.config.n_contexts):
                    missing = tuple(
                        i
                        for i in range(spc)
                        if (self.run_id, name, self.task.name, q.id, ctx, i, budget.label) not in done
                    )
                    if missing:
                        yield _Unit(budget, q, ctx, missing)

    def cap_reached(self) -> str | None:
        c, s = self.config, self.stats
        if c.max_samples is not None and s.written + sum(s.error_rows.values()) + self.in_flight >= c.max_samples:
            return f"reached --max-samples {c.max_samples}"
        if c.max_total_tokens is not None and s.output_tokens >= c.max_total_tokens:
            return f"reached --max-total-tokens {c.max_total_tokens}"
        if c.max_cost is not None and c.price_per_mtok and s.output_tokens * c.price_per_mtok / 1e6 >= c.max_cost:
            return f"reached --max-cost {c.max_cost}"
        return None

    # -- one unit -------------------------------------------------------------------------------------------
    def request(self, unit: _Unit, prompt: Any) -> GenerateRequest:
        c, b = self.config, unit.budget
        seeds = tuple(
            sample_seed(c.seed, self.task.name, unit.question.id, unit.context_id, i, b.label) for i in unit.indices
        )
        options = None
        if c.scoring == "loglik":
            options = tuple(chr(ord("A") + i) for i in range(unit.question.n_options))
        return GenerateRequest(
            messages=tuple(prompt.messages),
            n=len(unit.indices),
            seeds=seeds,
            max_tokens=b.max_tokens or c.max_tokens,
            temperature=c.temperature,
            reasoning_effort=b.reasoning_effort,
            thinking_budget=b.thinking_budget,
            options=options,
        )

    async def call(self, req: GenerateRequest) -> list[Completion] | RetryableError:
        """Call the provider with bounded retries; the last transient error if they run out."""
        start = time.monotonic()
        attempt = 0
        while True:
            try:
                out = await self.provider.generate(req)
                if len(out) != req.n:
                    raise RetryableError("empty", f"asked for {req.n} samples, got {len(out)}")
                return out
            except Exception as exc:
                if not self.provider.should_retry(exc):
                    raise
                kind = exc.kind if isinstance(exc, RetryableError) else type(exc).__name__
                err = exc if isinstance(exc, RetryableError) else RetryableError(kind, str(exc))
                attempt += 1
                delay = _backoff(attempt, err.retry_after, self.retry_base, self.retry_cap, self.rng)
                spent = time.monotonic() - start
                if attempt > self.config.max_retries or spent + delay > self.config.max_retry_seconds:
                    return err
                self.stats.retries[kind] += 1
                self.progress_update(0)
                await asyncio.sleep(delay)

    def to_samples(
        self, unit: _Unit, prompt: Any, req: GenerateRequest, result: list[Completion] | RetryableError
    ) -> list[Sample]:
        q = unit.question
        base: dict[str, Any] = {
            "run_id": self.run_id,
            "model": self.provider.name,
            "task": self.task.name,
            "question_id": q.id,
            "context_id": unit.context_id,
            "budget": unit.budget.label,
            "n_options": q.n_options,
            "correct": q.correct,
        }
        seeds = req.seeds or (None,) * req.n
        if isinstance(result, RetryableError):
            return [
                Sample(**base, sample_index=i, seed=s, error=str(result))
                for i, s in zip(unit.indices, seeds, strict=True)
            ]
        out = []
        count = getattr(self.provider, "count_tokens", None)  # tokenizer fallback when the API gives no count
        for i, s, comp in zip(unit.indices, seeds, result, strict=True):
            tokens = comp.output_tokens
            if tokens is None and callable(count):
                tokens = int(count(comp.text))
            if comp.probs is not None:  # log-likelihood scoring: a distribution over the displayed options
                scored = prompt.probs_to_original(comp.probs)
                probs: tuple[float, ...] | None = scored
                answer, valid = int(np.argmax(scored)), True
            else:
                ext = prompt.extract(comp.text)
                probs, answer, valid = ext.probs, ext.answer if ext.valid else -1, ext.valid
            out.append(
                Sample(
                    **base,
                    sample_index=i,
                    seed=s,
                    answer=answer,
                    valid=valid,
                    probs=probs,
                    raw_output=comp.text,
                    output_tokens=tokens,
                    reasoning_tokens=comp.reasoning_tokens,
                )
            )
        return out

    async def do_unit(self, unit: _Unit) -> None:
        prompt = build_prompt(
            self.task,
            unit.question,
            context_id=unit.context_id,
            seed=self.config.seed,
            k=self.config.k_shot,
            fmt=self.fmt,
            shuffle_options=self.config.shuffle_options,
        )
        req = self.request(unit, prompt)
        self.in_flight += req.n
        try:
            result = await self.call(req)
        finally:
            self.in_flight -= req.n
        samples = self.to_samples(unit, prompt, req, result)
        self.writer.add(samples)
        s = self.stats
        if isinstance(result, RetryableError):
            s.error_rows[result.kind] += len(samples)
        else:
            s.written += len(samples)
            s.invalid += sum(not x.valid for x in samples)
            s.output_tokens += sum(x.output_tokens or 0 for x in samples)
        self.progress_update(len(samples))

    def progress_update(self, n: int) -> None:
        if self.on_progress is not None:
            self.on_progress(n)

    # -- the whole run --------------------------------------------------------------------------------------
    async def run(self) -> RunStats:
        t0 = time.monotonic()
        done = self.store.completed_keys(self.run_id)
        qs = self.questions()
        self.stats.planned = len(qs) * len(self.config.budgets) * self.config.samples_per_question
        self.stats.already_done = sum(1 for k in done if k[1] == self.provider.name and k[2] == self.task.name)
        concurrency = max(1, self.config.concurrency or self.provider.max_concurrency)
        queue: asyncio.Queue[_Unit | None] = asyncio.Queue(maxsize=2 * concurrency)

        async def produce() -> None:
            for unit in self.units(done):
                reason = self.cap_reached()
                if reason:
                    self.stop_reason = reason
                    break
                await queue.put(unit)
            for _ in range(concurrency):
                await queue.put(None)

        async def work() -> None:
            while (unit := await queue.get()) is not None:
                if self.stop_reason is None:
                    await self.do_unit(unit)

        try:
            async with asyncio.TaskGroup() as tg:
                tg.create_task(produce())
                for _ in range(concurrency):
                    tg.create_task(work())
        except* Exception as group:
            raise group.exceptions[0] from None
        finally:
            self.writer.flush()
            self.stats.elapsed = time.monotonic() - t0
            self.stats.stopped = self.stop_reason
        return self.stats


async def sample_task(
    provider: Provider,
    task: Task,
    store: RunStore,
    config: RunConfig,
    *,
    progress: bool = True,
    retry_base: float = 0.5,
    retry_cap: float = 30.0,
) -> RunStats:
    """Sample ``task`` with ``provider`` into ``store`` under ``config``; resumes whatever is missing.

    Parameters
    ----------
    provider
        The model backend.
    task
        The task (its questions, exemplar pool and default format).
    store
        Where samples land; the run's config is saved there too.
    config
        The run configuration; :meth:`RunConfig.run_id` names the run, so an identical config resumes it.
    progress
        Show a rich progress bar (rate, ETA, retries and error rows).
    retry_base, retry_cap
        Backoff: the n-th retry waits about ``retry_base·2ⁿ⁻¹`` seconds (jittered), at most ``retry_cap``.

    Returns
    -------
    RunStats
    """
    run_id = config.run_id()
    store.save_run(run_id, {**config.to_dict(), "run_id": run_id, "provider": provider.describe()}, status="running")
    store.save_questions(
        {
            "task": task.name,
            "question_id": q.id,
            "text": q.text,
            "options": q.options,
            "correct": q.correct,
            "metadata": dict(q.metadata),
        }
        for q in task.questions
    )
    r = _Run(provider, task, store, config, run_id, retry_base, retry_cap)
    status = "failed"
    try:
        async with _progress(r, enabled=progress):
            stats = await r.run()
        status = "complete" if stats.complete else ("capped" if stats.stopped else "incomplete")
        return stats
    except (asyncio.CancelledError, KeyboardInterrupt):
        status = "interrupted"
        raise
    finally:
        store.set_status(run_id, status)


@contextlib.asynccontextmanager
async def _progress(r: _Run, *, enabled: bool) -> AsyncIterator[None]:
    if not enabled:
        yield
        return
    cols = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]} samples/s"),
        TimeRemainingColumn(),
        TextColumn("{task.fields[faults]}"),
    )
    console = Console(stderr=True)
    if not console.is_terminal:  # logs and CI: one full-width line at the end instead of a truncated one
        console = Console(stderr=True, width=120)
    with Progress(*cols, transient=False, console=console) as bar:
        tid = bar.add_task(f"{r.provider.name} · {r.task.name}", total=None, rate="-", faults="")
        t0 = time.monotonic()
        count = 0

        def update(n: int) -> None:
            nonlocal count
            count += n
            s = r.stats
            faults = []
            if s.retries:
                faults.append(f"retries {sum(s.retries.values())}")
            if s.error_rows:
                faults.append("errors " + ", ".join(f"{k} {v}" for k, v in s.error_rows.items()))
            if s.invalid:
                faults.append(f"invalid {s.invalid}")
            rate = count / max(time.monotonic() - t0, 1e-9)
            bar.update(
                tid,
                total=max(s.planned - s.already_done, 1),
                completed=count,
                rate=f"{rate:.1f}",
                faults=" · ".join(faults),
            )

        r.on_progress = update
        yield
        update(0)
