"""Per-step decomposition on points with known spread, and power-law fits with bootstrap intervals."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hotmess.synthetic.measure import (
    final_values,
    fit_power_law,
    resampled_final_values,
    scaling_fits,
    step_metrics,
)
from hotmess.synthetic.problem import Quadratic

Q = Quadratic(A=np.diag([1.0, 4.0]), b=np.array([1.0, -1.0]), step_size=0.1, offset_direction=np.eye(2)[0])


def test_known_spread_by_hand() -> None:
    # 4 points at b + (0.5, 0) + (±s, 0) and (0, ±s): mean offset (0.5, 0), spread s per point
    s = 0.2
    offsets = np.array([[s, 0], [-s, 0], [0, s], [0, -s]]) + np.array([0.5, 0.0])
    pts = (Q.b + offsets).reshape(4, 1, 1, 2)
    row = step_metrics(pts, Q, model="m", n_params=10).iloc[0]
    assert row["bias"] == pytest.approx(0.25)  # (0.5)² · A₁₁
    assert row["variance"] == pytest.approx((s**2 * 1 * 2 + s**2 * 4 * 2) / 4)  # mean of s²A_ii over points
    assert row["error"] == pytest.approx(row["bias"] + row["variance"])
    assert row["incoherence"] == pytest.approx(row["variance"] / row["error"])
    assert np.isnan(row["variance_decoding"]) and row["n_params"] == 10


def test_decoding_variance_is_the_within_start_part() -> None:
    # 2 starts × 2 rollouts; within each start the rollouts differ by ±0.1 on x₁
    e1 = np.array([1.0, 0.0])
    pts = np.array([[[Q.b + 0.1 * e1], [Q.b - 0.1 * e1]], [[Q.b + 1.1 * e1], [Q.b + 0.9 * e1]]])  # (2, 2, 1, 2)
    row = step_metrics(pts, Q, model="m").iloc[0]
    assert row["variance_decoding"] == pytest.approx(0.01)
    assert row["variance"] == pytest.approx(0.01 + 0.25)  # within + between (law of total variance)


@settings(max_examples=50, deadline=None)
@given(seed=st.integers(0, 10_000), K=st.integers(2, 20), T=st.integers(1, 5))
def test_identity_and_order_invariance(seed: int, K: int, T: int) -> None:
    pts = np.random.default_rng(seed).normal(size=(K, 1, T, 2))
    m = step_metrics(pts, Q, model="m")
    np.testing.assert_allclose(m["error"], m["bias"] + m["variance"], rtol=1e-10)
    assert ((m["incoherence"] >= 0) & (m["incoherence"] <= 1)).all()
    shuffled = step_metrics(pts[::-1], Q, model="m")
    np.testing.assert_allclose(shuffled[["bias", "variance"]], m[["bias", "variance"]], rtol=1e-10)


def test_final_values_average_the_window() -> None:
    e1 = np.array([1.0, 0.0])
    pts = np.stack([Q.b + 0.1 * e1, Q.b + 0.3 * e1])[:, None, None, :].repeat(3, axis=2)  # (2, 1, 3, 2)
    f = final_values(pts, Q)
    assert f["bias"] == pytest.approx(0.04) and f["variance"] == pytest.approx(0.01)
    assert f["incoherence"] == pytest.approx(0.2)


def test_power_law_fit_recovers_the_exponent() -> None:
    n = np.array([1e4, 3e4, 1e5, 3e5])
    f = fit_power_law(n, 5.0 * n**-1.5, quantity="bias")
    assert f.exponent == pytest.approx(1.5) and f.prefactor == pytest.approx(5.0) and f.r2 == pytest.approx(1.0)
    np.testing.assert_allclose(f.predict(n), 5.0 * n**-1.5)
    with pytest.raises(ValueError, match="positive"):
        fit_power_law([1, 2], [1.0, 0.0])
    with pytest.raises(ValueError, match="length"):
        fit_power_law([1], [1.0])


def test_scaling_fits_bootstrap_covers_the_true_exponents() -> None:
    rng = np.random.default_rng(0)
    n_params = [1e4, 1e5, 1e6]
    z = rng.normal(size=(400, 1, 2, 2))  # the same starts' noise for every size, 2-step window
    z -= z.mean(axis=0)  # so the sample bias is exactly the shift
    finals = []
    for n in n_params:
        shift = n**-0.5 * np.array([1.0, 0.0])  # bias = shift² A₁₁ ∝ N^-1
        spread = 0.01 * n**-0.25  # variance ∝ N^-0.5
        finals.append(Q.b + shift + spread * z)
    fits = scaling_fits(n_params, finals, Q, n_boot=200, rng=1)
    assert fits["bias"].exponent == pytest.approx(1.0, rel=1e-9)
    assert fits["variance"].exponent == pytest.approx(0.5, rel=1e-9)
    assert fits["bias"].ci is not None and fits["bias"].ci.high - fits["bias"].ci.low < 0.05
    for q in ("bias", "variance"):
        ci = fits[q].ci
        assert ci is not None and ci.low <= fits[q].exponent <= ci.high
    again = scaling_fits(n_params, finals, Q, n_boot=200, rng=1)
    assert again["bias"].ci == fits["bias"].ci  # seeded
    with pytest.raises(ValueError, match="same shape"):
        scaling_fits(n_params, finals[:2], Q)


def test_resampled_final_values_equal_decomposing_the_resampled_points() -> None:
    rng = np.random.default_rng(3)
    pts = rng.normal(size=(7, 2, 3, 2)) + 5.0  # far from b: bias dominates, a cancellation stress test
    idx = rng.integers(0, 7, size=(4, 7))
    counts = np.stack([np.bincount(i, minlength=7) for i in idx])
    fast = resampled_final_values(pts, Q, counts)
    for b, i in enumerate(idx):
        slow = final_values(pts[i], Q)
        for q in ("bias", "variance", "error"):
            assert fast[q][b] == pytest.approx(slow[q], rel=1e-10)
