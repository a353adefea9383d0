"""A deliberately naive, per-question reference implementation of the SPEC §1 formulas.

Plain Python loops over questions, samples and classes, written straight from the formulas in
/work/shared/SPEC.md without looking at the vectorised code's tricks (no log-sum-exp identity, no masks,
no broadcasting). The vectorised functions in :mod:`hotmess.metrics` must agree with it on random ragged
data; the benchmark uses it as the slow baseline.

Every ``*_question`` function takes one question's samples as Python lists; the ``naive_*`` wrappers walk
dense ``(Q, S, ...)`` arrays with a mask one question and one sample at a time.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

Triple = tuple[float, float, float]  # (bias, variance, error)


# -- one question ----------------------------------------------------------------------------------------------
def one_hot_vector(answer: int, n_options: int) -> list[float]:
    """SPEC §1: one-hot on the extracted answer; an invalid answer (−1) is the uniform vector 1/C."""
    if answer < 0:
        return [1.0 / n_options] * n_options
    return [1.0 if c == answer else 0.0 for c in range(n_options)]


def kl_question(samples: Sequence[Sequence[float]], target: int, delta: float) -> Triple:
    """KL decomposition with the normalized geometric mean, computed literally.

    f̂_s = (f_s + δ)/(1 + Cδ); f̄[c] ∝ exp(mean_s log f̂_s[c]); ERROR = mean_s −log f̂_s[c*];
    BIAS = −log f̄[c*]; VARIANCE = mean_s KL(f̄ ‖ f̂_s) = mean_s Σ_c f̄[c] log(f̄[c] / f̂_s[c]).
    """
    n = len(samples)
    C = len(samples[0])
    smoothed = [[(f[c] + delta) / (1.0 + C * delta) for c in range(C)] for f in samples]
    g = [sum(math.log(s[c]) for s in smoothed) / n for c in range(C)]
    top = max(g)  # shift before exponentiating so tiny δ cannot underflow every class
    unnorm = [math.exp(gc - top) for gc in g]
    total = sum(unnorm)
    fbar = [u / total for u in unnorm]
    error = sum(-math.log(s[target]) for s in smoothed) / n
    bias = -math.log(fbar[target])
    variance = 0.0
    for s in smoothed:
        kl = 0.0
        for c in range(C):
            if fbar[c] > 0.0:
                kl += fbar[c] * math.log(fbar[c] / s[c])
        variance += kl
    variance /= n
    return bias, variance, error


def brier_question(samples: Sequence[Sequence[float]], target: int, *, unbiased: bool = False) -> Triple:
    """Brier decomposition about the arithmetic mean (optionally with the n/(n−1) variance correction)."""
    n = len(samples)
    C = len(samples[0])
    y = [1.0 if c == target else 0.0 for c in range(C)]
    mean = [sum(f[c] for f in samples) / n for c in range(C)]
    error = sum(sum((y[c] - f[c]) ** 2 for c in range(C)) for f in samples) / n
    variance = sum(sum((f[c] - mean[c]) ** 2 for c in range(C)) for f in samples) / n
    if unbiased:
        variance = variance * n / (n - 1)
        bias = error - variance
    else:
        bias = sum((y[c] - mean[c]) ** 2 for c in range(C))
    return bias, variance, error


def zero_one_question(
    answers: Sequence[int], target: int, n_options: int, samples: Sequence[Sequence[float]] | None = None
) -> tuple[float, float, float, float]:
    """Domingos 0/1: (bias, variance, error, a). Main prediction: argmax of the mean prediction, ties lowest.

    Invalid answers (−1) are uniform, so they never move the main prediction, are never it and are never right.
    With ``samples`` (the probability vectors) and a valid one that is not one-hot, the main prediction is the
    argmax of their arithmetic mean (entries within 1e-12 of the top tie); otherwise it is the vote mode.
    """
    n = len(answers)
    soft = samples is not None and any(a >= 0 and max(f) < 1.0 - 1e-12 for a, f in zip(answers, samples, strict=True))
    if soft:
        assert samples is not None
        mean = [sum(f[c] for f in samples) / n for c in range(n_options)]
        top = max(mean)
        mode = min(c for c in range(n_options) if mean[c] >= top - 1e-12)
    else:
        counts = [0] * n_options
        for a in answers:
            if a >= 0:
                counts[a] += 1
        mode = 0
        for c in range(n_options):
            if counts[c] > counts[mode]:
                mode = c
    bias = 0.0 if mode == target else 1.0
    variance = sum(1 for a in answers if a != mode) / n
    error = sum(1 for a in answers if a != target) / n
    if mode == target:
        coef = 1.0
    else:
        off_mode = [a for a in answers if a != mode]
        coef = -(sum(1 for a in off_mode if a == target) / len(off_mode)) if off_mode else 0.0
    return bias, variance, error, coef


def hard_kl_question(answers: Sequence[int], target: int, n_options: int) -> Triple:
    """δ→0 limit of KL/(−log δ) with "no answer" as its own outcome that is never correct.

    f_c = share of samples answering option c; f_inv = share invalid; f_mode = max(max_c f_c, f_inv);
    (BIAS, VARIANCE, ERROR) = (f_mode − f_c*, 1 − f_mode, 1 − f_c*).
    """
    n = len(answers)
    f = [sum(1 for a in answers if a == c) / n for c in range(n_options)]
    f_inv = sum(1 for a in answers if a < 0) / n
    f_mode = max(*f, f_inv)
    return f_mode - f[target], 1.0 - f_mode, 1.0 - f[target]


def test_vector_task(runs: Sequence[Sequence[float]]) -> Triple:
    """Unit-test outcome vectors, target all-pass: per-test mean over runs, then averages over cells."""
    R = len(runs)
    T = len(runs[0])
    ybar = [sum(r[j] for r in runs) / R for j in range(T)]
    error = sum((1.0 - r[j]) ** 2 for r in runs for j in range(T)) / (R * T)
    bias = sum((1.0 - ybar[j]) ** 2 for j in range(T)) / T
    variance = sum((r[j] - ybar[j]) ** 2 for r in runs for j in range(T)) / (R * T)
    return bias, variance, error


test_vector_task.__test__ = False  # type: ignore[attr-defined]  # not a pytest test


# -- dense arrays, walked one question and one sample at a time ---------------------------------------------
def _questions(probs, mask, n_options):
    Q = len(probs)
    for q in range(Q):
        k = int(n_options[q])
        rows = [[float(probs[q][s][c]) for c in range(k)] for s in range(len(probs[q])) if mask[q][s]]
        yield q, k, rows


def naive_kl(probs, targets, mask, n_options, delta):
    """Per-question KL triples as three lists (bias, variance, error)."""
    out = [kl_question(rows, int(targets[q]), delta) for q, _k, rows in _questions(probs, mask, n_options)]
    return tuple(list(x) for x in zip(*out, strict=True))


def naive_brier(probs, targets, mask, n_options, *, unbiased=False):
    out = [
        brier_question(rows, int(targets[q]), unbiased=unbiased) for q, _k, rows in _questions(probs, mask, n_options)
    ]
    return tuple(list(x) for x in zip(*out, strict=True))


def _answer_lists(answers, mask):
    return [[int(answers[q][s]) for s in range(len(answers[q])) if mask[q][s]] for q in range(len(answers))]


def naive_zero_one(answers, targets, mask, n_options, probs=None):
    lists = _answer_lists(answers, mask)
    if probs is None:
        out = [zero_one_question(a, int(targets[q]), int(n_options[q])) for q, a in enumerate(lists)]
    else:
        rows = [r for _q, _k, r in _questions(probs, mask, n_options)]
        out = [zero_one_question(a, int(targets[q]), int(n_options[q]), rows[q]) for q, a in enumerate(lists)]
    return tuple(list(x) for x in zip(*out, strict=True))


def naive_hard_kl(answers, targets, mask, n_options):
    out = [hard_kl_question(a, int(targets[q]), int(n_options[q])) for q, a in enumerate(_answer_lists(answers, mask))]
    return tuple(list(x) for x in zip(*out, strict=True))


def naive_test_vectors(outcomes, run_mask, test_mask):
    out = []
    for q in range(len(outcomes)):
        runs = [
            [float(outcomes[q][r][j]) for j in range(len(outcomes[q][r])) if test_mask[q][j]]
            for r in range(len(outcomes[q]))
            if run_mask[q][r]
        ]
        out.append(test_vector_task(runs))
    return tuple(list(x) for x in zip(*out, strict=True))


def kohavi_wolpert(answers: Sequence[int], target: int, n_options: int) -> tuple[float, float]:
    """Kohavi–Wolpert (1996) bias² and variance of one-hot votes (zero noise).

    With vote shares p̂_c: bias² = ½ Σ_c (1{c = c*} − p̂_c)², variance = ½ (1 − Σ_c p̂_c²).
    """
    n = len(answers)
    share = [sum(1 for a in answers if a == c) / n for c in range(n_options)]
    bias2 = 0.5 * sum(((1.0 if c == target else 0.0) - share[c]) ** 2 for c in range(n_options))
    variance = 0.5 * (1.0 - sum(p * p for p in share))
    return bias2, variance
