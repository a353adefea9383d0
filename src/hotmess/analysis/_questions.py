"""Per-question decomposition tables and their aggregation with bootstrap CIs (private helpers).

Every analysis starts from :func:`question_frame`: one row per question answered by one model under one
budget, with its bias, variance, error, accuracy and mean length on the chosen axis. Aggregates over a set of
questions use ratios of sums (incoherence = Σ variance / Σ error) with CIs from resampling whole questions.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from hotmess.analysis.structure import backtracking_markers
from hotmess.data.frames import scored_samples, to_arrays
from hotmess.errors import InputError
from hotmess.metrics import DEFAULT_DELTA, DegenerateWarning, bootstrap_ratio_ci, decompose, resample_weights

__all__ = [
    "LENGTH_AXES",
    "RATIO_METRICS",
    "STATS",
    "UNIT",
    "aggregate",
    "check_metric",
    "decompose_frame",
    "groups_of",
    "question_frame",
    "sample_lengths",
    "weighted_stats",
]

LENGTH_AXES = ("output_tokens", "reasoning_tokens", "actions", "backtracking")
"""Selectable length axes: token counts, action counts, or backtracking markers in the raw output."""

RATIO_METRICS = ("kl", "brier", "hard-kl")
"""Metrics whose incoherence ratio is defined (the 0/1 variance changes sign between questions)."""

STATS = ("bias", "variance", "error", "incoherence", "accuracy")
KEY = ["task", "question_id"]
UNIT = ["model", "budget", *KEY]
"""A question answered by one model under one budget: the unit every analysis decomposes, whatever ``by`` is."""


def check_metric(metric: str) -> None:
    """Raise unless ``metric`` has an incoherence ratio."""
    if metric not in RATIO_METRICS:
        raise ValueError(f"metric: expected one of {', '.join(RATIO_METRICS)}, got {metric!r}")


def check_by(by: Sequence[str]) -> list[str]:
    """Grouping columns among model/budget/task."""
    out = list(by)
    bad = [c for c in out if c not in ("model", "budget", "task")]
    if bad:
        raise ValueError(f"by: expected columns among model, budget, task, got {bad}")
    return out


def sample_lengths(df: pd.DataFrame, axis: str, *, markers: Sequence[str] | None = None) -> pd.Series:
    """Per-sample length on ``axis`` (float, NaN where unknown), aligned with ``df``.

    ``backtracking`` counts backtracking markers in ``raw_output`` (see
    :func:`hotmess.analysis.backtracking_markers`).
    """
    if axis not in LENGTH_AXES:
        raise ValueError(f"axis: expected one of {', '.join(LENGTH_AXES)}, got {axis!r}")
    if axis == "backtracking":
        return backtracking_markers(df["raw_output"].fillna(""), markers=markers).astype(float)
    if axis not in df.columns:
        return pd.Series(np.nan, index=df.index)
    return pd.to_numeric(df[axis], errors="coerce").astype(float)


def decompose_frame(
    frame: pd.DataFrame, metric: str, *, delta: float = DEFAULT_DELTA, unbiased: bool = False
) -> pd.DataFrame:
    """Per-unit bias, variance, error, accuracy of scored samples (keyed by :data:`UNIT`: model, budget, question).

    Samples of different models or budgets are never pooled into one question, even within one group.
    """
    arrays, info = to_arrays(frame, question_key=UNIT)
    # to_arrays may return the key columns unnamed (pandas versions differ); they come first, in key order.
    info = info.set_axis([*UNIT, *info.columns[len(UNIT) :]], axis=1)
    d = decompose(arrays, metric, delta=delta, unbiased=unbiased)
    out = info[UNIT].copy()
    out["n_samples"] = arrays.n_samples
    out["n_invalid"] = arrays.n_invalid
    out["bias"] = d.bias
    out["variance"] = d.variance
    out["error"] = d.error
    out["accuracy"] = arrays.hard_accuracy()
    return out


def question_frame(
    df: pd.DataFrame,
    *,
    metric: str = "kl",
    axis: str = "output_tokens",
    by: Sequence[str] = ("model", "budget"),
    delta: float = DEFAULT_DELTA,
    unbiased: bool = False,
    markers: Sequence[str] | None = None,
) -> pd.DataFrame:
    """One row per unit (model, budget, question): bias, variance, error, accuracy, samples, mean ``length``.

    Error rows and non-multiple-choice rows are dropped first; a question's length is the mean over its
    samples with a known length on ``axis`` (NaN if none). ``by`` only says which units are analysed together:
    a question answered by two models is two units, whatever ``by`` is.
    """
    check_metric(metric)
    by = check_by(by)
    scored = scored_samples(df)
    if scored.empty:
        raise InputError("no scorable samples", hint="every row is an error row or has no correct option")
    scored = scored.assign(_length=sample_lengths(scored, axis, markers=markers).to_numpy())
    q = decompose_frame(scored, metric, delta=delta, unbiased=unbiased)
    lengths = scored.groupby(UNIT, sort=False)["_length"].mean().rename("length").reset_index()
    lengths[UNIT] = lengths[UNIT].astype(str)
    return q.merge(lengths, on=UNIT, how="left")


def groups_of(q: pd.DataFrame, by: Sequence[str]) -> Iterator[tuple[dict[str, str], pd.DataFrame]]:
    """Iterate ``(labels, rows)`` over the groups of a question frame (one group when ``by`` is empty)."""
    if not by:
        yield {}, q
        return
    for keys, frame in q.groupby(list(by), sort=True):
        labels = keys if isinstance(keys, tuple) else (keys,)
        yield dict(zip(by, (str(k) for k in labels), strict=True)), frame


def _ratio(num: NDArray[np.float64], den: NDArray[np.float64]) -> float:
    total = float(np.sum(den))
    return float(np.sum(num)) / total if total > 0 and np.isfinite(total) else float("nan")


def aggregate(
    q: pd.DataFrame,
    *,
    n_boot: int = 1000,
    level: float = 0.95,
    rng: np.random.Generator | None = None,
    extra: Sequence[str] = (),
) -> dict[str, Any]:
    """Means of bias/variance/error/accuracy, incoherence (ratio of sums) and CIs over the rows of ``q``.

    Columns named in ``extra`` (e.g. ``length``) are averaged too (NaNs ignored), without CIs.
    """
    gen = np.random.default_rng(rng)
    row: dict[str, Any] = {"n_questions": len(q), "n_samples": int(q["n_samples"].sum())}
    if len(q) == 0:
        return row | {k: float("nan") for k in STATS}
    v, e = q["variance"].to_numpy(float), q["error"].to_numpy(float)
    row["bias"] = float(q["bias"].mean())
    row["variance"] = float(v.mean())
    row["error"] = float(e.mean())
    row["incoherence"] = _ratio(v, e)
    row["accuracy"] = float(q["accuracy"].mean())
    for col in extra:
        row[col] = float(q[col].mean()) if q[col].notna().any() else float("nan")
    if n_boot > 0:
        nums = {k: q[k].to_numpy(float) for k in ("bias", "variance", "error", "accuracy")}
        nums["incoherence"] = v
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DegenerateWarning)
            ci = bootstrap_ratio_ci(nums, {"incoherence": e}, n_boot=n_boot, level=level, rng=gen)
        for k in STATS:
            row[f"{k}_low"], row[f"{k}_high"] = ci[k].low, ci[k].high
    return row


def weighted_stats(
    W: NDArray[np.float64], q: pd.DataFrame, members: NDArray[np.bool_]
) -> dict[str, NDArray[np.float64]]:
    """Bootstrap replicates of per-cell stats: ``W`` (B, Q) resample counts, ``members`` (Q, K) cell masks.

    Returns name → (B, K) arrays for bias, variance, error, incoherence, accuracy and length (weighted mean).
    """
    Mk = members.astype(np.float64)
    n = W @ Mk  # (B, K)
    out: dict[str, NDArray[np.float64]] = {}
    with np.errstate(divide="ignore", invalid="ignore"):
        for k in ("bias", "variance", "error", "accuracy"):
            out[k] = (W * q[k].to_numpy(float)) @ Mk / n
        out["incoherence"] = out["variance"] / out["error"]
        if "length" in q.columns:
            L = q["length"].to_numpy(float)
            ok = np.isfinite(L)
            out["length"] = ((W * np.where(ok, L, 0.0)) @ Mk) / ((W * ok) @ Mk)
    return out


def bootstrap_weights(n: int, n_boot: int, rng: np.random.Generator) -> NDArray[np.float64]:
    """``(n_boot, n)`` resample counts over ``n`` questions."""
    return resample_weights(n, n_boot, rng)


def interval(values: NDArray[np.float64], level: float) -> tuple[float, float]:
    """Percentile interval of the finite entries of ``values`` (NaNs when none)."""
    v = values[np.isfinite(values)]
    if v.size == 0:
        return float("nan"), float("nan")
    a = (1.0 - level) / 2.0
    lo, hi = np.quantile(v, [a, 1.0 - a])
    return float(lo), float(hi)
