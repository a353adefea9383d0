"""0/1-loss decomposition (Domingos) with the exact multiclass factor."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from hotmess.metrics._validate import (
    answer_counts,
    check_mask,
    check_targets,
    class_mask,
    infer_n_classes,
    resolve_n_options,
)

__all__ = ["ZeroOneDecomposition", "zero_one_decomposition"]


@dataclass(frozen=True, slots=True)
class ZeroOneDecomposition:
    """Per-question 0/1 bias, variance, error and the factor ``a`` with ``error = bias + a·variance``.

    Report bias and variance as absolute numbers: ``a`` changes sign between questions, so a ratio
    "incoherence" is not meaningful here.
    """

    bias: NDArray[np.float64]
    variance: NDArray[np.float64]
    error: NDArray[np.float64]
    coefficient: NDArray[np.float64]

    @property
    def net_variance(self) -> NDArray[np.float64]:
        """``a · variance``: the variance's signed contribution to the error."""
        return self.coefficient * self.variance


def zero_one_decomposition(
    answers: ArrayLike,
    targets: ArrayLike,
    *,
    mask: ArrayLike | None = None,
    n_options: ArrayLike | int | None = None,
) -> ZeroOneDecomposition:
    """Domingos' 0/1 decomposition of hard answers.

    Parameters
    ----------
    answers
        ``(n_questions, n_samples)`` 0-based answers, −1 for invalid (an invalid sample is wrong and never
        equals the main prediction).
    targets
        ``(n_questions,)`` correct option index.
    mask, n_options
        As in :func:`hotmess.metrics.kl_decomposition`.

    Returns
    -------
    ZeroOneDecomposition

    Notes
    -----
    The main prediction ``c̄`` is the mode of the mean prediction (invalid samples are uniform, so they do not
    move it); ties go to the lowest option index. BIAS = 1{c̄ ≠ c*}, VARIANCE = P(c_s ≠ c̄),
    ERROR = P(c_s ≠ c*) = BIAS + a·VARIANCE with a = 1 when c̄ = c* and a = −P(c_s = c* | c_s ≠ c̄) otherwise
    (a = 0 when VARIANCE = 0). This is exact for any number of classes.

    Examples
    --------
    Mode wrong (B), one of four samples right, one says C:

    >>> d = zero_one_decomposition([[1, 1, 0, 2]], [0])
    >>> float(d.bias[0]), float(d.variance[0]), float(d.coefficient[0]), float(d.error[0])
    (1.0, 0.5, -0.5, 0.75)
    """
    a = np.asarray(answers)
    if a.ndim != 2 or not np.issubdtype(a.dtype, np.integer):
        raise ValueError(f"answers: expected an integer array (n_questions, n_samples), got {a.dtype} {a.shape}")
    Q, S = a.shape
    m = check_mask(mask, (Q, S))
    C = infer_n_classes(a, m, targets) if n_options is None else int(np.max(n_options))
    k = resolve_n_options(n_options, Q, C)
    if np.any(m & ((a < -1) | (a >= k[:, None]))):
        raise ValueError("answers: expected values in [−1, n_options) per question")
    t = check_targets(targets, Q, k)
    n = m.sum(axis=1).astype(np.float64)
    counts = answer_counts(a, m, C)
    counts = np.where(class_mask(k, C), counts, -1.0)
    mode = np.argmax(counts, axis=1)
    p_mode = np.take_along_axis(counts, mode[:, None], axis=1)[:, 0] / n
    p_true = np.take_along_axis(counts, t[:, None], axis=1)[:, 0] / n
    bias = (mode != t).astype(np.float64)
    variance = 1.0 - p_mode
    error = 1.0 - p_true
    with np.errstate(divide="ignore", invalid="ignore"):
        coef = np.where(bias == 0, 1.0, np.where(variance > 0, -p_true / variance, 0.0))
    return ZeroOneDecomposition(bias=bias, variance=variance, error=error, coefficient=coef)
