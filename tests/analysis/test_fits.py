"""Power-law fits and parameter counts."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hotmess.analysis import fit_power_law, param_counts, parse_param_count
from hotmess.analysis.fits import slopes


def test_exact_power_law() -> None:
    x = np.array([10.0, 20.0, 40.0, 80.0])
    f = fit_power_law(x, 3.0 * x**-0.7)
    assert f.exponent == pytest.approx(-0.7) and f.prefactor == pytest.approx(3.0) and f.r2 == pytest.approx(1.0)
    assert f.predict([10.0])[0] == pytest.approx(3.0 * 10**-0.7)


def test_non_positive_points_are_left_out() -> None:
    f = fit_power_law([1, 2, 4, 0, 8], [1, 2, 4, 5, -1])
    assert f.n_points == 3 and f.exponent == pytest.approx(1.0)
    assert np.isnan(fit_power_law([1, 1], [1, 2]).exponent)  # no spread in x
    with pytest.raises(ValueError, match="equal lengths"):
        fit_power_law([1, 2], [1])


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.floats(0.1, 1e4), st.floats(1e-3, 1e3)), min_size=3, max_size=8, unique_by=lambda t: t[0]))
def test_vectorised_slopes_match_polyfit(points: list[tuple[float, float]]) -> None:
    x, y = np.array(points).T
    if np.ptp(np.log(x)) < 1e-6:
        return
    expected = np.polyfit(np.log(x), np.log(y), 1)[0]
    assert slopes(x[None, :], y[None, :])[0] == pytest.approx(expected, rel=1e-6, abs=1e-9)


@pytest.mark.parametrize(
    ("name", "n"),
    [
        ("qwen3-8b", 8e9),
        ("Qwen/Qwen2.5-0.5B-Instruct", 5e8),
        ("SmolLM2-135M-Instruct", 1.35e8),
        ("llama-3.1-70b", 7e10),
        ("135M", 1.35e8),
        ("gpt-4o", None),
        ("model-8bit", None),
    ],
)
def test_parse_param_count(name: str, n: float | None) -> None:
    assert parse_param_count(name) == n


def test_mapping_overrides_names() -> None:
    assert param_counts(["qwen3-8b", "x"], {"qwen3-8b": 7.6e9}) == {"qwen3-8b": 7.6e9}


def test_steep_fit_over_a_narrow_range_does_not_overflow() -> None:
    # two usable points 29.5 and 30 with very different y: slope ≈ −218, exp(intercept) overflows a float
    f = fit_power_law([1.5, 29.5, 30.0], [0.0, 0.94982826, 0.02447193])
    assert f.n_points == 2 and f.exponent == pytest.approx(np.log(0.02447193 / 0.94982826) / np.log(30 / 29.5))
    assert f.prefactor == np.inf
