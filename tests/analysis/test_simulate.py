"""The simulator's designs are exact, and its samples converge to them."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hotmess.analysis.simulate import design_answers, design_probs, simulate_samples
from hotmess.data import to_arrays
from hotmess.metrics import brier_decomposition


def _brier_population(p: np.ndarray, lam: float = 1.0) -> tuple[float, float]:
    y = np.eye(len(p))[0]
    return float(((y - p) ** 2).sum()), float(lam**2 * (1 - (p**2).sum()))


@settings(max_examples=60, deadline=None)
@given(bias=st.floats(0.0, 1.2), share=st.floats(0.0, 1.0), c=st.integers(2, 6), kappa=st.floats(0.0, 1.0))
def test_design_probs_hits_targets(bias: float, share: float, c: int, kappa: float) -> None:
    try:
        m0, _ = design_probs(bias, 0.0, n_options=c, wrong_concentration=kappa)
    except ValueError:
        return  # bias beyond reach for this concentration
    variance = share * (1 - float(m0 @ m0))
    m, lam = design_probs(bias, variance, n_options=c, wrong_concentration=kappa)
    assert np.all(m >= -1e-12) and abs(m.sum() - 1) < 1e-12 and 0 <= lam <= 1
    b, v = _brier_population(m, lam)
    assert b == pytest.approx(bias, abs=1e-9) and v == pytest.approx(variance, abs=1e-9)


@pytest.mark.parametrize(("bias", "variance", "c"), [(0.5, 0.5, 4), (1.1, 0.5, 4), (0.9, 0.7, 10), (0.3, 0.5, 3)])
def test_design_answers_hits_targets(bias: float, variance: float, c: int) -> None:
    p = design_answers(bias, variance, n_options=c)
    assert np.all(p >= -1e-12) and p.sum() == pytest.approx(1.0)
    assert _brier_population(p) == pytest.approx((bias, variance), abs=1e-9)


def test_infeasible_designs_raise() -> None:
    with pytest.raises(ValueError, match="variance"):
        design_answers(0.1, 0.9)  # a mostly-right question cannot have that little bias with one-hot answers
    with pytest.raises(ValueError, match="variance"):
        design_probs(0.9, 0.9)
    with pytest.raises(ValueError, match="bias"):
        design_probs(3.0, 0.1)


@pytest.mark.parametrize("kind", ["probs", "answers"])
def test_samples_converge_to_design(kind: str) -> None:
    df = simulate_samples(np.full(150, 0.6), np.full(150, 0.5), kind=kind, n_contexts=20, samples_per_context=4, rng=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        arr, _ = to_arrays(df)
    d = brier_decomposition(arr.probs, arr.targets, mask=arr.mask, unbiased=True)
    assert d.bias.mean() == pytest.approx(0.6, abs=0.03)
    assert d.variance.mean() == pytest.approx(0.5, abs=0.02)
    assert set(df["correct"]) == {0, 1, 2, 3}  # correct option placed at random
    if kind == "answers":  # the answer is the drawn option: accuracy = p[c*] = 1 − error/2
        assert (df["answer"] == df["correct"]).mean() == pytest.approx(1 - (0.6 + 0.5) / 2, abs=0.03)


def test_layout_and_labels() -> None:
    df = simulate_samples([0.3], [0.2], n_contexts=3, samples_per_context=2, model="m", budget="high", rng=0)
    assert df["context_id"].tolist() == [0, 0, 1, 1, 2, 2]
    assert df["sample_index"].tolist() == [0, 1] * 3
    assert set(df["model"]) == {"m"} and set(df["budget"]) == {"high"}
    with pytest.raises(ValueError, match="lengths"):
        simulate_samples([0.3], [0.2], lengths=[1.0, 2.0], rng=0)
