"""Paired comparisons of groups: hand-computed cases, Holm, left-out questions, and calibration.

The statistical checks of issue 15: on planted equal groups the 95% interval of every difference covers 0 in at
least 90% of 200 seeded replicates; a planted difference is recovered inside its interval; and pairing matters
(the groups' own intervals overlap while the paired difference is clearly non-zero).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import t as student_t

from hotmess.analysis import simulate_samples
from hotmess.analysis._questions import decompose_frame
from hotmess.analysis.compare import QUANTITIES, CompareResult, _compare_decomposed, compare_groups, holm
from hotmess.errors import InputError

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def _answers(model: str, questions: dict[str, tuple[str, str]]) -> pd.DataFrame:
    """Samples from ``question id → (answers, correct)``, e.g. ``{"q1": ("AAAB", "A")}``; options A and B only."""
    rows = [
        {"model": model, "question_id": q, "sample_index": i, "answer": a, "correct": c}
        for q, (answers, c) in questions.items()
        for i, a in enumerate(answers)
    ]
    return pd.DataFrame(rows)


# Brier with two options: a question whose samples are right with share p has
#   BIAS = 2(1 − p)², VARIANCE = 2p(1 − p), ERROR = 2(1 − p), accuracy p.
# a: q1 p = 1 → (0, 0, 0); q2 p = ½ → (½, ½, 1); q3 p = 0 → (2, 0, 2).
#    means: bias 2.5/3, variance 0.5/3, error 1, incoherence 0.5/3 = 1/6, accuracy ½.
# b: q1 p = ¾ → (⅛, ⅜, ½); q2 p = ¼ → (9/8, ⅜, 3/2); q3 p = ½ → (½, ½, 1); q4 only in b.
#    means over q1–q3: bias 1.75/3, variance 1.25/3, error 1, incoherence 1.25/3 = 5/12, accuracy ½.
HAND_A = {"q1": ("AAAA", "A"), "q2": ("ABAB", "A"), "q3": ("BBBB", "A")}
HAND_B = {"q1": ("AAAB", "A"), "q2": ("ABBB", "A"), "q3": ("ABAB", "A"), "q4": ("AAAA", "A")}
HAND = {  # quantity: (b, a, b − a, b / a)
    "incoherence": (5 / 12, 1 / 6, 1 / 4, 2.5),
    "bias": (1.75 / 3, 2.5 / 3, -0.25, 0.7),
    "variance": (1.25 / 3, 0.5 / 3, 0.25, 2.5),
    "error": (1.0, 1.0, 0.0, 1.0),
    "accuracy": (0.5, 0.5, 0.0, 1.0),
}


def _hand(n_boot: int = 0, **kw) -> CompareResult:
    return compare_groups(
        pd.concat([_answers("a", HAND_A), _answers("b", HAND_B)]), metric="brier", n_boot=n_boot, **kw
    )


def test_hand_computed_brier_case() -> None:
    res = _hand()
    f = res.frame.set_index("quantity")
    assert list(f.index) == list(QUANTITIES)
    assert (f["group"] == "b").all() and (f["baseline"] == "a").all() and res.baseline == "a"
    for q, (vb, va, diff, ratio) in HAND.items():
        assert f.loc[q, "value_group"] == pytest.approx(vb), q
        assert f.loc[q, "value_baseline"] == pytest.approx(va), q
        assert f.loc[q, "difference"] == pytest.approx(diff, abs=1e-12), q
        assert f.loc[q, "ratio"] == pytest.approx(ratio), q
    # n_boot = 0: point estimates only, said so in words
    assert f[["diff_low", "diff_high", "p_value", "p_holm"]].isna().all().all()
    assert not f["detected"].any()
    assert (
        f.loc["incoherence", "verdict"] == "model b vs model a: incoherence difference +0.250, not tested (no interval)"
    )


def test_questions_in_one_group_only_are_counted_and_noted() -> None:
    res = _hand()
    row = res.frame.iloc[0]
    assert (row["n_shared"], row["n_only_group"], row["n_only_baseline"]) == (3, 1, 0)
    assert any("compared on 3 shared questions; left out 1 only in b and 0 only in a" in n for n in res.notes)
    assert res.groups.set_index("group")["n_questions"].to_dict() == {"a": 3, "b": 4}
    # with the extra question removed there is nothing to note
    res = compare_groups(
        pd.concat([_answers("a", HAND_A), _answers("b", {k: v for k, v in HAND_B.items() if k != "q4"})]),
        metric="brier",
        n_boot=0,
    )
    assert not any("left out" in n for n in res.notes)


def test_interval_and_p_value_are_the_paired_bootstrap_t() -> None:
    """diff ± t_{n−1} · SE and p = 2 P(T > |diff| / SE): p < 5% exactly when the 95% interval excludes 0."""
    a = simulate_samples(np.linspace(0.2, 0.8, 12), np.full(12, 0.2), model="a", rng=0)
    b = simulate_samples(np.linspace(0.2, 0.8, 12), np.full(12, 0.3), model="b", rng=1)
    f = compare_groups(pd.concat([a, b]), metric="brier", n_boot=300, rng=4).frame
    half = student_t.ppf(0.975, 11) * f["diff_se"]
    assert np.allclose(f["diff_high"] - f["difference"], half) and np.allclose(f["difference"] - f["diff_low"], half)
    p = 2 * student_t.sf(np.abs(f["difference"]) / f["diff_se"], 11)
    assert np.allclose(f["p_value"], p)
    excludes = (f["diff_low"] > 0) | (f["diff_high"] < 0)
    assert (excludes == (f["p_value"] < 0.05)).all() and (f["p_holm"] == f["p_value"]).all()  # two groups: no Holm
    assert np.all((f["ratio_low"] <= f["ratio"]) & (f["ratio"] <= f["ratio_high"]))


def test_same_samples_under_two_names_differ_by_exactly_zero() -> None:
    """The bootstrap is paired: identical groups give a zero-width interval (unpaired resampling would not)."""
    a = simulate_samples(np.linspace(0.2, 0.8, 10), np.full(10, 0.3), model="a", rng=0)
    f = compare_groups(pd.concat([a, a.assign(model="b")]), n_boot=200).frame
    assert (f["difference"] == 0).all() and (f["diff_low"] == 0).all() and (f["diff_high"] == 0).all()
    assert (f["p_value"] == 1).all() and not f["detected"].any()
    assert (f["group_high"] > f["group_low"]).all()  # the levels themselves are uncertain


def test_same_seed_same_result_and_row_order_does_not_matter() -> None:
    df = pd.concat([_answers("a", HAND_A), _answers("b", HAND_B)], ignore_index=True)
    one = compare_groups(df, metric="brier", n_boot=200, rng=3).frame
    two = compare_groups(df.sample(frac=1.0, random_state=1), metric="brier", n_boot=200, rng=3).frame
    pd.testing.assert_frame_equal(one, two)


def test_holm_by_hand() -> None:
    # sorted 0.01·4 = 0.04, 0.02·3 = 0.06, 0.03·2 = 0.06, 0.04·1 → 0.06 (monotone)
    assert holm([0.04, 0.01, 0.03, 0.02]).tolist() == pytest.approx([0.06, 0.04, 0.06, 0.06])
    assert holm([0.4, 0.5]).tolist() == pytest.approx([0.8, 0.8])  # capped at 1, kept monotone
    out = holm([0.02, np.nan, 0.5])  # NaN is not a test: m = 2
    assert out[0] == pytest.approx(0.04) and np.isnan(out[1]) and out[2] == pytest.approx(0.5)
    assert holm([0.3]).tolist() == [0.3] and holm([]).size == 0


def test_holm_is_applied_per_quantity_with_more_than_two_groups() -> None:
    design = (np.linspace(0.2, 0.8, 15), np.full(15, 0.25))
    df = pd.concat(
        [
            simulate_samples(*design, model="a", rng=0),
            simulate_samples(design[0], np.full(15, 0.4), model="b", rng=1),
            simulate_samples(*design, model="c", rng=2),
        ]
    )
    f = compare_groups(df, metric="brier", n_boot=300).frame
    assert (f["n_comparisons"] == 2).all() and sorted(f["group"].unique()) == ["b", "c"]
    for q, part in f.groupby("quantity"):
        assert np.allclose(part["p_holm"], holm(part["p_value"].to_numpy()), equal_nan=True), q
    v = f.set_index(["group", "quantity"])
    assert v.loc[("b", "variance"), "detected"]
    assert v.loc[("b", "variance"), "verdict"].startswith("model b has a higher variance than model a: +")
    assert v.loc[("b", "variance"), "verdict"].endswith("(Holm)")
    assert (f["detected"] == (f["p_holm"] < 0.05)).all()


def test_verdicts_follow_the_numbers() -> None:
    a = simulate_samples(np.full(20, 0.6), np.full(20, 0.2), model="small", rng=0)
    b = simulate_samples(np.full(20, 0.6), np.full(20, 0.6), model="large", rng=1)
    res = compare_groups(pd.concat([a, b]), metric="brier", n_boot=400, baseline="small")
    v = res.frame.set_index("quantity")
    assert v.loc["incoherence", "verdict"].startswith("model large is more incoherent than model small: +0.")
    assert "p < 0.001" in v.loc["incoherence", "verdict"] and "Holm" not in v.loc["incoherence", "verdict"]
    assert v.loc["bias", "verdict"].startswith("model large vs model small: no bias difference detected at 95%: ")
    flipped = compare_groups(pd.concat([a, b]), metric="brier", n_boot=400, baseline="large").frame
    assert (
        flipped.set_index("quantity")
        .loc["incoherence", "verdict"]
        .startswith("model small is less incoherent than model large: -0.")
    )
    assert res.to_dict()["comparisons"][0]["quantity"] == "incoherence"


def test_budgets_pair_within_model_and_order_smallest_first() -> None:
    design = (np.linspace(0.3, 0.7, 8), np.full(8, 0.3))
    df = pd.concat(
        [
            simulate_samples(*design, model=m, budget=b, rng=i)
            for i, (m, b) in enumerate([("m1", "high"), ("m1", "low"), ("m2", "high"), ("m2", "low")])
        ]
    )
    res = compare_groups(df, by="budget", metric="brier", n_boot=0)
    assert res.baseline == "low" and set(res.frame["group"]) == {"high"}
    assert (res.frame["n_shared"] == 16).all()  # 8 questions × 2 models, each paired with itself


def test_runs_of_one_model_can_be_compared() -> None:
    design = (np.linspace(0.3, 0.7, 8), np.full(8, 0.3))
    df = pd.concat([simulate_samples(*design, rng=i).assign(run_id=r) for i, r in enumerate(["r1", "r2"])])
    res = compare_groups(df, by="run_id", metric="brier", n_boot=0)
    assert (res.frame["n_shared"] == 8).all() and res.baseline == "r1"


def test_plugin_estimator_with_unequal_sample_counts_gets_a_note() -> None:
    design = (np.linspace(0.3, 0.7, 8), np.full(8, 0.3))
    a = simulate_samples(*design, model="a", rng=0)
    b = simulate_samples(*design, model="b", n_contexts=5, rng=1)
    res = compare_groups(pd.concat([a, b]), metric="brier", n_boot=0)
    assert any("different sample counts" in n and "corrected" in n for n in res.notes)
    res = compare_groups(pd.concat([a, b]), metric="brier", n_boot=0, estimator="corrected")
    assert not any("different sample counts" in n for n in res.notes) and res.estimator == "corrected"


def test_corrected_estimator_leaves_single_sample_questions_out_with_notes() -> None:
    design = (np.linspace(0.2, 0.8, 6), np.full(6, 0.3))
    a = simulate_samples(*design, model="a", n_contexts=2, samples_per_context=1, rng=0)
    b = simulate_samples(*design, model="b", n_contexts=2, samples_per_context=1, rng=1)
    a = a[~((a["question_id"] == "q0001") & (a["context_id"] == 1))]  # q0001 of a: one sample
    res = compare_groups(pd.concat([a, b]), metric="brier", estimator="corrected", n_boot=50)
    assert (res.frame["n_shared"] == 5).all() and (res.frame["n_only_group"] == 1).all()
    assert any("single sample were left out" in n for n in res.notes)
    assert any("left out 1 only in b and 0 only in a" in n for n in res.notes)
    with pytest.raises(InputError, match=r"^model a: no question has two samples"):
        compare_groups(pd.concat([a[a["context_id"] == 0], b]), metric="brier", estimator="corrected")


def test_bad_input_is_refused_in_one_line() -> None:
    df = pd.concat([_answers("a", HAND_A), _answers("b", HAND_B)])
    with pytest.raises(InputError, match="cannot compare by 'colour'"):
        compare_groups(df, by="colour")
    with pytest.raises(InputError, match="nothing to compare"):
        compare_groups(_answers("a", HAND_A), metric="brier")
    with pytest.raises(InputError, match="no model named 'z'"):
        compare_groups(df, metric="brier", baseline="z")
    with pytest.raises(ValueError, match="metric"):
        compare_groups(df, metric="zero-one")
    with pytest.raises(ValueError, match="level"):
        compare_groups(df, metric="brier", level=1.5)
    apart = pd.concat([_answers("a", HAND_A), _answers("b", {"z9": ("AB", "A")})])
    with pytest.raises(InputError, match="shares a question"):
        compare_groups(apart, metric="brier")


# ---------------------------------------------------------------------------------------------------------------
# Calibration (SPEC §2: every comparison is checked on seeded null data)

REPLICATES = 200
N_QUESTIONS = 30
N_BOOT = 400


def _replicates(bias: np.ndarray, variance: dict[str, np.ndarray], seed: int) -> pd.DataFrame:
    """Per-question KL decompositions of ``REPLICATES × N_QUESTIONS`` questions per group (one simulation per
    group, decomposed at once: the question id's first four characters name the replicate)."""
    gen = np.random.default_rng(seed)
    ids = [f"r{r:03d}q{i:02d}" for r in range(REPLICATES) for i in range(N_QUESTIONS)]
    parts = [
        simulate_samples(bias, v, model=m, question_ids=ids, n_contexts=5, samples_per_context=2, rng=gen)
        for m, v in variance.items()
    ]
    q = decompose_frame(pd.concat(parts, ignore_index=True), "kl")
    return q.assign(group=q["model"], replicate=q["question_id"].str[:4])


@pytest.fixture(scope="module")
def null_replicates() -> pd.DataFrame:
    """The comparison of two groups drawn from one design, in each of 200 replicates (KL, plug-in)."""
    gen = np.random.default_rng(2026)
    n = REPLICATES * N_QUESTIONS
    bias, variance = gen.uniform(0.2, 0.6, n), gen.uniform(0.1, 0.35, n)  # heterogeneous questions
    q = _replicates(bias, {"a": variance, "b": variance}, seed=1)
    frames = []
    for r, (_name, part) in enumerate(q.groupby("replicate", sort=True)):
        frame, _ = _compare_decomposed(
            part,
            "model",
            ["a", "b"],
            "a",
            est="plugin",
            n_boot=N_BOOT,
            level=0.95,
            rng=np.random.default_rng(r),
            notes=[],
        )
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def test_the_null_test_runs_what_compare_groups_runs() -> None:
    """The calibration below calls the comparison step on decomposed questions; compare_groups gives the same."""
    gen = np.random.default_rng(5)
    bias, variance = gen.uniform(0.2, 0.6, 8), gen.uniform(0.1, 0.35, 8)
    df = pd.concat([simulate_samples(bias, variance, model=m, rng=i) for i, m in enumerate("ab")], ignore_index=True)
    q = decompose_frame(df, "kl")
    direct, _ = _compare_decomposed(
        q.assign(group=q["model"]),
        "model",
        ["a", "b"],
        "a",
        est="plugin",
        n_boot=50,
        level=0.95,
        rng=np.random.default_rng(9),
        notes=[],
    )
    pd.testing.assert_frame_equal(compare_groups(df, n_boot=50, rng=9).frame, direct)


@pytest.mark.parametrize("quantity", QUANTITIES)
def test_equal_groups_interval_covers_zero(null_replicates: pd.DataFrame, quantity: str) -> None:
    t = null_replicates[null_replicates["quantity"] == quantity]
    assert len(t) == REPLICATES and (t["n_shared"] == N_QUESTIONS).all()
    cover = float(((t["diff_low"] <= 0) & (t["diff_high"] >= 0)).mean())
    assert cover >= 0.90, f"{quantity}: the 95% interval covered 0 in only {cover:.1%} of {REPLICATES} replicates"
    d = t["difference"].to_numpy(float)
    mean, se = d.mean(), d.std(ddof=1) / np.sqrt(d.size)
    assert abs(mean) <= 2.5 * se, f"{quantity}: mean difference {mean:+.4f} (SE {se:.4f}) on null data"
    assert float((t["p_value"] < 0.05).mean()) <= 0.10  # the p-value rejects at about its nominal rate too


def test_planted_difference_is_recovered_within_its_interval() -> None:
    """Brier with the corrected estimator is unbiased for the designed terms, so the truth is known exactly."""
    gen = np.random.default_rng(11)
    n = 40
    bias, va = gen.uniform(0.2, 0.6, n), gen.uniform(0.1, 0.3, n)
    vb = va + 0.12
    df = pd.concat([simulate_samples(bias, v, model=m, rng=gen) for m, v in (("a", va), ("b", vb))], ignore_index=True)
    f = compare_groups(df, metric="brier", estimator="corrected", n_boot=1000, rng=0).frame.set_index("quantity")
    truth = {
        "variance": 0.12,
        "error": 0.12,
        "bias": 0.0,
        "incoherence": vb.sum() / (bias + vb).sum() - va.sum() / (bias + va).sum(),
    }
    for q, value in truth.items():
        lo, hi = f.loc[q, "diff_low"], f.loc[q, "diff_high"]
        assert lo <= value <= hi, f"{q}: planted {value:+.4f} outside [{lo:.4f}, {hi:.4f}]"
    assert f.loc["variance", "ratio_low"] <= vb.mean() / va.mean() <= f.loc["variance", "ratio_high"]
    assert f.loc[["variance", "incoherence", "error"], "detected"].all()
    assert abs(f.loc["variance", "difference"] - 0.12) < 0.03


def test_pairing_matters() -> None:
    """Questions differ far more than the groups do: the groups' own intervals overlap, yet the paired difference
    is clearly non-zero — an eye comparing the two intervals would say 'no difference'."""
    gen = np.random.default_rng(3)
    n = 40
    bias = gen.uniform(0.1, 1.0, n)  # very different questions: the spread between questions dominates
    variance = gen.uniform(0.05, 0.3, n)
    df = pd.concat(
        [simulate_samples(bias, v, model=m, rng=gen) for m, v in (("a", variance), ("b", variance + 0.04))],
        ignore_index=True,
    )
    f = compare_groups(df, metric="brier", n_boot=1000, rng=0).frame.set_index("quantity")
    for q in ("variance", "incoherence"):
        r = f.loc[q]
        assert r["group_low"] < r["baseline_high"], f"{q}: the groups' own intervals should overlap"
        assert r["diff_low"] > 0 and r["p_value"] < 0.01, f"{q}: the paired difference should exclude 0"
        unpaired = np.hypot(r["group_high"] - r["group_low"], r["baseline_high"] - r["baseline_low"])
        assert r["diff_high"] - r["diff_low"] < 0.5 * unpaired


def test_tasks_are_refused_they_share_no_questions() -> None:
    import pandas as pd

    from hotmess.analysis.compare import compare_groups
    from hotmess.errors import InputError

    rows = [
        {"task": t, "question_id": f"q{i}", "answer": "AB"[(i + s) % 2], "correct": "A"}
        for t in ("A", "B")
        for i in range(12)
        for s in range(4)
    ]
    with pytest.raises(InputError, match="cannot compare by task"):
        compare_groups(pd.DataFrame(rows), by="task", n_boot=0)
