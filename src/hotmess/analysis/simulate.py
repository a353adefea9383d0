"""A simulator of sampled models whose bias and variance are known by construction (for method checks).

Every analysis in :mod:`hotmess.analysis` is checked against samples from this simulator: a model whose
variance grows as a known power of reasoning length must give that exponent back, ensembles of a simulated
model must show variance ∝ 1/E, simulated model sizes with known bias and variance exponents must give those
exponents back. Users can do the same before trusting an analysis on their own data.

The designed quantities are the *population* Brier terms of each question (what the estimators converge to
as the number of samples grows): ``bias = ‖y − m‖²`` and ``variance = E‖f − m‖²`` where ``m`` is the mean
prediction and ``f`` one sample's probability vector. With the unbiased variance correction
(``unbiased=True`` in the Brier decomposition) the per-question estimates are unbiased for them.

Two sample kinds are produced:

``"answers"``
    Each sample is one extracted answer drawn from a categorical distribution ``p`` (what a model that
    writes ``Answer: X`` gives). Then ``variance = 1 − Σ p²`` and ``error = 2 (1 − p[c*])``, so a question's
    incoherence is at least its accuracy: a mostly-right question can only fail by variance. ``p`` puts
    ``a = 1 − error/2`` on the correct option, ``b`` on one favourite wrong option and spreads the rest over
    the other wrong options; ``b`` is solved for the variance.
``"probs"``
    Each sample states a probability vector ``f = (1 − λ) m + λ e_k`` with ``k ~ m``: a fixed belief ``m``
    plus a random jolt towards one option. Then ``E f = m`` and ``variance = λ² (1 − Σ m²)``. ``m`` puts
    ``1 − t`` on the correct option and ``t`` on the wrong ones (uniformly, or partly concentrated on one);
    ``t`` is solved for the bias and ``λ`` for the variance. Averaging ``E`` samples divides the variance by
    ``E`` exactly and leaves the bias unchanged.

Examples
--------
>>> df = simulate_samples([0.5, 0.2], [0.3, 0.4], kind="probs", lengths=[100, 400], rng=0)
>>> len(df), sorted(df["question_id"].unique())
(60, ['q0000', 'q0001'])
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from hotmess.data.schema import COLUMNS

__all__ = ["design_answers", "design_probs", "simulate_samples"]

_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def design_answers(bias: float, variance: float, *, n_options: int = 4) -> NDArray[np.float64]:
    """Answer distribution ``p`` (correct option first) with the given population Brier bias and variance.

    Parameters
    ----------
    bias, variance
        Target Brier terms of one question (non-negative).
    n_options
        Number of options C ≥ 3.

    Returns
    -------
    ndarray of shape ``(n_options,)``
        ``p = [a, b, r, …, r]`` with ``a = 1 − (bias + variance)/2``.

    Raises
    ------
    ValueError
        If no such distribution exists: the variance must lie in ``[2a(1 − a), 1 − a² − (1 − a)²/(C − 1)]``.

    Examples
    --------
    >>> p = design_answers(0.5, 0.5)
    >>> float(p[0]), round(float(1 - (p**2).sum()), 6)
    (0.5, 0.5)
    """
    if n_options < 3:
        raise ValueError(f"n_options: expected at least 3 for the answers design, got {n_options}")
    if bias < 0 or variance < 0:
        raise ValueError(f"bias, variance: expected non-negative values, got {bias}, {variance}")
    a = 1.0 - (bias + variance) / 2.0
    if not 0.0 <= a <= 1.0:
        raise ValueError(f"bias + variance: expected at most 2 for one-hot answers, got {bias + variance}")
    rest = 1.0 - a
    k = n_options - 2
    lo, hi = 2.0 * a * rest, 1.0 - a * a - rest * rest / (n_options - 1)
    if not lo - 1e-12 <= variance <= hi + 1e-12:
        raise ValueError(
            f"variance: with bias {bias:.4g} one-hot answers allow variance in [{lo:.4g}, {hi:.4g}], got {variance:.4g}"
        )
    # variance = 1 − a² − b² − (rest − b)²/k, solved for b ≥ rest/(C−1) (the larger root).
    qa, qb, qc = 1.0 + 1.0 / k, -2.0 * rest / k, rest * rest / k + a * a + variance - 1.0
    disc = max(qb * qb - 4.0 * qa * qc, 0.0)
    b = min(max((-qb + np.sqrt(disc)) / (2.0 * qa), rest / (n_options - 1)), rest)
    return np.array([a, b] + [(rest - b) / k] * k, dtype=np.float64)


def design_probs(
    bias: float, variance: float, *, n_options: int = 4, wrong_concentration: float = 0.0
) -> tuple[NDArray[np.float64], float]:
    """Mean belief ``m`` (correct option first) and jolt size ``λ`` with the given population Brier terms.

    Parameters
    ----------
    bias, variance
        Target Brier terms of one question (non-negative).
    n_options
        Number of options C ≥ 2.
    wrong_concentration
        Share κ ∈ [0, 1] of the wrong mass put on one favourite wrong option (the rest is uniform over
        the wrong options). Larger κ allows larger biases.

    Returns
    -------
    m : ndarray of shape ``(n_options,)``
    lam : float
        ``λ`` in [0, 1].

    Raises
    ------
    ValueError
        If the bias exceeds what ``m`` can reach, or the variance exceeds ``1 − Σ m²``.

    Examples
    --------
    >>> m, lam = design_probs(0.3, 0.2)
    >>> round(float(((np.eye(4)[0] - m) ** 2).sum()), 6), round(lam**2 * (1 - float((m**2).sum())), 6)
    (0.3, 0.2)
    """
    if n_options < 2:
        raise ValueError(f"n_options: expected at least 2, got {n_options}")
    if bias < 0 or variance < 0:
        raise ValueError(f"bias, variance: expected non-negative values, got {bias}, {variance}")
    if not 0.0 <= wrong_concentration <= 1.0:
        raise ValueError(f"wrong_concentration: expected a value in [0, 1], got {wrong_concentration}")
    w = np.full(n_options - 1, (1.0 - wrong_concentration) / (n_options - 1))
    w[0] += wrong_concentration
    t = float(np.sqrt(bias / (1.0 + float(w @ w))))
    if t > 1.0 + 1e-12:
        raise ValueError(
            f"bias: at most {1.0 + float(w @ w):.4g} is reachable with wrong_concentration "
            f"{wrong_concentration}, got {bias:.4g}"
        )
    t = min(t, 1.0)
    m = np.concatenate([[1.0 - t], t * w])
    room = 1.0 - float(m @ m)
    if variance > room + 1e-12:
        raise ValueError(f"variance: with bias {bias:.4g} at most {room:.4g} is reachable, got {variance:.4g}")
    lam = 0.0 if variance == 0 else float(min(np.sqrt(variance / room), 1.0))
    return m, lam


def _per_sample(x: ArrayLike | None, Q: int, S: int, name: str, default: float | None = None) -> NDArray[np.float64]:
    if x is None:
        if default is None:
            raise ValueError(f"{name}: required")
        return np.full((Q, S), default, dtype=np.float64)
    a = np.asarray(x, dtype=np.float64)
    if a.ndim == 0:
        return np.full((Q, S), float(a))
    if a.shape == (Q,):
        return np.repeat(a[:, None], S, axis=1)
    if a.shape == (Q, S):
        return a
    raise ValueError(f"{name}: expected a number, shape ({Q},) or ({Q}, {S}), got {a.shape}")


def simulate_samples(
    bias: ArrayLike,
    variance: ArrayLike,
    *,
    kind: str = "probs",
    lengths: ArrayLike | None = None,
    length_noise: float = 0.1,
    n_contexts: int = 10,
    samples_per_context: int = 3,
    n_options: int = 4,
    wrong_concentration: float = 0.0,
    context_stickiness: float = 0.0,
    markers: ArrayLike | None = None,
    invalid_rate: float = 0.0,
    model: str = "sim",
    task: str = "sim",
    budget: str = "",
    question_ids: Sequence[str] | None = None,
    rng: np.random.Generator | int | None = None,
) -> pd.DataFrame:
    """Samples in the hotmess schema from questions with designed population Brier bias and variance.

    Parameters
    ----------
    bias, variance
        Shape ``(Q,)`` (one design per question) or ``(Q, S)`` (one per sample, e.g. to give the longer half
        of a question's samples a different design), ``S = n_contexts × samples_per_context``.
    kind
        ``"probs"`` (samples state probability vectors) or ``"answers"`` (one-hot answers); see the module.
    lengths
        Expected output tokens, shape ``()``, ``(Q,)`` or ``(Q, S)``; default 100.
    length_noise
        Each sample's length is ``lengths × exp(N(0, length_noise²))``, rounded, at least 1.
    n_contexts, samples_per_context
        Layout of the ``S`` samples per question (context ids and sample indices).
    n_options
        Options per question. The correct option is drawn at random per question; the design's options are
        permuted accordingly.
    wrong_concentration
        See :func:`design_probs` (``kind="probs"`` only).
    context_stickiness
        Probability ρ that a sample reuses its context's random draw (so its answer is the context's answer
        when the design is the same): ρ = 1 makes answers depend on the context only; ρ = 0 makes every sample
        independent. The marginal distribution of each sample is unchanged.
    markers
        Backtracking markers ("Wait,") written into each sample's raw output: shape ``()``, ``(Q,)`` or
        ``(Q, S)`` of counts; default none.
    invalid_rate
        Share of samples turned into unparseable outputs (uniform vectors); they change the decomposition.
    model, task, budget, question_ids
        Labels written into the table (question ids default to ``q0000``, ``q0001``, …).
    rng
        Seed or generator.

    Returns
    -------
    DataFrame
        One row per sample with every column of :data:`hotmess.data.COLUMNS`.
    """
    gen = np.random.default_rng(rng)
    b0 = np.atleast_1d(np.asarray(bias, dtype=np.float64))
    Q = b0.shape[0]
    S = n_contexts * samples_per_context
    if Q == 0 or S == 0:
        raise ValueError("bias: expected at least one question and one sample")
    B = _per_sample(bias, Q, S, "bias")
    V = _per_sample(variance, Q, S, "variance")
    L = _per_sample(lengths, Q, S, "lengths", 100.0)
    K = _per_sample(markers, Q, S, "markers", 0.0).round().astype(np.int64)
    if kind not in ("probs", "answers"):
        raise ValueError(f"kind: expected 'probs' or 'answers', got {kind!r}")
    if not 0.0 <= context_stickiness <= 1.0:
        raise ValueError(f"context_stickiness: expected a value in [0, 1], got {context_stickiness}")
    designs: dict[tuple[float, float], tuple[NDArray[np.float64], float]] = {}
    M = np.empty((Q, S, n_options))
    lam = np.empty((Q, S))
    for q in range(Q):
        for s in range(S):
            key = (float(B[q, s]), float(V[q, s]))
            if key not in designs:
                if kind == "answers":
                    designs[key] = (design_answers(*key, n_options=n_options), 1.0)
                else:
                    designs[key] = design_probs(*key, n_options=n_options, wrong_concentration=wrong_concentration)
            M[q, s], lam[q, s] = designs[key]
    # Put the correct option at a random position per question (design order: correct first).
    correct: NDArray[np.int64] = np.asarray(gen.integers(0, n_options, size=Q), dtype=np.int64)
    idx = (np.arange(n_options)[None, :] - correct[:, None]) % n_options  # option o shows design (o − c)
    M = np.take_along_axis(M, idx[:, None, :], axis=2)
    ctx = np.arange(S) // samples_per_context
    u_ctx = gen.random((Q, n_contexts))[:, ctx]
    u = np.where(gen.random((Q, S)) < context_stickiness, u_ctx, gen.random((Q, S)))
    cdf = np.cumsum(M, axis=2)
    k = np.minimum((u[..., None] >= cdf).sum(axis=2), n_options - 1)  # (Q, S) option drawn
    probs = (1.0 - lam)[..., None] * M
    np.put_along_axis(probs, k[..., None], np.take_along_axis(probs, k[..., None], axis=2) + lam[..., None], axis=2)
    invalid = gen.random((Q, S)) < invalid_rate
    tokens = np.maximum(np.rint(L * np.exp(gen.normal(0.0, length_noise, (Q, S)))), 1).astype(np.int64)
    answers = probs.argmax(axis=2)
    qids = list(question_ids) if question_ids is not None else [f"q{i:04d}" for i in range(Q)]
    if len(qids) != Q:
        raise ValueError(f"question_ids: expected {Q} ids, got {len(qids)}")
    rows = []
    for q in range(Q):
        for s in range(S):
            bad = bool(invalid[q, s])
            letter = _LETTERS[int(answers[q, s])]
            text = f"Let me think step by step ({int(tokens[q, s])} tokens). " + "Wait, " * int(K[q, s])
            text += "I am not sure." if bad else f"Answer: {letter}"
            rows.append(
                {
                    "run_id": "",
                    "model": model,
                    "task": task,
                    "question_id": qids[q],
                    "context_id": int(ctx[s]),
                    "sample_index": int(s % samples_per_context),
                    "budget": budget,
                    "seed": int(q * S + s),
                    "n_options": n_options,
                    "correct": int(correct[q]),
                    "answer": -1 if bad else int(answers[q, s]),
                    "probs": None if bad or kind == "answers" else [float(x) for x in probs[q, s]],
                    "valid": not bad,
                    "raw_output": text,
                    "output_tokens": int(tokens[q, s]),
                    "length_source": "tokenizer",  # an exact per-sample count, by construction
                    "finish_reason": "stop",
                    "reasoning_tokens": None,
                    "actions": None,
                    "test_outcomes": None,
                    "embedding": None,
                    "error": None,
                    "created_at": 0.0,
                }
            )
    df = pd.DataFrame(rows, columns=list(COLUMNS))
    for c in ("seed", "output_tokens", "reasoning_tokens", "actions"):
        df[c] = df[c].astype("Int64")
    return df
