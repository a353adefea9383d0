"""analysis/open_ended.py: per-question embedding variance and test vectors, length buckets, power law."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hotmess.analysis.open_ended import (
    embedding_variance_by_question,
    fit_power_law,
    length_analysis,
    plot_length_analysis,
    summarize_test_vectors,
    test_vectors_by_question,
)
from hotmess.errors import InputError
from hotmess.metrics import DegenerateWarning


def _emb_frame() -> pd.DataFrame:
    rows = []
    # q1: embeddings (0,0), (2,0) → mean (1,0), variance 1; q2: (0,0),(0,0),(0,3) → mean (0,1), variance (1+1+4)/3 = 2
    for q, vecs, toks in (("q1", [[0, 0], [2, 0]], [10, 30]), ("q2", [[0, 0], [0, 0], [0, 3]], [40, 40, 40])):
        for i, (v, t) in enumerate(zip(vecs, toks, strict=True)):
            rows.append(
                {
                    "model": "m",
                    "budget": "",
                    "task": "t",
                    "question_id": q,
                    "sample_index": i,
                    "embedding": [float(x) for x in v],
                    "error": None,
                    "output_tokens": t,
                    "actions": None,
                }
            )
    rows.append(
        {
            "model": "m",
            "budget": "",
            "task": "t",
            "question_id": "q2",
            "sample_index": 9,
            "embedding": [100.0, 100.0],
            "error": "timeout",
            "output_tokens": 1,
            "actions": None,
        }
    )
    rows.append(
        {
            "model": "m",
            "budget": "",
            "task": "t",
            "question_id": "q3",
            "sample_index": 0,
            "embedding": None,
            "error": None,
            "output_tokens": 5,
            "actions": None,
        }
    )
    return pd.DataFrame(rows)


def test_embedding_variance_by_question_by_hand() -> None:
    pq = embedding_variance_by_question(_emb_frame()).set_index("question_id")
    assert pq["variance"].to_dict() == pytest.approx({"q1": 1.0, "q2": 2.0})  # error row and q3 left out
    assert pq["n_samples"].to_dict() == {"q1": 2, "q2": 3}
    assert pq["output_tokens"].to_dict() == {"q1": 20.0, "q2": 40.0}
    assert pq["actions"].isna().all()


def test_embedding_variance_errors() -> None:
    df = _emb_frame()
    with pytest.raises(InputError, match="hotmess embed"):
        embedding_variance_by_question(df.assign(embedding=None))
    df.loc[0, "embedding"] = [1.0, 2.0, 3.0]
    with pytest.raises(InputError, match="different sizes"):
        embedding_variance_by_question(df)


def test_test_vectors_by_question_and_summary() -> None:
    df = pd.DataFrame(
        {
            "model": "m",
            "budget": "",
            "task": "t",
            "question_id": ["a", "a", "b", "b", "b"],
            "test_outcomes": [[1, 1], [1, 0], [1, 1, 1], [1, 1, 1], None],
            "error": [None, None, None, None, "crashed"],
            "actions": [2, 4, 10, 20, 30],
        }
    )
    pq = test_vectors_by_question(df).set_index("question_id")
    assert (pq.loc["a", "bias"], pq.loc["a", "variance"], pq.loc["a", "error"]) == pytest.approx((0.125, 0.125, 0.25))
    assert pq.loc["b", "error"] == 0.0 and pq.loc["b", "resolved"] == 1.0 and pq.loc["a", "resolved"] == 0.5
    assert pq["actions"].to_dict() == {"a": 3.0, "b": 15.0}
    with pytest.warns(DegenerateWarning, match="resamples were undefined"):  # resamples of only "b": zero error
        s = summarize_test_vectors(pq, n_boot=200, rng=1)
    assert s.incoherence == pytest.approx(0.5) and s.n_runs == 4 and s.resolved == pytest.approx(0.75)
    assert 0.0 <= s.ci["incoherence"].low <= s.ci["incoherence"].high <= 1.0
    with pytest.warns(DegenerateWarning):
        assert np.isnan(summarize_test_vectors(pq.loc[["b"]], n_boot=0).incoherence)


def test_power_law_fit_and_degenerate_cases() -> None:
    x = np.array([1.0, 10.0, 100.0])
    f = fit_power_law(x, 0.5 * x**-0.7)
    assert (f.exponent, f.prefactor, f.r2, f.n_points) == pytest.approx((-0.7, 0.5, 1.0, 3))
    with pytest.warns(DegenerateWarning):
        assert np.isnan(fit_power_law([1.0, 2.0], [0.0, 1.0]).exponent)  # a zero cannot go on log axes
    with pytest.raises(ValueError, match="1-d"):
        fit_power_law([1.0, 2.0], [1.0])


def test_length_analysis_buckets_by_hand() -> None:
    pq = pd.DataFrame({"variance": [0.4, 0.1, 0.3, 0.2, 0.5], "output_tokens": [40.0, 10.0, 30.0, 20.0, np.nan]})
    res = length_analysis(pq, n_buckets=2)
    assert res.n_questions == 4 and res.n_without_length == 1
    assert res.buckets["n_questions"].tolist() == [2, 2]
    assert res.buckets["length_mean"].tolist() == [15.0, 35.0]
    assert res.buckets["variance"].tolist() == pytest.approx([0.15, 0.35])
    assert res.fit.exponent == pytest.approx(np.log(0.35 / 0.15) / np.log(35 / 15))
    assert res.to_dict()["fit"]["n_points"] == 2
    with pytest.raises(InputError, match="cannot fill 5 buckets"):
        length_analysis(pq, n_buckets=5)
    with pytest.raises(InputError, match="unknown length axis"):
        length_analysis(pq, length="words")


def test_length_analysis_of_test_vectors_uses_ratio_of_sums() -> None:
    pq = pd.DataFrame(
        {
            "bias": [0.0, 0.5, 0.1, 0.1],
            "variance": [0.2, 0.0, 0.1, 0.3],
            "error": [0.2, 0.5, 0.2, 0.4],
            "resolved": [0.0, 0.0, 0.5, 0.5],
            "actions": [1.0, 2.0, 3.0, 4.0],
        }
    )
    res = length_analysis(pq, outcome="tests", length="actions", n_buckets=2)
    assert res.value == "incoherence"
    assert res.buckets["incoherence"].tolist() == pytest.approx([0.2 / 0.7, 0.4 / 0.6])


@settings(max_examples=40, deadline=None)
@given(
    lengths=st.lists(st.floats(1, 1e4, allow_nan=False), min_size=3, max_size=40),
    n_buckets=st.integers(1, 3),
    seed=st.integers(0, 1000),
)
def test_buckets_are_equal_sized_sorted_and_order_free(lengths: list[float], n_buckets: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    pq = pd.DataFrame({"variance": rng.uniform(0.01, 1, len(lengths)), "output_tokens": lengths})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DegenerateWarning)
        a = length_analysis(pq, n_buckets=n_buckets)
        b = length_analysis(pq.sample(frac=1.0, random_state=seed), n_buckets=n_buckets)
    sizes = a.buckets["n_questions"].to_numpy()
    assert sizes.sum() == len(lengths) and sizes.max() - sizes.min() <= 1
    assert np.all(np.diff(a.buckets["length_mean"].to_numpy()) >= 0)
    assert np.all(a.buckets["length_high"].to_numpy()[:-1] <= a.buckets["length_low"].to_numpy()[1:])
    if len(set(lengths)) == len(lengths):  # without ties the buckets cannot depend on row order
        pd.testing.assert_frame_equal(a.buckets, b.buckets)


def test_plot_is_written(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    pq = pd.DataFrame({"variance": [0.1, 0.2, 0.4, 0.8], "output_tokens": [10.0, 20.0, 40.0, 80.0]})
    out = plot_length_analysis({"m": length_analysis(pq, n_buckets=4)}, tmp_path / "p.png")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
