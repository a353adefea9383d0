"""Input checks and dense-array preparation shared by the decompositions (private)."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "answer_counts",
    "check_mask",
    "check_probs",
    "check_targets",
    "class_mask",
    "infer_n_classes",
    "not_one_hot",
    "resolve_n_options",
]

_PROB_TOL = 1e-6
ONE_HOT_TOL = 1e-12
"""A probability vector counts as one-hot when its largest entry is at least ``1 − ONE_HOT_TOL``."""


def check_probs(probs: ArrayLike, name: str = "probs") -> NDArray[np.float64]:
    """Return ``probs`` as a float64 array of shape (Q, S, C) or raise a ValueError naming the problem."""
    p = np.asarray(probs, dtype=np.float64)
    if p.ndim != 3:
        raise ValueError(f"{name}: expected shape (n_questions, n_samples, n_classes), got shape {p.shape}")
    if p.shape[0] == 0 or p.shape[1] == 0:
        raise ValueError(f"{name}: expected at least one question and one sample, got shape {p.shape}")
    if p.shape[2] < 2:
        raise ValueError(f"{name}: expected at least 2 classes, got {p.shape[2]}")
    return p


def check_mask(mask: ArrayLike | None, shape: tuple[int, int], *, min_samples: int = 1) -> NDArray[np.bool_]:
    """Sample mask of shape (Q, S); all True when ``mask`` is None. Every question needs ``min_samples``."""
    if mask is None:
        m = np.ones(shape, dtype=bool)
    else:
        m = np.asarray(mask)
        if m.shape != shape:
            raise ValueError(f"mask: expected shape {shape} (n_questions, n_samples), got {m.shape}")
        if m.dtype != np.bool_:
            raise ValueError(f"mask: expected a boolean array, got dtype {m.dtype}")
    counts = m.sum(axis=1)
    if np.any(counts < min_samples):
        bad = int(np.argmin(counts))
        n_bad = int((counts < min_samples).sum())
        raise ValueError(
            f"mask: every question needs at least {min_samples} sample(s); {n_bad} question(s) have fewer "
            f"(question {bad} has {int(counts[bad])})"
        )
    return m


def check_targets(targets: ArrayLike, n_questions: int, n_options: NDArray[np.int64]) -> NDArray[np.int64]:
    """Correct option per question, shape (Q,), each in [0, n_options[q])."""
    t = np.asarray(targets)
    if t.shape != (n_questions,):
        raise ValueError(f"targets: expected shape ({n_questions},), got {t.shape}")
    if not np.issubdtype(t.dtype, np.integer):
        raise ValueError(f"targets: expected integer class indices, got dtype {t.dtype}")
    t = t.astype(np.int64)
    bad = (t < 0) | (t >= n_options)
    if np.any(bad):
        q = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"targets: expected values in [0, n_options) per question; question {q} has target {int(t[q])} "
            f"with {int(n_options[q])} options"
        )
    return t


def resolve_n_options(n_options: ArrayLike | int | None, n_questions: int, n_classes: int) -> NDArray[np.int64]:
    """Per-question number of options, shape (Q,), each in [2, n_classes]."""
    if n_options is None:
        return np.full(n_questions, n_classes, dtype=np.int64)
    k = np.asarray(n_options)
    if k.ndim == 0:
        k = np.full(n_questions, int(k), dtype=np.int64)
    if k.shape != (n_questions,):
        raise ValueError(f"n_options: expected an int or shape ({n_questions},), got {k.shape}")
    k = k.astype(np.int64)
    if np.any((k < 2) | (k > n_classes)):
        raise ValueError(f"n_options: expected values in [2, {n_classes}], got min {k.min()} max {k.max()}")
    return k


def class_mask(n_options: NDArray[np.int64], n_classes: int) -> NDArray[np.bool_]:
    """(Q, C) mask of the classes that exist for each question."""
    return np.arange(n_classes)[None, :] < n_options[:, None]


def check_distributions(p: NDArray[np.float64], sample_mask: NDArray[np.bool_], cmask: NDArray[np.bool_]) -> None:
    """Raise unless each masked-in row is a probability vector supported on its question's classes.

    Whole-array checks first (cheap); masked-out padding is only inspected when a whole-array check fails.
    Reductions over the short class axis go through ``einsum`` (plain ``sum(axis=-1)`` is several times slower).
    """
    finite = np.isfinite(p)
    if not finite.all():
        if np.any(sample_mask & ~finite.all(axis=-1)):
            raise ValueError("probs: found NaN or infinite values in masked-in samples (use one_hot for invalid)")
        p = np.where(finite, p, 0.0)  # only padding is non-finite
    if p.min() < -_PROB_TOL:
        neg = np.where(sample_mask[..., None], p, 0.0)
        if neg.min() < -_PROB_TOL:
            raise ValueError(f"probs: found negative probability {neg.min():.3g}")
    sums = np.einsum("qsc->qs", p)
    dev = np.where(sample_mask, np.abs(sums - 1.0), 0.0)
    if dev.max() > _PROB_TOL:
        i = np.unravel_index(int(np.argmax(dev)), dev.shape)
        raise ValueError(f"probs: each sample must sum to 1 over its classes; found a sum of {sums[i]:.6g}")
    if not cmask.all():
        outside = np.abs(p) > _PROB_TOL
        if np.any(outside & (~cmask)[:, None, :] & sample_mask[..., None]):
            raise ValueError("probs: found probability mass on classes beyond a question's n_options")


def infer_n_classes(answers: NDArray[np.int64], mask: NDArray[np.bool_], targets: ArrayLike) -> int:
    """Number of classes implied by the answers and (integer) targets when n_options is not given (≥ 2)."""
    t = np.asarray(targets)
    t_max = int(np.max(t, initial=-1)) if np.issubdtype(t.dtype, np.integer) else -1
    return max(int(np.max(np.where(mask, answers, -1), initial=-1)) + 1, t_max + 1, 2)


def answer_counts(answers: NDArray[np.int64], mask: NDArray[np.bool_], n_classes: int) -> NDArray[np.float64]:
    """(Q, C) number of masked-in samples answering each class; invalid (−1) and padding count nowhere."""
    Q = answers.shape[0]
    live = mask & (answers >= 0)
    flat = (np.arange(Q)[:, None] * n_classes + answers)[live]  # one bincount instead of a slow np.add.at
    return np.bincount(flat, minlength=Q * n_classes).reshape(Q, n_classes).astype(np.float64)


def not_one_hot(p: NDArray[np.float64], live: NDArray[np.bool_]) -> NDArray[np.bool_]:
    """(Q, S) True where a ``live`` sample's vector is not one-hot (largest entry below ``1 − ONE_HOT_TOL``)."""
    top = p.max(axis=-1)  # (Q, S); NaN in padding compares False and is masked out by ``live``
    return live & ~(top >= 1.0 - ONE_HOT_TOL)
