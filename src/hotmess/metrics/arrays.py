"""Dense per-question arrays: the input every decomposition and aggregate works on."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
from numpy.typing import ArrayLike, NDArray

from hotmess.metrics._validate import (
    check_distributions,
    check_mask,
    check_targets,
    class_mask,
    not_one_hot,
    resolve_n_options,
)

__all__ = ["SampleArrays", "one_hot"]


def one_hot(answers: ArrayLike, n_classes: int, *, n_options: ArrayLike | int | None = None) -> NDArray[np.float64]:
    """Probability vectors for extracted answers; invalid answers (−1) become uniform.

    Parameters
    ----------
    answers
        Integer array ``(n_questions, n_samples)`` of 0-based answers, −1 for invalid.
    n_classes
        Width ``C`` of the output (the largest number of options).
    n_options
        Options per question (int or ``(n_questions,)``); an invalid answer is uniform over its question's
        options. Defaults to ``n_classes`` for every question.

    Returns
    -------
    ndarray of shape ``(n_questions, n_samples, n_classes)``

    Examples
    --------
    >>> one_hot([[0, -1]], 3).round(3).tolist()
    [[[1.0, 0.0, 0.0], [0.333, 0.333, 0.333]]]
    """
    a = np.asarray(answers)
    if a.ndim != 2:
        raise ValueError(f"answers: expected shape (n_questions, n_samples), got {a.shape}")
    if not np.issubdtype(a.dtype, np.integer):
        raise ValueError(f"answers: expected integer class indices (−1 = invalid), got dtype {a.dtype}")
    k = resolve_n_options(n_options, a.shape[0], n_classes)
    if np.any((a < -1) | (a >= k[:, None])):
        raise ValueError("answers: expected values in [−1, n_options) per question")
    cm = class_mask(k, n_classes)
    # Look the rows up in a table (one gather, much faster than scattering ones): rows 0..C−1 are one-hot,
    # row −1 is uniform over all C classes; invalid answers of questions with fewer options are fixed after.
    table = np.vstack([np.eye(n_classes), np.full((1, n_classes), 1.0 / n_classes)])
    out = np.take(table, a, axis=0)  # (Q, S, C)
    fix = np.flatnonzero((a < 0) & (k < n_classes)[:, None])
    if fix.size:
        out.reshape(-1, n_classes)[fix] = (cm / k[:, None])[fix // a.shape[1]]
    return out


@dataclass(frozen=True)
class SampleArrays:
    """Samples of Q questions as dense arrays, ragged sample counts handled by a mask.

    Attributes
    ----------
    probs
        ``(Q, S, C)`` per-sample probability vectors (one-hot for extracted answers, uniform for invalid). For
        extracted answers (:attr:`hard`) it is built on first use: the decompositions work from option counts
        and never need it, so ten million answers do not hold a ``(Q, S, C)`` array.
    answers
        ``(Q, S)`` 0-based answers, −1 where invalid (for probability samples: the argmax).
    targets
        ``(Q,)`` correct option per question.
    mask
        ``(Q, S)`` True where a sample exists.
    n_options
        ``(Q,)`` options per question (≤ C).
    valid
        ``(Q, S)`` True where an answer or probability vector was extracted.

    Examples
    --------
    >>> arr = SampleArrays.from_answers([[0, 0, 1]], [0], n_classes=2)
    >>> arr.n_samples.tolist(), arr.hard_accuracy().round(3).tolist()
    ([3], [0.667])
    """

    answers: NDArray[np.int64]
    targets: NDArray[np.int64]
    mask: NDArray[np.bool_]
    n_options: NDArray[np.int64]
    valid: NDArray[np.bool_]
    n_classes: int
    stated: NDArray[np.float64] | None = field(default=None, repr=False, compare=False)
    """The probability vectors given to :meth:`from_probs`; None for extracted answers (see :attr:`hard`)."""

    @classmethod
    def from_answers(
        cls,
        answers: ArrayLike,
        targets: ArrayLike,
        *,
        n_classes: int | None = None,
        n_options: ArrayLike | int | None = None,
        mask: ArrayLike | None = None,
    ) -> SampleArrays:
        """Build from extracted answers ``(Q, S)`` (−1 invalid) and targets ``(Q,)``."""
        a = np.asarray(answers)
        if a.ndim != 2:
            raise ValueError(f"answers: expected shape (n_questions, n_samples), got {a.shape}")
        if n_classes is None:
            if n_options is not None:
                n_classes = int(np.max(n_options))
            else:
                n_classes = max(int(np.max(a, initial=-1)) + 1, int(np.max(targets, initial=-1)) + 1, 2)
        k = resolve_n_options(n_options, a.shape[0], n_classes)
        m = check_mask(mask, a.shape)
        a = np.where(m, a, -1).astype(np.int64, copy=False)
        if np.any((a < -1) | (a >= k[:, None])):
            raise ValueError("answers: expected values in [−1, n_options) per question")
        t = check_targets(targets, a.shape[0], k)
        return cls(answers=a, targets=t, mask=m, n_options=k, valid=(a >= 0) & m, n_classes=int(n_classes))

    @classmethod
    def from_probs(
        cls,
        probs: ArrayLike,
        targets: ArrayLike,
        *,
        n_options: ArrayLike | int | None = None,
        mask: ArrayLike | None = None,
        valid: ArrayLike | None = None,
    ) -> SampleArrays:
        """Build from probability vectors ``(Q, S, C)``; rows marked invalid are replaced by uniform."""
        p = np.asarray(probs, dtype=np.float64)
        if p.ndim != 3:
            raise ValueError(f"probs: expected shape (n_questions, n_samples, n_classes), got {p.shape}")
        Q, S, C = p.shape
        k = resolve_n_options(n_options, Q, C)
        m = check_mask(mask, (Q, S))
        v = m.copy() if valid is None else (np.asarray(valid, dtype=bool) & m)
        cm = class_mask(k, C)
        uniform = np.broadcast_to((cm / k[:, None])[:, None, :], p.shape)
        p = np.where(v[..., None], p, uniform)
        p = np.where(m[..., None], p, 0.0)
        check_distributions(p, m, cm)
        t = check_targets(targets, Q, k)
        answers = np.where(v, np.argmax(p, axis=-1), -1).astype(np.int64)
        return cls(answers=answers, targets=t, mask=m, n_options=k, valid=v, n_classes=C, stated=p)

    @property
    def hard(self) -> bool:
        """True when built from extracted answers: every sample one-hot or invalid (uniform)."""
        return self.stated is None

    @cached_property
    def probs(self) -> NDArray[np.float64]:
        """``(Q, S, C)`` probability vectors: the stated ones, or one-hot answers (invalid: uniform)."""
        if self.stated is not None:
            return self.stated
        return one_hot(self.answers, self.n_classes, n_options=self.n_options)

    @property
    def n_samples(self) -> NDArray[np.int64]:
        """Samples per question, shape (Q,)."""
        return self.mask.sum(axis=1)

    @property
    def n_invalid(self) -> NDArray[np.int64]:
        """Invalid samples per question, shape (Q,)."""
        return (self.mask & ~self.valid).sum(axis=1)

    @property
    def soft(self) -> NDArray[np.bool_]:
        """(Q, S) True for valid samples whose probability vector is not one-hot (largest entry < 1 − 1e-12).

        Such samples are stated probabilities; metrics defined on hard answers (``hard-kl``) refuse them.

        Examples
        --------
        >>> SampleArrays.from_probs([[[1.0, 0.0], [0.6, 0.4]]], [0]).soft.tolist()
        [[False, True]]
        """
        if self.hard:
            return np.zeros(self.mask.shape, dtype=bool)
        return not_one_hot(self.probs, self.valid)

    def hard_accuracy(self) -> NDArray[np.float64]:
        """Share of samples whose answer is the correct option (invalid counts as wrong), shape (Q,)."""
        hit = (self.answers == self.targets[:, None]) & self.valid
        return hit.sum(axis=1) / self.n_samples

    def expected_accuracy(self) -> NDArray[np.float64]:
        """Mean probability on the correct option (invalid → 1/C), shape (Q,)."""
        if self.hard:  # 1 for the correct answer, 0 for another, 1/k for an invalid one — without building probs
            right = (self.answers == self.targets[:, None]).astype(np.float64)
            pc = np.where(self.valid, right, (1.0 / self.n_options)[:, None])
        else:
            pc = np.take_along_axis(self.probs, self.targets[:, None, None], axis=2)[..., 0]
        return np.where(self.mask, pc, 0.0).sum(axis=1) / self.n_samples
