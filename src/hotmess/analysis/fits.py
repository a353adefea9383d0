"""Log-log power-law fits, their bootstrap versions, and model parameter counts."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from hotmess.metrics import Interval

__all__ = ["PowerLawFit", "fit_power_law", "param_counts", "parse_param_count", "slopes"]


@dataclass(frozen=True)
class PowerLawFit:
    """``y = prefactor · x^exponent`` fitted by least squares on ``log y`` vs ``log x``.

    Attributes
    ----------
    exponent
        The slope on log-log axes.
    prefactor
        ``exp`` of the intercept.
    r2
        Coefficient of determination on the log scale (NaN with fewer than 3 points).
    n_points
        Points with positive, finite ``x`` and ``y`` that entered the fit.
    ci
        Bootstrap interval of the exponent, when computed.
    """

    exponent: float
    prefactor: float
    r2: float
    n_points: int
    ci: Interval | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (NaN → None; the interval as ``ci: [low, high]`` when computed)."""
        out: dict[str, Any] = {
            k: None if isinstance(v, float) and math.isnan(v) else v
            for k, v in (("exponent", self.exponent), ("prefactor", self.prefactor), ("r2", self.r2))
        }
        out["n_points"] = self.n_points
        if self.ci is not None:
            out["ci"] = [self.ci.low, self.ci.high]
        return out

    def predict(self, x: ArrayLike) -> NDArray[np.float64]:
        """``prefactor · x^exponent``."""
        return self.prefactor * np.asarray(x, dtype=np.float64) ** self.exponent


def fit_power_law(x: ArrayLike, y: ArrayLike) -> PowerLawFit:
    """Fit ``y ∝ x^α`` on log-log axes, using only points where both are positive and finite.

    Returns NaN exponent (and prefactor) when fewer than two usable points or no spread in ``x``.

    Examples
    --------
    >>> f = fit_power_law([1, 10, 100], [2, 20, 200])
    >>> round(f.exponent, 6), round(f.prefactor, 6), round(f.r2, 6), f.n_points
    (1.0, 2.0, 1.0, 3)
    """
    xa = np.asarray(x, dtype=np.float64).ravel()
    ya = np.asarray(y, dtype=np.float64).ravel()
    if xa.shape != ya.shape:
        raise ValueError(f"x, y: expected equal lengths, got {xa.shape} and {ya.shape}")
    ok = np.isfinite(xa) & np.isfinite(ya) & (xa > 0) & (ya > 0)
    n = int(ok.sum())
    lx, ly = np.log(xa[ok]), np.log(ya[ok])
    if n < 2 or np.ptp(lx) == 0:
        return PowerLawFit(float("nan"), float("nan"), float("nan"), n)
    slope, intercept = np.polyfit(lx, ly, 1)
    resid = ly - (intercept + slope * lx)
    sst = float(((ly - ly.mean()) ** 2).sum())
    r2 = 1.0 - float((resid**2).sum()) / sst if n >= 3 and sst > 0 else float("nan")
    with np.errstate(over="ignore"):  # a steep fit over a narrow x range can overflow: prefactor inf, not a crash
        prefactor = float(np.exp(intercept))
    return PowerLawFit(float(slope), prefactor, r2, n)


def slopes(x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.float64]:
    """Row-wise log-log least-squares slopes of ``(B, K)`` arrays (NaN where < 2 usable points).

    Examples
    --------
    >>> slopes(np.array([[1.0, 10.0], [1.0, 10.0]]), np.array([[1.0, 10.0], [1.0, np.nan]])).tolist()
    [1.0, nan]
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        ok = np.isfinite(x) & np.isfinite(y) & (x > 0) & (y > 0)
        lx = np.where(ok, np.log(np.where(ok, x, 1.0)), 0.0)
        ly = np.where(ok, np.log(np.where(ok, y, 1.0)), 0.0)
        n = ok.sum(axis=1)
        mx = lx.sum(axis=1) / n
        my = ly.sum(axis=1) / n
        dx = np.where(ok, lx - mx[:, None], 0.0)
        dy = np.where(ok, ly - my[:, None], 0.0)
        sxx = (dx * dx).sum(axis=1)
        out = (dx * dy).sum(axis=1) / sxx
    out[(n < 2) | ~(sxx > 0)] = np.nan
    return out


_SIZE = re.compile(r"(?<![A-Za-z0-9.])(\d+(?:\.\d+)?)\s?([kKmMbBtT])(?![A-Za-z])")
_UNITS = {"k": 1e3, "m": 1e6, "b": 1e9, "t": 1e12}


def parse_param_count(name: str) -> float | None:
    """Parameter count from a model name such as ``qwen3-8b``, ``SmolLM2-135M`` or ``Qwen2.5-0.5B`` (last match).

    Examples
    --------
    >>> [parse_param_count(n) for n in ["qwen3-8b", "SmolLM2-135M-Instruct", "Qwen2.5-0.5B", "135M", "gpt-4o"]]
    [8000000000.0, 135000000.0, 500000000.0, 135000000.0, None]
    """
    found = _SIZE.findall(name)
    if not found:
        return None
    value, unit = found[-1]
    return float(value) * _UNITS[unit.lower()]


def param_counts(models: Iterable[str], mapping: Mapping[str, float] | None = None) -> dict[str, float]:
    """Parameter count per model: ``mapping`` first, else parsed from the name; models with neither are left out.

    Examples
    --------
    >>> param_counts(["qwen3-8b", "mystery", "smollm2"], {"smollm2": 1.35e8})
    {'qwen3-8b': 8000000000.0, 'smollm2': 135000000.0}
    """
    out: dict[str, float] = {}
    for m in models:
        n = (mapping or {}).get(m)
        if n is None:
            n = parse_param_count(m)
        if n is not None and n > 0:
            out[m] = float(n)
    return out
