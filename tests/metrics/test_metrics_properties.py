"""Identities and invariances of the decompositions (hypothesis), plus simulated statistical properties."""

from __future__ import annotations

import math

import hypothesis.extra.numpy as hnp
import numpy as np
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from hotmess.metrics import (
    SampleArrays,
    brier_decomposition,
    decompose,
    hard_kl_decomposition,
    kl_decomposition,
    one_hot,
    test_vector_decomposition,
    zero_one_decomposition,
)
from tests.metrics.naive import kohavi_wolpert

PROPS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
DELTAS = st.sampled_from([1e-12, 1e-6, 0.1])
UNIT = st.floats(0.0, 1.0)


@st.composite
def sample_sets(draw, *, one_hot_only: bool = False):
    """(probs (Q,S,C), targets (Q,), mask (Q,S)): random vectors, one-hot answers (−1 = uniform), or a mix."""
    Q = draw(st.integers(1, 4))
    S = draw(st.integers(1, 7))
    C = draw(st.integers(2, 5))
    answers = draw(hnp.arrays(np.int64, (Q, S), elements=st.integers(-1, C - 1)))
    hot = one_hot(answers, C)
    if one_hot_only:
        probs = hot
    else:
        raw = draw(hnp.arrays(np.float64, (Q, S, C), elements=st.floats(0.0, 1.0, allow_subnormal=False)))
        sums = raw.sum(axis=-1, keepdims=True)
        dense = np.where(sums > 0, raw / np.where(sums > 0, sums, 1.0), 1.0 / C)
        use_hot = draw(hnp.arrays(np.bool_, (Q, S)))
        probs = np.where(use_hot[..., None], hot, dense)
    targets = draw(hnp.arrays(np.int64, (Q,), elements=st.integers(0, C - 1)))
    mask = draw(hnp.arrays(np.bool_, (Q, S)))
    first = draw(hnp.arrays(np.int64, (Q,), elements=st.integers(0, S - 1)))
    mask[np.arange(Q), first] = True  # every question keeps at least one sample
    return probs, targets, mask


def _kl_reference(probs, targets, mask, delta):
    """Bias and variance straight from the definitions (normalized geometric mean, explicit KL), vectorised."""
    C = probs.shape[-1]
    fhat = (probs + delta) / (1 + C * delta)
    logf = np.where(mask[..., None], np.log(fhat), 0.0)
    g = logf.sum(axis=1) / mask.sum(axis=1)[:, None]
    fbar = np.exp(g - g.max(axis=1, keepdims=True))
    fbar /= fbar.sum(axis=1, keepdims=True)
    bias = -np.log(fbar[np.arange(len(targets)), targets])
    kl_s = (fbar[:, None, :] * (np.log(fbar)[:, None, :] - np.log(fhat))).sum(axis=-1)
    variance = np.where(mask, kl_s, 0.0).sum(axis=1) / mask.sum(axis=1)
    return bias, variance


# ------------------------------------------------------------------------------------- identities
@PROPS
@given(sample_sets(), DELTAS)
def test_kl_error_is_bias_plus_variance(data, delta):
    probs, targets, mask = data
    d = kl_decomposition(probs, targets, mask=mask, delta=delta)
    bias, variance = _kl_reference(probs, targets, mask, delta)
    assert_allclose(d.bias, bias, atol=1e-9, rtol=1e-9)
    assert_allclose(d.variance, variance, atol=1e-9, rtol=1e-9)
    assert_allclose(d.error, bias + variance, atol=1e-9, rtol=1e-9)  # ERROR = KL(y‖f̄) + mean KL(f̄‖f̂)


@PROPS
@given(sample_sets(), st.booleans())
def test_brier_error_is_bias_plus_variance(data, unbiased):
    probs, targets, mask = data
    if unbiased:
        assume(mask.sum(axis=1).min() >= 2)
    d = brier_decomposition(probs, targets, mask=mask, unbiased=unbiased)
    assert_allclose(d.error, d.bias + d.variance, atol=1e-9)
    if not unbiased:
        assert np.all(d.bias >= 0) and np.all(d.variance >= 0)


