"""Incoherence vs reasoning length: equal-size length buckets and a log-log power-law fit (SPEC §3.1)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

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
from hotmess.analysis.fits import fit_power_law, slopes
from hotmess.analysis.guardrails import verdict
from hotmess.errors import InputError
from hotmess.metrics import DEFAULT_DELTA

__all__ = ["MIN_QUESTIONS_PER_BUCKET", "LengthAnalysis", "equal_buckets", "incoherence_vs_length"]

MIN_QUESTIONS_PER_BUCKET = 3
"""A power law is fitted only through at least 3 buckets of at least this many questions each; otherwise the
fits table says why it was not fitted (a line through buckets of one question each is noise drawn as a trend)."""


@dataclass(frozen=True)
class LengthAnalysis:
    """Result of :func:`incoherence_vs_length`.

    Attributes
    ----------
    buckets
        One row per (model, budget, bucket): ``n_questions``, ``length`` (mean question length of the bucket on
        the bucketing axis), ``length_min``/``length_max``, ``own_length`` (the group's own mean length),
        bias, variance, error, incoherence, accuracy and ``<stat>_low``/``<stat>_high`` CIs.
    fits
        One row per (model, budget): ``alpha`` (incoherence ∝ length^α), ``alpha_low``/``alpha_high``, ``verdict``
        (the interval in words, or why no power law was fitted),
        ``prefactor``, ``r2``, ``n_points``.
    axis
        The length axis.
    reference_model
        The model whose lengths defined the buckets (None: each group its own).
    """

    buckets: pd.DataFrame
    fits: pd.DataFrame
    axis: str
    reference_model: str | None = None


def equal_buckets(lengths: pd.Series | np.ndarray, n_buckets: int) -> np.ndarray:
    """Bucket index (0 = shortest) of each value: sorted order cut into ``n_buckets`` near-equal parts.

    Ties keep their input order, so the cut is deterministic; NaN lengths get −1.

    Examples
    --------
    >>> equal_buckets(np.array([5.0, 1.0, 3.0, 2.0, 4.0, np.nan]), 2).tolist()
    [1, 0, 0, 0, 1, -1]
    """
    x = np.asarray(lengths, dtype=np.float64)
    out = np.full(x.shape, -1, dtype=np.int64)
    ok = np.flatnonzero(np.isfinite(x))
    if ok.size == 0:
        return out
    k = max(1, min(int(n_buckets), ok.size))
    order = ok[np.argsort(x[ok], kind="stable")]
    for b, part in enumerate(np.array_split(order, k)):
        out[part] = b
    return out


def incoherence_vs_length(
    df: pd.DataFrame,
    *,
    metric: str = "kl",
    axis: str = "output_tokens",
    n_buckets: int = 5,
    reference_model: str | None = None,
    by: Sequence[str] = ("model", "budget"),
    delta: float = DEFAULT_DELTA,
    estimator: str | None = None,
    unbiased: bool = False,
    markers: Sequence[str] | None = None,
    n_boot: int = 1000,
    level: float = 0.95,
    rng: np.random.Generator | int | None = 0,
) -> LengthAnalysis:
    """Bias, variance, error, incoherence and accuracy per reasoning-length bucket, and ``α`` of incoherence ∝ L^α.

    Parameters
    ----------
    df
        Samples in the hotmess schema.
    metric
        "kl", "brier" or "hard-kl".
    axis
        Length axis: ``output_tokens`` (default), ``reasoning_tokens``, ``actions`` or ``backtracking``
        (markers counted in the raw output, see :func:`hotmess.analysis.backtracking_markers`).
    n_buckets
        Equal-size buckets of questions sorted by mean length (fewer if there are fewer questions).
    reference_model
        Bucket every group's questions by this model's mean lengths (questions it did not answer are
        dropped); the default buckets each group by its own lengths.
    by
        Columns that define a group (one curve and one fit per group).
    delta
        KL smoothing δ.
    estimator
        ``"plugin"`` (default, the paper's) or ``"corrected"`` (KL jackknife, Brier and test-vector n/(n−1));
        ``unbiased=True`` is the older spelling of ``"corrected"``.
    markers
        Marker words for ``axis="backtracking"``.
    n_boot, level, rng
        Bootstrap over questions within a group (``n_boot=0``: no CIs). Buckets are fixed; the resampled
        questions keep their bucket, so the CI on α is conditional on the bucket assignment.

    Returns
    -------
    LengthAnalysis

    Notes
    -----
    A question's length is the mean over its samples; a bucket's incoherence is Σ variance / Σ error over its
    questions. ``α`` is the least-squares slope of log incoherence on log mean bucket length, over buckets
    where both are positive; ``r2`` is on the log scale.

    Examples
    --------
    >>> from hotmess.analysis.simulate import simulate_samples
    >>> lengths = np.repeat([100.0, 200.0, 400.0, 800.0], 10)
    >>> inco = 0.1 * (lengths / 100) ** 0.5
    >>> df = simulate_samples(1.2 * (1 - inco), 1.2 * inco, lengths=lengths, rng=0)
    >>> res = incoherence_vs_length(df, metric="brier", unbiased=True, n_buckets=4, n_boot=200)
    >>> bool(0.3 < res.fits["alpha"][0] < 0.7)
    True
    """
    if n_buckets < 1:
        raise ValueError(f"n_buckets: expected a positive integer, got {n_buckets}")
    gen = np.random.default_rng(rng)
    est = resolve_estimator(estimator, metric, unbiased=unbiased)
    q = question_frame(df, metric=metric, axis=axis, by=by, delta=delta, estimator=est, markers=markers)
    if not q["length"].notna().any():
        raise InputError(f"no sample has a value on the length axis {axis!r}", hint="choose another --axis")
    ref_len: pd.Series | None = None
    if reference_model is not None:
        if "model" not in q.columns or reference_model not in set(q["model"]):
            raise InputError(f"reference model {reference_model!r} has no samples", hint="check the model name")
        ref_len = q[q["model"] == reference_model].groupby(KEY)["length"].mean()
    bucket_rows, fit_rows = [], []
    for labels, g in groups_of(q, by):
        g = g.reset_index(drop=True)
        g = g.assign(own_length=g["length"])
        if ref_len is not None:
            g["length"] = ref_len.reindex(pd.MultiIndex.from_frame(g[KEY])).to_numpy()
        g = g[g["length"].notna()].reset_index(drop=True)
        if g.empty:
            continue
        b = equal_buckets(g["length"].to_numpy(), n_buckets)
        K = int(b.max()) + 1
        members = b[:, None] == np.arange(K)[None, :]
        st = weighted_stats(boot_weights(len(g), n_boot, gen), g, members)  # row 0: point estimate
        for k in range(K):
            part = g[members[:, k]]
            row = {**labels, "bucket": k, "n_questions": len(part), "n_samples": int(part["n_samples"].sum())}
            row |= {
                "length": float(st["length"][0, k]),
                "length_min": float(part["length"].min()),
                "length_max": float(part["length"].max()),
                "own_length": float(part["own_length"].mean()),
            }
            bucket_rows.append(fill_stats(row, st, k, level, STATS))
        smallest = int(members.sum(axis=0).min())
        frow: dict[str, Any] = {**labels}
        if smallest < MIN_QUESTIONS_PER_BUCKET or K < 3:
            nan = float("nan")
            frow |= {"alpha": nan, "prefactor": nan, "r2": nan, "n_points": K, "alpha_low": nan, "alpha_high": nan}
            frow["verdict"] = (
                f"not fitted: {K} bucket(s), the smallest with {smallest} question(s); a power law needs at least "
                f"3 buckets of {MIN_QUESTIONS_PER_BUCKET} questions"
            )
            fit_rows.append(frow)
            continue
        fit = fit_power_law(st["length"][0], st["incoherence"][0])
        frow |= {"alpha": fit.exponent, "prefactor": fit.prefactor, "r2": fit.r2, "n_points": fit.n_points}
        if n_boot > 0:
            reps = slopes(st["length"][1:], st["incoherence"][1:])
            frow["alpha_low"], frow["alpha_high"] = t_interval(fit.exponent, reps, level, len(g))
            frow["verdict"] = verdict(fit.exponent, frow["alpha_low"], frow["alpha_high"], what="a trend")
        else:
            frow["verdict"] = "no interval (n_boot = 0)"
        fit_rows.append(frow)
    return LengthAnalysis(
        buckets=pd.DataFrame(bucket_rows), fits=pd.DataFrame(fit_rows), axis=axis, reference_model=reference_model
    )
