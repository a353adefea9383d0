"""Whatever ``by`` groups together, a question answered by two models (or budgets) is two units, never one."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

from hotmess.analysis import answer_changes, ensemble_analysis, incoherence_vs_length, natural_overthinking


@pytest.fixture(scope="module")
def two_coherent_models() -> pd.DataFrame:
    """Model ``right`` always answers A (correct), ``wrong`` always B: each has zero variance on every question.

    Pooling their samples into one question would show a 50/50 split: variance and answer changes that neither
    model has.
    """
    rows = [
        {
            "model": model,
            "budget": "",
            "task": "t",
            "question_id": f"q{q}",
            "context_id": c,
            "sample_index": s,
            "n_options": 4,
            "correct": 0,
            "answer": answer,
            "valid": True,
            "probs": None,
            "error": None,
            "output_tokens": 10 * (q + 1) + c,
            "raw_output": "",
        }
        for model, answer in (("right", 0), ("wrong", 1))
        for q in range(6)
        for c in range(4)
        for s in range(2)
    ]
    return pd.DataFrame(rows)


@pytest.mark.parametrize("by", [(), ("task",), ("budget",)])
def test_grouping_never_pools_models(two_coherent_models: pd.DataFrame, by: tuple[str, ...]) -> None:
    df = two_coherent_models
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        buckets = incoherence_vs_length(df, metric="brier", by=by, n_buckets=2, n_boot=0).buckets
        halves = natural_overthinking(df, metric="brier", by=by, n_boot=0)
        ens = ensemble_analysis(df, metrics=["brier"], by=by, n_boot=0).table
    changes = answer_changes(df, by=by)
    assert buckets["n_questions"].sum() == 12  # 6 questions × 2 models
    assert (buckets["variance"] == 0).all() and (buckets["bias"] == 1.0).all()  # mean of 0 (right) and 2 (wrong)
    assert (halves["variance"] == 0).all() and (halves["n_questions"] == 12).all()
    assert (ens["variance"] == 0).all()
    assert (changes["share"] == 0).all() and (changes["n_questions"] == 12).all()


def test_the_difference_row_counts_the_samples_of_both_halves() -> None:
    import numpy as np

    from hotmess.analysis import natural_overthinking
    from hotmess.analysis.simulate import simulate_samples

    df = simulate_samples(np.full(12, 0.4), np.full(12, 0.3), lengths=100, length_noise=0.3, rng=3)
    res = natural_overthinking(df, n_boot=0).set_index("half")
    assert res.loc["long − short", "n_samples"] == res.loc["short", "n_samples"] + res.loc["long", "n_samples"]


def test_one_ensemble_per_question_is_refused_not_an_empty_table() -> None:
    import numpy as np

    from hotmess.analysis import ensemble_analysis
    from hotmess.analysis.simulate import simulate_samples

    df = simulate_samples(np.full(5, 0.4), np.full(5, 0.3), rng=0)
    with pytest.raises(ValueError, match="n_ensembles"):
        ensemble_analysis(df, n_ensembles=1, n_boot=0)
