"""Adaptive runs (``hotmess run --target-ci W``): the planner of :mod:`hotmess.sampling.adaptive`, round by round.

Each round is an ordinary exactly-once sampling pass restricted to the round's plan (the runner skips what the
store already holds), and its samples are written with the round number (the store's optional ``round``
column). After a round the planner reads the samples of the questions it sampled back from the store, updates
the estimate and its interval, and plans the next round. The plan of round r depends only on the samples of
rounds < r and the run's seed, so a run that is killed and rerun replays the finished rounds from the store
(sampling nothing) and continues where it stopped: the final store is the one an uninterrupted run writes.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import numpy as np
from numpy.typing import NDArray

from hotmess.data.store import RunStore
from hotmess.models.base import Provider
from hotmess.sampling.adaptive import AdaptiveDesign, AdaptivePlanner, RoundReport
from hotmess.sampling.config import RunConfig
from hotmess.sampling.runner import RunStats, _open_run, _progress, _Run
from hotmess.tasks import Task

__all__ = ["N_BOOT", "sample_adaptive"]

N_BOOT = 1000
"""Bootstrap resamples of the interval checked after every round (seeded by the run's seed)."""


def design_of(config: RunConfig) -> AdaptiveDesign:
    """The allocation rule of an adaptive run's config."""
    return AdaptiveDesign(
        first_contexts=config.first_contexts,
        samples_per_context=config.samples_per_context,
        max_contexts=config.n_contexts,
        seed=config.seed,
    )


def _round_probs(
    store: RunStore, run_id: str, model: str, task: str, plan: dict[str, tuple[int, int]], n_options: dict[str, int]
) -> dict[str, NDArray[np.float64]]:
    """``{question_id: (n, C)}`` vectors of every stored sample of the planned questions, contexts below the plan's
    end, in (context, sample) order; invalid answers uniform over the question's options."""
    df = store.samples(run_id=run_id, include_errors=False)
    df = df[(df["model"] == model) & (df["task"] == task) & df["question_id"].isin(plan.keys())]
    out: dict[str, NDArray[np.float64]] = {}
    for qid, rows in df.groupby("question_id", sort=False):
        q = str(qid)
        rows = rows[rows["context_id"] < plan[q][1]].sort_values(["context_id", "sample_index"])
        k = n_options[q]
        mat = np.zeros((len(rows), k))
        for i, (answer, probs, valid) in enumerate(zip(rows["answer"], rows["probs"], rows["valid"], strict=True)):
            if probs is not None and valid:
                mat[i] = np.asarray(probs, dtype=np.float64)[:k]
            elif valid and 0 <= int(answer) < k:
                mat[i, int(answer)] = 1.0
            else:
                mat[i] = 1.0 / k
        out[q] = mat
    return out


def _line(rep: RoundReport, target: float) -> str:
    hw = rep.half_width
    return (
        f"round {rep.round}: {rep.questions_sampled} question(s) sampled, {rep.samples} samples in all · incoherence "
        f"{rep.incoherence:.4f} [{rep.low:.4f}, {rep.high:.4f}] ±{hw:.4f} (target ±{target:g}) · "
        f"{rep.on_ladder} question(s) can still get more"
    )


async def sample_adaptive(
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
    """Sample ``task`` adaptively into ``store`` until the interval's half-width is at most ``config.target_ci``.

    Stops on the target, when no question can get more contexts, at ``max_rounds``, or on a cap
    (``max_samples``, ``max_total_tokens``, ``max_cost``: counted over this invocation, as in a fixed run) or
    failed samples (both resumable: rerun the same command). ``RunStats.stop_reason`` says which;
    ``RunStats.rounds`` holds one entry per round.
    """
    assert config.target_ci is not None
    run_id, note = _open_run(provider, task, store, config)
    questions = task.questions[: config.limit] if config.limit is not None else task.questions
    planner = AdaptivePlanner(design_of(config), [q.id for q in questions])
    targets = [q.correct for q in questions]
    n_opts = {q.id: q.n_options for q in questions}
    total = RunStats(run_id=run_id, finished=False)
    if note:
        total.notes.append(note)
    reserved = 0
    status = "failed"
    try:
        while True:
            plan = planner.plan()
            if not plan:
                total.finished, total.stop_reason = True, "no question can get more contexts (top of the ladder)"
                break
            if config.max_rounds is not None and planner.round >= config.max_rounds:
                total.finished, total.stop_reason = True, f"reached --max-rounds {config.max_rounds}"
                break
            r = _Run(
                provider,
                task,
                store,
                config,
                run_id,
                retry_base,
                retry_cap,
                plan=plan,
                sample_round=planner.round,
            )
            r.reserved = reserved  # the caps count the whole invocation, not one round
            r.stats.output_tokens = total.output_tokens
            r.prepare()
            todo = progress and r.stats.planned > r.stats.already_done  # a replayed round draws nothing: no bar
            async with _progress(r, enabled=todo, interval=progress_interval):
                st = await r.run()
            reserved = r.reserved
            _merge(total, st)
            if st.stopped:
                total.stopped = total.stop_reason = st.stopped
                break
            if st.error_rows or not st.complete:
                failed = sum(st.error_rows.values())
                total.stop_reason = f"{failed} sample(s) of round {planner.round} failed; rerun to retry them"
                break
            probs = _round_probs(store, run_id, provider.name, task.name, plan, n_opts)
            rep = planner.observe(
                probs, targets, n_options=list(n_opts.values()), n_boot=N_BOOT, level=config.target_level
            )
            total.rounds.append({**_as_dict(rep), "half_width": rep.half_width})
            if progress:
                print(_line(rep, config.target_ci), file=sys.stderr, flush=True)
            if rep.half_width <= config.target_ci:
                total.finished = True
                total.stop_reason = f"reached the target: half-width {rep.half_width:.4f} ≤ {config.target_ci:g}"
                break
        status = "complete" if total.finished else ("capped" if total.stopped else "incomplete")
        return total
    except (asyncio.CancelledError, KeyboardInterrupt):
        status = "interrupted"
        raise
    finally:
        total.stored = store.count_samples(run_id, model=provider.name, task=task.name)
        store.set_status(run_id, status)


def _merge(total: RunStats, st: RunStats) -> None:
    total.planned += st.planned
    total.already_done += st.already_done
    total.written += st.written
    total.error_rows.update(st.error_rows)
    total.retries.update(st.retries)
    total.invalid += st.invalid
    total.output_tokens = st.output_tokens  # started from the total (the caps count the invocation)
    total.elapsed += st.elapsed
    total.by_others += st.by_others
    total.notes.extend(n for n in st.notes if n not in total.notes)


def _as_dict(rep: RoundReport) -> dict[str, Any]:
    return {
        "round": rep.round,
        "samples": rep.samples,
        "questions_sampled": rep.questions_sampled,
        "incoherence": rep.incoherence,
        "low": rep.low,
        "high": rep.high,
        "level": rep.level,
        "on_ladder": rep.on_ladder,
    }
