"""Natural overthinking (median split) and reasoning budgets on simulated models with known halves."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hotmess.analysis import budget_effects, budget_order, natural_overthinking, simulate_samples, split_at_median

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def halves(short: float, long: float, n: int = 100) -> np.ndarray:
    """Per-sample design: samples 0-14 get ``short``, samples 15-29 get ``long`` (30 samples per question)."""
    return np.tile(np.r_[[short] * 15, [long] * 15], (n, 1))


def overthinker(*, n: int = 100, rng: int = 1, budget: str = "", length: float = 100.0) -> pd.DataFrame:
    """Long samples are less biased but more variable: incoherence 1/3 below the median, 2/3 above."""
    return simulate_samples(
        halves(0.6, 0.3, n), halves(0.3, 0.6, n), lengths=halves(length, 3 * length, n), rng=rng, budget=budget
    )


def test_median_split_recovers_each_half() -> None:
    # Seeded, with margin: each estimate within 0.05 of its design (≈ 3 bootstrap SEs), intervals ~0.05 wide.
    res = natural_overthinking(overthinker(), metric="brier", estimator="corrected", n_boot=400).set_index("half")
    for half, (bias, var) in {"short": (0.6, 0.3), "long": (0.3, 0.6)}.items():
        row = res.loc[half]
        assert abs(row["bias"] - bias) < 0.05 and abs(row["variance"] - var) < 0.05
        assert abs(row["incoherence"] - var / (bias + var)) < 0.03
        assert 0.001 < row["variance_high"] - row["variance_low"] < 0.1
    diff = res.loc["long − short"]
    assert abs(diff["incoherence"] - 1 / 3) < 0.03 and diff["incoherence_low"] > 0.25
    assert res.loc["short", "n_questions"] == 100 and res.loc["long", "length"] > 2.5 * res.loc["short", "length"]


def test_no_effect_gives_a_difference_around_zero() -> None:
    df = simulate_samples(np.full(100, 0.5), np.full(100, 0.4), lengths=100, length_noise=0.3, rng=0)
    diff = natural_overthinking(df, metric="brier", unbiased=True, n_boot=400).iloc[2]
    # one seeded draw, checked with margin; how often the interval covers 0 is tested in test_null_calibration.py
    assert abs(diff["incoherence"]) < 0.03 and diff["incoherence_high"] - diff["incoherence_low"] < 0.08


def test_split_at_median_hand_case() -> None:
    df = pd.DataFrame({"model": "m", "budget": "", "task": "t", "question_id": list("aaaabb")})
    half = split_at_median(df, pd.Series([1.0, 2.0, 3.0, np.nan, 5.0, 5.0]))
    # a: three known lengths → 1 short, 3 long, the middle one (2) and the NaN in no half; b: all equal → none.
    assert half.iloc[0] == "short" and half.iloc[2] == "long" and half.iloc[[1, 3, 4, 5]].isna().all()


def test_ties_at_the_median_are_split_evenly_at_random() -> None:
    df = pd.DataFrame({"model": "m", "budget": "", "task": "t", "question_id": ["a"] * 8})
    lengths = pd.Series([1.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 3.0])
    seen = set()
    for seed in range(20):
        half = split_at_median(df, lengths, rng=seed)
        assert (half == "short").sum() == (half == "long").sum() == 4  # equal halves whatever the ties
        assert half.iloc[0] == "short" and half.iloc[7] == "long"
        seen.add(tuple(half.iloc[1:7]))
    assert len(seen) > 1  # the tied samples are assigned at random, not by table order


def test_questions_with_equal_lengths_are_left_out() -> None:
    df = overthinker(n=10)
    df.loc[df["question_id"] == "q0000", "output_tokens"] = 50
    res = natural_overthinking(df, metric="brier", n_boot=0)
    assert res["n_questions"].iloc[0] == 9


def test_budget_order() -> None:
    assert budget_order(["high", "", "low", "medium", "tokens:512", "tokens:64", "x"]) == [
        "",
        "low",
        "medium",
        "high",
        "tokens:64",
        "tokens:512",
        "x",
    ]


def test_budget_effects_show_the_designed_budgets() -> None:
    low = simulate_samples(np.full(60, 0.6), np.full(60, 0.3), budget="low", lengths=100, rng=0)
    high = overthinker(n=60, budget="high", length=300)
    res = budget_effects(pd.concat([high, low]), metric="brier", unbiased=True, n_boot=300).set_index("budget")
    assert res.index.tolist() == ["low", "high"] and res["budget_rank"].tolist() == [0, 1]
    assert abs(res.loc["low", "incoherence"] - 1 / 3) < 0.02  # seeded, with margin (≈ 4 bootstrap SEs)
    assert res.loc["high", "incoherence_low"] > res.loc["low", "incoherence_high"] + 0.1
    assert res.loc["high", "length"] > res.loc["low", "length"]
    # overthinking within the high budget is designed (+1/3); within the low budget there is none
    assert abs(res.loc["high", "overthinking_incoherence"] - 1 / 3) < 0.03
    assert res.loc["high", "overthinking_incoherence_low"] > 0.25
    assert abs(res.loc["low", "overthinking_incoherence"]) < 0.03


def test_budget_effects_use_common_questions() -> None:
    a = simulate_samples(np.full(10, 0.6), np.full(10, 0.3), budget="low", rng=0)
    b = simulate_samples(np.full(5, 0.6), np.full(5, 0.3), budget="high", rng=0)
    res = budget_effects(pd.concat([a, b]), metric="brier", n_boot=0)
    assert res["n_questions"].tolist() == [5, 5]
    assert budget_effects(pd.concat([a, b]), metric="brier", n_boot=0, common_questions=False)[
        "n_questions"
    ].tolist() == [10, 5]


def test_no_sample_with_a_length_is_a_one_line_error() -> None:
    from hotmess.errors import InputError

    df = overthinker(n=4)
    df["output_tokens"] = None
    assert split_at_median(df, pd.Series(np.nan, index=df.index)).isna().all()
    with pytest.raises(InputError, match="different lengths on the axis"):
        natural_overthinking(df, n_boot=0)
