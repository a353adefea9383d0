"""Dataset-level aggregation: ratio of sums, degenerate policies, CIs, warnings."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from hotmess.metrics import (
    Decomposition,
    DegenerateWarning,
    FewSamplesWarning,
    SampleArrays,
    decompose,
    kl_decomposition,
    summarize,
)


def _arrays(n: int = 30) -> SampleArrays:
    # Q0: all right. Q1: half A half B (target A). Q2: always C (target A). n samples each.
    half = [0] * (n // 2) + [1] * (n - n // 2)
    return SampleArrays.from_answers([[0] * n, half, [2] * n], [0, 0, 0], n_classes=3)


def test_incoherence_is_a_ratio_of_sums_not_a_mean_of_ratios():
    # Brier by hand (n = 30, C = 3): Q0 (0, 0, 0); Q1 f̃ = (½, ½, 0): BIAS ½, VARIANCE ½, ERROR 1;
    # Q2 BIAS 2, VARIANCE 0, ERROR 2. Σ V / Σ E = ½ / 3 = 1/6 while the mean of per-question ratios
    # (over Q1, Q2) is (½ + 0)/2 = ¼.
    s = summarize(_arrays(), "brier", n_boot=0)
    assert s.incoherence == pytest.approx(1 / 6)
    assert (s.bias, s.variance, s.error) == pytest.approx((2.5 / 3, 0.5 / 3, 3 / 3))
    assert s.incoherence == pytest.approx(s.variance / s.error)
    assert s.accuracy == pytest.approx((1 + 0.5 + 0) / 3)
    assert s.n_questions == 3 and s.n_samples == 90 and s.min_samples == 30 and s.n_invalid == 0


def test_zero_total_error_gives_nan_incoherence_with_degenerate_warning():
    arr = SampleArrays.from_answers([[1] * 30, [0] * 30], [1, 0])
    with pytest.warns(DegenerateWarning, match="zero"):
        s = summarize(arr, "brier", n_boot=50, rng=0)
    assert math.isnan(s.incoherence)
    assert math.isnan(s.ci["incoherence"].low)
    assert s.to_dict()["incoherence"] is None
    d = decompose(arr, "hard-kl")
    with pytest.warns(DegenerateWarning):
        assert math.isnan(d.incoherence)
    with pytest.warns(DegenerateWarning):
        assert math.isnan(Decomposition(np.zeros(2), np.zeros(2), np.zeros(2)).incoherence)


def test_few_samples_warn_but_still_compute():
    with pytest.warns(FewSamplesWarning, match="30"):
        s = summarize(_arrays(n=4), "kl", n_boot=0)
    assert 0 < s.incoherence < 1


def test_no_warning_with_enough_samples_and_error():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        summarize(_arrays(), "kl", n_boot=20, rng=0)


def test_zero_one_summary_has_no_incoherence_but_reports_absolute_terms():
    # Q0 (0,0,0); Q1 tie A/B → mode A = target: BIAS 0, VARIANCE ½, ERROR ½; Q2 BIAS 1, VARIANCE 0, ERROR 1.
    s = summarize(_arrays(), "zero-one", n_boot=30, rng=0)
    assert math.isnan(s.incoherence) and "incoherence" not in s.ci
    assert (s.bias, s.variance, s.error) == pytest.approx((1 / 3, 0.5 / 3, 1.5 / 3))


def test_cis_are_seeded_and_contain_point_estimates():
    rng = np.random.default_rng(0)
    answers = rng.integers(-1, 4, size=(60, 30))
    arr = SampleArrays.from_answers(answers, rng.integers(0, 4, 60), n_classes=4)
    a = summarize(arr, "kl", n_boot=200, rng=3)
    b = summarize(arr, "kl", n_boot=200, rng=3)
    assert a.ci == b.ci
    for name in ("bias", "variance", "error", "incoherence", "accuracy"):
        assert getattr(a, name) in a.ci[name], name
    bca = summarize(arr, "kl", n_boot=200, rng=3, ci_method="bca")
    assert bca.options["ci_method"] == "bca"
    d = a.to_dict()
    assert d["ci_level"] == 0.95 and set(d["ci"]) == {"bias", "variance", "error", "incoherence", "accuracy"}


def test_decompose_passes_options_through():
    arr = _arrays()
    assert decompose(arr, "kl", delta=0.1).error[1] == pytest.approx(
        kl_decomposition(arr.probs, arr.targets, delta=0.1).error[1]
    )
    plug = decompose(arr, "brier").variance[1]
    assert decompose(arr, "brier", unbiased=True).variance[1] == pytest.approx(plug * 30 / 29)
    assert decompose(arr, "kl", jackknife=True).variance[1] != decompose(arr, "kl").variance[1]
