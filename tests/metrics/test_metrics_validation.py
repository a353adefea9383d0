"""Every public metric function rejects bad input with a ValueError that names the argument."""

from __future__ import annotations

import numpy as np
import pytest

from hotmess.metrics import (
    SampleArrays,
    apply_limit_hits,
    bootstrap_ratio_ci,
    brier_decomposition,
    continuous_decomposition,
    decompose,
    embedding_variance,
    estimator_options,
    hard_kl_decomposition,
    kl_decomposition,
    one_hot,
    summarize,
    test_vector_decomposition,
    zero_one_decomposition,
)

GOOD = np.array([[[1.0, 0.0], [0.0, 1.0]]])  # (1, 2, 2)
MASK = np.array([[True, True]])
ARR = SampleArrays.from_answers([[0, 1]], [0])
ONE = SampleArrays.from_answers([[0, 1], [1, 9]], [0, 0], n_options=2, mask=np.array([[True, True], [True, False]]))
SOFT = SampleArrays.from_probs([[[0.6, 0.4], [1.0, 0.0]]], [0])

CASES = [
    # KL and Brier share the same checks of probs / targets / mask / n_options
    *[
        pytest.param(fn, args, kwargs, name, id=f"{fn.__name__}-{tag}")
        for fn in (kl_decomposition, brier_decomposition)
        for tag, args, kwargs, name in [
            ("probs-2d", (GOOD[0], [0]), {}, "probs"),
            ("probs-one-class", (np.ones((1, 2, 1)), [0]), {}, "probs"),
            ("probs-empty", (np.zeros((1, 0, 2)), [0]), {}, "probs"),
            ("probs-sum", ([[[0.5, 0.2]]], [0]), {}, "probs"),
            ("probs-negative", ([[[1.5, -0.5]]], [0]), {}, "probs"),
            ("probs-nan", ([[[np.nan, 1.0]]], [0]), {}, "probs"),
            ("probs-beyond-n-options", ([[[0.5, 0.0, 0.5]]], [0]), {"n_options": 2}, "probs"),
            ("targets-shape", (GOOD, [0, 1]), {}, "targets"),
            ("targets-float", (GOOD, [0.0]), {}, "targets"),
            ("targets-range", (GOOD, [2]), {}, "targets"),
            ("targets-negative", (GOOD, [-1]), {}, "targets"),
            ("mask-shape", (GOOD, [0]), {"mask": np.array([True, True])}, "mask"),
            ("mask-dtype", (GOOD, [0]), {"mask": np.array([[1, 1]])}, "mask"),
            ("mask-empty-question", (GOOD, [0]), {"mask": np.array([[False, False]])}, "mask"),
            ("n-options-small", (GOOD, [0]), {"n_options": 1}, "n_options"),
            ("n-options-large", (GOOD, [0]), {"n_options": 3}, "n_options"),
            ("n-options-shape", (GOOD, [0]), {"n_options": [2, 2]}, "n_options"),
        ]
    ],
    pytest.param(kl_decomposition, (GOOD, [0]), {"delta": 0.0}, "delta", id="kl-delta-zero"),
    pytest.param(kl_decomposition, (GOOD, [0]), {"delta": float("inf")}, "delta", id="kl-delta-inf"),
    pytest.param(kl_decomposition, (GOOD[:, :1], [0]), {"jackknife": True}, "mask", id="kl-jackknife-one-sample"),
    pytest.param(brier_decomposition, (GOOD[:, :1], [0]), {"unbiased": True}, "mask", id="brier-unbiased-one"),
    # hard answers
    *[
        pytest.param(fn, args, kwargs, name, id=f"{fn.__name__}-{tag}")
        for fn in (zero_one_decomposition, hard_kl_decomposition)
        for tag, args, kwargs, name in [
            ("answers-float", ([[0.0, 1.0]], [0]), {}, "answers"),
            ("answers-1d", ([0, 1], [0]), {}, "answers"),
            ("answers-range", ([[0, 2]], [0]), {"n_options": 2}, "answers"),
            ("answers-below-minus-one", ([[0, -2]], [0]), {}, "answers"),
            ("targets-range", ([[0, 1]], [3]), {"n_options": 2}, "targets"),
            ("mask-shape", ([[0, 1]], [0]), {"mask": np.array([[True]])}, "mask"),
            ("n-options", ([[0, 1]], [0]), {"n_options": [1]}, "n_options"),
        ]
    ],
    # 0/1 with probability vectors
    pytest.param(zero_one_decomposition, ([[0, 1]], [0]), {"probs": GOOD[0]}, "probs", id="zero_one-probs-2d"),
    pytest.param(
        zero_one_decomposition, ([[0, 1]], [0]), {"probs": np.ones((1, 3, 2)) / 2}, "probs", id="zero_one-probs-shape"
    ),
    pytest.param(zero_one_decomposition, ([[0, 1]], [0]), {"probs": [[[0.5, 0.2], [0, 1]]]}, "probs", id="zo-p-sum"),
    pytest.param(zero_one_decomposition, ([[0, 2]], [0]), {"probs": GOOD}, "answers", id="zero_one-probs-answers"),
    # estimators
    pytest.param(decompose, (ARR, "kl"), {"estimator": "jackknife"}, "estimator", id="decompose-estimator"),
    pytest.param(decompose, (ARR, "zero-one"), {"estimator": "corrected"}, "estimator", id="decompose-corr-01"),
    pytest.param(decompose, (ARR, "hard-kl"), {"estimator": "corrected"}, "estimator", id="decompose-corr-hard"),
    pytest.param(decompose, (ONE, "brier"), {"estimator": "corrected"}, "estimator", id="decompose-corr-one"),
    pytest.param(decompose, (ONE, "kl"), {"jackknife": True}, "estimator", id="decompose-jackknife-one"),
    pytest.param(decompose, (SOFT, "hard-kl"), {}, "arrays", id="decompose-hard-kl-soft"),
    pytest.param(summarize, (ARR, "kl"), {"estimator": "x", "n_boot": 0}, "estimator", id="summarize-estimator"),
    pytest.param(estimator_options, ("mse", "plugin"), {}, "metric", id="estimator_options-metric"),
    pytest.param(estimator_options, ("kl", "unbiased"), {}, "estimator", id="estimator_options-estimator"),
    pytest.param(test_vector_decomposition, ([[[1, 0]]],), {"unbiased": True}, "run_mask", id="tv-unbiased-one-run"),
    # one_hot and SampleArrays
    pytest.param(one_hot, ([0, 1], 2), {}, "answers", id="one_hot-1d"),
    pytest.param(one_hot, ([[0.0]], 2), {}, "answers", id="one_hot-float"),
    pytest.param(one_hot, ([[2]], 2), {}, "answers", id="one_hot-range"),
    pytest.param(one_hot, ([[0]], 2), {"n_options": 3}, "n_options", id="one_hot-n-options"),
    pytest.param(SampleArrays.from_answers, ([0, 1], [0]), {}, "answers", id="from_answers-1d"),
    pytest.param(SampleArrays.from_answers, ([[0, 1]], [5]), {"n_options": 2}, "targets", id="from_answers-target"),
    pytest.param(SampleArrays.from_probs, (GOOD[0], [0]), {}, "probs", id="from_probs-2d"),
    pytest.param(SampleArrays.from_probs, ([[[0.3, 0.3]]], [0]), {}, "probs", id="from_probs-sum"),
    # test vectors, embeddings, continuous
    pytest.param(test_vector_decomposition, ([[1, 0]],), {}, "outcomes", id="tv-2d"),
    pytest.param(test_vector_decomposition, ([[[1, 2]]],), {}, "outcomes", id="tv-range"),
    pytest.param(test_vector_decomposition, ([[[1, np.nan]]],), {}, "outcomes", id="tv-nan"),
    pytest.param(test_vector_decomposition, ([[[1, 0]]],), {"test_mask": [[True]]}, "test_mask", id="tv-tm-shape"),
    pytest.param(test_vector_decomposition, ([[[1, 0]]],), {"test_mask": [[False, False]]}, "test_mask", id="tv-tm0"),
    pytest.param(test_vector_decomposition, ([[[1, 0]]],), {"run_mask": [[False]]}, "mask", id="tv-run-mask"),
    pytest.param(embedding_variance, ([[1.0, 2.0]],), {}, "embeddings", id="emb-2d"),
    pytest.param(embedding_variance, ([[[1.0, np.inf]]],), {}, "embeddings", id="emb-inf"),
    pytest.param(embedding_variance, ([[[1.0], [2.0]]],), {"mask": np.array([[True]])}, "mask", id="emb-mask"),
    pytest.param(continuous_decomposition, ([1.0, 2.0], [0.0]), {}, "points", id="cont-1d"),
    pytest.param(continuous_decomposition, ([[1.0, 2.0]], [0.0, 0.0, 0.0]), {}, "target", id="cont-target"),
    pytest.param(continuous_decomposition, ([[1.0, 2.0]], [0.0, 0.0]), {"metric": np.eye(3)}, "metric", id="c-A"),
    pytest.param(
        continuous_decomposition, ([[1.0, 2.0]], [0.0, 0.0]), {"metric": [[1, 1], [0, 1]]}, "metric", id="cont-asym"
    ),
    # aggregation
    pytest.param(bootstrap_ratio_ci, ({"x": [1.0]},), {"level": 1.0}, "level", id="boot-level"),
    pytest.param(bootstrap_ratio_ci, ({"x": [1.0]},), {"n_boot": 0}, "n_boot", id="boot-n"),
    pytest.param(bootstrap_ratio_ci, ({"x": [1.0]},), {"method": "bc"}, "method", id="boot-method"),
    pytest.param(bootstrap_ratio_ci, ({"x": []},), {}, "numerators", id="boot-empty"),
    pytest.param(bootstrap_ratio_ci, ({"x": [1.0, 2.0]}, {"x": [1.0]}), {}, "denominators", id="boot-dens"),
    pytest.param(bootstrap_ratio_ci, ({"x": [1.0, 2.0], "y": [1.0]},), {}, "numerators", id="boot-ragged"),
    pytest.param(bootstrap_ratio_ci, ({"x": [[1.0, 2.0]]},), {}, "numerators", id="boot-2d"),
    pytest.param(decompose, (ARR, "mse"), {}, "metric", id="decompose-metric"),
    pytest.param(summarize, (ARR, "mse"), {"n_boot": 0}, "metric", id="summarize-metric"),
]


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize(("fn", "args", "kwargs", "name"), CASES)
def test_bad_input_raises_value_error_naming_the_argument(fn, args, kwargs, name):
    with pytest.raises(ValueError, match=rf"^{name}\b") as info:
        fn(*args, **kwargs)
    assert "expected" in str(info.value) or "needs" in str(info.value) or "found" in str(info.value)


def test_apply_limit_hits_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="limit_hit"):
        apply_limit_hits(np.zeros((1, 2, 3)), np.zeros((1, 3), dtype=bool), np.zeros((1, 3)))
    with pytest.raises(ValueError, match="baseline"):
        apply_limit_hits(np.zeros((1, 2, 3)), np.zeros((1, 2), dtype=bool), np.zeros((1, 2)))


def test_round_off_negatives_within_tolerance_are_accepted_and_stay_finite():
    # Validation tolerates |negative| ≤ 1e-6 (e.g. 1 − 0.3 − 0.7 in floating point); the KL log must not see
    # them: with δ = 1e-12 a −1e-9 entry would otherwise give log(negative) = NaN.
    probs = [[[1.0 + 1e-9, -1e-9], [0.5, 0.5]]]
    d = kl_decomposition(probs, [0])
    assert np.isfinite([d.bias, d.variance, d.error]).all()
    assert np.isfinite(brier_decomposition(probs, [0]).error).all()
