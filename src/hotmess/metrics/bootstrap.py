"""Bootstrap confidence intervals over questions (paired resampling; percentile and BCa)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import ndtr, ndtri

from hotmess.metrics._types import Interval

__all__ = ["bootstrap_ratio_ci", "resample_weights"]


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
        idx = rng.integers(0, n, size=(b, n))
        for j in range(b):
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
        Resamples drawn per batch (bounds memory to ``batch_size × n_questions``).

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
    X = np.stack([np.asarray(numerators[k], dtype=np.float64) for k in names])  # (K, Q)
    if X.ndim != 2 or X.shape[1] == 0:
        raise ValueError(f"numerators: expected equal-length non-empty 1-d arrays, got shape {X.shape}")
    Q = X.shape[1]
    Y = np.stack([np.asarray(dens.get(k, np.ones(Q)), dtype=np.float64) for k in names])
    if Y.shape != X.shape:
        raise ValueError(f"denominators: expected shape {(Q,)} for each statistic")
    gen = np.random.default_rng(rng)
    W = resample_weights(Q, n_boot, gen, batch_size=batch_size)  # (B, Q)
    with np.errstate(divide="ignore", invalid="ignore"):
        theta_b = (W @ X.T) / (W @ Y.T)  # (B, K)
        theta = X.sum(axis=1) / Y.sum(axis=1)  # (K,)
    alpha = (1.0 - level) / 2.0
    out: dict[str, Interval] = {}
    for j, name in enumerate(names):
        tb = theta_b[:, j]
        tb = tb[np.isfinite(tb)]
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


def _bca_quantiles(
    tb: NDArray[np.float64], theta: float, x: NDArray[np.float64], y: NDArray[np.float64], alpha: float
) -> tuple[float, float]:
    """Adjusted quantile levels of the BCa interval for one ratio statistic."""
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
