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
import dataclasses
import hashlib
import json
import random
import sqlite3
import sys
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
from hotmess.errors import BackendError, ConfigError
from hotmess.models import _retry
from hotmess.models.base import Completion, GenerateRequest, Provider, RetryableError
from hotmess.sampling.claims import ClaimBoard, UnitKey, missing_indices
from hotmess.sampling.config import Budget, RunConfig, identity_of
from hotmess.tasks import Question, Task, build_prompt

__all__ = ["UNREACHABLE_KINDS", "RunStats", "sample_seed", "sample_task", "task_digest"]

_FLUSH_ROWS = 256
_FLUSH_SECONDS = 0.5
#: Failure kinds that mean the endpoint could not be reached at all; a long unbroken streak of them trips the
#: circuit breaker (rate limits and server errors mean the server is up, and are only retried).
UNREACHABLE_KINDS = frozenset({"connection", "timeout"})
#: Seconds between checks on units that another worker holds.
_POLL_SECONDS = 1.0


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
    stored: int | None = None
    """Samples of the run in the store at the end, error rows excluded (other workers' included)."""
    by_others: int = 0
    """Samples that other workers sharing the run wrote while this one ran."""
    notes: list[str] = field(default_factory=list)
    """Things the user should know about this run (e.g. a resumed run now sampled from another endpoint)."""
    rounds: list[dict[str, Any]] = field(default_factory=list)
    """Adaptive runs: one entry per round (samples so far, incoherence, interval, half-width)."""
    stop_reason: str | None = None
    """Adaptive runs: why the run ended or stopped, in one line."""
    finished: bool | None = None
    """Adaptive runs: whether the run reached its end (the target, the top of the ladder or ``max_rounds``);
    None for fixed runs, which are complete once every planned sample is stored."""

    @property
    def complete(self) -> bool:
        """Whether every planned sample is now stored without error."""
        if self.finished is not None:
            return self.finished
        done = self.stored if self.stored is not None else self.already_done + self.written
        return done >= self.planned

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
            "stored": self.stored,
            "by_others": self.by_others,
            "notes": list(self.notes),
            "complete": self.complete,
            **({"rounds": list(self.rounds), "stop_reason": self.stop_reason} if self.finished is not None else {}),
        }


@dataclass(frozen=True)
class _Unit:
    budget: Budget
    question: Question
    context_id: int
    indices: tuple[int, ...]


