"""Bootstrap confidence intervals over questions (paired resampling; percentile and BCa)."""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from hotmess.metrics._types import DegenerateWarning, Interval

__all__ = ["bootstrap_ratio_ci", "resample_weights"]


MAX_BATCH_DRAWS = 1 << 24
"""Most question indices held at once while resampling (16M int64 = 128 MB, and as much for the sums)."""


def resample_weights(n: int, n_boot: int, rng: np.random.Generator, *, batch_size: int = 256) -> NDArray[np.float64]:
    """Yield-free helper: ``(n_boot, n)`` counts of how often each of ``n`` items is drawn per resample.

    Drawing ``n`` items with replacement is the same as multinomial counts. Indices are drawn a batch at a time
    (memory ``batch_size × n``) and counted with one small ``bincount`` per resample, which stays in cache.

    Examples
    --------
    >>> w = resample_weights(5, 3, np.random.default_rng(0))
    >>> w.shape, w.sum(axis=1).tolist()
    ((3, 5), [5.0, 5.0, 5.0])
    """
    out = np.empty((n_boot, n), dtype=np.float64)
    for start in range(0, n_boot, batch_size):
        b = min(batch_size, n_boot - start)
        idx = rng.integers(0, n, size=(b, n))  # the same draws as bootstrap_ratio_ci
        for j in range(b):  # a per-resample bincount stays in cache: ~2× faster than one over the batch
            out[start + j] = np.bincount(idx[j], minlength=n)
    return out


