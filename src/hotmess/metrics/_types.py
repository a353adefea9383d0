"""Result types shared by every decomposition."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = ["Decomposition", "DegenerateWarning", "Interval"]


class DegenerateWarning(UserWarning):
    """Input on which a quantity is undefined (e.g. zero total error → NaN incoherence)."""


@dataclass(frozen=True, slots=True)
class Interval:
    """A confidence interval ``[low, high]`` at level ``level``."""

    low: float
    high: float
    level: float = 0.95

    def __contains__(self, x: object) -> bool:
        return isinstance(x, int | float) and self.low <= float(x) <= self.high


@dataclass(frozen=True, slots=True)
class Decomposition:
    """Per-question bias, variance and error (arrays of the same shape).

    ``error == bias + variance`` holds exactly for KL, Brier (plug-in), test-vector and continuous
    decompositions; for the 0/1 decomposition see :func:`hotmess.metrics.zero_one_decomposition`.
    """

    bias: NDArray[np.float64]
    variance: NDArray[np.float64]
    error: NDArray[np.float64]

    @property
    def incoherence(self) -> float:
        """Σ variance / Σ error over all entries (a ratio of sums); NaN with a warning if Σ error = 0."""
        return incoherence_of(self.variance, self.error)

    def __len__(self) -> int:
        return int(np.size(self.bias))


def incoherence_of(variance: NDArray[np.float64], error: NDArray[np.float64]) -> float:
    """Ratio of sums ``Σ variance / Σ error``, NaN (with :class:`DegenerateWarning`) when ``Σ error == 0``."""
    total = float(np.sum(error))
    if not np.isfinite(total) or total <= 0.0:
        warnings.warn(
            "total error is zero (or not finite): incoherence is undefined and returned as NaN",
            DegenerateWarning,
            stacklevel=3,
        )
        return float("nan")
    return float(np.sum(variance)) / total
