"""Incoherence vs reasoning length: a simulated model with incoherence ∝ length^α must give α back."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hotmess.analysis import equal_buckets, incoherence_vs_length, simulate_samples
from hotmess.data import to_arrays
from hotmess.errors import InputError
from hotmess.metrics import brier_decomposition

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def power_law_model(
    alpha: float, *, n: int = 200, error: float = 1.2, rng: int = 0, model: str = "sim"
) -> pd.DataFrame:
    """Questions with log-uniform lengths 50…1600 and incoherence 0.08·(L/50)^α at a constant error."""
    gen = np.random.default_rng(rng)
    lengths = np.exp(gen.uniform(np.log(50), np.log(1600), n))
    inco = 0.08 * (lengths / 50) ** alpha
    return simulate_samples(error * (1 - inco), error * inco, lengths=lengths, length_noise=0.05, rng=gen, model=model)


@pytest.mark.parametrize("alpha", [0.5, 0.0])
def test_recovers_power_law_exponent(alpha: float) -> None:
    res = incoherence_vs_length(power_law_model(alpha), metric="brier", unbiased=True, n_buckets=8, n_boot=400, rng=1)
    fit = res.fits.iloc[0]
    assert fit["alpha_low"] <= alpha <= fit["alpha_high"]
    assert fit["alpha_high"] - fit["alpha_low"] < 0.25  # informative, not vacuous
    assert len(res.buckets) == 8 and res.buckets["n_questions"].tolist() == [25] * 8
    assert res.buckets["length"].is_monotonic_increasing


def test_kl_sees_the_same_direction() -> None:
    res = incoherence_vs_length(power_law_model(0.5, n=120), n_buckets=6, n_boot=200)
    assert res.fits["alpha_low"].iloc[0] > 0


def test_bucket_numbers_are_ratio_of_sums() -> None:
    df = simulate_samples([0.4, 0.8, 0.3, 0.5], [0.3, 0.2, 0.5, 0.4], lengths=[10, 20, 30, 40], length_noise=0.0, rng=0)
    res = incoherence_vs_length(df, metric="brier", n_buckets=2, n_boot=0)
    arr, info = to_arrays(df)
    d = brier_decomposition(arr.probs, arr.targets, mask=arr.mask)
    for k, idx in enumerate(([0, 1], [2, 3])):
        row = res.buckets.iloc[k]
        assert row["incoherence"] == pytest.approx(d.variance[idx].sum() / d.error[idx].sum())
        assert row["bias"] == pytest.approx(d.bias[idx].mean())
        assert row["length"] == pytest.approx(info["output_tokens"].to_numpy()[idx].mean())
        assert row["accuracy"] == pytest.approx(arr.hard_accuracy()[idx].mean())


def test_reference_model_buckets_everyone_alike() -> None:
    a = power_law_model(0.5, n=40, model="big")
    b = power_law_model(0.5, n=40, model="small", rng=0)
    b["output_tokens"] = pd.array(b["output_tokens"].to_numpy()[::-1], dtype="Int64")  # scrambled own lengths
    res = incoherence_vs_length(pd.concat([a, b]), n_buckets=4, reference_model="big", n_boot=0)
    big = res.buckets[res.buckets["model"] == "big"]
    small = res.buckets[res.buckets["model"] == "small"]
    assert big["length"].tolist() == small["length"].tolist()  # the reference lengths
    assert not np.allclose(big["own_length"], small["own_length"])
    with pytest.raises(InputError, match="reference model"):
        incoherence_vs_length(a, reference_model="nope", n_boot=0)


def test_backtracking_axis_and_missing_axis() -> None:
    markers = np.repeat([0, 1, 2, 4], 10)
    df = simulate_samples(np.full(40, 0.6), np.full(40, 0.4), markers=markers, rng=0)
    res = incoherence_vs_length(df, axis="backtracking", n_buckets=4, n_boot=0)
    assert res.buckets["length"].tolist() == [0.0, 1.0, 2.0, 4.0]
    assert res.fits["n_points"].iloc[0] == 3  # zero length has no logarithm
    with pytest.raises(InputError, match="reasoning_tokens"):
        incoherence_vs_length(df, axis="reasoning_tokens", n_boot=0)
    with pytest.raises(ValueError, match="axis"):
        incoherence_vs_length(df, axis="words", n_boot=0)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(0, 1e4), min_size=1, max_size=60), st.integers(1, 12))
def test_equal_buckets_are_equal_and_sorted(values: list[float], k: int) -> None:
    x = np.array(values)
    b = equal_buckets(x, k)
    sizes = np.bincount(b)
    assert sizes.max() - sizes.min() <= 1 and len(sizes) == min(k, len(x))
    for i in range(len(sizes) - 1):
        assert x[b == i].max() <= x[b == i + 1].min()


def test_samples_order_does_not_matter() -> None:
    df = power_law_model(0.5, n=40)
    a = incoherence_vs_length(df, n_buckets=4, n_boot=0).buckets
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        b = incoherence_vs_length(df.sample(frac=1.0, random_state=1), n_buckets=4, n_boot=0).buckets
    pd.testing.assert_frame_equal(a, b)


@settings(max_examples=30, deadline=None)
@given(
    st.lists(
        st.tuples(st.lists(st.integers(-1, 3), min_size=2, max_size=6), st.integers(0, 3), st.integers(1, 500)),
        min_size=2,
        max_size=8,
    ),
    st.sampled_from(["kl", "brier", "hard-kl"]),
)
def test_bucket_incoherence_stays_in_unit_interval(questions: list[tuple[list[int], int, int]], metric: str) -> None:
    rows = [
        {
            "task": "t",
            "question_id": f"q{i}",
            "model": "m",
            "budget": "",
            "context_id": 0,
            "sample_index": j,
            "n_options": 4,
            "correct": c,
            "answer": a,
            "valid": a >= 0,
            "probs": None,
            "error": None,
            "output_tokens": n + j,
            "raw_output": "",
        }
        for i, (answers, c, n) in enumerate(questions)
        for j, a in enumerate(answers)
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = incoherence_vs_length(pd.DataFrame(rows), metric=metric, n_buckets=3, n_boot=20)
    inco = res.buckets["incoherence"].dropna()
    assert ((inco >= -1e-12) & (inco <= 1 + 1e-12)).all()
    assert res.buckets["n_questions"].sum() == len(questions)
