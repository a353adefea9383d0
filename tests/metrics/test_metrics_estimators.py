"""Plug-in vs corrected estimators: the switch in decompose/summarize, and simulated (un)biasedness."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose

from hotmess.metrics import (
    ESTIMATORS,
    SampleArrays,
    decompose,
    estimator_options,
    kl_decomposition,
    one_hot,
    summarize,
    test_vector_decomposition,
)

P_TRUE = np.array([0.5, 0.3, 0.2])  # one question's answer distribution; target A
REPS = 20_000  # independent replicates ("questions") per sample size


def _replicates(rng: np.random.Generator, n: int) -> SampleArrays:
    answers = rng.choice(len(P_TRUE), size=(REPS, n), p=P_TRUE)
    return SampleArrays.from_answers(answers, np.zeros(REPS, dtype=np.int64), n_classes=len(P_TRUE))


# ------------------------------------------------------------------------------------------- the switch
def test_estimators_and_their_options():
    assert ESTIMATORS == ("plugin", "corrected")
    assert estimator_options("kl", "corrected") == {"jackknife": True}
    assert estimator_options("kl", "plugin") == {"jackknife": False}
    assert estimator_options("brier", "corrected") == {"unbiased": True}
    assert estimator_options("zero-one") == {} and estimator_options("hard-kl", "plugin") == {}


def test_corrected_equals_the_metric_functions_corrected_options():
    arr = SampleArrays.from_answers([[0, 0, 1, 2], [1, 1, 1, 0]], [0, 1], n_classes=3)
    kl = decompose(arr, "kl", estimator="corrected", delta=1e-3)
    ref = kl_decomposition(arr.probs, arr.targets, delta=1e-3, jackknife=True)
    assert_allclose([kl.bias, kl.variance, kl.error], [ref.bias, ref.variance, ref.error])
    br = decompose(arr, "brier", estimator="corrected")
    plug = decompose(arr, "brier")
    assert_allclose(br.variance, plug.variance * 4 / 3)
    assert_allclose(br.bias, br.error - br.variance)


def test_legacy_flags_imply_corrected_for_their_metric_only():
    arr = SampleArrays.from_answers([[0, 0, 1, 2], [1, 1, 1, 0]], [0, 1], n_classes=3)
    same = decompose(arr, "brier", unbiased=True).variance
    assert_allclose(same, decompose(arr, "brier", estimator="corrected").variance)
    assert_allclose(decompose(arr, "kl", jackknife=True).variance, decompose(arr, "kl", estimator="corrected").variance)
    # A flag of another metric is ignored, as before (callers pass ``unbiased`` for every metric).
    assert_allclose(decompose(arr, "kl", unbiased=True).variance, decompose(arr, "kl").variance)
    assert_allclose(decompose(arr, "hard-kl", unbiased=True, jackknife=True).error, decompose(arr, "hard-kl").error)
    assert_allclose(decompose(arr, "zero-one", unbiased=True).error, decompose(arr, "zero-one").error)


def test_summary_records_the_estimator_in_effect():
    arr = SampleArrays.from_answers([[0, 1] * 15, [1] * 30], [0, 1])
    assert summarize(arr, "brier", n_boot=0).options["estimator"] == "plugin"
    s = summarize(arr, "brier", estimator="corrected", n_boot=0)
    assert s.options["estimator"] == "corrected"
    # Q0: plug-in variance ½ → ½·30/29; Q1: 0. Mean over the two questions.
    assert s.variance == pytest.approx(0.5 * 30 / 29 / 2)
    assert summarize(arr, "brier", unbiased=True, n_boot=0).options["estimator"] == "corrected"
    assert summarize(arr, "kl", unbiased=True, n_boot=0).options["estimator"] == "plugin"
    assert summarize(arr, "kl", estimator="corrected", n_boot=0).to_dict()["options"]["estimator"] == "corrected"


@pytest.mark.parametrize("metric", ["zero-one", "hard-kl"])
def test_corrected_is_refused_for_zero_one_and_hard_kl(metric):
    arr = SampleArrays.from_answers([[0, 1, 1]], [0])
    with pytest.raises(ValueError, match=r"^estimator: 'corrected' is defined for kl and brier only"):
        decompose(arr, metric, estimator="corrected")
    with pytest.raises(ValueError, match=r"^estimator: 'corrected' is defined for kl and brier only"):
        summarize(arr, metric, estimator="corrected", n_boot=0)
    with pytest.raises(ValueError, match=r"^estimator: 'corrected' is defined for kl and brier only"):
        estimator_options(metric, "corrected")


@pytest.mark.parametrize("metric", ["kl", "brier"])
def test_corrected_needs_two_samples_and_says_how_many_questions_have_one(metric):
    arr = SampleArrays.from_answers(
        [[0, 1, 1], [0, 9, 9], [1, 9, 9]],
        [0, 0, 0],
        n_options=2,
        mask=np.array([[True] * 3] + [[True, False, False]] * 2),
    )
    with pytest.raises(ValueError, match=r"^estimator: 'corrected' needs at least 2 samples.*2 of 3 question"):
        decompose(arr, metric, estimator="corrected")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ValueError, match=r"2 of 3 question\(s\) have only 1 sample"):
            summarize(arr, metric, estimator="corrected", n_boot=0)
    assert len(decompose(arr, metric)) == 3  # plug-in still works


def test_test_vector_unbiased_needs_two_runs_per_task():
    y = np.ones((2, 2, 1))
    with pytest.raises(ValueError, match=r"^run_mask: unbiased=True needs at least 2 runs per task; 1 of 2"):
        test_vector_decomposition(y, run_mask=np.array([[True, True], [True, False]]), unbiased=True)


# ----------------------------------------------------------------------------------- simulated (un)bias
@pytest.mark.parametrize("n", [2, 3, 5])
def test_brier_corrected_variance_is_unbiased_and_plug_in_is_low_by_n_minus_1_over_n(n):
    # True Brier terms of the answer distribution p (target A): VARIANCE = 1 − Σ p², BIAS = ‖y − p‖².
    # E[plug-in variance] = (n−1)/n · VARIANCE; the n/(n−1) correction removes that factor.
    true_var = 1.0 - float((P_TRUE**2).sum())  # 0.62
    true_bias = float(((np.eye(3)[0] - P_TRUE) ** 2).sum())  # 0.38
    arr = _replicates(np.random.default_rng(1000 + n), n)
    plug = decompose(arr, "brier")
    corr = decompose(arr, "brier", estimator="corrected")
    se_c = corr.variance.std() / math.sqrt(REPS)
    se_p = plug.variance.std() / math.sqrt(REPS)
    assert abs(corr.variance.mean() - true_var) < 3 * se_c
    assert abs(corr.bias.mean() - true_bias) < 3 * corr.bias.std() / math.sqrt(REPS)
    assert abs(plug.variance.mean() - true_var * (n - 1) / n) < 3 * se_p
    assert true_var - plug.variance.mean() > 10 * se_p  # the plug-in is clearly low


@pytest.mark.parametrize("n", [2, 3, 5])
def test_kl_jackknife_variance_reduces_the_small_sample_bias_of_one_hot_answers(n):
    # One-hot answers from p, δ = 1e-3, C = 3. The population value: g_c = E log f̂[c] = p_c log f̂_hit +
    # (1 − p_c) log f̂_miss, VARIANCE = −log Σ_c exp(g_c); the plug-in on 10,000 samples agrees with it.
    delta, C = 1e-3, 3
    log_hit, log_miss = math.log((1 + delta) / (1 + C * delta)), math.log(delta / (1 + C * delta))
    true_var = -math.log(float(np.exp(P_TRUE * log_hit + (1 - P_TRUE) * log_miss).sum()))  # ≈ 3.14
    rng = np.random.default_rng(2000 + n)
    big = one_hot(rng.choice(C, size=(1, 10_000), p=P_TRUE), C)
    assert abs(float(kl_decomposition(big, [0], delta=delta).variance[0]) - true_var) < 0.05
    arr = _replicates(rng, n)
    plug = decompose(arr, "kl", delta=delta).variance.mean()
    jack = decompose(arr, "kl", delta=delta, estimator="corrected").variance.mean()
    assert plug < true_var - 0.5  # plug-in is far too low (≈ 1.7, 2.1, 2.5 for n = 2, 3, 5)
    assert abs(jack - true_var) < 0.4 * abs(plug - true_var), (n, true_var, plug, jack)


@pytest.mark.parametrize("n", [2, 3, 5])
def test_kl_jackknife_variance_reduces_the_small_sample_bias_of_stated_probabilities(n):
    # Probability vectors from a Dirichlet; the "truth" is the plug-in on 10,000 samples (its O(1/n) bias is
    # ~1e-5 there).
    delta, alpha = 1e-3, np.array([2.0, 1.0, 0.5])
    rng = np.random.default_rng(3000 + n)
    true_var = float(kl_decomposition(rng.dirichlet(alpha, size=(1, 10_000)), [0], delta=delta).variance[0])
    arr = SampleArrays.from_probs(rng.dirichlet(alpha, size=(REPS, n)), np.zeros(REPS, dtype=np.int64))
    plug = decompose(arr, "kl", delta=delta).variance.mean()
    jack = decompose(arr, "kl", delta=delta, estimator="corrected").variance.mean()
    assert plug < true_var
    assert abs(jack - true_var) < 0.2 * abs(plug - true_var), (n, true_var, plug, jack)


@pytest.mark.parametrize("n_runs", [2, 3])
def test_test_vector_unbiased_variance_matches_the_bernoulli_variance(n_runs):
    # Test j passes with probability q_j in every run: true VARIANCE = mean_j q_j(1 − q_j).
    q = np.array([0.9, 0.5, 0.2])
    rng = np.random.default_rng(4000 + n_runs)
    y = (rng.random((REPS, n_runs, len(q))) < q).astype(float)
    true_var = float((q * (1 - q)).mean())
    corr = test_vector_decomposition(y, unbiased=True).variance
    plug = test_vector_decomposition(y).variance
    assert abs(corr.mean() - true_var) < 3 * corr.std() / math.sqrt(REPS)
    assert abs(plug.mean() - true_var * (n_runs - 1) / n_runs) < 3 * plug.std() / math.sqrt(REPS)