class _Writer:
    """Buffers samples and commits them in batches (one transaction per batch)."""

    def __init__(self, store: RunStore, sample_round: int | None = None) -> None:
        self.store = store
        self.sample_round = sample_round
        self.buffer: list[Sample] = []
        self.last = time.monotonic()

    def add(self, samples: list[Sample]) -> None:
        self.buffer.extend(samples)
        if len(self.buffer) >= _FLUSH_ROWS or time.monotonic() - self.last > _FLUSH_SECONDS:
            self.flush()

    def flush(self) -> None:
        if self.buffer:
            self.store.write(self.buffer, sample_round=self.sample_round)
            self.buffer = []
        self.last = time.monotonic()


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
        plan: dict[str, tuple[int, int]] | None = None,
        sample_round: int | None = None,
    ) -> None:
        self.provider, self.task, self.store, self.config = provider, task, store, config
        self.run_id = run_id
        self.fmt = config.fmt or task.default_format
        #: An adaptive round: ``{question_id: (first_context, end_context)}`` to sample (None: the whole run).
        self.plan = plan
        self.writer = _Writer(store, sample_round)
        self.stats = RunStats(run_id=run_id)
        self.retry_base, self.retry_cap = retry_base, retry_cap
        self.rng = random.Random(config.seed)
        self.in_flight = 0
        self.reserved = 0  # samples handed to workers by this invocation (what --max-samples counts)
        self.stop_reason: str | None = None
        self.on_progress: Any = None
        self.done: set[tuple[Any, ...]] = set()
        self.claims = ClaimBoard(store.connection)
        self.waiting = 0  # units held by other workers, checked again every _POLL_SECONDS
        self.streak = 0  # attempts in a row that could not reach the endpoint
        self.streak_start: float | None = None
        self.last_failure = 0.0

    # -- planning -------------------------------------------------------------------------------------------
    def questions(self) -> tuple[Question, ...]:
        qs = self.task.questions
        qs = qs[: self.config.limit] if self.config.limit is not None else qs
        return qs if self.plan is None else tuple(q for q in qs if q.id in self.plan)

    def contexts(self, question_id: str) -> range:
        """The contexts of a question to sample (an adaptive round's, or all of the run's)."""
        if self.plan is None:
            return range(self.config.n_contexts)
        return range(*self.plan[question_id])

    def in_shard(self, question_id: str, context_id: int, budget: str) -> bool:
        """Whether a unit belongs to this process's ``--shard`` (always, without one)."""
        if self.config.shard is None:
            return True
        k, n = self.config.shard
        return sample_seed(0, "shard", self.task.name, question_id, context_id, budget) % n == k - 1

    def units(self, done: set[tuple[Any, ...]]) -> Iterator[_Unit]:
        spc = self.config.samples_per_context
        name = self.provider.name
        for budget in self.config.budgets:
            for q in self.questions():
                for ctx in self.contexts(q.id):
                    if not self.in_shard(q.id, ctx, budget.label):
                        continue
                    missing = tuple(
                        i
                        for i in range(spc)
                        if (self.run_id, name, self.task.name, q.id, ctx, i, budget.label) not in done
                    )
                    if missing:
                        yield _Unit(budget, q, ctx, missing)

    def prepare(self) -> None:
        """What the store already holds and how many samples the run should contain."""
        self.done = self.store.completed_keys(self.run_id)
        c = self.config
        units = sum(
            self.in_shard(q.id, ctx, b.label)
            for b in c.budgets
            for q in self.questions()
            for ctx in self.contexts(q.id)
        )
        self.stats.planned = units * c.samples_per_context
        self.stats.already_done = self.count(self.done)

    def count(self, keys: set[tuple[Any, ...]]) -> int:
        """How many of the run's sample ``keys`` belong to this model, task and shard."""
        name, task, plan = self.provider.name, self.task.name, self.plan
        return sum(
            1
            for k in keys
            if k[1] == name
            and k[2] == task
            and self.in_shard(k[3], k[4], k[6])
            and (plan is None or (k[3] in plan and plan[k[3]][0] <= k[4] < plan[k[3]][1]))
        )

    def key(self, unit: _Unit) -> UnitKey:
        return UnitKey(
            self.run_id, self.provider.name, self.task.name, unit.question.id, unit.context_id, unit.budget.label
        )

    def take(self, unit: _Unit) -> _Unit | bool | None:
        """Claim ``unit`` and trim it to what is still missing and what the caps allow.

        Returns the unit to sample, ``None`` when there is nothing left to do for it, or ``False`` when another
        live worker holds it.
        """
        key = self.key(unit)
        if not self.claims.claim(key):
            return False
        indices = missing_indices(self.store.connection, key, unit.indices)  # another worker may have done some
        limit = self.config.max_samples
        if limit is not None:
            indices = indices[: max(0, limit - self.reserved)]
        if not indices:
            return None
        self.reserved += len(indices)
        return dataclasses.replace(unit, indices=indices)

    def cap_reached(self) -> str | None:
        c, s = self.config, self.stats
        if c.max_samples is not None and self.reserved >= c.max_samples:
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
                self.streak, self.streak_start = 0, None
                if len(out) != req.n:
                    raise RetryableError("empty", f"asked for {req.n} samples, got {len(out)}")
                return out
            except Exception as exc:
                if not self.provider.should_retry(exc):
                    raise
                kind = exc.kind if isinstance(exc, RetryableError) else type(exc).__name__
                err = exc if isinstance(exc, RetryableError) else RetryableError(kind, str(exc))
                self.breaker(err)
                attempt += 1
                # the package's one backoff rule (shared with the OpenAI embedder); Retry-After is a floor
                delay = _retry.backoff_delay(
                    attempt, base=self.retry_base, cap=self.retry_cap, rng=self.rng, retry_after=err.retry_after
                )
                spent = time.monotonic() - start
                if attempt > self.config.max_retries or spent + delay > self.config.max_retry_seconds:
                    return err
                self.stats.retries[kind] += 1
                self.progress_update(0)
                await asyncio.sleep(delay)

    def breaker(self, err: RetryableError) -> None:
        """Count a failed attempt; stop the run once the endpoint has been unreachable for long enough."""
        if err.kind not in UNREACHABLE_KINDS:
            self.streak, self.streak_start = 0, None  # the server answered (a rate limit, a 5xx): it is up
            return
        now = time.monotonic()
        c = self.config
        # failures further apart than the longest backoff (and than max_failure_seconds) are not one outage: an
        # old failure and a blip long after it must not add up (during an outage every worker fails at least
        # once per backoff)
        if self.streak_start is not None and now - self.last_failure > max(c.max_failure_seconds, self.retry_cap):
            self.streak, self.streak_start = 0, None
        self.streak += 1
        self.last_failure = now
        if self.streak_start is None:
            self.streak_start = now
        lasted = now - self.streak_start
        if c.max_consecutive_failures and self.streak >= c.max_consecutive_failures and lasted >= c.max_failure_seconds:
            stored = self.stats.already_done + self.stats.written
            raise BackendError(
                f"stopped after {self.streak} attempts in a row over {lasted:.0f} s could not reach the endpoint "
                f"(last: {err}); {stored} samples of run {self.run_id} are stored",
                hint="check that the server is up, then rerun the same command to resume "
                "(--max-consecutive-failures 0 turns this stop off)",
            )

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
        for i, s, comp in zip(unit.indices, seeds, result, strict=True):
            tokens, source = self.length(comp)
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
                    length_source=source,
                    finish_reason=comp.finish_reason,
                )
            )
        return out

    def length(self, comp: Completion) -> tuple[int | None, str | None]:
        """A sample's reasoning length (SPEC §2): ``(output_tokens, length_source)``.

        The backend's count when it is this sample's own (``"api"``, ``"tokenizer"``, or unsaid: ``None``); else,
        when the provider has a tokenizer (``count_tokens``), the tokens of the answer *and* the reasoning text
        (``"tokenizer"``); else the backend's estimate (``"estimated"``) or nothing.
        """
        tokens = comp.output_tokens
        source = comp.length_source if tokens is not None else None
        count = getattr(self.provider, "count_tokens", None)
        if (tokens is None or source == "estimated") and callable(count):
            tokens = int(count(comp.text)) + (int(count(comp.reasoning)) if comp.reasoning else 0)
            source = "tokenizer"
        return tokens, source

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
        concurrency = max(1, self.config.concurrency or self.provider.max_concurrency)
        queue: asyncio.Queue[_Unit | None] = asyncio.Queue(maxsize=2 * concurrency)

        async def offer(unit: _Unit) -> bool | None:
            """Queue ``unit`` if this worker gets it; False when another worker holds it, None when stopping."""
            reason = self.cap_reached()
            if reason:
                self.stop_reason = reason
                return None
            taken = self.take(unit)
            if taken is False:
                return False
            if taken is not None:
                await queue.put(taken)  # type: ignore[arg-type]
            return True

        async def produce() -> None:
            deferred: list[_Unit] = []
            for unit in self.units(self.done):
                got = await offer(unit)
                if got is None:
                    break
                if got is False:
                    deferred.append(unit)
            # units other workers hold: wait until they are done, or take them over when their worker is gone
            while deferred and self.stop_reason is None:
                self.waiting = len(deferred)
                self.progress_update(0)
                self.writer.flush()  # the other workers wait on what this one has sampled, too
                await asyncio.sleep(_POLL_SECONDS)
                still: list[_Unit] = []
                for unit in deferred:
                    if not missing_indices(self.store.connection, self.key(unit), unit.indices, errors_count=True):
                        continue  # settled by its worker (failed samples included: the next run retries them)
                    got = await offer(unit)
                    if got is None:
                        still = []
                        break
                    if got is False:
                        still.append(unit)
                deferred = still
            self.waiting = 0
            for _ in range(concurrency):
                await queue.put(None)

        async def work() -> None:
            while (unit := await queue.get()) is not None:
                # units queued before --max-samples was reached are within it; token and cost caps drop them
                if self.stop_reason is None or self.stop_reason.startswith("reached --max-samples"):
                    await self.do_unit(unit)

        async def heartbeat() -> None:
            while True:
                await asyncio.sleep(self.claims.lease_s / 4)
                with contextlib.suppress(sqlite3.Error):  # a busy store: the next beat renews (a lease is 4 beats)
                    self.claims.heartbeat()

        beat = asyncio.ensure_future(heartbeat())
        try:
            async with asyncio.TaskGroup() as tg:
                tg.create_task(produce())
                for _ in range(concurrency):
                    tg.create_task(work())
        except* Exception as group:
            raise group.exceptions[0] from None
        finally:
            beat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beat
            try:
                self.writer.flush()  # what was sampled is stored first, whatever happens next
            finally:
                with contextlib.suppress(sqlite3.Error):  # claims left behind expire (or die with this pid)
                    self.claims.release_all()
            self.stats.elapsed = time.monotonic() - t0
            self.stats.stopped = self.stop_reason
            name, task = self.provider.name, self.task.name
            if self.config.shard is None and self.plan is None:
                stored = self.store.count_samples(self.run_id, model=name, task=task)
            else:
                stored = self.count(self.store.completed_keys(self.run_id))
            self.stats.stored = stored
            self.stats.by_others = max(0, stored - self.stats.already_done - self.stats.written)
        return self.stats