def bootstrap_ratio_ci(
    numerators: Mapping[str, ArrayLike],
    denominators: Mapping[str, ArrayLike] | None = None,
    *,
    n_boot: int = 1000,
    level: float = 0.95,
    method: Literal["percentile", "bca"] = "percentile",
    rng: np.random.Generator | int | None = None,
    batch_size: int = 256,
) -> dict[str, Interval]:
    """Confidence intervals for several ratio-of-sums statistics, resampling whole questions (paired).

    Every statistic is ``Σ_i w_i x_i / Σ_i w_i y_i`` where ``w`` are bootstrap counts shared by all
    statistics (so a question's bias and variance stay together). A mean is the ratio with ``y = 1``; the
    dataset incoherence is ``Σ variance / Σ error``.

    Parameters
    ----------
    numerators
        Name → per-question values ``(n_questions,)``.
    denominators
        Name → per-question denominators; names missing here are means (denominator 1).
    n_boot
        Number of bootstrap resamples.
    level
        Confidence level in (0, 1).
    method
        ``"percentile"`` or ``"bca"`` (bias-corrected and accelerated, with a jackknife over questions).
    rng
        Seed or generator; the same seed gives the same intervals.
    batch_size
        Most resamples drawn per batch; fewer for large datasets, so that a batch holds at most
        :data:`MAX_BATCH_DRAWS` indices (memory ``batch × n_questions``). The intervals do not depend on it: the
        draws are the same whatever the batching.

    Returns
    -------
    dict of name → :class:`Interval`. NaN bounds where the statistic is undefined.

    Examples
    --------
    >>> ci = bootstrap_ratio_ci({"incoherence": [1.0, 2.0, 3.0]}, {"incoherence": [2.0, 4.0, 6.0]}, rng=0)
    >>> ci["incoherence"].low, ci["incoherence"].high
    (0.5, 0.5)
    """
    if not 0.0 < level < 1.0:
        raise ValueError(f"level: expected a number in (0, 1), got {level!r}")
    if n_boot < 1:
        raise ValueError(f"n_boot: expected a positive integer, got {n_boot!r}")
    if method not in ("percentile", "bca"):
        raise ValueError(f"method: expected 'percentile' or 'bca', got {method!r}")
    names = list(numerators)
    if not names:
        return {}
    dens = dict(denominators or {})
    X = _stack([numerators[k] for k in names], "numerators", None)  # (K, Q)
    if X.shape[1] == 0:
        raise ValueError(f"numerators: expected equal-length non-empty 1-d arrays, got shape {X.shape}")
    Q = X.shape[1]
    Y = _stack([dens.get(k, np.ones(Q)) for k in names], "denominators", Q)
    gen = np.random.default_rng(rng)
    batch_size = max(1, min(batch_size, MAX_BATCH_DRAWS // Q))  # 1M questions: 16 resamples at a time, 128 MB
    # Resampled sums Σ_j v[idx_j] of each distinct per-question vector, batch by batch (memory batch_size × Q);
    # the indices are the draws of resample_weights. A row of ones (a mean's denominator) always sums to Q.
    distinct: list[NDArray[np.float64]] = []
    inverse = []
    for row in (*X, *Y):
        same = [u for u, v in enumerate(distinct) if np.array_equal(row, v)]
        inverse.append(same[0] if same else len(distinct))
        if not same:
            distinct.append(row)
    ones = [bool(np.all(v == 1.0)) for v in distinct]
    sums = np.full((n_boot, len(distinct)), float(Q))
    for start in range(0, n_boot, batch_size):
        b = min(batch_size, n_boot - start)
        idx = gen.integers(0, Q, size=(b, Q))  # int64: np.take with int32 indices converts them (slower)
        for u, v in enumerate(distinct):
            if not ones[u]:
                sums[start : start + b, u] = np.take(v, idx).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        theta_b = sums[:, inverse[: len(names)]] / sums[:, inverse[len(names) :]]  # (B, K)
        theta = X.sum(axis=1) / Y.sum(axis=1)  # (K,)
    alpha = (1.0 - level) / 2.0
    out: dict[str, Interval] = {}
    for j, name in enumerate(names):
        tb = theta_b[:, j]
        tb = tb[np.isfinite(tb)]
        if 0 < tb.size < n_boot:
            warnings.warn(
                f"{name}: {n_boot - tb.size} of {n_boot} bootstrap resamples were undefined (zero denominator) "
                "and were left out of the interval",
                DegenerateWarning,
                stacklevel=2,
            )
        if tb.size == 0 or not np.isfinite(theta[j]):
            out[name] = Interval(float("nan"), float("nan"), level)
            continue
        if method == "percentile":
            lo_q, hi_q = alpha, 1.0 - alpha
        else:
            lo_q, hi_q = _bca_quantiles(tb, float(theta[j]), X[j], Y[j], alpha)
        lo, hi = np.quantile(tb, [lo_q, hi_q])
        out[name] = Interval(float(lo), float(hi), level)
    return out


def _stack(values: list[ArrayLike], name: str, n: int | None) -> NDArray[np.float64]:
    """Stack per-question 1-d arrays into (K, Q) or raise a ValueError naming ``name``."""
    arrays = [np.asarray(v, dtype=np.float64) for v in values]
    shapes = {a.shape for a in arrays}
    if len(shapes) != 1 or arrays[0].ndim != 1 or (n is not None and arrays[0].shape != (n,)):
        want = "equal-length 1-d arrays" if n is None else f"shape ({n},) for each statistic"
        raise ValueError(f"{name}: expected {want}, got shapes {sorted(shapes)}")
    return np.stack(arrays)


def _bca_quantiles(
    tb: NDArray[np.float64], theta: float, x: NDArray[np.float64], y: NDArray[np.float64], alpha: float
) -> tuple[float, float]:
    """Adjusted quantile levels of the BCa interval for one ratio statistic."""
    from scipy.special import ndtr, ndtri  # imported when a BCa interval is asked for, not with hotmess

    prop = (np.sum(tb < theta) + 0.5 * np.sum(tb == theta)) / tb.size
    prop = float(np.clip(prop, 1.0 / (tb.size + 1), tb.size / (tb.size + 1)))
    z0 = float(ndtri(prop))
    with np.errstate(divide="ignore", invalid="ignore"):
        jack = (x.sum() - x) / (y.sum() - y)  # leave-one-question-out
    jack = jack[np.isfinite(jack)]
    d = jack.mean() - jack if jack.size else np.zeros(1)
    denom = 6.0 * float(np.sum(d**2)) ** 1.5
    a = float(np.sum(d**3)) / denom if denom > 0 else 0.0
    qs = []
    for z in (ndtri(alpha), ndtri(1.0 - alpha)):
        qs.append(float(ndtr(z0 + (z0 + z) / (1.0 - a * (z0 + z)))))
    return qs[0], qs[1]
