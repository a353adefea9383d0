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
    "QUANTITIES",
    "PowerLawFit",
    "SeedScaling",
    "SlopeDifference",
    "final_values",
    "fit_power_law",
    "resampled_final_values",
    "scaling_fits",
    "seed_means",
    "seed_scaling",
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

    def power(self, digits: int = 2) -> str:
        """``N^−α`` as text, the sign shown where the value rises with size: ``N^−0.64``, ``N^+0.30``.

        Examples
        --------
        >>> PowerLawFit("bias", 0.5, 1.0, 1.0, None, 3).power(), PowerLawFit("bias", -0.25, 1.0, 1.0, None, 3).power()
        ('N^−0.50', 'N^+0.25')
        """
        return f"N^−{self.exponent:.{digits}f}" if self.exponent >= 0 else f"N^+{-self.exponent:.{digits}f}"

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
    """Power laws of final bias, variance and error against parameter count, for one training seed.

    ``final_points`` holds, per size, the last ``W`` steps of its rollouts ``(K, R, W, d)`` (same starts for
    every size). The ``ci`` of each fit comes from a paired bootstrap of the K starts (see
    :func:`seed_scaling`, of which this is the one-seed case without the optimizer's floor).
    """
    return seed_scaling(
        n_params, [final_points], None, problem, n_boot=n_boot, level=level, rng=rng, batch_size=batch_size
    ).raw


QUANTITIES = ("bias", "variance", "error")
"""The final values that are fitted against size."""


@dataclass(frozen=True)
class SlopeDifference:
    """α_bias − α_variance of one kind of fit, with the evidence for its sign."""

    kind: str
    """``"raw"`` (the model's own values) or ``"excess"`` (model minus the optimizer's)."""
    value: float
    """Difference of the pooled fit's exponents (NaN when a fit is undefined)."""
    ci: Interval | None
    """Value ± t(seeds − 1) × the seeds × starts bootstrap standard error."""
    seeds_positive: int
    """Training seeds whose own fits give α_bias > α_variance."""
    n_seeds: int
    """Training seeds with both fits defined."""
    leave_one_out_positive: int
    """Sizes whose removal leaves the pooled difference positive."""
    n_sizes: int
    """Sizes in the fit."""

    @property
    def supported(self) -> bool:
        """The claim "bias falls faster than variance" holds: ≥ 2 seeds, ≥ 3 sizes, the interval above 0, every
        seed and every leave-one-size-out fit agreeing."""
        return (
            self.n_seeds >= 2
            and self.n_sizes >= 3
            and self.ci is not None
            and self.ci.low > 0
            and self.seeds_positive == self.n_seeds
            and self.leave_one_out_positive == self.n_sizes
        )

    def to_dict(self) -> dict[str, object]:
        """Flat JSON-ready form."""
        return {
            "kind": self.kind,
            "difference": self.value,
            "ci_low": self.ci.low if self.ci else float("nan"),
            "ci_high": self.ci.high if self.ci else float("nan"),
            "seeds_positive": self.seeds_positive,
            "n_seeds": self.n_seeds,
            "leave_one_out_positive": self.leave_one_out_positive,
            "n_sizes": self.n_sizes,
            "supported": self.supported,
        }


@dataclass(frozen=True)
class SeedScaling:
    """Scaling fits over training seeds: raw and in excess of the optimizer's floor (see :func:`seed_scaling`)."""

    raw: dict[str, PowerLawFit]
    """Fits of the seed-mean final bias, variance and error; ``ci``: ± t(seeds − 1) × the bootstrap SE."""
    excess: dict[str, PowerLawFit]
    """The same for model minus optimizer (missing where some size is not above the optimizer)."""
    fit_ci: dict[str, Interval]
    """``"raw/bias"`` etc.: the t interval of each pooled fit's own residuals (lack of fit; S − 2 d.o.f.)."""
    per_seed: pd.DataFrame
    """One row per training seed, kind and quantity: ``exponent`` and ``r2`` of that seed's own fit."""
    points: pd.DataFrame
    """One row per seed and size: ``n_params`` and the final bias / variance / error, raw and excess."""
    floor: dict[str, float]
    """The optimizer's own final bias, variance and error."""
    floor_share: dict[str, float]
    """The optimizer's value over the smallest seed-mean model value, per quantity: how much of the raw
    values the floor makes up at the large end of the ladder (``raw`` fits are flagged above 0.1)."""
    differences: dict[str, SlopeDifference]
    """``"raw"`` and ``"excess"``: α_bias − α_variance."""

    def flagged(self, quantity: str) -> bool:
        """True when the optimizer's floor is ≥ 10% of the smallest model value: the raw exponent is biased
        toward 0 (a pure power law cannot bend to a floor)."""
        return bool(self.floor_share.get(quantity, 0.0) >= 0.1)

    def fits_frame(self) -> pd.DataFrame:
        """Every fit as one row: kind, quantity, exponent, bootstrap and fit intervals, R², flag."""
        rows = []
        for kind, fits in (("raw", self.raw), ("excess", self.excess)):
            for q, f in fits.items():
                fc = self.fit_ci.get(f"{kind}/{q}")
                rows.append(
                    {
                        "kind": kind,
                        **f.to_dict(),
                        "fit_ci_low": fc.low if fc else float("nan"),
                        "fit_ci_high": fc.high if fc else float("nan"),
                        "floor_flag": kind == "raw" and self.flagged(q),
                    }
                )
        return pd.DataFrame(rows)