def task_digest(task: Task) -> str:
    """A hash of a task's content (questions and exemplars: ids, texts, options, answers), saved with each run.

    Examples
    --------
    >>> from hotmess.tasks import Question
    >>> a = Task("t", (Question("q1", "1+1?", ("1", "2"), 1),))
    >>> b = Task("t", (Question("q1", "1+1?", ("1", "2"), 0),))
    >>> task_digest(a) == task_digest(b)
    False
    """
    items = [
        [kind, q.id, q.text, list(q.options), q.correct]
        for kind, qs in (("q", task.questions), ("x", task.exemplars))
        for q in qs
    ]
    return hashlib.sha256(json.dumps(items, default=str).encode()).hexdigest()[:16]


def _resume_id(store: RunStore, config: RunConfig) -> str:
    """The id of a stored run whose samples ``config`` would repeat (transport options aside), else a new id."""
    mine = config.identity()
    runs = store.runs()
    for run_id, saved in zip(runs["run_id"], runs["config"], strict=True):
        if identity_of(saved) == mine:
            return str(run_id)
    return config.run_id()


def _check_task(store: RunStore, config: RunConfig, task: Task, digest: str) -> None:
    """Refuse to sample a task file that changed since this store sampled it (same task spec and options).

    Runs of the same spec and task options are compared by the digest of the task's content saved with them
    (:func:`task_digest`), and by the questions the store holds (runs saved before digests have only those).
    Runs of other options (a generated task with another ``n_per_level``) are other tasks and are not compared.
    """
    runs = store.runs()
    same = [
        (run_id, saved.get("task_digest"))
        for run_id, saved in zip(runs["run_id"], runs["config"], strict=True)
        if saved.get("task") == config.task
        and (saved.get("task_options") or {}) == config.task_options
        and store.count_samples(run_id)  # a run that sampled nothing holds nothing of the old content
    ]
    if not same:
        return
    hint = "sample the edited task into a new --store, or restore the task file"
    changed = _changed_questions(store, task)
    if changed:
        shown = ", ".join(changed[:3]) + (f" and {len(changed) - 3} more" if len(changed) > 3 else "")
        raise ConfigError(
            f"{len(changed)} question(s) of task {task.name!r} differ from those run {same[0][0]} sampled into "
            f"{store.path} ({shown}): its samples were drawn and scored with the old text, options or answer",
            hint=hint,
        )
    for run_id, old_digest in same:
        if old_digest is not None and old_digest != digest:
            raise ConfigError(
                f"task {config.task} changed since run {run_id} sampled it into {store.path} (questions or "
                "exemplars were added, removed or edited, so few-shot contexts would differ): resuming would mix "
                "samples of the old and the new task",
                hint=hint,
            )


