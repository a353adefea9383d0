"""Reasoning budgets: accuracy and incoherence per budget, beside the natural-overthinking effect (SPEC §3.3)."""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

from hotmess.analysis._questions import KEY, LeftOutWarning, aggregate, question_frame, resolve_estimator
from hotmess.analysis.overthinking import natural_overthinking
from hotmess.errors import InputError
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
    estimator: str | None = None,
    unbiased: bool = False,
    markers: Sequence[str] | None = None,
    allow_estimated_lengths: bool = False,
    n_boot: int = 1000,
    level: float = 0.95,
    rng: np.random.Generator | int | None = 0,
) -> pd.DataFrame:
    """Per model and budget: mean length, bias, variance, error, incoherence, accuracy, and the overthinking effect.

    Parameters
    ----------
    df
        Samples in the hotmess schema with a ``budget`` label per sample.
    metric, axis, delta, estimator, unbiased, markers
        As in :func:`hotmess.analysis.incoherence_vs_length`.
    allow_estimated_lengths
        As in :func:`hotmess.analysis.natural_overthinking`.
    common_questions
        Keep only questions a model answered under every one of its budgets (the same questions, as the
        comparison needs); otherwise each budget uses all its questions.
    n_boot, level, rng
        Bootstrap over questions.

    Returns
    -------
    DataFrame
        One row per (kind, model, budget) in :func:`budget_order`, with ``budget_rank`` (0 = smallest), the
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
    est = resolve_estimator(estimator, metric, unbiased=unbiased)
    q = question_frame(
        df, metric=metric, axis=axis, by=("model", "budget"), delta=delta, estimator=est, markers=markers
    )
    if common_questions:
        n_budgets = q.groupby(["kind", "model"])["budget"].transform("nunique")
        seen = q.groupby(["kind", "model", *KEY])["budget"].transform("nunique")
        q = q[seen == n_budgets]
    try:
        over = natural_overthinking(
            df,
            metric=metric,
            axis=axis,
            delta=delta,
            estimator=est,
            markers=markers,
            allow_estimated_lengths=allow_estimated_lengths,
            n_boot=n_boot,
            level=level,
            rng=gen,
        )
    except InputError as exc:  # the budgets stand without it; say why the overthinking columns are empty
        warnings.warn(f"no natural-overthinking columns: {exc}", LeftOutWarning, stacklevel=2)
        over = pd.DataFrame(columns=["kind", "model", "budget", "half"])
    over = over[over["half"] == "long − short"].set_index(["kind", "model", "budget"])
    rows = []
    for (kind, model), g in q.groupby(["kind", "model"], sort=True):
        for rank, budget in enumerate(budget_order(g["budget"].unique().tolist())):
            part = g[g["budget"] == budget]
            row = {"kind": kind, "model": model, "budget": budget, "budget_rank": rank}
            row |= aggregate(part, n_boot=n_boot, level=level, rng=gen, extra=("length",))
            key = (kind, model, budget)
            for stat in ("incoherence", "accuracy"):
                for suffix in ("", "_low", "_high"):
                    col = f"{stat}{suffix}"
                    found = key in over.index and col in over.columns
                    row[f"overthinking_{col}"] = float(over.loc[key, col]) if found else float("nan")
            rows.append(row)
    return pd.DataFrame(rows)