def _fit_interval(n: ArrayLike, y: ArrayLike, level: float) -> Interval | None:
    """t interval of the least-squares exponent from the fit's own residuals (None with fewer than 3 sizes)."""
    from scipy import stats

    lx, ly = np.log(np.asarray(n, dtype=np.float64)), np.log(np.asarray(y, dtype=np.float64))
    if lx.size < 3 or not np.all(np.isfinite(ly)):
        return None
    xc = lx - lx.mean()
    slope = float((ly - ly.mean()) @ xc / (xc @ xc))
    resid = ly - ly.mean() - slope * xc
    se = float(np.sqrt((resid @ resid) / (lx.size - 2) / (xc @ xc)))
    t = float(stats.t.ppf(0.5 + level / 2, lx.size - 2))
    return Interval(-slope - t * se, -slope + t * se, level)


def _exponents(log_n: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.float64]:
    """−slope of log y on log n along the last axis; NaN where some value is not positive."""
    with np.errstate(divide="ignore", invalid="ignore"):
        ly = np.where(y > 0, np.log(np.where(y > 0, y, 1.0)), np.nan)
    return -_slopes(log_n, ly)


def seed_scaling(
    n_params: Sequence[float],
    finals: Sequence[Sequence[ArrayLike]],
    reference: ArrayLike | None,
    problem: Quadratic,
    *,
    n_boot: int = 1000,
    level: float = 0.95,
    rng: np.random.Generator | int | None = None,
    batch_size: int = 256,
) -> SeedScaling:
    """Power laws of final bias, variance and error over sizes, with training seeds as the unit of uncertainty.

    Parameters
    ----------
    n_params
        Parameter count of each size ``(S,)``.
    finals
        ``finals[k][s]``: the last ``W`` steps ``(K, R, W, d)`` of size ``s`` trained with seed ``k``; every
        model is rolled out from the same K starts.
    reference
        The optimizer's last ``W`` steps from the same starts, ``(K, 1, W, d)``: the floor (None: no excess
        fits).
    problem
        Supplies b and A.
    n_boot, level, rng, batch_size
        The bootstrap: each resample draws the training seeds with replacement (the same draw for every
        size: seed k of every size shares its training data) and the starts with replacement (the same draw
        for every size, seed and the optimizer), then refits. Intervals are the fitted value ± t × the
        bootstrap standard error, with t from Student's t with (seeds − 1) degrees of freedom (starts − 1 with
        one seed): percentiles of a bootstrap over three seeds cover far less than their level.

    Returns
    -------
    SeedScaling
        Raw fits (the seed-mean values), excess fits (seed-mean minus optimizer, the part the model adds),
        per-seed exponents, each fit's residual interval, the floor's share, and α_bias − α_variance.
    """
    n = np.asarray(n_params, dtype=np.float64)
    S, n_seeds = n.size, len(finals)
    if n_seeds < 1 or any(len(f) != S for f in finals) or len(set(n.tolist())) < 2:
        raise ValueError(
            "finals: expected one list of per-size points for each seed (one (K, R, W, d) array per size, all of "
            "the same shape), and at least two sizes"
        )
    pts = [[_points(p) for p in seed] for seed in finals]
    if len({p.shape for seed in pts for p in seed}) != 1:
        raise ValueError("finals: expected one (K, R, W, d) array per size, all of the same shape")
    ref = pts[0][0][:, :1] if reference is None else _points(reference)  # stands in for the floor, then unused
    if ref.shape[0] != pts[0][0].shape[0]:
        raise ValueError("finals, reference: every model and the optimizer must share the same starts")
    log_n = np.log(n)
    vals = {q: np.array([[final_values(p, problem)[q] for p in seed] for seed in pts]) for q in QUANTITIES}
    floor = final_values(ref, problem) if reference is not None else dict.fromkeys(QUANTITIES, 0.0)
    mean = {q: vals[q].mean(axis=0) for q in QUANTITIES}  # (S,)
    excess_mean = {q: mean[q] - floor[q] for q in QUANTITIES}

    # the bootstrap: seeds and starts, shared across sizes
    gen = np.random.default_rng(rng)
    K = ref.shape[0]
    boot = {(kind, q): np.empty((n_boot, S)) for kind in ("raw", "excess") for q in QUANTITIES}
    for s0 in range(0, n_boot, batch_size):
        B = min(batch_size, n_boot - s0)
        w = resample_weights(K, B, gen)  # (B, K) start counts
        cs = resample_weights(n_seeds, B, gen) / n_seeds  # (B, n_seeds) seed weights, rows sum to 1
        r = resampled_final_values(ref, problem, w)
        for j in range(S):
            per = [resampled_final_values(pts[k][j], problem, w) for k in range(n_seeds)]
            for q in QUANTITIES:
                v = (cs * np.stack([p[q] for p in per], axis=1)).sum(axis=1)
                boot[("raw", q)][s0 : s0 + B, j] = v
                boot[("excess", q)][s0 : s0 + B, j] = v - r[q]
    from scipy import stats

    dof = n_seeds - 1 if n_seeds >= 2 else K - 1  # the units that were resampled: seeds (or starts, with one)
    t_crit = float(stats.t.ppf(0.5 + level / 2, dof))

    def interval(exps: NDArray[np.float64], center: float) -> Interval | None:
        """center ± t(dof) × the bootstrap SE (the convention of every difference and trend in hotmess)."""
        exps = exps[np.isfinite(exps)]
        if exps.size < max(10, n_boot // 2) or not np.isfinite(center):  # most resamples undefined
            return None
        se = float(exps.std(ddof=1))
        return Interval(center - t_crit * se, center + t_crit * se, level)

    raw: dict[str, PowerLawFit] = {}
    excess: dict[str, PowerLawFit] = {}
    fit_ci: dict[str, Interval] = {}
    boot_exp: dict[tuple[str, str], NDArray[np.float64]] = {}
    kinds = ("raw", "excess") if reference is not None else ("raw",)
    for kind, source, target in (("raw", mean, raw), ("excess", excess_mean, excess))[: len(kinds)]:
        for q in QUANTITIES:
            boot_exp[(kind, q)] = _exponents(log_n, boot[(kind, q)])
            if np.all(source[q] > 0):
                f = fit_power_law(n, source[q], quantity=q)
                target[q] = PowerLawFit(q, f.exponent, f.prefactor, f.r2, interval(boot_exp[(kind, q)], f.exponent), S)
                fc = _fit_interval(n, source[q], level)
                if fc is not None:
                    fit_ci[f"{kind}/{q}"] = fc

    rows, points = [], []
    for k in range(n_seeds):
        for kind in kinds:
            for q in QUANTITIES:
                y = vals[q][k] - (floor[q] if kind == "excess" else 0.0)
                e = float(_exponents(log_n, y))
                r2 = fit_power_law(n, y).r2 if np.all(y > 0) else float("nan")
                rows.append({"seed": k, "kind": kind, "quantity": q, "exponent": e, "r2": r2})
        for j in range(S):
            row: dict[str, float] = {"seed": k, "n_params": float(n[j])}
            for q in QUANTITIES:
                row[q] = float(vals[q][k, j])
                row[f"{q}_excess"] = float(vals[q][k, j] - floor[q])
            points.append(row)
    per_seed = pd.DataFrame(rows, columns=["seed", "kind", "quantity", "exponent", "r2"])

    differences = {}
    for kind, source in (("raw", mean), ("excess", excess_mean))[: len(kinds)]:
        d_boot = boot_exp[(kind, "bias")] - boot_exp[(kind, "variance")]
        value = float(_exponents(log_n, source["bias"]) - _exponents(log_n, source["variance"]))
        mine = per_seed[per_seed["kind"] == kind].pivot(index="seed", columns="quantity", values="exponent")
        d_seed = (mine["bias"] - mine["variance"]).dropna()
        loo = 0
        for j in range(S if S >= 3 else 0):  # with two sizes no size can be left out
            keep = np.arange(S) != j
            d = _exponents(log_n[keep], source["bias"][keep]) - _exponents(log_n[keep], source["variance"][keep])
            loo += int(bool(d > 0))
        differences[kind] = SlopeDifference(
            kind, value, interval(d_boot, value), int((d_seed > 0).sum()), int(d_seed.size), loo, S
        )
    smallest = {q: float(mean[q].min()) for q in QUANTITIES}
    share = {q: (floor[q] / smallest[q] if smallest[q] > 0 else float("inf")) for q in QUANTITIES}
    if reference is None:
        share = {}
    return SeedScaling(raw, excess, fit_ci, per_seed, pd.DataFrame(points), floor, share, differences)


def seed_means(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Mean over training seeds of every numeric column, per ``keys``; incoherence columns are recomputed as
    the ratio of the mean variance to the mean error (a ratio of means, like every incoherence in hotmess)."""
    numeric = [
        c for c in frame.columns if c not in keys and c != "train_seed" and pd.api.types.is_numeric_dtype(frame[c])
    ]
    out = frame.groupby(keys, sort=False, dropna=False)[numeric].mean().reset_index()
    for suffix in ("", "_start", "_final"):
        v, e, i = f"variance{suffix}", f"error{suffix}", f"incoherence{suffix}"
        if {v, e, i} <= set(out.columns):
            out[i] = np.where(out[e] > 0, out[v] / out[e].where(out[e] > 0, 1.0), np.nan)
    return out