def _changed_questions(store: RunStore, task: Task) -> list[str]:
    stored = store.questions()
    stored = stored[stored["task"] == task.name]
    old = {r.question_id: (r.text, list(r.options), r.correct) for r in stored.itertuples()}
    return [q.id for q in task.questions if q.id in old and old[q.id] != (q.text, list(q.options), q.correct)]


def _transport_note(store: RunStore, run_id: str, config: RunConfig) -> str | None:
    """A note when a resumed run now goes to another endpoint or device than it was sampled from."""
    saved = store.run_config(run_id)
    if saved is None:  # a new run: nothing to compare with
        return None
    before, now = saved.get("model_options") or {}, config.model_options
    moved = [
        k
        for k in ("base_url", "base_urls", "device")
        if k in before or k in now
        if json.dumps(before.get(k), default=str) != json.dumps(now.get(k), default=str)
    ]
    if not moved:
        return None
    was = ", ".join(f"{k}={before.get(k)!r}" for k in moved)
    is_ = ", ".join(f"{k}={now.get(k)!r}" for k in moved)
    return (
        f"resuming run {run_id}, sampled so far with {was}, now with {is_}: endpoints and devices are not part of "
        "a run; if this one serves another model or quantisation, use a new --store"
    )


def _open_run(provider: Provider, task: Task, store: RunStore, config: RunConfig) -> tuple[str, str | None]:
    """Name the run (resuming a stored one), check the task, save the run and its questions: ``(run_id, note)``."""
    run_id = _resume_id(store, config)
    digest = task_digest(task)
    _check_task(store, config, task, digest)
    note = _transport_note(store, run_id, config)
    saved = {**config.to_dict(), "run_id": run_id, "provider": provider.describe(), "task_digest": digest}
    store.save_run(run_id, saved, status="running")
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
    return run_id, note


