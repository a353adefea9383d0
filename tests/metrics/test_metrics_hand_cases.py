"""Small cases of every decomposition, derived on paper from SPEC §1 (derivations in the comments)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose

from hotmess.metrics import (
    SampleArrays,
    apply_limit_hits,
    brier_decomposition,
    continuous_decomposition,
    decompose,
    embedding_variance,
    hard_kl_decomposition,
    kl_decomposition,
    one_hot,
    test_vector_decomposition,
    zero_one_decomposition,
)

A, B, C, D = 0, 1, 2, 3
HIT_A2 = [1.0, 0.0]
HIT_B2 = [0.0, 1.0]


def triple(d, q=0):
    return float(d.bias[q]), float(d.variance[q]), float(d.error[q])


# ---------------------------------------------------------------------------------------------------- KL
def test_kl_two_options_one_right_one_wrong_delta_0_1():
    # δ = 0.1, C = 2: f̂(A) = (1.1, 0.1)/1.2 = (11/12, 1/12), f̂(B) = (1/12, 11/12).
    # g_A = g_B = ½ log(11/144) → f̄ = (½, ½).
    # ERROR = ½(−log 11/12 − log 1/12) = ½ log(144/11); BIAS = −log ½ = log 2;
    # VARIANCE = ½ KL(f̄‖f̂(A)) + ½ KL(f̄‖f̂(B)) = ½ log(36/11)   (each KL = ½ log(6/11) + ½ log 6).
    d = kl_decomposition([[HIT_A2, HIT_B2]], [A], delta=0.1)
    assert_allclose(triple(d), (math.log(2), 0.5 * math.log(36 / 11), 0.5 * math.log(144 / 11)), rtol=1e-12)


def test_kl_uses_normalized_geometric_mean_not_arithmetic():
    # δ = 0.1, C = 2, samples A, A, B, target B.
    # g_A = ⅓(2 log 11/12 + log 1/12) → exp(g_A) = 121^(1/3)/12; exp(g_B) = 11^(1/3)/12.
    # f̄_B = 11^(1/3) / (11^(2/3) + 11^(1/3)) = 1 / (1 + 11^(1/3))  ≈ 0.3102.
    # BIAS = −log f̄_B = log(1 + 11^(1/3)).
    # ERROR = ⅓(2 log 12 + log 12/11) = log 12 − ⅓ log 11.
    # VARIANCE = −log Z, Z = (11^(2/3) + 11^(1/3))/12 → log 12 − ⅓ log 11 − log(1 + 11^(1/3)).
    r = 11 ** (1 / 3)
    d = kl_decomposition([[HIT_A2, HIT_A2, HIT_B2]], [B], delta=0.1)
    bias = math.log(1 + r)
    error = math.log(12) - math.log(11) / 3
    variance = math.log(12) - math.log(11) / 3 - math.log(1 + r)
    assert_allclose(triple(d), (bias, variance, error), rtol=1e-12)
    # The arithmetic mean f̃_B = (1/12 + 1/12 + 11/12)/3 = 13/36 would give BIAS = log(36/13) ≈ 1.02.
    assert abs(float(d.bias[0]) - math.log(36 / 13)) > 0.1


def test_kl_three_options_with_invalid_sample():
    # δ = 0.1, C = 3, samples A and invalid (uniform), target A.
    # f̂(A) = (1.1, 0.1, 0.1)/1.3 = (11, 1, 1)/13; uniform stays uniform: (1/3 + 0.1)/1.3 = 1/3.
    # exp(g_c) = sqrt(f̂(A)_c / 3) ∝ (√11, 1, 1) → f̄_A = √11/(√11 + 2).
    # ERROR = ½(log 13/11 + log 3) = ½ log(39/11); BIAS = log(1 + 2/√11);
    # VARIANCE = −log Z = −log((√11 + 2)/√39) = ½ log 39 − log(√11 + 2).
    probs = one_hot([[A, -1]], 3)
    d = kl_decomposition(probs, [A], delta=0.1)
    s11 = math.sqrt(11)
    expected = (math.log(1 + 2 / s11), 0.5 * math.log(39) - math.log(s11 + 2), 0.5 * math.log(39 / 11))
    assert_allclose(triple(d), expected, rtol=1e-12)


def test_kl_ragged_mask_and_n_options_match_the_standalone_question():
    # Question 0 is the C=2 case above, embedded in a C=3 array (n_options=2) with a masked-out NaN slot;
    # question 1 is the C=3 invalid case with a masked-out slot. Padding must change nothing.
    nan3 = [np.nan] * 3
    probs = np.array(
        [
            [[1.0, 0.0, 0.0], nan3, [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]],
            [[1.0, 0.0, 0.0], [1 / 3, 1 / 3, 1 / 3], nan3, nan3],
        ]
    )
    mask = np.array([[True, False, True, True], [True, True, False, False]])
    d = kl_decomposition(probs, [B, A], mask=mask, n_options=[2, 3], delta=0.1)
    r = 11 ** (1 / 3)
    error0 = math.log(12) - math.log(11) / 3
    assert_allclose(triple(d, 0), (math.log(1 + r), error0 - math.log(1 + r), error0), rtol=1e-12)
    s11 = math.sqrt(11)
    expected1 = (math.log(1 + 2 / s11), 0.5 * math.log(39) - math.log(s11 + 2), 0.5 * math.log(39 / 11))
    assert_allclose(triple(d, 1), expected1, rtol=1e-12)


def test_kl_coherent_wrong_answer_is_all_bias_and_unanimous_right_is_zero_error():
    # All samples say A, target B, δ = 0.1, C = 2: f̄ = f̂(A), VARIANCE = KL(f̂(A)‖f̂(A)) = 0,
    # BIAS = ERROR = −log(1/12) = log 12. All right: ERROR = −log(11/12) = log(12/11), VARIANCE = 0.
    d = kl_decomposition([[HIT_A2] * 3, [HIT_B2] * 3], [B, B], delta=0.1)
    assert_allclose(triple(d, 0), (math.log(12), 0.0, math.log(12)), atol=1e-12)
    assert_allclose(triple(d, 1), (math.log(12 / 11), 0.0, math.log(12 / 11)), atol=1e-12)


def test_kl_jackknife_by_hand():
    # δ = 0.1, C = 2, samples A, A, B (n = 3). Plug-in V = log 12 − ⅓ log 11 − log(1 + 11^(1/3)) (see above).
    # Leave out an A: samples A, B → V₋ = ½ log(36/11) (first case). Leave out B: A, A → V₋ = 0.
    # Jackknife V_J = n·V − (n−1)·mean(V₋) = 3V − 2·(2/3 · ½ log(36/11)) = 3V − ⅔ log(36/11).
    r = 11 ** (1 / 3)
    v = math.log(12) - math.log(11) / 3 - math.log(1 + r)
    d = kl_decomposition([[HIT_A2, HIT_A2, HIT_B2]], [B], delta=0.1, jackknife=True)
    assert_allclose(float(d.variance[0]), 3 * v - (2 / 3) * math.log(36 / 11), rtol=1e-12)
    assert_allclose(float(d.bias[0] + d.variance[0]), math.log(12) - math.log(11) / 3, rtol=1e-12)


# ------------------------------------------------------------------------------------------------- Brier
def test_brier_one_hot_votes_plugin_and_unbiased():
    # Samples A, A, B; C = 3; target A. f̃ = (⅔, ⅓, 0).
    # ERROR = (0 + 0 + 2)/3 = ⅔; BIAS = (⅓)² + (⅓)² = 2/9;
    # VARIANCE = (2/9 + 2/9 + 8/9)/3 = 4/9  (A: (⅓)²+(⅓)², B: (⅔)²+(⅔)²). 2/9 + 4/9 = ⅔.
    # Unbiased: VARIANCE = 4/9 · 3/2 = ⅔, BIAS = ERROR − VARIANCE = 0.
    probs = one_hot([[A, A, B]], 3)
    assert_allclose(triple(brier_decomposition(probs, [A])), (2 / 9, 4 / 9, 2 / 3), rtol=1e-12)
    assert_allclose(triple(brier_decomposition(probs, [A], unbiased=True)), (0.0, 2 / 3, 2 / 3), atol=1e-12)


def test_brier_stated_probabilities():
    # Samples (.5, .5, 0) and (.1, .3, .6), target C. f̃ = (.3, .4, .3).
    # ERROR = ((.25 + .25 + 1) + (.01 + .09 + .16))/2 = (1.5 + .26)/2 = .88;
    # BIAS = .09 + .16 + .49 = .74; VARIANCE = (.04+.01+.09 + .04+.01+.09)/2 = .14.
    # Unbiased: VARIANCE = .28, BIAS = .60.
    probs = [[[0.5, 0.5, 0.0], [0.1, 0.3, 0.6]]]
    assert_allclose(triple(brier_decomposition(probs, [C])), (0.74, 0.14, 0.88), rtol=1e-12)
    assert_allclose(triple(brier_decomposition(probs, [C], unbiased=True)), (0.60, 0.28, 0.88), rtol=1e-12)


def test_brier_invalid_is_uniform_and_ragged_padding_is_ignored():
    # Question 0: samples D, invalid (uniform ¼) with C = 4, target D.
    # f̃ = (⅛, ⅛, ⅛, ⅝). ERROR = (0 + (3/16 + 9/16))/2 = ⅜; BIAS = 3/64 + 9/64 = 12/64 = 3/16;
    # VARIANCE = ⅜ − 3/16 = 3/16 (each sample is at distance² 3·(⅛)² + (⅜)² = 12/64 from f̃).
    # Question 1 (n_options = 2 inside C = 4, one masked slot): samples A, B, target A → (½, ½, 1).
    answers = np.array([[D, -1, 0], [A, B, 0]])
    mask = np.array([[True, True, False], [True, False, True]])
    answers[1] = [A, 0, B]
    arr = SampleArrays.from_answers(answers, [D, A], n_options=[4, 2], mask=mask)
    assert_allclose(arr.probs[0, 1], [0.25] * 4)
    d = brier_decomposition(arr.probs, arr.targets, mask=arr.mask, n_options=arr.n_options)
    assert_allclose(triple(d, 0), (3 / 16, 3 / 16, 3 / 8), rtol=1e-12)
    assert_allclose(triple(d, 1), (0.5, 0.5, 1.0), rtol=1e-12)


# --------------------------------------------------------------------------------------------------- 0/1
def test_zero_one_mode_wrong_uses_the_exact_multiclass_factor():
    # Samples A A A B C C, target B, C = 3. Mode A ≠ B → BIAS = 1. VARIANCE = P(c ≠ A) = 3/6 = ½.
    # P(c = B | c ≠ A) = ⅓ → a = −⅓. ERROR = P(c ≠ B) = 5/6 = 1 − ⅓·½. (The two-class ±1 form gives ½.)
    d = zero_one_decomposition([[A, A, A, B, C, C]], [B])
    assert (d.bias[0], d.variance[0], d.error[0]) == (1.0, 0.5, pytest.approx(5 / 6))
    assert d.coefficient[0] == pytest.approx(-1 / 3)
    assert d.bias[0] + d.coefficient[0] * d.variance[0] == pytest.approx(d.error[0])
    assert d.bias[0] - d.variance[0] != pytest.approx(d.error[0])


def test_zero_one_mode_right():
    # Samples A A A B C, target A: mode A = target, BIAS 0, VARIANCE = ERROR = 2/5, a = +1.
    d = zero_one_decomposition([[A, A, A, B, C]], [A])
    assert_allclose([d.bias[0], d.variance[0], d.error[0], d.coefficient[0]], [0.0, 0.4, 0.4, 1.0])


def test_zero_one_invalid_samples_differ_from_both_mode_and_target():
    # Samples A A invalid B, target B, C = 3: mode A (invalid is uniform, does not move it) → BIAS 1.
    # VARIANCE = P(c ≠ A) = 2/4 (B and invalid); P(c = B | c ≠ A) = ½ → a = −½; ERROR = 1 − ¼ = ¾.
    d = zero_one_decomposition([[A, A, -1, B]], [B], n_options=3)
    assert_allclose([d.bias[0], d.variance[0], d.error[0], d.coefficient[0]], [1.0, 0.5, 0.75, -0.5])
    assert_allclose(d.net_variance, [-0.25])


def test_zero_one_ties_go_to_lowest_index_and_coherent_wrong_has_zero_factor():
    # A B, target B: tie → mode A, BIAS 1, VARIANCE ½, a = −1 (the only off-mode sample is B), ERROR ½.
    # C C C, target A: BIAS 1, VARIANCE 0, a = 0, ERROR 1.
    d = zero_one_decomposition([[A, B, 0], [C, C, C]], [B, A], mask=np.array([[True, True, False], [True] * 3]))
    assert_allclose([d.bias, d.variance, d.error, d.coefficient], [[1, 1], [0.5, 0], [0.5, 1], [-1, 0]])


def test_zero_one_target_beyond_every_answer_needs_no_n_options():
    # All samples answer A while the correct option is C: the classes must be inferred from the target too.
    d = zero_one_decomposition([[A, A]], [C])
    assert (d.bias[0], d.variance[0], d.error[0]) == (1.0, 0.0, 1.0)


def test_zero_one_probability_samples_use_the_argmax_of_the_mean_not_the_mode_of_argmaxes():
    # Issue 10: samples (.45, .55), (.45, .55), (1, 0), target A. Argmaxes B, B, A → their mode B (bias 1), but
    # the mean is (1.9/3, 1.1/3) = (.633, .367) → c̄ = A = c*: BIAS 0, VARIANCE = P(c_s ≠ A) = ⅔, a = 1,
    # ERROR = P(c_s ≠ A) = ⅔.
    probs = [[[0.45, 0.55], [0.45, 0.55], [1.0, 0.0]]]
    before = zero_one_decomposition([[B, B, A]], [A])
    assert before.bias[0] == 1.0
    d = zero_one_decomposition([[B, B, A]], [A], probs=probs)
    assert_allclose([d.bias[0], d.variance[0], d.error[0], d.coefficient[0]], [0.0, 2 / 3, 2 / 3, 1.0])
    arr = SampleArrays.from_probs(probs, [A])
    assert arr.answers.tolist() == [[B, B, A]]
    assert_allclose(triple(decompose(arr, "zero-one")), (0.0, 2 / 3, 2 / 3))


def test_zero_one_probability_samples_mean_right_mode_wrong_the_other_way():
    # Samples (.6, .4, 0) ×2 and (0, 0, 1) ×2, target C, C = 3: argmaxes A A C C tie → the votes pick A.
    # Mean = (.3, .2, .5) → c̄ = C = c*: BIAS 0, VARIANCE = P(c_s ≠ C) = ½ = ERROR, a = 1.
    # An invalid sample (uniform) added to a copy of the question moves nothing but counts as wrong:
    # n = 5, VARIANCE = ERROR = 3/5.
    p = [[0.6, 0.4, 0.0], [0.6, 0.4, 0.0], [0.0, 0.0, 1.0], [0.0, 0.0, 1.0], [1 / 3] * 3]
    d = zero_one_decomposition(
        [[A, A, C, C, -1], [A, A, C, C, -1]], [C, C], probs=[p, p], mask=np.array([[True] * 4 + [False], [True] * 5])
    )
    assert_allclose([d.bias, d.variance, d.error, d.coefficient], [[0, 0], [0.5, 0.6], [0.5, 0.6], [1, 1]])


def test_zero_one_probability_mean_wrong_uses_the_exact_factor_and_float_ties_go_low():
    # Samples (.1, .3, x), (.3, x, .1), (x, .1, .3) with x = 1 − .1 − .3 (= .6000000000000001 in floating
    # point), target B, C = 3. The mean is (⅓, ⅓, ⅓) but its B entry comes out 1 ulp larger, so a plain argmax
    # says B; within the 1e-12 tolerance it is a three-way tie → c̄ = A ≠ B: BIAS 1.
    # c_s = C, B, A; VARIANCE = P(c_s ≠ A) = ⅔; P(c_s = B | c_s ≠ A) = ½ → a = −½; ERROR = ⅔ = 1 − ½·⅔.
    x = 1 - 0.1 - 0.3
    probs = np.array([[[0.1, 0.3, x], [0.3, x, 0.1], [x, 0.1, 0.3]]])
    assert np.argmax(probs.mean(axis=1)[0]) == B  # the round-off the tolerance must absorb
    d = zero_one_decomposition([[C, B, A]], [B], probs=probs)
    assert_allclose([d.bias[0], d.variance[0], d.error[0], d.coefficient[0]], [1.0, 2 / 3, 2 / 3, -0.5])
    # Another sample order: the same tie, the same main prediction.
    d2 = zero_one_decomposition([[A, B, C]], [B], probs=probs[:, ::-1])
    assert d2.bias[0] == 1.0 and d2.variance[0] == pytest.approx(2 / 3)


def test_zero_one_one_hot_probs_keep_the_integer_count_path():
    # One-hot samples: the probs are ignored for c̄ (vote counts; A B tie → A) and match the answers-only call.
    answers = [[A, B, -1]]
    probs = one_hot(answers, 3)
    d = zero_one_decomposition(answers, [B], probs=probs)
    e = zero_one_decomposition(answers, [B], n_options=3)
    assert_allclose([d.bias, d.variance, d.error, d.coefficient], [e.bias, e.variance, e.error, e.coefficient])
    assert_allclose([d.bias[0], d.variance[0], d.error[0]], [1.0, 2 / 3, 2 / 3])


# ------------------------------------------------------------------------------------------------ hard KL
def test_hard_kl_by_hand_with_invalid():
    # Samples A B B invalid, target A, C = 3. "No answer" is its own outcome, never correct:
    # f_A = ¼, f_B = ½, f_C = 0, f_inv = ¼ → f_mode = ½.
    # BIAS = f_mode − f_A = ¼, VARIANCE = 1 − f_mode = ½, ERROR = 1 − f_A = ¾.
    d = hard_kl_decomposition([[A, B, B, -1]], [A], n_options=3)
    assert triple(d) == (0.25, 0.5, 0.75)


def test_hard_kl_invalid_answers_are_wrong_not_agreeing_with_every_class():
    # Issue 10: 20 right + 10 invalid. f_A = ⅔, f_inv = ⅓ → f_mode = ⅔:
    # ERROR = ⅓, BIAS = 0, VARIANCE = ⅓. (Before: invalid counted toward every class → error 0.)
    d = hard_kl_decomposition([[A] * 20 + [-1] * 10], [A], n_options=4)
    assert_allclose(triple(d), (0.0, 1 / 3, 1 / 3), atol=1e-15)
    # Never parseable: f_inv = 1 = f_mode, f_A = 0 → ERROR 1, BIAS 1, VARIANCE 0 (consistently unparseable).
    assert triple(hard_kl_decomposition([[-1] * 5], [A], n_options=2)) == (1.0, 0.0, 1.0)
    # Mostly invalid: A ×2, invalid ×3, target B: f_inv = ⅗ is the mode → BIAS ⅗, VARIANCE ⅖, ERROR 1.
    assert_allclose(triple(hard_kl_decomposition([[A, -1, A, -1, -1]], [B], n_options=2)), (0.6, 0.4, 1.0))


def test_hard_kl_ragged_n_options_and_all_invalid():
    # Q0: n_options 2 in C = 3, samples A A (one masked slot holds garbage), target B → (1, 0, 1).
    # Q1: all invalid → f_inv = 1 → (1, 0, 1). Q2: target C never answered, no n_options needed below.
    d = hard_kl_decomposition(
        [[A, 99, A], [-1, -1, -1]], [B, C], n_options=[2, 3], mask=np.array([[True, False, True], [True] * 3])
    )
    assert_allclose([d.bias, d.variance, d.error], [[1, 1], [0, 0], [1, 1]])
    assert triple(hard_kl_decomposition([[A, B]], [C])) == (0.5, 0.5, 1.0)


def test_hard_kl_refuses_probability_vector_samples_in_decompose():
    arr = SampleArrays.from_probs([[[0.7, 0.3], [1.0, 0.0], [0.5, 0.5]]], [A], valid=[[True, True, False]])
    assert arr.soft.tolist() == [[True, False, False]]  # the invalid (uniform) row is not "soft"
    with pytest.raises(ValueError, match=r"hard-kl needs one-hot answers; 1 samples hold probability vectors"):
        decompose(arr, "hard-kl")
    hot = SampleArrays.from_probs([[[1.0, 0.0], [1e-13, 1.0 - 1e-13]]], [A])  # one-hot up to 1e-12
    assert not hot.soft.any()
    assert triple(decompose(hot, "hard-kl")) == (0.0, 0.5, 0.5)


# ------------------------------------------------------------------------------------------- test vectors
def test_test_vector_by_hand():
    # Runs (1,0), (1,1), (0,0). ȳ = (⅔, ⅓). ERROR = zeros/cells = 3/6 = ½.
    # BIAS = ((⅓)² + (⅔)²)/2 = 5/18. VARIANCE = (6/9 + 6/9)/6 = 2/9 = 4/18. 5/18 + 4/18 = ½.
    d = test_vector_decomposition([[[1, 0], [1, 1], [0, 0]]])
    assert_allclose(triple(d), (5 / 18, 4 / 18, 0.5), rtol=1e-12)


def test_test_vector_unbiased_by_hand():
    # Same runs as above (R = 3): VARIANCE = 4/18 · 3/2 = ⅓; BIAS = ERROR − VARIANCE = ½ − ⅓ = ⅙.
    # Ragged: task 1 has runs (1), (0) only (R = 2): plug-in VARIANCE ¼ → ½; ERROR ½ → BIAS 0.
    y = [[[1, 0], [1, 1], [0, 0]], [[1, 9], [0, 9], [9, 9]]]
    run_mask = np.array([[True] * 3, [True, True, False]])
    test_mask = np.array([[True, True], [True, False]])
    d = test_vector_decomposition(y, run_mask=run_mask, test_mask=test_mask, unbiased=True)
    assert_allclose([d.bias, d.variance, d.error], [[1 / 6, 0], [1 / 3, 0.5], [0.5, 0.5]], atol=1e-15)


def test_test_vector_limit_hit_runs_count_tests_as_unchanged():
    # Baseline (before any patch): test 0 PASS_TO_PASS = 1, test 1 FAIL_TO_PASS = 0.
    # Run 2 hit its limit; whatever it recorded ((0, 1) here) becomes (1, 0).
    # Runs (1,0), (1,0), (0,0): ȳ = (⅔, 0). ERROR = 4/6 = ⅔. BIAS = ((⅓)² + 1)/2 = 5/9.
    # VARIANCE = (6/9 + 0)/6 = 1/9. 5/9 + 1/9 = ⅔.
    raw = [[[1, 0], [0, 1], [0, 0]]]
    fixed = apply_limit_hits(raw, [[False, True, False]], [[1, 0]])
    assert fixed.tolist() == [[[1, 0], [1, 0], [0, 0]]]
    assert_allclose(triple(test_vector_decomposition(fixed)), (5 / 9, 1 / 9, 2 / 3), rtol=1e-12)


def test_test_vector_ragged_runs_and_tests():
    # Task 0 uses only its first 2 runs and first test: outcomes 1, 0 → ȳ = ½:
    # ERROR = ½, BIAS = ¼, VARIANCE = ¼. Task 1: all three runs, both tests pass everywhere → zeros.
    y = [[[1, 9], [0, 9], [9, 9]], [[1, 1], [1, 1], [1, 1]]]
    d = test_vector_decomposition(
        y, run_mask=np.array([[True, True, False], [True] * 3]), test_mask=np.array([[True, False], [True, True]])
    )
    assert_allclose([d.bias, d.variance, d.error], [[0.25, 0], [0.25, 0], [0.5, 0]])


# ------------------------------------------------------------------------------ embeddings and continuous
def test_embedding_variance_by_hand_with_mask():
    # (0,0), (2,0), (1,3): mean (1,1); squared distances 2, 2, 4 → 8/3. Second set: one point → 0.
    e = [[[0, 0], [2, 0], [1, 3]], [[5, 5], [np.nan, np.nan], [np.nan, np.nan]]]
    mask = np.array([[True] * 3, [True, False, False]])
    assert_allclose(embedding_variance(e, mask=mask), [8 / 3, 0.0])


def test_continuous_diagonal_metric():
    # A = diag(2, 1), b = 0, points (1,0), (3,2): x̄ = (2,1) → BIAS = 2·4 + 1 = 9;
    # deviations ±(1,1) → 2 + 1 = 3 each → VARIANCE 3; ERROR = (2 + (18 + 4))/2 = 12.
    d = continuous_decomposition([[1.0, 0.0], [3.0, 2.0]], [0.0, 0.0], metric=np.diag([2.0, 1.0]))
    assert_allclose(triple_scalar(d), (9.0, 3.0, 12.0))


def test_continuous_off_diagonal_metric_and_batched_sets():
    # A = [[2,1],[1,2]], b = (1,1), points (1,0), (−1,2): x̄ = (0,1), x̄ − b = (−1,0) → BIAS = 2.
    # deviations ±(1,−1): 2 − 2 + 2 = 2 → VARIANCE 2. x − b = (0,−1) → 2; (−2,1) → 8 − 4 + 2 = 6 → ERROR 4.
    A_ = np.array([[2.0, 1.0], [1.0, 2.0]])
    pts = np.array([[[1.0, 0.0], [-1.0, 2.0]], [[1.0, 1.0], [1.0, 1.0]]])  # second set: both at b
    d = continuous_decomposition(pts, [1.0, 1.0], metric=A_)
    assert_allclose([d.bias, d.variance, d.error], [[2, 0], [2, 0], [4, 0]])


def triple_scalar(d):
    return float(d.bias), float(d.variance), float(d.error)


# -------------------------------------------------------------------------------------- arrays / one_hot
def test_one_hot_invalid_is_uniform_over_each_questions_options():
    out = one_hot([[1, -1], [-1, 0]], 4, n_options=[4, 2])
    assert_allclose(out[0], [[0, 1, 0, 0], [0.25] * 4])
    assert_allclose(out[1], [[0.5, 0.5, 0, 0], [1, 0, 0, 0]])


def test_sample_arrays_from_probs_invalid_rows_become_uniform_and_accuracy():
    probs = [[[0.7, 0.3], [0.0, 0.0], [0.2, 0.8]]]  # the invalid row's content is irrelevant
    arr = SampleArrays.from_probs(probs, [0], valid=[[True, False, True]])
    assert_allclose(arr.probs[0, 1], [0.5, 0.5])
    assert arr.answers.tolist() == [[0, -1, 1]]
    assert arr.n_invalid.tolist() == [1]
    assert_allclose(arr.hard_accuracy(), [1 / 3])  # invalid counts as wrong
    assert_allclose(arr.expected_accuracy(), [(0.7 + 0.5 + 0.2) / 3])


def test_sample_arrays_from_answers_masks_out_padding():
    arr = SampleArrays.from_answers([[0, 1, 5]], [0], n_options=2, mask=np.array([[True, True, False]]))
    assert arr.answers.tolist() == [[0, 1, -1]]
    assert arr.n_samples.tolist() == [2]
    assert arr.n_invalid.tolist() == [0]
    assert arr.valid.tolist() == [[True, True, False]]