@PROPS
@given(sample_sets(), st.data())
def test_variance_does_not_depend_on_the_correct_option(data, draw):
    probs, targets, mask = data
    C = probs.shape[-1]
    other = draw.draw(hnp.arrays(np.int64, targets.shape, elements=st.integers(0, C - 1)))
    for fn in (kl_decomposition, brier_decomposition):
        assert_allclose(fn(probs, targets, mask=mask).variance, fn(probs, other, mask=mask).variance, rtol=1e-13)


@PROPS
@given(sample_sets(), st.data())
def test_sample_order_is_irrelevant(data, draw):
    probs, targets, mask = data
    perm = np.array(draw.draw(st.permutations(range(probs.shape[1]))))
    for fn in (kl_decomposition, brier_decomposition):
        a = fn(probs, targets, mask=mask)
        b = fn(probs[:, perm], targets, mask=mask[:, perm])
        for x, y in ((a.bias, b.bias), (a.variance, b.variance), (a.error, b.error)):
            assert_allclose(x, y, rtol=1e-9, atol=1e-12)
    answers = np.where(mask, np.argmax(probs, axis=-1), -1)
    a = hard_kl_decomposition(answers, targets, mask=mask, n_options=probs.shape[-1])
    b = hard_kl_decomposition(answers[:, perm], targets, mask=mask[:, perm], n_options=probs.shape[-1])
    assert_allclose([a.bias, a.variance, a.error], [b.bias, b.variance, b.error])


@PROPS
@given(sample_sets(), DELTAS)
def test_incoherence_lies_in_unit_interval(data, delta):
    probs, targets, mask = data
    kl = kl_decomposition(probs, targets, mask=mask, delta=delta)
    assert 0.0 <= kl.incoherence <= 1.0
    br = brier_decomposition(probs, targets, mask=mask)
    assume(float(br.error.sum()) > 0)
    assert 0.0 <= br.incoherence <= 1.0


@PROPS
@given(
    st.integers(1, 4).flatmap(
        lambda C: st.tuples(
            st.just(C + 1),
            hnp.arrays(np.int64, st.tuples(st.integers(1, 4), st.integers(1, 9)), elements=st.integers(0, C)),
        )
    ),
    st.data(),
)
def test_brier_of_one_hot_votes_is_twice_kohavi_wolpert(case, draw):
    C, answers = case
    targets = draw.draw(hnp.arrays(np.int64, (answers.shape[0],), elements=st.integers(0, C - 1)))
    d = brier_decomposition(one_hot(answers, C), targets)
    for q in range(answers.shape[0]):
        kw_bias, kw_var = kohavi_wolpert(answers[q].tolist(), int(targets[q]), C)
        assert math.isclose(d.bias[q], 2 * kw_bias, abs_tol=1e-12)
        assert math.isclose(d.variance[q], 2 * kw_var, abs_tol=1e-12)
        assert math.isclose(d.error[q], 2 * (kw_bias + kw_var), abs_tol=1e-12)


@PROPS
@given(sample_sets(one_hot_only=True))
def test_kl_over_minus_log_delta_approaches_the_hard_limit(data):
    # The hard view scores an invalid answer as its own "no answer" outcome: one-hot on an extra class C that
    # is never the target. On those C + 1 outcomes, finite-δ corrections are O(log(C + 1)) per question (ties
    # add up to log(C + 1) to the variance), so |KL/(−log δ) − hard| ≤ 2 log(C + 1)/(−log δ) → 0 as δ → 0.
    probs, targets, mask = data
    C = probs.shape[-1]
    answers = np.where(np.isclose(probs.max(axis=-1), 1.0), np.argmax(probs, axis=-1), -1)
    hard = hard_kl_decomposition(answers, targets, mask=mask, n_options=C)
    assert_allclose(hard.error, hard.bias + hard.variance, atol=1e-12)
    extended = one_hot(np.where(answers < 0, C, answers), C + 1)  # invalid → the "no answer" class
    gaps = []
    for delta in (1e-10, 1e-50, 1e-300):
        d = kl_decomposition(extended, targets, mask=mask, delta=delta)
        scale = -math.log(delta)
        gap = max(
            np.max(np.abs(d.bias / scale - hard.bias)),
            np.max(np.abs(d.variance / scale - hard.variance)),
            np.max(np.abs(d.error / scale - hard.error)),
        )
        assert gap <= 2 * math.log(C + 1) / scale + 1e-12
        gaps.append(gap)
    assert gaps[2] <= 0.01  # δ = 1e-300: within 1% of the hard numbers
    assert gaps[2] <= gaps[0] + 1e-12


