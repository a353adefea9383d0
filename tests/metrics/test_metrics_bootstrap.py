"""Bootstrap confidence intervals over questions: reproducibility, coverage, BCa, batching."""

from __future__ import annotations

import numpy as np
import pytest

from hotmess.metrics import Interval, bootstrap_ratio_ci, resample_weights


def _regular(seed: int = 0, Q: int = 80):
    rng = np.random.default_rng(seed)
    error = rng.gamma(2.0, 1.0, Q)
    variance = error * rng.beta(3.0, 5.0, Q)
    return variance, error


def test_same_seed_same_intervals_and_other_seed_differs():
    v, e = _regular()
    a = bootstrap_ratio_ci({"inc": v, "err": e}, {"inc": e}, n_boot=300, rng=5)
    b = bootstrap_ratio_ci({"inc": v, "err": e}, {"inc": e}, n_boot=300, rng=np.random.default_rng(5))
    c = bootstrap_ratio_ci({"inc": v, "err": e}, {"inc": e}, n_boot=300, rng=6)
    assert a == b
    assert a["inc"] != c["inc"]


def test_interval_contains_the_point_estimate_on_regular_data():
    v, e = _regular(Q=200)
    ci = bootstrap_ratio_ci({"inc": v, "var": v}, {"inc": e}, n_boot=500, rng=1)
    assert isinstance(ci["inc"], Interval) and ci["inc"].level == 0.95
    assert ci["inc"].low < v.sum() / e.sum() < ci["inc"].high
    assert ci["var"].low < v.mean() < ci["var"].high
    narrow = bootstrap_ratio_ci({"inc": v}, {"inc": e}, n_boot=500, rng=1, level=0.5)["inc"]
    assert ci["inc"].low < narrow.low < narrow.high < ci["inc"].high


def test_percentile_coverage_on_a_simulated_population():
    # Population: error ~ Gamma(2, 1), variance = error · Beta(3, 5) independent → the true ratio of sums
    # is E[variance]/E[error] = E[Beta] = 3/8. 200 datasets of 60 questions, 200 resamples each.
    rng = np.random.default_rng(2024)
    truth = 3 / 8
    hits = 0
    for _ in range(200):
        e = rng.gamma(2.0, 1.0, 60)
        v = e * rng.beta(3.0, 5.0, 60)
        ci = bootstrap_ratio_ci({"inc": v}, {"inc": e}, n_boot=200, rng=rng)["inc"]
        hits += truth in ci
    assert 0.88 <= hits / 200 <= 0.99, hits


def test_bca_runs_and_differs_from_percentile_on_skewed_data():
    rng = np.random.default_rng(3)
    x = rng.lognormal(0.0, 1.5, 60)  # heavily right-skewed per-question values
    pct = bootstrap_ratio_ci({"m": x}, n_boot=2000, rng=0, method="percentile")["m"]
    bca = bootstrap_ratio_ci({"m": x}, n_boot=2000, rng=0, method="bca")["m"]
    assert np.isfinite([bca.low, bca.high]).all()
    assert bca.low < x.mean() < bca.high
    # Right skew: BCa moves both ends upward relative to the percentile interval.
    assert bca.high > pct.high and bca.low > pct.low
    assert abs(bca.high - pct.high) > 0.01 * x.mean()


def test_bca_matches_efrons_formula_with_acceleration():
    # Efron & Tibshirani (1993, §14.3), written out here: z0 = Φ⁻¹(share of θ* below θ̂); acceleration
    # a = Σ d³ / (6 (Σ d²)^{3/2}) with d = mean(θ₍ᵢ₎) − θ₍ᵢ₎ over leave-one-question-out estimates;
    # level α ↦ Φ(z0 + (z0 + z_α) / (1 − a (z0 + z_α))). The resamples are those of resample_weights(seed).
    from scipy.stats import norm

    x = np.random.default_rng(4).lognormal(0.0, 1.0, 40)
    B, seed = 2000, 8
    W = resample_weights(x.size, B, np.random.default_rng(seed))
    tb = W @ x / x.size
    theta = x.mean()
    z0 = norm.ppf(np.mean(tb < theta))
    jack = (x.sum() - x) / (x.size - 1)
    d = jack.mean() - jack
    a = np.sum(d**3) / (6 * np.sum(d**2) ** 1.5)
    assert a > 0.02  # clearly skewed: the acceleration matters
    levels = [norm.cdf(z0 + (z0 + z) / (1 - a * (z0 + z))) for z in norm.ppf([0.025, 0.975])]
    lo, hi = np.quantile(tb, levels)
    ci = bootstrap_ratio_ci({"m": x}, n_boot=B, rng=seed, method="bca")["m"]
    assert ci.low == pytest.approx(lo, rel=1e-9) and ci.high == pytest.approx(hi, rel=1e-9)


@pytest.mark.parametrize("method", ["percentile", "bca"])
def test_batch_size_does_not_change_results(method):
    v, e = _regular(Q=53)
    runs = [
        bootstrap_ratio_ci({"inc": v, "e": e}, {"inc": e}, n_boot=257, rng=9, batch_size=b, method=method)
        for b in (1, 7, 256, 10_000)
    ]
    assert all(r == runs[0] for r in runs[1:])
    w = [resample_weights(53, 100, np.random.default_rng(1), batch_size=b) for b in (3, 100)]
    np.testing.assert_array_equal(w[0], w[1])


def test_resample_weights_are_counts_of_n_draws():
    w = resample_weights(17, 40, np.random.default_rng(0), batch_size=6)
    assert w.shape == (40, 17)
    assert np.all(w.sum(axis=1) == 17) and np.all(w >= 0) and np.all(w == np.round(w))
    assert len({tuple(r) for r in w}) == 40  # different resamples


def test_resampling_keeps_each_questions_terms_together():
    # Variance equals half the error in every question, so every resample has incoherence exactly ½:
    # with paired resampling the interval collapses to a point.
    e = np.random.default_rng(0).gamma(2.0, 1.0, 30)
    ci = bootstrap_ratio_ci({"inc": e / 2}, {"inc": e}, n_boot=200, rng=0)["inc"]
    assert ci.low == pytest.approx(0.5) and ci.high == pytest.approx(0.5)


def test_undefined_statistic_gives_nan_interval():
    ci = bootstrap_ratio_ci({"inc": np.zeros(5)}, {"inc": np.zeros(5)}, n_boot=50, rng=0)["inc"]
    assert np.isnan(ci.low) and np.isnan(ci.high)
    assert bootstrap_ratio_ci({}, n_boot=10) == {}
