"""0/1-loss decomposition (Domingos) with the exact multiclass factor."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from hotmess.metrics._validate import (
    answer_counts,
    check_distributions,
    check_mask,
    check_probs,
    check_targets,
    class_mask,
    infer_n_classes,
    not_one_hot,
    resolve_n_options,
)

__all__ = ["ZeroOneDecomposition", "zero_one_decomposition"]

_TIE_TOL = 1e-12
"""Entries of the mean prediction within this of its maximum tie (the lowest index wins)."""


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
    probs: ArrayLike | None = None,
) -> ZeroOneDecomposition:
    """Domingos' 0/1 decomposition of hard answers, with the main prediction taken from the mean prediction.

    Parameters
    ----------
    answers
        ``(n_questions, n_samples)`` 0-based answers, −1 for invalid (an invalid sample is wrong and never
        equals the main prediction). For probability-vector samples: the per-sample argmax.
    targets
        ``(n_questions,)`` correct option index.
    mask, n_options
        As in :func:`hotmess.metrics.kl_decomposition`.
    probs
        Optional ``(n_questions, n_samples, n_classes)`` per-sample probability vectors (invalid rows uniform,
        as in :attr:`hotmess.metrics.SampleArrays.probs`). Needed when samples are stated probabilities: the
        main prediction is then the argmax of their mean, which need not be the mode of their argmaxes.

    Returns
    -------
    ZeroOneDecomposition

    Notes
    -----
    The main prediction ``c̄`` is the argmax of the mean prediction ``mean_s f_s``; ties go to the lowest
    option index. For one-hot samples that is the most frequent answer, found from exact integer counts
    (invalid samples are uniform, so they do not move it). When a question has a valid sample that is not
    one-hot (``probs`` given), ``c̄`` is the argmax of the arithmetic mean of ``probs`` over valid samples, with
    entries within 1e-12 of the maximum counted as tied (float round-off cannot break a tie).
    The per-sample predictions ``c_s`` are always ``answers``.
    BIAS = 1{c̄ ≠ c*}, VARIANCE = P(c_s ≠ c̄), ERROR = P(c_s ≠ c*) = BIAS + a·VARIANCE with a = 1 when
    c̄ = c* and a = −P(c_s = c* | c_s ≠ c̄) otherwise (a = 0 when VARIANCE = 0). The identity is exact for
    any number of classes and any choice of ``c̄``.

    Examples
    --------
    Mode wrong (B), one of four samples right, one says C:

    >>> d = zero_one_decomposition([[1, 1, 0, 2]], [0])
    >>> float(d.bias[0]), float(d.variance[0]), float(d.coefficient[0]), float(d.error[0])
    (1.0, 0.5, -0.5, 0.75)

    Stated probabilities: two samples lean B, one is sure of A. The mode of the argmaxes is B, but the mean
    ``(0.633, 0.367)`` favours A, the correct option, so there is no bias:

    >>> p = [[[0.45, 0.55], [0.45, 0.55], [1.0, 0.0]]]
    >>> d = zero_one_decomposition([[1, 1, 0]], [0], probs=p)
    >>> float(d.bias[0]), round(float(d.variance[0]), 4), round(float(d.error[0]), 4)
    (0.0, 0.6667, 0.6667)
    """
    a = np.asarray(answers)
    if a.ndim != 2 or not np.issubdtype(a.dtype, np.integer):
        raise ValueError(f"answers: expected an integer array (n_questions, n_samples), got {a.dtype} {a.shape}")
    Q, S = a.shape
    m = check_mask(mask, (Q, S))
    p = None
    if probs is not None:
        p = check_probs(probs)
        if p.shape[:2] != (Q, S):
            raise ValueError(f"probs: expected shape ({Q}, {S}, n_classes) to match answers, got {p.shape}")
        C = p.shape[2]
    else:
        C = infer_n_classes(a, m, targets) if n_options is None else int(np.max(n_options))
    k = resolve_n_options(n_options, Q, C)
    cm = class_mask(k, C)
    if np.any(m & ((a < -1) | (a >= k[:, None]))):
        raise ValueError("answers: expected values in [−1, n_options) per question")
    t = check_targets(targets, Q, k)
    n = m.sum(axis=1).astype(np.float64)
    counts = answer_counts(a, m, C)
    mode = np.argmax(np.where(cm, counts, -1.0), axis=1)  # exact: integer counts cannot tie by round-off
    if p is not None:
        check_distributions(p, m, cm)
        valid = m & (a >= 0)
        soft = not_one_hot(p, valid).any(axis=1)  # (Q,) questions whose mean is not a vote count
        if soft.any():
            mean = (
                np.einsum("qsc->qc", np.where(valid[..., None], p, 0.0)) / n[:, None]
            )  # invalid rows are uniform: left out
            mean = np.where(cm, mean, -np.inf)
            top = mean.max(axis=1, keepdims=True)
            mean_mode = np.argmax(mean >= top - _TIE_TOL, axis=1)  # first (lowest) index within the tolerance
            mode = np.where(soft, mean_mode, mode)
    p_mode = np.take_along_axis(counts, mode[:, None], axis=1)[:, 0] / n
    p_true = np.take_along_axis(counts, t[:, None], axis=1)[:, 0] / n
    bias = (mode != t).astype(np.float64)
    variance = 1.0 - p_mode
    error = 1.0 - p_true
    with np.errstate(divide="ignore", invalid="ignore"):
        coef = np.where(bias == 0, 1.0, np.where(variance > 0, -p_true / variance, 0.0))
    return ZeroOneDecomposition(bias=bias, variance=variance, error=error, coefficient=coef)
