"""Guardrails computed from the data, and verdicts in words next to every fit and difference."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from hotmess import analysis as an

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def _guessing(n_q: int = 20, n_s: int = 30, *, invalid: float = 0.0, truncated: float = 0.0) -> pd.DataFrame:
    """A model that picks one of 4 options at random: accuracy at chance."""
    rng = np.random.default_rng(0)
    rows = []
    for q in range(n_q):
        for s in range(n_s):
            bad = rng.random() < invalid
            rows.append(
                {"model": "m", "budget": "", "task": "t", "question_id": f"q{q}", "context_id": s // 3,
                 "sample_index": s % 3, "n_options": 4, "correct": 0, "answer": -1 if bad else int(rng.integers(4)),
                 "valid": not bad, "probs": None, "error": None, "raw_output": "", "output_tokens": 10 + s,
                 "finish_reason": "length" if rng.random() < truncated else "stop"}
            )  # fmt: skip
    return pd.DataFrame(rows)


def test_guardrails_name_chance_invalid_truncation_and_few_samples() -> None:
    keys = {g.key: g for g in an.guardrails(_guessing(n_s=9, invalid=0.35, truncated=0.4))}
    assert {"chance", "invalid", "truncation", "few_samples", "few_ensembles"} <= set(keys)
    assert keys["invalid"].value == pytest.approx(0.35, abs=0.06)
    assert keys["truncation"].level == "warning" and "overthinking" in keys["truncation"].affects
    assert keys["chance"].level == "warning" and "chance" in keys["chance"].message


def test_no_guardrail_on_clean_data() -> None:
    df = an.simulate_samples(np.full(40, 0.2), np.full(40, 0.2), kind="probs", rng=1)  # accurate, 30 samples
    assert [g.key for g in an.guardrails(df, n_buckets=5)] == []


def test_missing_finish_reasons_are_said() -> None:
    df = _guessing().drop(columns="finish_reason")
    trunc = [g for g in an.guardrails(df) if g.key == "truncation"]
    assert trunc and trunc[0].level == "info"


def test_planted_trend_is_supported_and_no_trend_is_not() -> None:
    rng = np.random.default_rng(3)
    lengths = np.exp(rng.uniform(np.log(50), np.log(1600), 150))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        inco = 0.08 * (lengths / 50) ** 0.5
        trend = an.simulate_samples(1.2 * (1 - inco), 1.2 * inco, lengths=lengths, rng=4)
        flat = an.simulate_samples(np.full(150, 0.9), np.full(150, 0.3), lengths=lengths, rng=5)
        yes = an.incoherence_vs_length(trend, metric="brier", n_buckets=6, n_boot=300).fits.iloc[0]
        no = an.incoherence_vs_length(flat, metric="brier", n_buckets=6, n_boot=300).fits.iloc[0]
    assert yes["verdict"].startswith("supported")
    assert no["verdict"].startswith("no evidence of a trend")


def test_a_power_law_through_single_question_buckets_is_not_fitted() -> None:
    df = an.simulate_samples(np.full(5, 0.5), np.full(5, 0.3), lengths=np.array([50, 100, 200, 400, 800.0]), rng=0)
    fit = an.incoherence_vs_length(df, metric="brier", n_buckets=5, n_boot=50).fits.iloc[0]
    assert np.isnan(fit["alpha"]) and fit["verdict"].startswith("not fitted")


def test_the_overthinking_difference_has_a_verdict() -> None:
    df = an.simulate_samples(np.full(30, 0.5), np.full(30, 0.3), lengths=100, length_noise=0.3, rng=6)
    res = an.natural_overthinking(df, metric="brier", n_boot=200).set_index("half")
    assert res.loc["long − short", "verdict"].startswith(("no evidence", "supported"))
    assert res.loc["short", "verdict"] == ""


def test_verdict_wording() -> None:
    assert an.verdict(-0.4, -0.6, -0.2).startswith("supported")
    assert an.verdict(0.1, -0.1, 0.3, what="a trend").startswith("no evidence of a trend")
    assert an.verdict(float("nan"), 0.0, 1.0) == "not estimated"


def test_incoherence_by_difficulty_recovers_planted_levels() -> None:
    """Harder levels designed more incoherent: the per-level values follow the design, the slope is supported."""
    levels = np.repeat([1, 2, 3], 30)
    inco = np.array([0.2, 0.4, 0.6])[levels - 1]
    df = an.simulate_samples(1.0 * (1 - inco), 1.0 * inco, rng=7)
    table = pd.DataFrame({"task": "sim", "question_id": df["question_id"].unique(), "difficulty": levels})
    per_level, trend = an.incoherence_by_difficulty(df, table, metric="brier", estimator="corrected", n_boot=300)
    assert per_level["difficulty"].tolist() == ["1", "2", "3"]
    assert np.allclose(per_level["incoherence"], [0.2, 0.4, 0.6], atol=0.05)
    assert trend["verdict"].iloc[0].startswith("supported") and trend["slope"].iloc[0] == pytest.approx(0.2, abs=0.05)
    flat = an.simulate_samples(np.full(90, 0.6), np.full(90, 0.4), rng=8)
    table["question_id"] = flat["question_id"].unique()
    _, trend = an.incoherence_by_difficulty(flat, table, metric="brier", n_boot=300)
    assert trend["verdict"].iloc[0].startswith("no evidence")