@PROPS
@given(sample_sets(one_hot_only=True), st.data())
def test_hard_kl_terms_are_shares_and_invalid_answers_only_add_error(data, draw):
    # 0 ≤ bias, variance ≤ 1, error = bias + variance; turning a right answer into an invalid one never lowers
    # the error (before issue 10 an invalid answer counted as right).
    probs, targets, mask = data
    C = probs.shape[-1]
    answers = np.where(np.isclose(probs.max(axis=-1), 1.0), np.argmax(probs, axis=-1), -1)
    d = hard_kl_decomposition(answers, targets, mask=mask, n_options=C)
    for x in (d.bias, d.variance, d.error):
        assert np.all((x >= -1e-15) & (x <= 1 + 1e-15))
    assert_allclose(d.error, d.bias + d.variance, atol=1e-12)
    right = mask & (answers == targets[:, None])
    worse = np.where(right, -1, answers)
    assert np.all(hard_kl_decomposition(worse, targets, mask=mask, n_options=C).error >= d.error - 1e-15)


def _answers_of(probs, mask):
    """Argmax answers of probability vectors; a uniform row (an invalid sample) is −1."""
    C = probs.shape[-1]
    uniform = np.all(np.isclose(probs, 1.0 / C), axis=-1)
    return np.where(mask & ~uniform, np.argmax(probs, axis=-1), -1)


@PROPS
@given(sample_sets(), st.data())
def test_zero_one_with_probability_samples_identity_and_sample_order(data, draw):
    # error = bias + a·variance exactly whatever the main prediction; c̄ is the argmax of the mean (up to the
    # 1e-12 tie tolerance), so bias = 1{c̄ ≠ c*} agrees with the mean; and the result ignores sample order.
    probs, targets, mask = data
    answers = _answers_of(probs, mask)
    d = zero_one_decomposition(answers, targets, mask=mask, probs=probs)
    assert_allclose(d.error, d.bias + d.coefficient * d.variance, atol=1e-12)
    assert np.all(np.isin(d.bias, (0.0, 1.0))) and np.all((d.variance >= 0) & (d.variance <= 1))
    mean = np.where(mask[..., None], probs, 0.0).sum(axis=1) / mask.sum(axis=1)[:, None]
    on_target = mean[np.arange(len(targets)), targets]
    assert np.all(on_target[d.bias == 0] >= mean.max(axis=1)[d.bias == 0] - 1e-9)
    perm = np.array(draw.draw(st.permutations(range(probs.shape[1]))))
    e = zero_one_decomposition(answers[:, perm], targets, mask=mask[:, perm], probs=probs[:, perm])
    assert_allclose([d.bias, d.variance, d.error, d.coefficient], [e.bias, e.variance, e.error, e.coefficient])


@PROPS
@given(sample_sets(), st.data())
def test_corrected_estimators_identity_and_sample_order(data, draw):
    probs, targets, mask = data
    assume(mask.sum(axis=1).min() >= 2)
    arr = SampleArrays.from_probs(probs, targets, mask=mask)
    perm = np.array(draw.draw(st.permutations(range(probs.shape[1]))))
    shuffled = SampleArrays.from_probs(probs[:, perm], targets, mask=mask[:, perm])
    for metric in ("kl", "brier"):
        a = decompose(arr, metric, estimator="corrected", delta=1e-6)
        b = decompose(shuffled, metric, estimator="corrected", delta=1e-6)
        assert_allclose(a.error, a.bias + a.variance, rtol=1e-9, atol=1e-9)
        for x, y in ((a.bias, b.bias), (a.variance, b.variance), (a.error, b.error)):
            assert_allclose(x, y, rtol=1e-9, atol=1e-9)


