"""Calibration on data whose truth is known: no effect planted → no effect reported, at the nominal rate.

Every comparison and every fitted trend of the analyses is run on seeded simulations with the effect set to zero
(or to its known value): the point estimates must average to the truth within two simulation standard errors,
and the 95% intervals must cover it in at least 90% of the replicates (SPEC §2, "Estimators").
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from hotmess.analysis import (
    ensemble_analysis,
    incoherence_vs_length,
    natural_overthinking,
    scaling_analysis,
    simulate_samples,
)

REPLICATES = 200
N_BOOT = 200

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def _null_question_set(rng: np.random.Generator, *, n_questions: int = 30) -> pd.DataFrame:
    """Heterogeneous questions; answers do not depend on length; lengths are small integers with heavy ties.

    Lengths like action counts or backtracking markers (1…8, most between 2 and 4) put many samples exactly at
    a question's median, which is where a "below vs at-or-above" split makes halves of unequal size.
    """
    bias = rng.uniform(0.2, 0.6, n_questions)
    variance = rng.uniform(0.1, 0.35, n_questions)
    return simulate_samples(bias, variance, lengths=3, length_noise=0.6, n_contexts=5, samples_per_context=2, rng=rng)


def _old_median_split(df: pd.DataFrame, lengths: pd.Series, *, by=("model", "budget"), rng=None) -> pd.Series:
    """The split this package used before: below the median → short, at or above → long (unequal halves)."""
    keys = list(dict.fromkeys([*by, "model", "budget", "task", "question_id"]))
    med = lengths.groupby([df[k] for k in keys]).transform("median")
    return pd.Series(np.where(lengths < med, "short", "long"), index=df.index, dtype=object).where(lengths.notna())


@pytest.fixture(scope="module")
def overthinking_null() -> dict[str, pd.DataFrame]:
    return overthinking_replicates()


def overthinking_replicates(replicates: int = REPLICATES) -> dict[str, pd.DataFrame]:
    """``long − short`` rows of 200 null replicates, for KL and Brier (the same simulated data for both)."""
    out: dict[str, list[pd.Series]] = {"kl": [], "brier": []}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for r in range(replicates):
            rng = np.random.default_rng(10_000 + r)
            df = _null_question_set(rng)
            for metric in out:
                res = natural_overthinking(df, metric=metric, n_boot=N_BOOT, rng=rng)
                out[metric].append(res.set_index("half").loc["long − short"])
    return {m: pd.DataFrame(rows) for m, rows in out.items()}


def _mean_within_two_se(values: np.ndarray, truth: float) -> tuple[bool, float, float]:
    v = values[np.isfinite(values)]
    mean, se = float(v.mean()), float(v.std(ddof=1) / np.sqrt(v.size))
    return abs(mean - truth) <= 2 * se, mean, se


def _coverage(low: np.ndarray, high: np.ndarray, truth: float) -> float:
    return float(np.mean((low <= truth) & (truth <= high)))


@pytest.mark.parametrize("metric", ["kl", "brier"])
@pytest.mark.parametrize("stat", ["incoherence", "variance", "accuracy"])
def test_overthinking_difference_is_zero_on_null_data(
    overthinking_null: dict[str, pd.DataFrame], metric: str, stat: str
) -> None:
    t = overthinking_null[metric]
    ok, mean, se = _mean_within_two_se(t[stat].to_numpy(float), 0.0)
    assert ok, f"{metric} long − short {stat}: mean {mean:+.4f} over {len(t)} null replicates (SE {se:.4f})"
    cover = _coverage(t[f"{stat}_low"].to_numpy(float), t[f"{stat}_high"].to_numpy(float), 0.0)
    assert cover >= 0.90, f"{metric} {stat}: the 95% interval covered 0 in only {cover:.1%} of null replicates"


@pytest.mark.parametrize("metric", ["kl", "brier"])
def test_the_old_unequal_halves_would_fail_this_check(metric: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The calibration test above can fail: with the old split the null difference is clearly positive."""
    import hotmess.analysis.overthinking as ot

    monkeypatch.setattr(ot, "split_at_median", _old_median_split)
    diffs = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for r in range(40):
            rng = np.random.default_rng(10_000 + r)
            res = natural_overthinking(_null_question_set(rng), metric=metric, n_boot=0)
            diffs.append(float(res.set_index("half").loc["long − short", "incoherence"]))
    ok, mean, se = _mean_within_two_se(np.array(diffs), 0.0)
    assert not ok and mean > 3 * se, f"old split: mean {mean:+.4f} (SE {se:.4f})"


def test_overthinking_interval_is_paired_across_halves() -> None:
    """On heterogeneous questions the halves move together, so the paired interval of the difference is much
    narrower than resampling the halves independently would give (≈ the two halves' widths in quadrature)."""
    rng = np.random.default_rng(7)
    Q = 80
    bias = rng.uniform(0.2, 1.0, Q)  # very different questions: the between-question spread dominates
    variance = rng.uniform(0.02, 0.3, Q)
    S = 30
    lengths = np.tile(np.r_[[100.0] * 15, [300.0] * 15], (Q, 1))
    df = simulate_samples(np.repeat(bias[:, None], S, 1), np.repeat(variance[:, None], S, 1), lengths=lengths, rng=rng)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = natural_overthinking(df, metric="brier", n_boot=400, rng=1).set_index("half")
    width = {h: res.loc[h, "variance_high"] - res.loc[h, "variance_low"] for h in res.index}
    unpaired = float(np.hypot(width["short"], width["long"]))
    assert width["long − short"] < 0.5 * unpaired, (width, unpaired)


