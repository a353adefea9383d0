"""Random ragged multiple-choice data for agreement tests and the benchmark."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

MASKED_ANSWER = 99
"""Value placed in masked-out answer slots: any code that reads it would fail loudly."""


@dataclass(frozen=True)
class Ragged:
    """Dense arrays of Q questions with ragged sample counts and per-question numbers of options."""

    probs: NDArray[np.float64]  # (Q, S, C); NaN in masked-out slots; uniform (over k) for invalid samples
    answers: NDArray[np.int64]  # (Q, S); −1 invalid; MASKED_ANSWER in masked-out slots
    targets: NDArray[np.int64]  # (Q,)
    mask: NDArray[np.bool_]  # (Q, S)
    n_options: NDArray[np.int64]  # (Q,)


def random_ragged(
    rng: np.random.Generator,
    n_questions: int,
    max_samples: int,
    n_classes: int,
    *,
    p_invalid: float = 0.15,
    p_prob_question: float = 0.4,
    ragged: bool = True,
) -> Ragged:
    """Questions with 1..max_samples samples at random slots, 2..n_classes options, some invalid answers.

    A share ``p_prob_question`` of questions carry stated probability vectors (Dirichlet) instead of one-hot
    answers; their ``answers`` are the argmax. Each question's answers follow its own random preference so
    that some questions are coherent and some are a mess.
    """
    Q, S, C = n_questions, max_samples, n_classes
    k = rng.integers(2, C + 1, size=Q) if ragged else np.full(Q, C)
    targets = rng.integers(0, k)
    if ragged:
        n = rng.integers(1, S + 1, size=Q)
        order = np.argsort(rng.random((Q, S)), axis=1)  # random slots, not a prefix
        mask = np.zeros((Q, S), dtype=bool)
        for q in range(Q):
            mask[q, order[q, : n[q]]] = True
    else:
        mask = np.ones((Q, S), dtype=bool)
    classes = np.arange(C)
    live = classes[None, :] < k[:, None]  # (Q, C)
    alpha = rng.choice([0.1, 0.5, 2.0], size=Q)  # per-question spread of the preference
    pref = rng.gamma(alpha[:, None], size=(Q, C)) * live + 1e-9 * live
    pref /= pref.sum(axis=1, keepdims=True)
    cum = np.cumsum(pref, axis=1)
    u = rng.random((Q, S))
    answers = (u[..., None] > cum[:, None, :]).sum(axis=-1).astype(np.int64)
    answers = np.minimum(answers, k[:, None] - 1)
    answers[rng.random((Q, S)) < p_invalid] = -1

    probs = np.zeros((Q, S, C))
    qi, si = np.nonzero(answers >= 0)
    probs[qi, si, answers[qi, si]] = 1.0
    uniform = live / k[:, None]
    probs[answers < 0] = uniform[np.nonzero(answers < 0)[0]]
    stated = rng.random(Q) < p_prob_question
    if stated.any():
        conc = rng.gamma(np.full((Q, S, C), 0.7)) * live[:, None, :]
        conc /= conc.sum(axis=-1, keepdims=True)
        probs[stated] = conc[stated]
        arg = np.argmax(probs, axis=-1)
        invalid = answers < 0
        answers[stated] = arg[stated]
        keep = stated[:, None] & invalid  # an unparseable <PROB> block is still invalid → uniform
        probs[keep] = uniform[np.nonzero(keep)[0]]
        answers[keep] = -1
    probs[~mask] = np.nan
    answers[~mask] = MASKED_ANSWER
    return Ragged(probs=probs, answers=answers, targets=targets, mask=mask, n_options=k)