@PROPS
@given(
    hnp.arrays(
        np.float64, st.tuples(st.integers(1, 3), st.integers(2, 6), st.integers(1, 4)), elements=st.floats(0, 1)
    ),
    st.data(),
)
def test_test_vector_unbiased_identity_and_run_order(y, draw):
    d = test_vector_decomposition(y, unbiased=True)
    plug = test_vector_decomposition(y)
    R = y.shape[1]
    assert_allclose(d.variance, plug.variance * R / (R - 1), rtol=1e-12, atol=1e-15)
    assert_allclose(d.error, d.bias + d.variance, atol=1e-12)
    perm = np.array(draw.draw(st.permutations(range(R))))
    e = test_vector_decomposition(y[:, perm], unbiased=True)
    assert_allclose([d.bias, d.variance, d.error], [e.bias, e.variance, e.error], atol=1e-12)


# ------------------------------------------------------------------------------- simulated statistics
def test_brier_ensemble_variance_falls_as_one_over_ensemble_size():
    # Each question has its own Dirichlet "opinion"; a sample is a probability vector drawn around it. An
    # ensemble of size E averages E independent draws, so its covariance (hence Brier variance) is 1/E of one
    # draw's, while the mean — hence the bias — stays put.
    rng = np.random.default_rng(7)
    Q, n, C = 300, 24, 4
    centre = rng.dirichlet(np.ones(C), size=Q)  # (Q, C)
    targets = rng.integers(0, C, Q)
    draws = np.stack([rng.dirichlet(5 * centre[q] + 0.1, size=n * 16) for q in range(Q)])  # (Q, n·16, C)
    var1 = None
    for E in (1, 2, 4, 8, 16):
        ens = draws[:, : n * E].reshape(Q, n, E, C).mean(axis=2)  # n non-overlapping ensembles of size E
        d = brier_decomposition(ens, targets, unbiased=True)
        if var1 is None:
            var1, bias1 = d.variance.sum(), d.bias.sum()
        ratio = d.variance.sum() / var1
        assert abs(ratio * E - 1.0) < 0.08, (E, ratio)
        assert abs(d.bias.sum() / bias1 - 1.0) < 0.05


def test_kl_jackknife_variance_is_closer_to_the_truth_than_plug_in_for_few_samples():
    # Stated probabilities from a fixed Dirichlet per question. The true variance is −log Σ_c exp(E log f̂_c),
    # estimated from 200,000 draws. With n = 4 samples the plug-in estimate is biased low (log-sum-exp is
    # convex, Jensen); the jackknife removes the O(1/n) bias.
    rng = np.random.default_rng(11)
    C, delta, n, reps = 3, 1e-3, 4, 4000
    alphas = [np.array([2.0, 1.0, 0.5]), np.array([0.6, 0.6, 0.6]), np.array([5.0, 0.3, 0.3])]
    for alpha in alphas:
        big = rng.dirichlet(alpha, size=200_000)
        g = np.log((big + delta) / (1 + C * delta)).mean(axis=0)
        true_var = -math.log(np.exp(g).sum())
        probs = rng.dirichlet(alpha, size=(reps, n))  # reps independent small "questions"
        t = np.zeros(reps, dtype=np.int64)
        plug = kl_decomposition(probs, t, delta=delta).variance.mean()
        jack = kl_decomposition(probs, t, delta=delta, jackknife=True).variance.mean()
        assert plug < true_var  # biased low
        assert abs(jack - true_var) < 0.5 * abs(plug - true_var), (alpha, true_var, plug, jack)
