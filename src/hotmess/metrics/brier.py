"""Brier (squared-error) bias-variance decomposition."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from hotmess.metrics._types import Decomposition
from hotmess.metrics.kl import _prepare

__all__ = ["brier_decomposition"]


def brier_decomposition(
    probs: ArrayLike,
    targets: ArrayLike,
    *,
    mask: ArrayLike | None = None,
    n_options: ArrayLike | int | None = None,
    unbiased: bool = False,
) -> Decomposition:
    """Per-question Brier decomposition about the arithmetic mean prediction.

    Parameters
    ----------
    probs, targets, mask, n_options
        As in :func:`hotmess.metrics.kl_decomposition`.
    unbiased
        Multiply the plug-in variance by ``n/(n−1)`` (needs ≥ 2 samples per question); bias then becomes
        ERROR − VARIANCE.

    Returns
    -------
    Decomposition
        Arrays of shape ``(n_questions,)``.

    Notes
    -----
    With ``f̃ = mean_s f_s`` and one-hot ``y``: ERROR = mean_s ‖y − f_s‖², BIAS = ‖y − f̃‖²,
    VARIANCE = mean_s ‖f_s − f̃‖²; ERROR = BIAS + VARIANCE. For one-hot votes these are twice the
    Kohavi–Wolpert terms.

    Examples
    --------
    >>> d = brier_decomposition([[[1.0, 0.0], [0.0, 1.0]]], [0])
    >>> float(d.bias[0]), float(d.variance[0]), float(d.error[0])
    (0.5, 0.5, 1.0)
    """
    p, t, m, _k, _cm = _prepare(probs, targets, mask, n_options, min_samples=2 if unbiased else 1)
    Q = p.shape[0]
    n = m.sum(axis=1).astype(np.float64)
    full = bool(m.all())
    pm = p if full else np.where(m[..., None], p, 0.0)  # padding may hold NaN
    # One pass over the (Q, S, C) array: the second moment and the mean. einsum over the short class axis is
    # several times faster than sum(axis=...). With m2 = mean_s ‖f_s‖², f̃ = mean_s f_s and y one-hot:
    #   ERROR = m2 − 2 f̃[c*] + 1,  BIAS = ‖y − f̃‖²,  VARIANCE = m2 − ‖f̃‖²  (so ERROR = BIAS + VARIANCE).
    # The variance is a difference of numbers ≤ 1: its absolute error is ~1e-16, clipped at 0.
    m2 = np.einsum("qsc,qsc->q", pm, pm) / n
    mean = np.einsum("qsc->qc", pm) / n[:, None]  # (Q, C)
    mean_true = mean[np.arange(Q), t]
    mean_sq = np.einsum("qc,qc->q", mean, mean)
    error = m2 - 2.0 * mean_true + 1.0
    variance = np.maximum(m2 - mean_sq, 0.0)
    if unbiased:
        variance = variance * n / (n - 1.0)
        bias = error - variance
    else:
        bias = mean_sq - 2.0 * mean_true + 1.0
    return Decomposition(bias=bias, variance=variance, error=error)
