"""Sampling without an event loop: :func:`run` resolves a model and a task and samples them into a run store.

This is what ``hotmess run`` calls; it is also the one-call form for scripts and notebooks (``hotmess.run``).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from hotmess.data.store import RunStore
from hotmess.sampling.config import RunConfig
from hotmess.sampling.runner import RunStats, _resume_id, sample_task

__all__ = ["execute", "run", "stored_samples"]


def execute(
    config: RunConfig,
    store_path: str | Path,
    *,
    progress: bool = True,
    on_start: Any = None,
    **runner_options: Any,
) -> RunStats:
    """Resolve the model and task of ``config`` and sample into ``store_path``; resumes what is missing.

    Parameters
    ----------
    config
        The run's configuration.
    store_path
        The run store (created if missing).
    progress
        Show progress on stderr (a bar on a terminal, plain lines otherwise).
    on_start
        Called with the resolved provider before the first request (the CLI prints the endpoint).
    **runner_options
        Passed to :func:`~hotmess.sampling.sample_task` (``retry_base``, ``retry_cap``, ``progress_interval``).
    """
    from hotmess.models import resolve_model
    from hotmess.tasks import load_task

    task = load_task(config.task, **config.task_options)
    provider = resolve_model(config.model, **config.model_options)

    async def go() -> RunStats:
        try:
            with RunStore(store_path) as store:
                if on_start is not None:  # once the store is known to be usable
                    on_start(provider)
                return await sample_task(provider, task, store, config, progress=progress, **runner_options)
        finally:
            await provider.aclose()

    return asyncio.run(go())


def run(model: str, task: str, store: str | Path, *, progress: bool = True, **config: Any) -> RunStats:
    """Sample ``model`` on ``task`` into the run store ``store`` and return what was done (synchronous).

    Parameters
    ----------
    model
        ``smollm2``, ``local:PATH``, ``openai:MODEL`` (or ``openai/MODEL``), ``anthropic:MODEL``.
    task
        A task file or ``generated:NAME``.
    store
        The run store (``.sqlite``); rerunning the same call resumes it.
    progress
        Show progress on stderr.
    **config
        Any field of :class:`~hotmess.sampling.RunConfig` (``n_contexts``, ``samples_per_context``,
        ``limit``, ``model_options``, ...).

    Examples
    --------
    >>> import hotmess, tempfile, os
    >>> stats = hotmess.run("smollm2", "generated:arithmetic", os.path.join(tempfile.mkdtemp(), "s.sqlite"),
    ...                     limit=1, n_contexts=1, samples_per_context=2, max_tokens=8,
    ...                     progress=False)  # doctest: +SKIP
    >>> stats.complete  # doctest: +SKIP
    True
    """
    return execute(RunConfig(model=model, task=task, **config), store, progress=progress)


def stored_samples(store_path: str | Path, config: RunConfig) -> tuple[str, int]:
    """The id of the run ``config`` resumes in ``store_path`` and how many of its samples are stored."""
    with RunStore(store_path, create=False) as store:
        run_id = _resume_id(store, config)
        return run_id, len(store.completed_keys(run_id))
