"""Reasoning budgets: accuracy and incoherence per budget, beside the natural-overthinking effect (SPEC §3.3)."""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import pandas as pd

from hotmess.analysis._questions import KEY, aggregate, question_frame
from hotmess.analysis.overthinking import natural_overthinking
from hotmess.metrics import DEFAULT_DELTA

__all__ = ["budget_effects", "budget_order"]

_EFFORT = {"": 0, "default": 0, "minimal": 1, "low": 2, "medium": 3, "high": 4}


def budget_order(labels: Sequence[str]) -> list[str]:
    """Budget labels from smallest to largest: default, minimal/low/medium/high, then numeric caps by size.

    Examples
    --------
    >>> budget_order(["high", "think:4096", "low", "", "think:1024", "medium"])
    ['', 'low', 'medium', 'high', 'think:1024', 'think:4096']
    """

    def key(label: str) -> tuple[int, float, str]:
        if label in _EFFORT:
            return (0, float(_EFFORT[label]), label)
        m = re.search(r"(\d+(?:\.\d+)?)", label)
        if m:
            return (1, float(m.group(1)), label)
        return (2, 0.0, label)

    return sorted(dict.fromkeys(labels), key=key)


def budget_effects(
    df: pd.DataFrame,
    *,
    metric: str = "kl",
    axis: str = "output_tokens",
    common_questions: bool = True,
    delta: float = DEFAULT_DELTA,
    unbiased: bool = False,
    markers: Sequence[str] | None = None,
    n_boot: int = 1000,
    level: float = 0.95,
    rng: np.random.Generator | int | None = 0,
) -> pd.DataFrame:
    """Per model and budget: mean length, bias, variance, error, incoherence, accuracy, and the overthinking effect.

    Parameters
    ----------
    df
        Samples in the hotmess schema with a ``budget`` label per sample.
    metric, axis, delta, unbiased, markers
        As in :func:`hotmess.analysis.incoherence_vs_length`.
    common_questions
        Keep only questions a model answered under every one of its budgets (the same questions, as the
        comparison needs); otherwise each budget uses all its questions.
    n_boot, level, rng
        Bootstrap over questions.

    Returns
    -------
    DataFrame
        One row per (model, budget) in :func:`budget_order`, with ``budget_rank`` (0 = smallest), the
        decomposition with CIs, and ``overthinking_incoherence``/``overthinking_accuracy`` (long − short half
        of :func:`hotmess.analysis.natural_overthinking`, with ``_low``/``_high``).

    Examples
    --------
    >>> from hotmess.analysis.simulate import simulate_samples
    >>> df = pd.concat([simulate_samples(np.full(10, 0.6), np.full(10, v), budget=b, lengths=n, rng=i)
    ...                 for i, (b, v, n) in enumerate([("low", 0.2, 50), ("high", 0.5, 200)])])
    >>> budget_effects(df, metric="brier", n_boot=0)["budget"].tolist()
    ['low', 'high']
    """
    gen = np.random.default_rng(rng)
    q = question_frame(
        df, metric=metric, axis=axis, by=("model", "budget"), delta=delta, unbiased=unbiased, markers=markers
    )
    if common_questions:
        n_budgets = q.groupby("model")["budget"].transform("nunique")
        seen = q.groupby(["model", *KEY])["budget"].transform("nunique")
        q = q[seen == n_budgets]
    over = natural_overthinking(
        df,
        metric=metric,
        axis=axis,
        delta=delta,
        unbiased=unbiased,
        markers=markers,
        n_boot=n_boot,
        level=level,
        rng=gen,
    )
    over = over[over["half"] == "long − short"] if not over.empty else over
    rows = []
    for model, g in q.groupby("model", sort=True):
        for rank, budget in enumerate(budget_order(g["budget"].unique().tolist())):
            part = g[g["budget"] == budget]
            row = {"model": model, "budget": budget, "budget_rank": rank}
            row |= aggregate(part, n_boot=n_boot, level=level, rng=gen, extra=("length",))
            o = over[(over["model"] == model) & (over["budget"] == budget)] if not over.empty else over
            for stat in ("incoherence", "accuracy"):
                for suffix in ("", "_low", "_high"):
                    col = f"{stat}{suffix}"
                    row[f"overthinking_{col}"] = float(o[col].iloc[0]) if len(o) and col in o else float("nan")
            rows.append(row)
    return pd.DataFrame(rows)
