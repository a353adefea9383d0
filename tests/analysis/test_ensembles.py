"""Ensembles of a simulated model: variance ∝ 1/E, Brier bias flat, incoherence falls."""

from __future__ import annotations

import numpy as np
import pytest

from hotmess.analysis import ensemble_analysis, ensemble_probs, simulate_samples
from hotmess.metrics import SampleArrays

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


@pytest.fixture(scope="module")
def many_samples():
    """40 questions × 320 one-hot answers (as in SPEC §3.4), Brier bias 0.4 and variance 0.6 per sample."""
    return simulate_samples(
        np.full(40, 0.4), np.full(40, 0.6), kind="answers", n_contexts=32, samples_per_context=10, rng=0
    )


def test_variance_falls_as_one_over_e(many_samples) -> None:
    res = ensemble_analysis(many_samples, metrics=["brier"], n_boot=400)
    assert res.table["size"].tolist() == [1, 2, 4, 8, 16, 32]
    assert set(res.table["n_ensembles"]) == {10}
    fit = res.fits.iloc[0]
    assert fit["variance_slope_low"] <= -1.0 <= fit["variance_slope_high"]
    assert fit["bias_slope_low"] <= 0.0 <= fit["bias_slope_high"]
    assert fit["incoherence_slope_high"] < 0
    # expected plug-in values: variance 0.6·(n−1)/n / E with n = 10 ensembles; bias 0.4 + that / n
    t = res.table.set_index("size")
    for e in (1, 4, 32):
        v = 0.6 * 0.9 / e
        assert t.loc[e, "variance_low"] <= v <= t.loc[e, "variance_high"]


def test_kl_variance_falls_too(many_samples) -> None:
    res = ensemble_analysis(many_samples, metrics=["kl"], sizes=[1, 2, 4, 8], n_boot=100)
    v = res.table["variance"].to_numpy()
    assert np.all(np.diff(v) < 0) and res.fits["variance_slope_high"].iloc[0] < 0


def test_ensembles_are_disjoint_and_average() -> None:
    answers = np.arange(12)[None, :] % 3
    arr = SampleArrays.from_answers(answers, [0], n_classes=3)
    probs, _ = ensemble_probs(arr, 4, 3, np.random.default_rng(0))
    assert probs.shape == (1, 3, 3)
    assert np.allclose(probs.sum(axis=1), [4 / 4, 4 / 4, 4 / 4])  # each sample used exactly once
    assert np.allclose(probs.sum(axis=2), 1.0)
    with pytest.raises(ValueError, match="samples"):
        ensemble_probs(arr, 4, 4, np.random.default_rng(0))


def test_ties_split_accuracy() -> None:
    arr = SampleArrays.from_answers([[0, 1]], [0], n_classes=2)
    _, acc = ensemble_probs(arr, 2, 1, np.random.default_rng(0))
    assert acc.tolist() == [0.5]


def test_default_sizes_follow_the_samples() -> None:
    df = simulate_samples(np.full(5, 0.4), np.full(5, 0.6), n_contexts=10, samples_per_context=3, rng=0)
    res = ensemble_analysis(df, metrics=["brier"], n_boot=0)
    assert res.table["size"].tolist() == [1, 2, 4] and set(res.table["n_ensembles"]) == {7}
    with pytest.raises(ValueError, match="metrics"):
        ensemble_analysis(df, metrics=["zero-one"])
