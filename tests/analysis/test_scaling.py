"""Scaling by difficulty: simulated sizes with known bias/variance exponents must give them back."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hotmess.analysis import difficulty_from_questions, scaling_analysis, simulate_samples
from hotmess.errors import InputError

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

SIZES = {"fam-100M": 1e8, "fam-1B": 1e9, "fam-10B": 1e10}
ALPHA_B, ALPHA_V = 0.3, 0.1


def family(n: int = 60, rng: int = 0) -> pd.DataFrame:
    """Three sizes; three difficulty levels with longer reasoning and more bias and variance when harder."""
    gen = np.random.default_rng(rng)
    level = np.repeat([0, 1, 2], n // 3)
    b0, v0 = np.array([0.3, 0.6, 0.9])[level], np.array([0.15, 0.25, 0.35])[level]
    parts = []
    for name, size in SIZES.items():
        f = size / 1e8
        parts.append(
            simulate_samples(
                b0 * f**-ALPHA_B,
                v0 * f**-ALPHA_V,
                lengths=100 * 2.0**level,
                model=name,
                rng=gen,
                wrong_concentration=0.5,
            )
        )
    return pd.concat(parts, ignore_index=True)


def test_recovers_bias_and_variance_exponents() -> None:
    res = scaling_analysis(family(), metric="brier", unbiased=True, n_boot=400)
    assert res.reference_model == "fam-10B" and res.params == SIZES
    assert len(res.fits) == 3 and len(res.cells) == 9
    for _, f in res.fits.iterrows():
        assert f["bias_exponent_low"] <= ALPHA_B <= f["bias_exponent_high"]
        assert f["variance_exponent_low"] <= ALPHA_V <= f["variance_exponent_high"]
        assert f["incoherence_slope_low"] > 0  # variance falls slower than bias: incoherence grows with N
    # groups follow the reference lengths: the designed levels
    assert res.cells.groupby("group")["length"].mean().is_monotonic_increasing
    reg = res.regression.set_index("term")
    assert reg.loc["log10_params", "coef_low"] > 0 and reg.loc["log10_params", "n_cells"] == 9


def test_groups_from_metadata() -> None:
    df = family(n=30)
    qs = pd.DataFrame(
        {
            "task": "sim",
            "question_id": [f"q{i:04d}" for i in range(30)],
            "metadata": [{"difficulty": int(i // 10) + 1} for i in range(30)],
        }
    )
    res = scaling_analysis(df, metric="brier", difficulty=difficulty_from_questions(qs), n_boot=0)
    assert res.cells["group_label"].unique().tolist() == ["1", "2", "3"] and res.reference_model is None


def test_needs_two_sized_models() -> None:
    df = family(n=9)
    one = df[df["model"] == "fam-1B"]
    with pytest.raises(InputError, match="two models"):
        scaling_analysis(one, n_boot=0)
    renamed = df.replace({"model": {"fam-1B": "mystery", "fam-10B": "other"}})
    with pytest.raises(InputError, match="two models"):
        scaling_analysis(renamed, n_boot=0)
    res = scaling_analysis(renamed, params={"mystery": 1e9, "other": 1e10}, n_boot=0, metric="brier")
    assert set(res.params) == {"fam-100M", "mystery", "other"}


def test_only_common_questions() -> None:
    df = family(n=30)
    df = df[~((df["model"] == "fam-1B") & (df["question_id"] == "q0000"))]
    res = scaling_analysis(df, metric="brier", n_boot=0, n_groups=1)
    assert set(res.cells["n_questions"]) == {29}