@pytest.fixture(scope="module")
def length_null() -> pd.DataFrame:
    return length_replicates()


def length_replicates(replicates: int = REPLICATES) -> pd.DataFrame:
    """Fitted α of incoherence ∝ length^α on 200 replicates where incoherence does not depend on length."""
    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for r in range(replicates):
            rng = np.random.default_rng(20_000 + r)
            Q = 40
            lengths = np.exp(rng.uniform(np.log(50), np.log(5000), Q))  # question lengths spread over two decades
            df = simulate_samples(
                rng.uniform(0.2, 0.6, Q),
                rng.uniform(0.1, 0.35, Q),
                lengths=lengths,
                n_contexts=5,
                samples_per_context=2,
                rng=rng,
            )
            fit = incoherence_vs_length(df, metric="brier", n_buckets=5, n_boot=N_BOOT, rng=rng).fits.iloc[0]
            rows.append(fit)
    return pd.DataFrame(rows)


def test_length_exponent_is_zero_on_null_data(length_null: pd.DataFrame) -> None:
    ok, mean, se = _mean_within_two_se(length_null["alpha"].to_numpy(float), 0.0)
    assert ok, f"α: mean {mean:+.4f} over null replicates (SE {se:.4f})"
    cover = _coverage(length_null["alpha_low"].to_numpy(float), length_null["alpha_high"].to_numpy(float), 0.0)
    assert cover >= 0.90, f"the 95% interval of α covered 0 in only {cover:.1%} of null replicates"


@pytest.fixture(scope="module")
def ensemble_truth() -> pd.DataFrame:
    return ensemble_replicates()


def ensemble_replicates(replicates: int = REPLICATES) -> pd.DataFrame:
    """Fitted variance slope over ensemble sizes 1, 2, 4 for independent samples (truth: −1)."""
    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for r in range(replicates):
            rng = np.random.default_rng(30_000 + r)
            Q = 30
            df = simulate_samples(
                rng.uniform(0.2, 0.6, Q), rng.uniform(0.1, 0.35, Q), n_contexts=40, samples_per_context=1, rng=rng
            )
            res = ensemble_analysis(df, metrics=["brier"], n_boot=N_BOOT, rng=rng)
            rows.append(res.fits.iloc[0])
    return pd.DataFrame(rows)


def test_ensemble_variance_slope_is_minus_one_for_independent_samples(ensemble_truth: pd.DataFrame) -> None:
    ok, mean, se = _mean_within_two_se(ensemble_truth["variance_slope"].to_numpy(float), -1.0)
    assert ok, f"variance slope: mean {mean:+.4f} (SE {se:.4f}), planted −1"
    t = ensemble_truth
    cover = _coverage(t["variance_slope_low"].to_numpy(float), t["variance_slope_high"].to_numpy(float), -1.0)
    assert cover >= 0.90, f"the 95% interval of the slope covered −1 in only {cover:.1%} of replicates"


@pytest.fixture(scope="module")
def scaling_null() -> pd.DataFrame:
    return scaling_replicates()


def scaling_replicates(replicates: int = REPLICATES) -> pd.DataFrame:
    """Scaling fits of 200 replicates where three "sizes" are the same model: every exponent is 0."""
    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for r in range(replicates):
            rng = np.random.default_rng(40_000 + r)
            Q = 30
            bias, variance = rng.uniform(0.2, 0.6, Q), rng.uniform(0.1, 0.35, Q)
            lengths = np.exp(rng.uniform(np.log(50), np.log(2000), Q))
            family = pd.concat(
                simulate_samples(bias, variance, lengths=lengths, model=m, n_contexts=5, samples_per_context=2, rng=rng)
                for m in ("fam-1b", "fam-4b", "fam-16b")
            )
            fits = scaling_analysis(family, metric="brier", n_groups=2, n_boot=N_BOOT, rng=rng).fits
            rows.append(fits)
    return pd.concat(rows, ignore_index=True)


@pytest.mark.parametrize("col", ["bias_exponent", "variance_exponent", "incoherence_slope"])
def test_scaling_exponents_are_zero_when_size_does_nothing(scaling_null: pd.DataFrame, col: str) -> None:
    t = scaling_null
    ok, mean, se = _mean_within_two_se(t[col].to_numpy(float), 0.0)
    assert ok, f"{col}: mean {mean:+.4f} over {len(t)} null fits (SE {se:.4f})"
    cover = _coverage(t[f"{col}_low"].to_numpy(float), t[f"{col}_high"].to_numpy(float), 0.0)
    assert cover >= 0.90, f"the 95% interval of {col} covered 0 in only {cover:.1%} of null fits"
