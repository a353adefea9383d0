"""The vectorised decompositions agree with the naive per-question loops (tests/metrics/naive.py)."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

from hotmess.metrics import (
    SampleArrays,
    brier_decomposition,
    decompose,
    hard_kl_decomposition,
    kl_decomposition,
    test_vector_decomposition,
    zero_one_decomposition,
)
from tests.metrics.naive import (
    brier_question,
    kl_question,
    naive_brier,
    naive_hard_kl,
    naive_kl,
    naive_test_vectors,
    naive_zero_one,
    one_hot_vector,
)
from tests.metrics.ragged import random_ragged

SEEDS = range(6)


def _data(seed: int):
    rng = np.random.default_rng(seed)
    return random_ragged(rng, n_questions=40, max_samples=12, n_classes=5)


def _as_triple(d):
    return [d.bias, d.variance, d.error]


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("delta", [1e-12, 1e-4, 0.3])
def test_kl_matches_naive(seed, delta):
    r = _data(seed)
    d = kl_decomposition(r.probs, r.targets, mask=r.mask, n_options=r.n_options, delta=delta)
    expected = naive_kl(r.probs, r.targets, r.mask, r.n_options, delta)
    assert_allclose(_as_triple(d), expected, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("unbiased", [False, True])
def test_brier_matches_naive(seed, unbiased):
    r = _data(seed)
    mask = r.mask
    if unbiased:  # needs two samples per question: drop the single-sample questions
        keep = mask.sum(axis=1) >= 2
        r = type(r)(r.probs[keep], r.answers[keep], r.targets[keep], mask[keep], r.n_options[keep])
    d = brier_decomposition(r.probs, r.targets, mask=r.mask, n_options=r.n_options, unbiased=unbiased)
    expected = naive_brier(r.probs, r.targets, r.mask, r.n_options, unbiased=unbiased)
    assert_allclose(_as_triple(d), expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("seed", SEEDS)
def test_zero_one_matches_naive(seed):
    r = _data(seed)
    d = zero_one_decomposition(r.answers, r.targets, mask=r.mask, n_options=r.n_options)
    bias, var, err, coef = naive_zero_one(r.answers, r.targets, r.mask, r.n_options)
    assert_allclose([d.bias, d.variance, d.error, d.coefficient], [bias, var, err, coef], rtol=1e-12, atol=1e-12)
    assert_allclose(d.bias + d.coefficient * d.variance, d.error, atol=1e-12)


@pytest.mark.parametrize("seed", SEEDS)
def test_zero_one_with_probability_samples_matches_naive(seed):
    # About 40% of the questions hold stated probabilities (answers = their argmax): c̄ = argmax of the mean.
    r = _data(seed)
    d = zero_one_decomposition(r.answers, r.targets, mask=r.mask, n_options=r.n_options, probs=r.probs)
    bias, var, err, coef = naive_zero_one(r.answers, r.targets, r.mask, r.n_options, r.probs)
    assert_allclose([d.bias, d.variance, d.error, d.coefficient], [bias, var, err, coef], atol=1e-12)
    arr = SampleArrays.from_probs(r.probs, r.targets, n_options=r.n_options, mask=r.mask, valid=r.answers >= 0)
    assert_allclose(_as_triple(decompose(arr, "zero-one")), [bias, var, err], atol=1e-12)


@pytest.mark.parametrize("seed", SEEDS)
def test_hard_kl_matches_naive(seed):
    r = _data(seed)
    d = hard_kl_decomposition(r.answers, r.targets, mask=r.mask, n_options=r.n_options)
    assert_allclose(_as_triple(d), naive_hard_kl(r.answers, r.targets, r.mask, r.n_options), atol=1e-12)


@pytest.mark.parametrize("seed", SEEDS)
def test_test_vectors_match_naive(seed):
    rng = np.random.default_rng(100 + seed)
    Q, R, T = 25, 7, 6
    y = (rng.random((Q, R, T)) < rng.random((Q, 1, T))).astype(float)
    run_mask = rng.random((Q, R)) < 0.7
    run_mask[:, 0] = True
    test_mask = rng.random((Q, T)) < 0.6
    test_mask[np.arange(Q), rng.integers(0, T, Q)] = True
    y[~run_mask] = np.nan  # padding must never be read
    y[~np.broadcast_to(test_mask[:, None, :], y.shape)] = np.nan
    d = test_vector_decomposition(y, run_mask=run_mask, test_mask=test_mask)
    assert_allclose(_as_triple(d), naive_test_vectors(y, run_mask, test_mask), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("seed", SEEDS[:3])
def test_decompose_on_sample_arrays_matches_naive_one_hot(seed):
    # Answers only, through the public container: the naive side builds its own one-hot / uniform vectors.
    r = _data(seed)
    answers = np.where(r.mask, r.answers, -1)
    arr = SampleArrays.from_answers(answers, r.targets, n_options=r.n_options, mask=r.mask)
    expected = {"kl": [], "brier": []}
    for q in range(len(answers)):
        k = int(r.n_options[q])
        rows = [one_hot_vector(int(a), k) for a, m in zip(answers[q], r.mask[q], strict=True) if m]
        expected["kl"].append(kl_question(rows, int(r.targets[q]), 1e-6))
        expected["brier"].append(brier_question(rows, int(r.targets[q])))
    for metric, rows in expected.items():
        d = decompose(arr, metric, delta=1e-6)
        assert_allclose(_as_triple(d), np.array(rows).T, rtol=1e-9, atol=1e-9)
    d = decompose(arr, "hard-kl")
    assert_allclose(_as_triple(d), naive_hard_kl(r.answers, r.targets, r.mask, r.n_options), atol=1e-12)
