"""Decompositions from per-question sufficient statistics (sums over samples), for data past memory.

A database engine (DuckDB, Spark; see :mod:`hotmess.data.engines`) reduces any number of samples to a few
sums per question and option; these functions turn the sums into the same per-question bias, variance and
error as :func:`hotmess.metrics.decompose` computes from the samples themselves (equal up to float round-off).

Every sample has a probability vector f over the question's k options: one-hot for an answer, uniform (1/k)
for an invalid answer, the stated vector for probability samples. The statistics are

- ``n``, ``n_invalid``: samples, invalid samples; ``n_options`` (k) and ``targets`` per question;
- ``counts[c]``: valid samples whose answer is c (one-hot and probability samples alike);
- ``hot[c]``: valid one-hot samples answering c;
- over valid probability samples: ``n_probs``, ``sum_p[c]`` = Σ f_c, ``sum_log[c]`` = Σ log(f_c + δ),
  ``sum_sq`` = Σ ‖f‖², and ``n_sharp`` = how many have an entry ≥ 1 − 1e-12 (one-hot in all but name).

From them, with k the options: Σ_s f_c = hot[c] + sum_p[c] + n_invalid/k; Σ_s log(f_c + δ) = hot[c]·log(1 + δ)
+ (n_hot − hot[c])·log δ + sum_log[c] + n_invalid·log(1/k + δ); Σ_s ‖f_s‖² = n_hot + sum_sq + n_invalid/k. KL,
Brier, 0/1 and hard-KL follow as in their modules. The corrected KL (jackknife) needs one-hot samples only:
leave-one-out values depend only on the left-out sample's type (an option, or invalid).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from hotmess.metrics._types import Decomposition
from hotmess.metrics.estimators import resolve_estimator
from hotmess.metrics.kl import DEFAULT_DELTA
from hotmess.metrics.zero_one import ZeroOneDecomposition

if TYPE_CHECKING:
    from hotmess.metrics.arrays import SampleArrays

__all__ = ["ChoiceStats", "decompose_stats"]

_TIE_TOL = 1e-12


@dataclass(frozen=True)
class ChoiceStats:
    """Sufficient statistics of Q questions with up to C options (see the module docstring).

    ``delta`` is the δ that ``sum_log`` was computed with (KL needs the same δ).
    """

    n: NDArray[np.int64]
    n_invalid: NDArray[np.int64]
    n_options: NDArray[np.int64]
    targets: NDArray[np.int64]
    counts: NDArray[np.int64]
    hot: NDArray[np.int64]
    n_probs: NDArray[np.int64]
    sum_p: NDArray[np.float64]
    sum_log: NDArray[np.float64]
    sum_sq: NDArray[np.float64]
    n_sharp: NDArray[np.int64]
    delta: float = DEFAULT_DELTA

    @classmethod
    def of_answers(cls, arrays: SampleArrays, delta: float = DEFAULT_DELTA) -> ChoiceStats:
        """The statistics of extracted answers (``arrays.hard``): option counts, one pass per option.

        Examples
        --------
        >>> from hotmess.metrics.arrays import SampleArrays
        >>> s = ChoiceStats.of_answers(SampleArrays.from_answers([[0, 1, -1]], [0], n_classes=3))
        >>> s.counts.tolist(), s.n.tolist(), s.n_invalid.tolist()
        ([[1, 1, 0]], [3], [1])
        """
        if not arrays.hard:
            raise ValueError("arrays: statistics of answers need extracted answers, not probability vectors")
        Q, C = len(arrays.targets), arrays.n_classes
        counts = np.empty((Q, C), dtype=np.int64)
        for c in range(C):  # answers are −1 where invalid or absent, so only valid samples count
            counts[:, c] = np.count_nonzero(arrays.answers == c, axis=1)
        n = arrays.n_samples
        zeros_qc = np.zeros((Q, C))
        return cls(
            n=n,
            n_invalid=n - counts.sum(axis=1),
            n_options=arrays.n_options,
            targets=arrays.targets,
            counts=counts,
            hot=counts,
            n_probs=np.zeros(Q, dtype=np.int64),
            sum_p=zeros_qc,
            sum_log=zeros_qc,
            sum_sq=np.zeros(Q),
            n_sharp=np.zeros(Q, dtype=np.int64),
            delta=delta,
        )

    @property
    def n_questions(self) -> int:
        """Q."""
        return len(self.n)

    def _cm(self) -> NDArray[np.bool_]:
        C = self.counts.shape[1]
        return np.arange(C)[None, :] < self.n_options[:, None]

    def mean_f(self) -> NDArray[np.float64]:
        """Mean probability vector over samples, (Q, C) (invalid samples uniform)."""
        k = self.n_options.astype(np.float64)
        tot = self.hot + self.sum_p + (self.n_invalid / k)[:, None]
        return np.where(self._cm(), tot, 0.0) / self.n[:, None]

    def hard_accuracy(self) -> NDArray[np.float64]:
        """Share of samples answering the correct option (invalid = wrong), (Q,)."""
        return np.take_along_axis(self.counts, self.targets[:, None], axis=1)[:, 0] / self.n

    def expected_accuracy(self) -> NDArray[np.float64]:
        """Mean probability on the correct option, (Q,)."""
        return np.take_along_axis(self.mean_f(), self.targets[:, None], axis=1)[:, 0]

    @property
    def soft(self) -> NDArray[np.bool_]:
        """(Q,) True where some valid sample states a probability vector that is not one-hot."""
        return (self.n_probs - self.n_sharp) > 0


def _sum_log(s: ChoiceStats, delta: float) -> NDArray[np.float64]:
    if not np.isclose(delta, s.delta, rtol=0, atol=0):
        raise ValueError(f"delta: the statistics were computed with δ={s.delta}, not {delta}")
    k = s.n_options.astype(np.float64)
    n_hot = s.hot.sum(axis=1).astype(np.float64)
    out = (
        s.hot * np.log1p(delta)
        + (n_hot[:, None] - s.hot) * np.log(delta)
        + s.sum_log
        + (s.n_invalid * np.log(1.0 / k + delta))[:, None]
    )
    return np.where(s._cm(), out, 0.0)


def _logsumexp(g: NDArray[np.float64], cm: NDArray[np.bool_]) -> NDArray[np.float64]:
    gm = np.where(cm, g, -np.inf)
    mx = gm.max(axis=-1, keepdims=True)
    return (mx + np.log(np.exp(gm - mx).sum(axis=-1, keepdims=True)))[..., 0]


def _kl(s: ChoiceStats, delta: float, corrected: bool) -> Decomposition:
    n = s.n.astype(np.float64)
    cm = s._cm()
    sum_g = _sum_log(s, delta)
    log_norm = np.log1p(s.n_options * delta)
    g = sum_g / n[:, None] - log_norm[:, None]
    logZ = _logsumexp(g, cm)
    error = -np.take_along_axis(g, s.targets[:, None], axis=1)[:, 0]
    variance = np.maximum(-logZ, 0.0)
    if corrected:
        if np.any(s.n_probs > 0):
            raise ValueError(
                "estimator: the corrected KL from statistics needs one-hot answers; "
                "probability samples need the in-memory path"
            )
        C = s.counts.shape[1]
        k = s.n_options.astype(np.float64)
        # the log-vector of each sample type: option c (one-hot), or invalid (uniform)
        hot_log = np.where(np.eye(C, dtype=bool)[None, :, :], np.log1p(delta), np.log(delta))  # (1, C, C)
        inv_log = np.log(1.0 / k + delta)[:, None]  # (Q, 1)
        loo_hot = (sum_g[:, None, :] - hot_log) / (n[:, None, None] - 1.0) - log_norm[:, None, None]  # (Q, C, C)
        v_hot = -_logsumexp(loo_hot, cm[:, None, :])  # (Q, C)
        loo_inv = (sum_g - inv_log) / (n[:, None] - 1.0) - log_norm[:, None]
        v_inv = -_logsumexp(loo_inv, cm)  # (Q,)
        mean_loo = (np.where(s.hot > 0, s.hot * v_hot, 0.0).sum(axis=1) + s.n_invalid * v_inv) / n
        variance = n * variance - (n - 1.0) * mean_loo
    return Decomposition(bias=error - variance, variance=variance, error=error)


def _brier(s: ChoiceStats, corrected: bool) -> Decomposition:
    n = s.n.astype(np.float64)
    k = s.n_options.astype(np.float64)
    m2 = (s.hot.sum(axis=1) + s.sum_sq + s.n_invalid / k) / n
    mean = s.mean_f()
    mean_true = np.take_along_axis(mean, s.targets[:, None], axis=1)[:, 0]
    mean_sq = np.einsum("qc,qc->q", mean, mean)
    error = m2 - 2.0 * mean_true + 1.0
    variance = np.maximum(m2 - mean_sq, 0.0)
    if corrected:
        variance = variance * n / (n - 1.0)
        bias = error - variance
    else:
        bias = mean_sq - 2.0 * mean_true + 1.0
    return Decomposition(bias=bias, variance=variance, error=error)


def _zero_one(s: ChoiceStats) -> ZeroOneDecomposition:
    n = s.n.astype(np.float64)
    cm = s._cm()
    counts = s.counts.astype(np.float64)
    mode = np.argmax(np.where(cm, counts, -1.0), axis=1)
    soft = s.soft
    if soft.any():
        mean = np.where(cm, (s.hot + s.sum_p) / n[:, None], -np.inf)
        top = mean.max(axis=1, keepdims=True)
        mode = np.where(soft, np.argmax(mean >= top - _TIE_TOL, axis=1), mode)
    p_mode = np.take_along_axis(counts, mode[:, None], axis=1)[:, 0] / n
    p_true = np.take_along_axis(counts, s.targets[:, None], axis=1)[:, 0] / n
    bias = (mode != s.targets).astype(np.float64)
    variance = 1.0 - p_mode
    error = 1.0 - p_true
    with np.errstate(divide="ignore", invalid="ignore"):
        coef = np.where(bias == 0, 1.0, np.where(variance > 0, -p_true / variance, 0.0))
    return ZeroOneDecomposition(bias=bias, variance=variance, error=error, coefficient=coef)


def _hard_kl(s: ChoiceStats) -> Decomposition:
    if np.any(s.soft):
        raise ValueError("hard-kl needs one-hot answers; some samples hold probability vectors — use kl or brier")
    n = s.n.astype(np.float64)
    f = np.where(s._cm(), s.counts, -1.0) / n[:, None]
    f_mode = np.maximum(f.max(axis=1), s.n_invalid / n)
    f_true = np.take_along_axis(f, s.targets[:, None], axis=1)[:, 0]
    return Decomposition(bias=f_mode - f_true, variance=1.0 - f_mode, error=1.0 - f_true)


def decompose_stats(
    stats: ChoiceStats,
    metric: str = "kl",
    *,
    delta: float = DEFAULT_DELTA,
    estimator: str = "plugin",
) -> Decomposition | ZeroOneDecomposition:
    """Per-question decomposition from sufficient statistics; equals :func:`hotmess.metrics.decompose`.

    Parameters
    ----------
    stats
        The statistics (see :class:`ChoiceStats`).
    metric
        "kl", "brier", "zero-one" or "hard-kl".
    delta
        KL smoothing δ; must be the δ the statistics were computed with.
    estimator
        "plugin" or "corrected" (kl and brier; needs ≥ 2 samples per question).

    Examples
    --------
    Two samples of a two-option question, one right (A) and one wrong (B), as statistics:

    >>> one = np.array([1])
    >>> s = ChoiceStats(n=np.array([2]), n_invalid=np.array([0]), n_options=np.array([2]), targets=np.array([0]),
    ...                 counts=np.array([[1, 1]]), hot=np.array([[1, 1]]), n_probs=np.array([0]),
    ...                 sum_p=np.zeros((1, 2)), sum_log=np.zeros((1, 2)), sum_sq=np.zeros(1), n_sharp=np.array([0]))
    >>> d = decompose_stats(s, "brier")
    >>> float(d.bias[0]), float(d.variance[0]), float(d.error[0])
    (0.5, 0.5, 1.0)
    """
    est = resolve_estimator(metric, estimator)
    if est == "corrected":
        if metric not in ("kl", "brier"):
            raise ValueError(f"estimator: 'corrected' is defined for kl and brier, not {metric}")
        if int(stats.n.min()) < 2:
            raise ValueError("estimator: 'corrected' needs at least 2 samples per question")
    if metric == "kl":
        return _kl(stats, delta, est == "corrected")
    if metric == "brier":
        return _brier(stats, est == "corrected")
    if metric == "zero-one":
        return _zero_one(stats)
    if metric == "hard-kl":
        return _hard_kl(stats)
    raise ValueError(f"metric: expected kl, brier, zero-one or hard-kl, got {metric!r}")
