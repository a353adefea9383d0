"""Bias, variance, error and incoherence along rollouts, and power-law fits across model sizes.

At rollout step t the points are the positions of every rollout (all starts, all rollouts per start); their
decomposition about the minimum b in the A-norm is :func:`hotmess.metrics.continuous_decomposition` (SPEC §1):
BIAS = (x̄ − b)ᵀA(x̄ − b), VARIANCE = mean_k (x_k − x̄)ᵀA(x_k − x̄), ERROR = BIAS + VARIANCE.
The "final" values of a model average the last ``final_window`` steps. Across sizes N the fits are
y ∝ N^(−α) by least squares on log-log axes; confidence intervals of α resample the *starting points*
with replacement (the same resample for every size, since all sizes share the starts).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from hotmess.metrics import DegenerateWarning, Interval, continuous_decomposition, resample_weights
from hotmess.synthetic.problem import Quadratic

__all__ = [
    "PowerLawFit",
    "final_values",
    "fit_power_law",
    "resampled_final_values",
    "scaling_fits",
    "step_metrics",
]


def _points(points: ArrayLike) -> NDArray[np.float64]:
    p = np.asarray(points, dtype=np.float64)
    if p.ndim != 4 or p.shape[0] < 1:
        raise ValueError(f"points: expected shape (K, R, T, d) (starts, rollouts, steps, dim), got {p.shape}")
    return p


def _ratio(num: NDArray[np.float64], den: NDArray[np.float64]) -> NDArray[np.float64]:
    bad = ~(den > 0)
    if bad.any():
        warnings.warn(
            f"{int(bad.sum())} step(s) with zero error: incoherence is NaN there", DegenerateWarning, stacklevel=3
        )
    return np.divide(num, den, out=np.full(np.shape(num), np.nan), where=~bad)


def step_metrics(points: ArrayLike, problem: Quadratic, *, model: str, n_params: float = float("nan")) -> pd.DataFrame:
    """Per-step decomposition of rollouts ``(K, R, T, d)`` about ``problem.b`` in the ``problem.A`` norm.

    Returns a frame with columns ``model, n_params, step, bias, variance, error, incoherence,
    variance_decoding``; the last is the mean within-start variance (the part decoding adds), NaN for R = 1.

    Examples
    --------
    >>> q = Quadratic(A=np.eye(1), b=np.zeros(1), step_size=0.1, offset_direction=np.ones(1))
    >>> pts = np.array([1.0, 3.0]).reshape(2, 1, 1, 1)  # two starts at x = 1 and x = 3, one step
    >>> step_metrics(pts, q, model="m")[["bias", "variance", "error", "incoherence"]].values.tolist()
    [[4.0, 1.0, 5.0, 0.2]]
    """
    p = _points(points)
    K, R, T, d = p.shape
    pooled = p.transpose(2, 0, 1, 3).reshape(T, K * R, d)  # (T, K·R, d)
    dec = continuous_decomposition(pooled, problem.b, metric=problem.A)  # arrays (T,)
    within = np.full(T, np.nan)
    if R > 1:
        per_start = continuous_decomposition(p.transpose(2, 0, 1, 3), problem.b, metric=problem.A)  # (T, K)
        within = per_start.variance.mean(axis=1)
    return pd.DataFrame(
        {
            "model": model,
            "n_params": float(n_params),
            "step": np.arange(T),
            "bias": dec.bias,
            "variance": dec.variance,
            "error": dec.error,
            "incoherence": _ratio(dec.variance, dec.error),
            "variance_decoding": within,
        }
    )


def final_values(final_points: ArrayLike, problem: Quadratic) -> dict[str, float]:
    """Bias, variance, error (means over the window) and incoherence (ratio of those means).

    ``final_points`` has shape ``(K, R, W, d)``: the last ``W`` steps of every rollout.
    """
    p = _points(final_points)
    K, R, W, d = p.shape
    dec = continuous_decomposition(p.transpose(2, 0, 1, 3).reshape(W, K * R, d), problem.b, metric=problem.A)
    bias, var, err = float(dec.bias.mean()), float(dec.variance.mean()), float(dec.error.mean())
    return {"bias": bias, "variance": var, "error": err, "incoherence": var / err if err > 0 else float("nan")}


@dataclass(frozen=True)
class PowerLawFit:
    """A fit y = prefactor · N^(−exponent) on log-log axes."""

    quantity: str
    """What was fitted (``"bias"``, ``"variance"``, ``"heldout_loss"``, ...)."""
    exponent: float
    """α: y falls as N^(−α) (positive = falls with size)."""
    prefactor: float
    """y at N = 1."""
    r2: float
    """Coefficient of determination on log-log axes."""
    ci: Interval | None
    """Bootstrap interval of α (None when not bootstrapped)."""
    n_points: int
    """Sizes in the fit."""

    def predict(self, n: ArrayLike) -> NDArray[np.float64]:
        """The fitted y at sizes ``n``."""
        return self.prefactor * np.asarray(n, dtype=np.float64) ** (-self.exponent)

    def to_dict(self) -> dict[str, object]:
        """Flat JSON-ready form."""
        return {
            "quantity": self.quantity,
            "exponent": self.exponent,
            "prefactor": self.prefactor,
            "r2": self.r2,
            "ci_low": self.ci.low if self.ci else float("nan"),
            "ci_high": self.ci.high if self.ci else float("nan"),
            "ci_level": self.ci.level if self.ci else float("nan"),
            "n_points": self.n_points,
        }


def _slopes(log_n: NDArray[np.float64], log_y: NDArray[np.float64]) -> NDArray[np.float64]:
    """Least-squares slopes of rows of ``log_y`` ``(..., S)`` against ``log_n`` ``(S,)``."""
    xc = log_n - log_n.mean()
    yc = log_y - log_y.mean(axis=-1, keepdims=True)
    return (yc @ xc) / (xc @ xc)


def fit_power_law(n: ArrayLike, y: ArrayLike, *, quantity: str = "y") -> PowerLawFit:
    """Fit y = C · N^(−α) by least squares of log y on log N.

    Raises ``ValueError`` with fewer than two sizes, equal sizes, or non-positive values.

    Examples
    --------
    >>> f = fit_power_law([1e3, 1e4, 1e5], [1.0, 0.01, 0.0001])
    >>> round(f.exponent, 6), round(f.r2, 6)
    (2.0, 1.0)
    """
    x = np.asarray(n, dtype=np.float64)
    v = np.asarray(y, dtype=np.float64)
    if x.shape != v.shape or x.ndim != 1 or x.size < 2:
        raise ValueError(f"n, y: expected two 1-d arrays of the same length >= 2, got {x.shape} and {v.shape}")
    if np.any(x <= 0) or np.any(v <= 0) or not np.all(np.isfinite(v)):
        raise ValueError("n, y: a power-law fit needs positive, finite values")
    lx, ly = np.log(x), np.log(v)
    if np.ptp(lx) == 0:
        raise ValueError("n: expected at least two different sizes")
    slope = float(_slopes(lx, ly))
    intercept = float(ly.mean() - slope * lx.mean())
    resid = ly - (intercept + slope * lx)
    ss_tot = float(((ly - ly.mean()) ** 2).sum())
    r2 = 1.0 - float((resid**2).sum()) / ss_tot if ss_tot > 0 else float("nan")
    return PowerLawFit(quantity, -slope, float(np.exp(intercept)), r2, None, int(x.size))


def resampled_final_values(
    final_points: ArrayLike, problem: Quadratic, weights: ArrayLike
) -> dict[str, NDArray[np.float64]]:
    """Final bias, variance and error of bootstrap resamples of the starts, without copying points.

    Parameters
    ----------
    final_points
        ``(K, R, W, d)`` last ``W`` steps of every rollout.
    problem
        Supplies b and A.
    weights
        ``(B, K)`` counts: how often each start is drawn in each resample (rows sum to K).

    Returns
    -------
    dict of ``(B,)`` arrays ``bias``, ``variance``, ``error`` (means over the window), equal to
    :func:`final_values` of the resampled points.

    Notes
    -----
    With y = x − m (m the window-step mean of all points, for numerical stability), per start k and step w
    the sums S1 = Σ_r y and S2 = Σ_r yᵀAy suffice: a resample's mean is ȳ = c·S1/(K R) and its variance is
    c·S2/(K R) − ȳᵀAȳ; bias is (m + ȳ − b)ᵀA(m + ȳ − b). Two matrix products replace materialising B
    resampled point clouds.
    """
    p = _points(final_points)
    c = np.asarray(weights, dtype=np.float64)
    K, R, W, d = p.shape
    if c.ndim != 2 or c.shape[1] != K:
        raise ValueError(f"weights: expected shape (B, {K}), got {c.shape}")
    A = problem.A
    m = p.mean(axis=(0, 1))  # (W, d)
    y = p - m  # (K, R, W, d)
    s1 = y.sum(axis=1)  # (K, W, d)
    s2 = np.einsum("krwi,ij,krwj->kw", y, A, y)  # (K, W)
    n = c.sum(axis=1, keepdims=True) * R  # (B, 1) points per step
    mean = (c @ s1.reshape(K, W * d)).reshape(-1, W, d) / n[:, :, None]  # (B, W, d)
    second = (c @ s2) / n  # (B, W)
    variance = second - np.einsum("bwi,ij,bwj->bw", mean, A, mean)
    dm = m + mean - problem.b  # (B, W, d)
    bias = np.einsum("bwi,ij,bwj->bw", dm, A, dm)
    return {
        "bias": bias.mean(axis=1),
        "variance": np.maximum(variance, 0.0).mean(axis=1),
        "error": (bias + variance).mean(axis=1),
    }


def scaling_fits(
    n_params: Sequence[float],
    final_points: Sequence[ArrayLike],
    problem: Quadratic,
    *,
    n_boot: int = 1000,
    level: float = 0.95,
    rng: np.random.Generator | int | None = None,
    batch_size: int = 256,
) -> dict[str, PowerLawFit]:
    """Power laws of final bias, variance and error against parameter count, with bootstrap CIs.

    Parameters
    ----------
    n_params
        Parameter count of each size ``(S,)``.
    final_points
        Per size, the last ``W`` steps of its rollouts ``(K, R, W, d)`` (same starts for every size).
    problem
        Supplies b and A.
    n_boot
        Bootstrap resamples of the K starts, shared by all sizes (a paired bootstrap: the sizes were
        rolled out from the same starts).
    level
        Confidence level of the percentile intervals.
    rng
        Seed or generator of the resamples.
    batch_size
        Resamples processed at once (bounds memory to ``batch_size × K`` counts).

    Returns
    -------
    dict ``{"bias": fit, "variance": fit, "error": fit}``; each ``ci`` is the percentile interval of the
    exponents refitted on every resample (resamples with a non-positive value are dropped).
    """
    pts = [_points(p) for p in final_points]
    if len(pts) != len(n_params) or len({p.shape for p in pts}) != 1:
        raise ValueError("final_points: expected one (K, R, W, d) array per size, all of the same shape")
    finals = [final_values(p, problem) for p in pts]
    names = ("bias", "variance", "error")
    fits = {q: fit_power_law(n_params, [f[q] for f in finals], quantity=q) for q in names}
    gen = np.random.default_rng(rng)
    K = pts[0].shape[0]
    log_n = np.log(np.asarray(n_params, dtype=np.float64))
    boot = {q: np.empty((n_boot, len(pts))) for q in names}
    for s in range(0, n_boot, batch_size):
        w = resample_weights(K, min(batch_size, n_boot - s), gen)  # (B, K)
        for j, p in enumerate(pts):
            vals = resampled_final_values(p, problem, w)
            for q in names:
                boot[q][s : s + w.shape[0], j] = vals[q]
    alpha = (1.0 - level) / 2.0
    out = {}
    for q in names:
        with np.errstate(divide="ignore", invalid="ignore"):
            exps = -_slopes(log_n, np.log(boot[q]))
        exps = exps[np.isfinite(exps)]
        lo, hi = np.quantile(exps, [alpha, 1 - alpha]) if exps.size else (np.nan, np.nan)
        f = fits[q]
        out[q] = PowerLawFit(q, f.exponent, f.prefactor, f.r2, Interval(float(lo), float(hi), level), f.n_points)
    return out
