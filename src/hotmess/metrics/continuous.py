"""Decomposition of continuous points about a target under a metric (the synthetic optimizer)."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from hotmess.metrics._types import Decomposition

__all__ = ["continuous_decomposition"]


def _check(points: ArrayLike, target: ArrayLike, metric: ArrayLike | None):
    x = np.asarray(points, dtype=np.float64)
    if x.ndim < 2:
        raise ValueError(f"points: expected shape (..., n_points, dim), got shape {x.shape}")
    if x.shape[-2] < 1:
        raise ValueError("points: need at least one point per set, got 0")
    d = x.shape[-1]
    b = np.asarray(target, dtype=np.float64)
    if b.shape[-1:] != (d,):
        raise ValueError(f"target: expected last dimension {d} (the points' dim), got shape {b.shape}")
    A = np.eye(d) if metric is None else np.asarray(metric, dtype=np.float64)
    if A.shape != (d, d):
        raise ValueError(f"metric: expected a ({d}, {d}) matrix, got shape {A.shape}")
    if not np.allclose(A, A.T):
        raise ValueError("metric: expected a symmetric matrix")
    return x, b, A


def continuous_decomposition(points: ArrayLike, target: ArrayLike, *, metric: ArrayLike | None = None) -> Decomposition:
    """Bias, variance and error of point sets about ``target`` in the A-norm.

    Parameters
    ----------
    points
        Array of shape ``(..., K, d)``: ``K`` points in ``d`` dimensions per set.
    target
        The target ``b``, shape ``(d,)`` or broadcastable to ``(..., d)``.
    metric
        Symmetric positive semi-definite ``A`` of shape ``(d, d)``; identity if omitted.

    Returns
    -------
    Decomposition
        Arrays of shape ``(...)``.

    Notes
    -----
    With x̄ the mean point:
    BIAS = (x̄ − b)ᵀA(x̄ − b), VARIANCE = mean_k (x_k − x̄)ᵀA(x_k − x̄), ERROR = mean_k (x_k − b)ᵀA(x_k − b),
    and ERROR = BIAS + VARIANCE exactly.

    Examples
    --------
    >>> d = continuous_decomposition([[0.0, 0.0], [2.0, 0.0]], [0.0, 1.0])
    >>> float(d.bias[()]), float(d.variance[()]), float(d.error[()])
    (2.0, 1.0, 3.0)
    """
    x, b, A = _check(points, target, metric)
    mean = x.mean(axis=-2)  # (..., d)
    dm = mean - b
    bias = np.einsum("...i,ij,...j->...", dm, A, dm)
    dev = x - mean[..., None, :]
    variance = np.einsum("...ki,ij,...kj->...k", dev, A, dev).mean(axis=-1)
    de = x - b[..., None, :] if b.ndim > 1 else x - b
    error = np.einsum("...ki,ij,...kj->...k", de, A, de).mean(axis=-1)
    return Decomposition(bias=np.asarray(bias), variance=np.asarray(variance), error=np.asarray(error))
