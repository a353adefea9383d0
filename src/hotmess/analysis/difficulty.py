"""Incoherence by task difficulty: the decomposition per difficulty level, and its trend across levels."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from hotmess.analysis._questions import (
    KEY,
    STATS,
    boot_weights,
    fill_stats,
    groups_of,
    question_frame,
    resolve_estimator,
    t_interval,
    weighted_stats,
)
from hotmess.analysis.guardrails import verdict
from hotmess.errors import InputError
from hotmess.metrics import DEFAULT_DELTA

__all__ = ["incoherence_by_difficulty"]


def incoherence_by_difficulty(
    df: pd.DataFrame,
    difficulty: pd.DataFrame,
    *,
    metric: str = "kl",
    by: Sequence[str] = ("model", "budget"),
    delta: float = DEFAULT_DELTA,
    estimator: str | None = None,
    n_boot: int = 1000,
    level: float = 0.95,
    rng: np.random.Generator | int | None = 0,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Bias, variance, error, incoherence and accuracy per difficulty level, and the slope across levels.

    Parameters
    ----------
    df
        Samples in the hotmess schema.
    difficulty
        ``task, question_id, difficulty`` (e.g. :func:`hotmess.analysis.difficulty_from_questions` of a store's
        questions); levels are ordered by their sorted values. Questions without a level are left out.
    metric, by, delta, estimator
        As in :func:`hotmess.analysis.incoherence_vs_length`.
    n_boot, level, rng
        Bootstrap over questions (each keeps its level).

    Returns
    -------
    levels : DataFrame
        One row per (kind, group, level): ``difficulty``, ``n_questions``, ``n_samples`` and the statistics with CIs.
    trend : DataFrame
        One row per (kind, group): ``slope`` of incoherence per level step (least squares over the levels' values,
        levels numbered 0, 1, …), its interval (bootstrap SE × t) and ``verdict``.

    Examples
    --------
    >>> from hotmess.analysis.simulate import simulate_samples
    >>> df = simulate_samples(np.full(20, 0.5), np.full(20, 0.3), rng=0)
    >>> lv = pd.DataFrame({"task": "sim", "question_id": df["question_id"].unique(), "difficulty": [1, 2] * 10})
    >>> levels, trend = incoherence_by_difficulty(df, lv, metric="brier", n_boot=0)
    >>> levels["difficulty"].tolist(), levels["n_questions"].tolist()
    (['1', '2'], [10, 10])
    """
    est = resolve_estimator(estimator, metric)
    gen = np.random.default_rng(rng)
    q = question_frame(df, metric=metric, by=by, delta=delta, estimator=est)
    lab = difficulty.astype({"task": str, "question_id": str}).drop_duplicates(KEY).set_index(KEY)["difficulty"]
    q = q.assign(difficulty=lab.reindex(pd.MultiIndex.from_frame(q[KEY])).to_numpy())
    q = q[q["difficulty"].notna()].reset_index(drop=True)
    if q.empty:
        raise InputError("no analysed question has a difficulty level", hint="questions need metadata 'difficulty'")
    names = sorted(q["difficulty"].unique().tolist(), key=_order)
    level_rows, trend_rows = [], []
    for labels, g in groups_of(q, by):
        g = g.reset_index(drop=True)
        idx = np.array([names.index(v) for v in g["difficulty"]])
        present = sorted(set(idx.tolist()))
        members = idx[:, None] == np.array(present)[None, :]
        st = weighted_stats(boot_weights(len(g), n_boot, gen), g, members)
        for k, li in enumerate(present):
            part = g[members[:, k]]
            row = {**labels, "difficulty": str(names[li]), "n_questions": len(part)}
            row["n_samples"] = int(part["n_samples"].sum())
            level_rows.append(fill_stats(row, st, k, level, STATS))
        trow: dict[str, object] = {**labels, "n_levels": len(present)}
        if len(present) >= 2:
            x = np.array(present, dtype=float)
            y = st["incoherence"]  # (1 + B, K)
            xc = x - x.mean()
            slope = ((y - y.mean(axis=1, keepdims=True)) @ xc) / float(xc @ xc)
            trow["slope"] = float(slope[0])
            if n_boot > 0:
                lo, hi = t_interval(float(slope[0]), slope[1:], level, len(g))
                trow["slope_low"], trow["slope_high"] = lo, hi
                trow["verdict"] = verdict(float(slope[0]), lo, hi, what="incoherence changing with difficulty")
        else:
            trow["slope"] = float("nan")
            trow["verdict"] = "one difficulty level only: no trend to fit"
        trend_rows.append(trow)
    return pd.DataFrame(level_rows), pd.DataFrame(trend_rows)


def _order(v: object) -> tuple[int, float, str]:
    try:
        return (0, float(v), str(v))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return (1, 0.0, str(v))
