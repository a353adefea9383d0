"""Answer changes, backtracking markers, invalid rates and the survey."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hotmess.analysis import (
    answer_changes,
    backtracking_markers,
    invalid_rates,
    marker_table,
    simulate_samples,
    survey_analysis,
)
from hotmess.errors import InputError


def _frame(answers: list[list[int]], valid: list[list[bool]] | None = None) -> pd.DataFrame:
    """One question; ``answers[context][sample]``."""
    rows = []
    for c, ctx in enumerate(answers):
        for s, a in enumerate(ctx):
            ok = True if valid is None else valid[c][s]
            rows.append(
                {
                    "model": "m",
                    "budget": "",
                    "task": "t",
                    "question_id": "q",
                    "n_options": 4,
                    "correct": 0,
                    "error": None,
                    "context_id": c,
                    "sample_index": s,
                    "answer": a if ok else -1,
                    "valid": ok,
                }
            )
    return pd.DataFrame(rows)


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        ([[1, 1], [2, 2]], {"reseeding": 0.0, "context": 1.0, "both": 1.0}),
        ([[1, 2, 1], [1, 1, 1]], {"reseeding": 1.0, "context": 0.0, "both": 1.0}),
        ([[3, 3], [3, 3]], {"reseeding": 0.0, "context": 0.0, "both": 0.0}),
    ],
)
def test_hand_cases(answers: list[list[int]], expected: dict[str, float]) -> None:
    res = answer_changes(_frame(answers)).set_index("change")["share"].to_dict()
    assert res == expected


def test_ties_between_a_contexts_answers_are_broken_at_random() -> None:
    """No context has a majority; only answer 0 is shared by all three. Taking the lowest answer of each tie (or
    the first in sort order) would always pick 0 and say the contexts agree; at random they agree 1 time in 27."""
    frame = _frame([[0, 1, 2], [0, 3, 2], [0, 1, 3]])
    shares = [answer_changes(frame, rng=seed).set_index("change").loc["context", "share"] for seed in range(40)]
    assert 0.85 < np.mean(shares) < 1.0
    again = [answer_changes(frame, rng=seed).set_index("change").loc["context", "share"] for seed in range(40)]
    assert shares == again  # seeded


def test_invalid_policy() -> None:
    df = _frame([[1, 1], [1, 1]], valid=[[True, False], [True, True]])
    assert answer_changes(df).set_index("change").loc["reseeding", "share"] == 1.0
    assert answer_changes(df, invalid="ignore").set_index("change").loc["reseeding", "share"] == 0.0


def test_simulated_context_stickiness() -> None:
    sticky = simulate_samples(np.full(100, 0.3), np.full(100, 0.5), kind="answers", context_stickiness=1.0, rng=0)
    res = answer_changes(sticky).set_index("change")
    assert res.loc["reseeding", "share"] == 0.0 and res.loc["context", "share"] > 0.9
    free = simulate_samples(np.full(100, 0.3), np.full(100, 0.5), kind="answers", rng=0)
    assert answer_changes(free).set_index("change").loc["reseeding", "share"] > 0.9
    assert (res["n_questions"] == 100).all()


def test_markers() -> None:
    texts = ["Wait, WAIT. Hmm... Actually no. Alternatively: 3", "awaiting hmmm actual", None, "wait-wait"]
    assert backtracking_markers(texts).tolist() == [5, 0, 0, 2]
    assert backtracking_markers(["so, let me see"], markers=["let me see"]).tolist() == [1]
    df = pd.DataFrame({"model": ["a", "a", "b"], "budget": "", "raw_output": ["wait x", "y", "z"], "error": None})
    t = marker_table(df).set_index("model")
    assert t.loc["a", "markers_per_sample"] == 0.5 and t.loc["a", "marker_share"] == 0.25
    assert t.loc["b", "share_with_markers"] == 0.0


def test_invalid_rates_with_wilson_interval() -> None:
    df = pd.DataFrame(
        {
            "model": "m",
            "budget": ["", "", "", "", "x"],
            "valid": [True, False, False, True, True],
            "error": [None, None, None, "timeout", None],
        }
    )
    r = invalid_rates(df).set_index("budget")
    assert r.loc["", "n_samples"] == 3 and r.loc["", "n_invalid"] == 2 and r.loc["", "n_error_rows"] == 1
    assert r.loc["", "invalid_rate"] == pytest.approx(2 / 3)
    # Wilson 95% interval for 2/3 (hand-computed)
    assert r.loc["", "invalid_rate_low"] == pytest.approx(0.2077, abs=1e-3)
    assert r.loc["", "invalid_rate_high"] == pytest.approx(0.9385, abs=1e-3)
    assert r.loc["x", "invalid_rate"] == 0.0 and r.loc["x", "invalid_rate_low"] == 0.0


def test_survey() -> None:
    rows = []
    for rater, (intel, coh) in enumerate([([1, 2, 3, 4], [4, 3, 2, 1]), ([2, 1, 3, 4], [4, 3, 1, 2])]):
        for ent, r1, r2 in zip("abcd", intel, coh, strict=True):
            rows += [
                {"entity": ent, "rater": rater, "attribute": "intelligence", "rank": r1},
                {"entity": ent, "rater": rater, "attribute": "coherence", "rank": r2},
            ]
    res = survey_analysis(pd.DataFrame(rows))
    r = res.ranks.set_index(["attribute", "entity"])
    assert r.loc[("intelligence", "a"), "mean_rank"] == 1.5
    assert r.loc[("intelligence", "a"), "sem"] == pytest.approx(0.5)  # sd 0.7071 / sqrt(2)
    c = res.correlations.iloc[0]
    # mean ranks: intelligence a 1.5, b 1.5, c 3, d 4; coherence a 4, b 3, c 1.5, d 1.5 → ρ = −4/4.5
    assert c["attribute_a"] == "coherence" and c["rho"] == pytest.approx(-8 / 9) and c["n_entities"] == 4
    with pytest.raises(InputError, match="rank"):
        survey_analysis(pd.DataFrame({"entity": ["a"], "rater": [1], "attribute": ["x"]}))


def test_empty_markers_are_refused_not_counted() -> None:
    # an empty alternative in the pattern would match between characters: "" → 1, "a, b" → 2, ...
    with pytest.raises(ValueError, match="markers"):
        backtracking_markers(["Hello, world.", ""], markers=[])
    assert backtracking_markers(["Hello, wait world.", ""], markers=["wait", ""]).tolist() == [1, 0]


def test_survey_refuses_a_rater_ranking_the_same_entity_twice() -> None:
    import pandas as pd

    from hotmess.analysis import survey_analysis
    from hotmess.errors import InputError

    rows = [("a", "r1", "intelligence", 1), ("b", "r1", "intelligence", 2), ("a", "r1", "intelligence", 2)]
    df = pd.DataFrame(rows, columns=["entity", "rater", "attribute", "rank"])
    with pytest.raises(InputError, match="twice"):
        survey_analysis(df)