async def sample_task(
    provider: Provider,
    task: Task,
    store: RunStore,
    config: RunConfig,
    *,
    progress: bool = True,
    retry_base: float = 0.5,
    retry_cap: float = 30.0,
    progress_interval: float = 30.0,
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
        Show progress: a rich bar on a terminal (rate, ETA, retries and error rows), else a plain line on
        stderr every ``progress_interval`` seconds (logs, CI, ``nohup``).
    retry_base, retry_cap
        Backoff: the n-th retry waits about ``retry_base·2ⁿ⁻¹`` seconds (jittered), at most ``retry_cap``.
    progress_interval
        Seconds between plain progress lines when stderr is not a terminal.

    Raises
    ------
    ConfigError
        The task's content differs from what the store holds under its name (an edited task file).
    BackendError
        A failure retrying cannot fix, or the circuit breaker: the endpoint was unreachable for
        ``max_consecutive_failures`` attempts in a row over ``max_failure_seconds``.

    Notes
    -----
    The run id is that of a stored run with the same :meth:`RunConfig.identity` when there is one (so that a
    changed timeout or base URL resumes it), else :meth:`RunConfig.run_id`. Several processes may run the same
    command on one store (or on one store shared by several machines through a network file system that
    supports SQLite locking): they claim units of work in the store and share the run (see
    :mod:`hotmess.sampling.claims`).

    Returns
    -------
    RunStats
    """
    if config.adaptive:
        from hotmess.sampling.adaptive_run import sample_adaptive

        return await sample_adaptive(
            provider,
            task,
            store,
            config,
            progress=progress,
            retry_base=retry_base,
            retry_cap=retry_cap,
            progress_interval=progress_interval,
        )
    run_id, note = _open_run(provider, task, store, config)
    r = _Run(provider, task, store, config, run_id, retry_base, retry_cap)
    if note:
        r.stats.notes.append(note)
    r.prepare()
    status = "failed"
    try:
        async with _progress(r, enabled=progress, interval=progress_interval):
            stats = await r.run()
        status = "complete" if stats.complete else ("capped" if stats.stopped else "incomplete")
        return stats
    except (asyncio.CancelledError, KeyboardInterrupt):
        status = "interrupted"
        raise
    finally:
        store.set_status(run_id, status)


def _faults(r: _Run) -> str:
    s = r.stats
    faults = []
    if s.retries:
        faults.append(f"retries {sum(s.retries.values())}")
    if s.error_rows:
        faults.append("errors " + ", ".join(f"{k} {v}" for k, v in s.error_rows.items()))
    if s.invalid:
        faults.append(f"invalid {s.invalid}")
    if r.waiting:
        faults.append(f"waiting on {r.waiting} unit(s) held by other workers")
    return " · ".join(faults)


def _duration(seconds: float) -> str:
    secs = round(seconds)
    h, rem = divmod(secs, 3600)
    m, sec = divmod(rem, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m}:{sec:02d}"


@contextlib.asynccontextmanager
async def _progress(r: _Run, *, enabled: bool, interval: float = 30.0) -> AsyncIterator[None]:
    if not enabled:
        yield
        return
    total = max(r.stats.planned - r.stats.already_done, 0)
    console = Console(stderr=True)
    if not console.is_terminal:
        async with _plain_progress(r, total, interval):
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
    with Progress(*cols, transient=False, console=console) as bar:
        tid = bar.add_task(f"{r.provider.name} · {r.task.name}", total=total, rate="-", faults="")
        t0 = time.monotonic()
        count = 0

        def update(n: int) -> None:
            nonlocal count
            count += n
            rate = count / max(time.monotonic() - t0, 1e-9)
            bar.update(tid, completed=count, rate=f"{rate:.1f}", faults=_faults(r))

        r.on_progress = update
        yield
        update(0)


@contextlib.asynccontextmanager
async def _plain_progress(r: _Run, total: int, interval: float) -> AsyncIterator[None]:
    """Progress for logs and CI: a plain line at the start, every ``interval`` seconds, and at the end."""
    t0 = time.monotonic()
    count = 0
    name = f"{r.provider.name} · {r.task.name}"

    def line(final: bool = False) -> None:
        elapsed = time.monotonic() - t0
        rate = count / elapsed if elapsed > 0 else 0.0
        pct = f" ({100 * count / total:.0f}%)" if total else ""
        eta = f" · ETA {_duration((total - count) / rate)}" if rate > 0 and count < total and not final else ""
        faults = _faults(r)
        text = f"progress: {name}: {count}/{total} samples{pct} · {rate:.1f} samples/s · {_duration(elapsed)}{eta}" + (
            f" · {faults}" if faults else ""
        )
        print(text, file=sys.stderr, flush=True)

    def update(n: int) -> None:
        nonlocal count
        count += n

    async def ticker() -> None:
        while True:
            await asyncio.sleep(interval)
            line()

    print(
        f"progress: {name}: {total} samples to draw ({r.stats.already_done} already stored)",
        file=sys.stderr,
        flush=True,
    )
    r.on_progress = update
    tick = asyncio.ensure_future(ticker())
    try:
        yield
    finally:
        tick.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await tick
        line(final=True)
