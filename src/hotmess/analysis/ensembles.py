"""Ensembling: non-overlapping ensembles of E samples, their decomposition, and variance ∝ E^slope (SPEC §3.4)."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from hotmess.analysis._questions import (
    STATS,
    UNIT,
    LeftOutWarning,
    boot_weights,
    check_by,
    fill_stats,
    groups_of,
    require_scored,
    resolve_estimator,
    t_interval,
    weighted_stats,
)
from hotmess.analysis.fits import fit_power_law, slopes
from hotmess.analysis.guardrails import verdict
from hotmess.data.frames import to_arrays
from hotmess.metrics import DEFAULT_DELTA, SampleArrays, brier_decomposition, kl_decomposition

__all__ = ["EnsembleAnalysis", "ensemble_analysis", "ensemble_probs"]


@dataclass(frozen=True)
class EnsembleAnalysis:
    """Result of :func:`ensemble_analysis`.

    Attributes
    ----------
    table
        One row per (model, budget, metric, size): ``n_ensembles`` per question, ``n_questions``, bias,
        variance, error, incoherence, accuracy (share of ensembles whose averaged vote is right, ties split)
        and their CIs.
    fits
        One row per (model, budget, metric): ``variance_slope`` (log-log slope of variance vs E; −1 for
        independent samples) with ``_low``/``_high``, ``variance_r2``, ``bias_slope`` and
        ``incoherence_slope`` with CIs.
    """

    table: pd.DataFrame
    fits: pd.DataFrame


def ensemble_probs(
    arrays: SampleArrays, size: int, n_ensembles: int, rng: np.random.Generator
) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """Averaged probability vectors of ``n_ensembles`` disjoint ensembles of ``size`` samples per question.

    Each question's samples are shuffled (``rng``) and cut into consecutive blocks; needs
    ``size × n_ensembles`` samples per question.

    Returns
    -------
    probs : ndarray (Q, n_ensembles, C)
    accuracy : ndarray (Q,)
        Share of the ensembles whose highest-probability option is correct (ties split evenly).

    Examples
    --------
    >>> arr = SampleArrays.from_answers([[0, 1, 0, 0]], [0])
    >>> p, acc = ensemble_probs(arr, 2, 2, np.random.default_rng(0))
    >>> p.shape, float(p.sum())
    ((1, 2, 2), 2.0)
    """
    need = size * n_ensembles
    if int(arrays.n_samples.min()) < need:
        raise ValueError(f"size × n_ensembles: questions need {need} samples, some have {int(arrays.n_samples.min())}")
    Q = arrays.probs.shape[0]
    keys = np.where(arrays.mask, rng.random(arrays.mask.shape), np.inf)
    order = np.argsort(keys, axis=1)[:, :need]  # (Q, need): a random subset of real samples
    probs = arrays.probs[np.arange(Q)[:, None], order]  # (Q, need, C)
    probs = probs.reshape(Q, n_ensembles, size, -1).mean(axis=2)
    top = probs.max(axis=2, keepdims=True)
    ties = np.isclose(probs, top, rtol=0.0, atol=1e-12)
    hit = np.take_along_axis(ties, arrays.targets[:, None, None], axis=2)[..., 0] / ties.sum(axis=2)
    return probs, hit.mean(axis=1)


def _default_sizes(min_samples: int, n_ensembles: int) -> list[int]:
    sizes, e = [], 1
    while e * n_ensembles <= min_samples:
        sizes.append(e)
        e *= 2
    return sizes


def ensemble_analysis(
    df: pd.DataFrame,
    *,
    sizes: Sequence[int] | None = None,
    n_ensembles: int | None = None,
    metrics: Sequence[str] = ("kl", "brier"),
    by: Sequence[str] = ("model", "budget"),
    delta: float = DEFAULT_DELTA,
    estimator: str = "plugin",
    unbiased: bool = False,
    n_boot: int = 1000,
    level: float = 0.95,
    rng: np.random.Generator | int | None = 0,
) -> EnsembleAnalysis:
    """Decompose ensembles of E ∈ {1, 2, 4, …} samples; fit variance ∝ E^slope.

    Parameters
    ----------
    df
        Samples in the hotmess schema (many per question, e.g. 320).
    sizes
        Ensemble sizes; default powers of two while ``E × n_ensembles`` fits in every question's samples.
        Sizes that do not fit are dropped.
    n_ensembles
        Disjoint ensembles per question and size, the same for every size so the plug-in variances are
        comparable; default ``min(10, max(2, min_samples // 4))`` (10 with 40+ samples, so 320 samples
        allow E up to 32 as in SPEC §3.4).
    metrics
        "kl" and/or "brier" (the hard views need one answer per member). The ensemble's vote is the
        arithmetic mean of its members' probability vectors (invalid members count as uniform).
    by
        Columns that define a group.
    delta
        KL smoothing δ.
    estimator, unbiased
        ``"plugin"`` (default) or ``"corrected"`` variance across the ensembles of one size (KL jackknife,
        Brier n/(n−1)); ``unbiased=True`` is the older spelling. Every size has the same number of ensembles,
        so the plug-in slope is not biased by it.
    n_boot, level, rng
        ``rng`` also draws which samples form the ensembles.

    Returns
    -------
    EnsembleAnalysis

    Examples
    --------
    >>> from hotmess.analysis.simulate import simulate_samples
    >>> df = simulate_samples(np.full(30, 0.4), np.full(30, 0.6), n_contexts=40, samples_per_context=1, rng=0)
    >>> res = ensemble_analysis(df, metrics=["brier"], n_boot=0)
    >>> res.table["size"].tolist(), bool(-1.3 < res.fits["variance_slope"][0] < -0.7)
    ([1, 2, 4], True)
    """
    bad = [m for m in metrics if m not in ("kl", "brier")]
    if bad or not metrics:
        raise ValueError(f"metrics: expected a non-empty selection of 'kl', 'brier', got {list(metrics)}")
    if n_ensembles is not None and n_ensembles < 2:
        raise ValueError(
            f"n_ensembles: expected at least 2 (the variance is measured across ensembles), got {n_ensembles}"
        )
    by = check_by(by)
    ests = {m: resolve_estimator(None if estimator == "plugin" else estimator, m, unbiased=unbiased) for m in metrics}
    gen = np.random.default_rng(rng)
    scored = require_scored(df)
    tests = scored["_kind"] == "test-vector"
    if tests.any():
        warnings.warn(
            f"{int(tests.sum())} test-vector sample(s) were left out: ensembling averages answer probabilities",
            LeftOutWarning,
            stacklevel=2,
        )
        scored = scored[~tests]
    rows, fit_rows = [], []
    for labels, frame in groups_of(scored.assign(kind=scored["_kind"]), by):
        arrays, _ = to_arrays(frame, question_key=UNIT)
        smin = int(arrays.n_samples.min())
        n_ens = n_ensembles or min(10, max(2, smin // 4))
        use = [e for e in (sizes or _default_sizes(smin, n_ens)) if e >= 1 and e * n_ens <= smin]
        if not use or n_ens < 2:
            continue
        Q = arrays.probs.shape[0]
        per_size = []
        for e in use:
            probs, acc = ensemble_probs(arrays, e, n_ens, gen)
            per_size.append((e, probs, acc))
        W = boot_weights(Q, n_boot, gen)
        for metric in metrics:
            reps: dict[str, list[NDArray[np.float64]]] = {s: [] for s in STATS}
            for e, probs, acc in per_size:
                corrected = ests[metric] == "corrected"
                if metric == "brier":
                    d = brier_decomposition(probs, arrays.targets, n_options=arrays.n_options, unbiased=corrected)
                else:
                    d = kl_decomposition(
                        probs, arrays.targets, n_options=arrays.n_options, delta=delta, jackknife=corrected
                    )
                q = pd.DataFrame(
                    {"bias": d.bias, "variance": d.variance, "error": d.error, "accuracy": acc, "n_samples": 1}
                )
                st = weighted_stats(W, q)
                row = {**labels, "metric": metric, "size": e, "n_ensembles": n_ens, "n_questions": Q}
                rows.append(fill_stats(row, st, 0, level, STATS))
                for s in STATS:
                    reps[s].append(st[s][:, 0])
            E = np.array(use, dtype=np.float64)
            fit = fit_power_law(E, np.array([r[0] for r in reps["variance"]]))
            frow = {**labels, "metric": metric, "n_sizes": len(use), "variance_r2": fit.r2}
            for s in ("variance", "bias", "incoherence"):
                Y = np.column_stack(reps[s])  # (1 + B, K)
                sl = slopes(np.broadcast_to(E, Y.shape).copy(), Y)
                frow[f"{s}_slope"] = float(sl[0])
                if n_boot > 0:
                    frow[f"{s}_slope_low"], frow[f"{s}_slope_high"] = t_interval(float(sl[0]), sl[1:], level, Q)
            if n_boot > 0:
                lo, hi = frow["variance_slope_low"], frow["variance_slope_high"]
                frow["verdict"] = verdict(frow["variance_slope"], lo, hi, null=0.0, what="variance changing with E")
            fit_rows.append(frow)
    return EnsembleAnalysis(table=pd.DataFrame(rows), fits=pd.DataFrame(fit_rows))
