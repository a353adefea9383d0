"""KL (cross-entropy) decomposition with the normalized geometric mean, and its δ→0 "hard" limit."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from hotmess.metrics._constants import DEFAULT_DELTA
from hotmess.metrics._types import Decomposition
from hotmess.metrics._validate import (
    answer_counts,
    check_distributions,
    check_mask,
    check_probs,
    check_targets,
    class_mask,
    infer_n_classes,
    resolve_n_options,
)

__all__ = ["DEFAULT_DELTA", "hard_kl_decomposition", "kl_decomposition"]


def _prepare(
    probs: ArrayLike,
    targets: ArrayLike,
    mask: ArrayLike | None,
    n_options: ArrayLike | int | None,
    *,
    min_samples: int = 1,
):
    p = check_probs(probs)
    Q, S, C = p.shape
    m = check_mask(mask, (Q, S), min_samples=min_samples)
    k = resolve_n_options(n_options, Q, C)
    cm = class_mask(k, C)
    check_distributions(p, m, cm)
    t = check_targets(targets, Q, k)
    return p, t, m, k, cm


def _logsumexp_masked(g: NDArray[np.float64], cm: NDArray[np.bool_]) -> NDArray[np.float64]:
    """log Σ_c exp(g[..., c]) over the classes in ``cm`` (broadcast on the leading axes)."""
    gm = np.where(cm, g, -np.inf)
    mx = gm.max(axis=-1, keepdims=True)
    return (mx + np.log(np.exp(gm - mx).sum(axis=-1, keepdims=True)))[..., 0]


def kl_decomposition(
    probs: ArrayLike,
    targets: ArrayLike,
    *,
    mask: ArrayLike | None = None,
    n_options: ArrayLike | int | None = None,
    delta: float = DEFAULT_DELTA,
    jackknife: bool = False,
) -> Decomposition:
    """Per-question KL bias-variance decomposition of the cross-entropy error.

    Parameters
    ----------
    probs
        ``(n_questions, n_samples, n_classes)`` probability vectors (one-hot answers, uniform for invalid —
        see :func:`one_hot`).
    targets
        ``(n_questions,)`` correct option index.
    mask
        ``(n_questions, n_samples)`` bool, True where a sample exists (ragged sample counts).
    n_options
        Options per question (int or ``(n_questions,)``); classes beyond it are ignored. Default: all.
    delta
        Laplace smoothing δ > 0. The numbers depend on it (one-hot errors scale like −log δ).
    jackknife
        Replace the plug-in variance by its leave-one-sample-out jackknife estimate
        ``n·V − (n−1)·mean_s V₍₋ₛ₎`` (less biased for few samples); bias becomes ERROR − VARIANCE.
        Needs at least 2 samples per question.

    Returns
    -------
    Decomposition
        ``bias``, ``variance``, ``error`` of shape ``(n_questions,)`` with ``error = bias + variance``.

    Notes
    -----
    Smoothing ``f̂ = (f + δ)/(1 + Cδ)``; ``g = mean_s log f̂_s``; mean prediction is the normalized
    geometric mean ``f̄ ∝ exp(g)``; with ``Z = Σ_c exp(g_c)``:
    ERROR = mean_s −log f̂_s[c*],  BIAS = −log f̄[c*] = −g[c*] + log Z,  VARIANCE = mean_s KL(f̄‖f̂_s) = −log Z.
    Variance does not depend on the correct option.

    Examples
    --------
    Two samples, one right and one wrong, on a two-option question: the geometric mean is uniform, so
    BIAS = log 2 and VARIANCE = −log 2 − ½ log δ:

    >>> d = kl_decomposition([[[1.0, 0.0], [0.0, 1.0]]], [0], delta=1e-6)
    >>> round(float(d.bias[0]), 6), round(float(d.variance[0]), 3), round(float(d.error[0]), 3)
    (0.693147, 6.215, 6.908)
    """
    if not (delta > 0 and np.isfinite(delta)):
        raise ValueError(f"delta: expected a finite positive number, got {delta!r}")
    p, t, m, k, cm = _prepare(probs, targets, mask, n_options, min_samples=2 if jackknife else 1)
    n = m.sum(axis=1).astype(np.float64)  # (Q,)
    logf = np.maximum(p, 0.0)  # (Q, S, C); round-off negatives (tolerated by validation) must not reach the log
    logf += delta
    np.log(logf, out=logf)  # log(f + δ); the constant −log(1 + Cδ) of f̂ is applied after averaging
    if not m.all():
        logf[~m] = 0.0
    sum_g = np.einsum("qsc->qc", logf)  # (Q, C); einsum: several times faster than sum(axis=1)
    log_norm = np.log1p(k * delta)  # (Q,)
    g = sum_g / n[:, None] - log_norm[:, None]
    logZ = _logsumexp_masked(g, cm)  # (Q,)
    g_true = np.take_along_axis(g, t[:, None], axis=1)[:, 0]
    error = -g_true
    variance = np.maximum(-logZ, 0.0)  # −log Z ≥ 0 exactly; clip float round-off
    if jackknife:
        g_loo = (sum_g[:, None, :] - logf) / (n[:, None, None] - 1.0) - log_norm[:, None, None]  # (Q, S, C)
        v_loo = -_logsumexp_masked(g_loo, cm[:, None, :])  # (Q, S)
        mean_loo = np.where(m, v_loo, 0.0).sum(axis=1) / n
        variance = n * variance - (n - 1.0) * mean_loo
    bias = error - variance
    return Decomposition(bias=bias, variance=variance, error=error)


def hard_kl_decomposition(
    answers: ArrayLike,
    targets: ArrayLike,
    *,
    mask: ArrayLike | None = None,
    n_options: ArrayLike | int | None = None,
) -> Decomposition:
    """The δ→0 limit of the KL decomposition for one-hot answers, divided by −log δ.

    Parameters
    ----------
    answers
        ``(n_questions, n_samples)`` 0-based answers, −1 for invalid. Only for one-hot answers: stated
        probabilities have no hard limit (use :func:`kl_decomposition` or :func:`brier_decomposition`).
    targets
        ``(n_questions,)`` correct option index.
    mask, n_options
        As in :func:`kl_decomposition`.

    Returns
    -------
    Decomposition
        ``bias = f_mode − f_c*``, ``variance = 1 − f_mode``, ``error = 1 − f_c*``.

    Notes
    -----
    An invalid answer is its own "no answer" outcome, which is never correct. With ``f_c`` the share of
    samples answering option ``c`` and ``f_inv`` the share of invalid samples,
    ``f_mode = max(max_c f_c, f_inv)``; ERROR = 1 − f_c*, VARIANCE = 1 − f_mode, BIAS = f_mode − f_c*.
    This is the δ→0 limit of KL/(−log δ) when an invalid answer is scored as one-hot on an extra
    "no answer" outcome — it puts no mass on any option — rather than as uniform (a uniform vector
    contradicts no option, so in the limit it would agree with every one and a model that never answers
    would have zero error). Consistently unparseable output is bias: all invalid gives (1, 0, 1).
    These add up across questions, unlike the 0/1 decomposition.

    Examples
    --------
    >>> d = hard_kl_decomposition([[0, 1, 1, 2]], [0])
    >>> float(d.bias[0]), float(d.variance[0]), float(d.error[0])
    (0.25, 0.5, 0.75)

    Two right answers and one invalid: the invalid sample is wrong, and it is not the mode.

    >>> d = hard_kl_decomposition([[0, 0, -1]], [0], n_options=2)
    >>> [round(float(x[0]), 4) for x in (d.bias, d.variance, d.error)]
    [0.0, 0.3333, 0.3333]
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
    n = m.sum(axis=1)
    counts = answer_counts(a, m, C)  # (Q, C); invalid samples count towards no option
    n_invalid = (m & (a < 0)).sum(axis=1)
    f = np.where(class_mask(k, C), counts, -1.0) / n[:, None]
    f_mode = np.maximum(f.max(axis=1), n_invalid / n)
    f_true = np.take_along_axis(f, t[:, None], axis=1)[:, 0]
    return Decomposition(bias=f_mode - f_true, variance=1.0 - f_mode, error=1.0 - f_true)
