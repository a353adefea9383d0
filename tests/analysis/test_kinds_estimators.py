"""Every sample kind in every analysis, never pooled; the estimator choice; per-sample lengths that are estimates."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from hotmess import analysis as an
from hotmess.analysis.simulate import simulate_samples
from hotmess.errors import InputError
from hotmess.metrics import test_vector_decomposition

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def _tests_frame(outcomes: np.ndarray, *, actions: np.ndarray | None = None, model: str = "agent") -> pd.DataFrame:
    """Test-vector samples: ``outcomes`` (Q, R, T) in {0, 1}, one run per row."""
    Q, R, _T = outcomes.shape
    rows = []
    for q in range(Q):
        for r in range(R):
            rows.append(
                {
                    "model": model,
                    "budget": "",
                    "task": "swe",
                    "question_id": f"t{q}",
                    "context_id": 0,
                    "sample_index": r,
                    "n_options": 0,
                    "correct": -1,
                    "answer": -1,
                    "valid": True,
                    "probs": None,
                    "error": None,
                    "raw_output": "",
                    "output_tokens": None,
                    "actions": None if actions is None else int(actions[q, r]),
                    "test_outcomes": [int(x) for x in outcomes[q, r]],
                }
            )
    return pd.DataFrame(rows)


def test_sample_kinds_and_open_ended_from_question_metadata() -> None:
    df = pd.DataFrame(
        {
            "task": ["mc", "oe", "swe", "x"],
            "question_id": ["a", "b", "c", "d"],
            "n_options": [4, 2, 0, 0],
            "correct": [1, 0, -1, -1],
            "test_outcomes": [None, None, [1, 0], None],
        }
    )
    assert an.sample_kinds(df).tolist() == ["multiple-choice", "multiple-choice", "test-vector", None]
    df.attrs["question_kinds"] = {"oe": {"b": "open-ended"}}
    assert an.sample_kinds(df).tolist() == ["multiple-choice", "open-ended", "test-vector", None]


def test_a_mixed_table_is_summarised_per_kind_never_pooled() -> None:
    rng = np.random.default_rng(0)
    mc = simulate_samples(np.full(10, 0.5), np.full(10, 0.5), kind="answers", rng=1)
    tv_outcomes = rng.integers(0, 2, size=(6, 5, 3))
    tv = _tests_frame(tv_outcomes)
    both = pd.concat([mc, tv], ignore_index=True)
    res = an.summarize_samples(both, "brier", n_boot=0)
    assert [k for k, _ in res.kinds] == ["multiple-choice", "test-vector"] and res.mixed
    alone_mc = an.summarize_samples(mc, "brier", n_boot=0).overall
    alone_tv = an.summarize_samples(tv, "brier", n_boot=0).overall
    got = dict(res.kinds)
    assert got["multiple-choice"].incoherence == pytest.approx(alone_mc.incoherence, abs=1e-12)
    assert got["test-vector"].incoherence == pytest.approx(alone_tv.incoherence, abs=1e-12)
    d = test_vector_decomposition(tv_outcomes.astype(float))
    assert got["test-vector"].incoherence == pytest.approx(d.variance.sum() / d.error.sum(), abs=1e-12)
    assert res.rows_by_kind == {"multiple-choice": len(mc), "test-vector": len(tv)}
    assert any("never pooled" in w for w in res.warnings)
    frame = res.to_frame()
    assert frame["group"].tolist()[:2] == ["overall · multiple-choice", "overall · test-vector"]


def test_every_analysis_keeps_kinds_apart() -> None:
    mc = simulate_samples(np.full(8, 0.5), np.full(8, 0.3), lengths=np.linspace(50, 400, 8), rng=2)
    rng = np.random.default_rng(3)
    tv = _tests_frame(rng.integers(0, 2, size=(8, 6, 4)), actions=rng.integers(1, 9, size=(8, 6)))
    tv["output_tokens"] = rng.integers(100, 900, size=len(tv))
    both = pd.concat([mc, tv], ignore_index=True)
    halves = an.natural_overthinking(both, metric="brier", n_boot=0)
    assert sorted(set(halves["kind"])) == ["multiple-choice", "test-vector"]
    buckets = an.incoherence_vs_length(both, metric="brier", n_buckets=2, n_boot=0).buckets
    assert buckets.groupby("kind")["n_questions"].sum().to_dict() == {"multiple-choice": 8, "test-vector": 8}
    changes = an.answer_changes(both)
    assert set(changes["kind"]) == {"multiple-choice", "test-vector"}
    with pytest.warns(an.LeftOutWarning, match="test-vector"):
        ens = an.ensemble_analysis(both, metrics=["brier"], n_boot=0)
    assert set(ens.table["kind"]) == {"multiple-choice"}


def test_natural_overthinking_on_test_vectors_recovers_a_planted_effect() -> None:
    """Runs with many actions fail a test at random; runs with few pass everything: variance lives in the long half."""
    rng = np.random.default_rng(5)
    Q, R, T = 40, 10, 4
    actions = np.tile(np.r_[[2] * 5, [8] * 5], (Q, 1))
    outcomes = np.ones((Q, R, T), dtype=int)
    outcomes[:, 5:, :] = rng.integers(0, 2, size=(Q, 5, T))
    outcomes[:, :, 0] = 0  # one test always fails: every run has some bias
    res = an.natural_overthinking(_tests_frame(outcomes, actions=actions), axis="actions", n_boot=300)
    res = res.set_index("half")
    assert res.loc["short", "variance"] == 0.0
    long = outcomes[:, 5:, :].astype(float)
    want = test_vector_decomposition(long).variance.mean()
    assert res.loc["long", "variance"] == pytest.approx(want, abs=1e-12)
    assert res.loc["long − short", "incoherence_low"] > 0.2 and (res["kind"] == "test-vector").all()


def test_corrected_estimator_leaves_single_sample_questions_out_with_a_note() -> None:
    df = simulate_samples(np.full(6, 0.5), np.full(6, 0.5), kind="answers", rng=4)
    one = df[~((df["question_id"] == df["question_id"].iloc[0]) & (df["sample_index"] + df["context_id"] > 0))]
    with pytest.warns(an.LeftOutWarning, match="1 question"):
        res = an.incoherence_vs_length(one, metric="brier", estimator="corrected", n_buckets=1, n_boot=0)
    assert res.buckets["n_questions"].sum() == 5
    s = an.summarize_samples(one, "brier", estimator="corrected", n_boot=0)
    assert s.overall.n_questions == 5 and any("left out" in w for w in s.warnings)
    plug = an.summarize_samples(one, "brier", n_boot=0).overall
    assert plug.n_questions == 6


def test_corrected_estimator_is_refused_where_it_is_not_defined() -> None:
    df = simulate_samples(np.full(4, 0.5), np.full(4, 0.5), kind="answers", rng=0)
    with pytest.raises(ValueError, match="corrected"):
        an.natural_overthinking(df, metric="hard-kl", estimator="corrected")
    with pytest.raises(ValueError, match="estimator"):
        an.incoherence_vs_length(df, estimator="jackknife")


def test_corrected_brier_equals_the_n_over_n_minus_one_rescaling() -> None:
    df = simulate_samples(np.full(5, 0.5), np.full(5, 0.5), kind="answers", rng=6)
    q_plug = an.incoherence_vs_length(df, metric="brier", n_buckets=1, n_boot=0).buckets
    q_corr = an.incoherence_vs_length(df, metric="brier", estimator="corrected", n_buckets=1, n_boot=0).buckets
    assert q_corr["variance"].iloc[0] == pytest.approx(q_plug["variance"].iloc[0] * 30 / 29, rel=1e-12)
    assert q_corr["error"].iloc[0] == pytest.approx(q_plug["error"].iloc[0], rel=1e-12)


def test_estimated_per_sample_lengths_are_refused_by_the_split_not_by_question_means() -> None:
    df = simulate_samples(np.full(6, 0.5), np.full(6, 0.3), lengths=100, length_noise=0.3, rng=7)
    df["length_source"] = "estimated"
    with pytest.raises(InputError, match="estimated per-sample lengths") as info:
        an.natural_overthinking(df, n_boot=0)
    assert "--option n_mode=parallel" in info.value.hint
    forced = an.natural_overthinking(df, n_boot=0, allow_estimated_lengths=True)
    assert len(forced) == 3
    an.incoherence_vs_length(df, n_buckets=2, n_boot=0)  # question means are fine
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        budgets = an.budget_effects(df, n_boot=0)
    assert budgets["overthinking_incoherence"].isna().all()
    assert any("natural-overthinking" in str(w.message) for w in caught)
    df["length_source"] = "api"
    assert len(an.natural_overthinking(df, n_boot=0)) == 3


def test_scaling_regression_is_log_log() -> None:
    """Incoherence planted exactly as 0.05 · L^0.3 · N^0.1 per cell: the regression returns the exponents."""
    rows = []
    for m, n_params in (("fam-1b", 1e9), ("fam-4b", 4e9), ("fam-16b", 1.6e10)):
        for q in range(12):
            length = 50.0 * 2 ** (q % 6)
            inco = 0.05 * length**0.3 * (n_params / 1e9) ** 0.1
            rows.append({"model": m, "q": q, "length": length, "inco": inco})
    cells = pd.DataFrame(rows)
    from hotmess.analysis.scaling import _regression

    L = cells["length"].to_numpy()[None, :]
    N = cells["model"].map({"fam-1b": 1e9, "fam-4b": 4e9, "fam-16b": 1.6e10}).to_numpy()
    coefs, r2 = _regression(L, N, cells["inco"].to_numpy()[None, :])
    assert coefs[0, 1] == pytest.approx(0.3, abs=1e-9) and coefs[0, 2] == pytest.approx(0.1, abs=1e-9)
    assert coefs[0, 0] == pytest.approx(np.log10(0.05) - 0.9, abs=1e-9) and r2[0] == pytest.approx(1.0)


def test_answer_changes_compare_each_contexts_majority() -> None:
    """Context 0 answers A A B, context 1 answers A B A: majorities agree (A) though the first samples do too,
    and context 2 answers B A A (first sample B): only the majority view says the contexts agree."""
    answers = {0: [0, 0, 1], 1: [0, 1, 0], 2: [1, 0, 0]}
    df = pd.DataFrame(
        [
            {"model": "m", "budget": "", "task": "t", "question_id": "q", "n_options": 4, "correct": 0,
             "error": None, "context_id": c, "sample_index": i, "answer": a, "valid": True}
            for c, row in answers.items()
            for i, a in enumerate(row)
        ]
    )  # fmt: skip
    major = an.answer_changes(df).set_index("change")["share"]
    first = an.answer_changes(df, context_answer="sample", sample_index=0).set_index("change")["share"]
    assert major["context"] == 0.0 and first["context"] == 1.0
    assert major["reseeding"] == 1.0 and major["both"] == 1.0


def test_older_flags_keep_their_metric() -> None:
    """``unbiased`` is the Brier correction and ``jackknife`` the KL one, as in hotmess.metrics."""
    df = simulate_samples(np.full(5, 0.5), np.full(5, 0.5), kind="answers", rng=8)
    plug = an.summarize_samples(df, "kl", n_boot=0).overall.variance
    assert an.summarize_samples(df, "kl", unbiased=True, n_boot=0).overall.variance == plug
    assert an.summarize_samples(df, "kl", jackknife=True, n_boot=0).overall.variance != plug
    assert an.summarize_samples(df, "kl", estimator="corrected", n_boot=0).overall.options["estimator"] == "corrected"


def test_the_report_says_what_an_analysis_left_out() -> None:
    from hotmess.report import ReportOptions, build_report

    df = simulate_samples(np.full(6, 0.5), np.full(6, 0.5), kind="answers", lengths=100, length_noise=0.3, rng=9)
    df = pd.concat([df.assign(budget="low"), df.assign(budget="high")], ignore_index=True)
    df["length_source"] = "estimated"
    rep = build_report(df, options=ReportOptions(n_boot=20, plots=False))
    sections = {s.key: s for s in rep.sections}
    assert sections["overthinking"].skipped and "estimated" in sections["overthinking"].skipped
    assert any("natural-overthinking" in n for n in sections["budgets"].notes)
