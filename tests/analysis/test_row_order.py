"""The same samples give the same numbers — bootstrap intervals included — whatever the order of the rows or the
file they come from: questions are resampled in sorted order of their key, samples placed by their own ids."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hotmess.analysis import (
    ensemble_analysis,
    incoherence_vs_length,
    natural_overthinking,
    simulate_samples,
    summarize_samples,
)
from hotmess.cli.main import main
from hotmess.data import read_samples, to_arrays, write_samples

QIDS = [f"q{i}" for i in (7, 12, 3, 1, 10, 2, 25, 4, 9, 11, 30, 5, 8, 6, 0, 13, 21, 14, 15, 16)]
"""First appearance is not sorted order (and "q10" sorts before "q2"): a bootstrap in table order would differ."""


def _samples() -> pd.DataFrame:
    """Two models (one-hot answers and stated probabilities), 20 questions, 4 contexts × 3 samples, some invalid."""
    rng = np.random.default_rng(3)
    parts = []
    for model in ("m-answers", "m-probs"):
        bias, variance = rng.uniform(0.1, 0.4, 20), rng.uniform(0.1, 0.4, 20)
        lengths = np.exp(rng.normal(5, 0.5, (20, 12)))
        part = simulate_samples(
            bias,
            variance,
            lengths=lengths,
            n_contexts=4,
            samples_per_context=3,
            invalid_rate=0.1,
            model=model,
            question_ids=QIDS,
            rng=rng,
        )
        if model == "m-answers":  # the argmax as a one-hot answer
            part["probs"] = None
        else:  # sixty-fourths that sum to exactly 1, so that reading a file (which normalises them) keeps them
            part["probs"] = [None if v is None else _sixty_fourths(v) for v in part["probs"]]
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


def _sixty_fourths(p: list[float]) -> list[float]:
    q = np.floor(np.asarray(p) * 64)
    q[np.argmax(p)] += 64 - q.sum()
    return [float(x) for x in q / 64]


def _shuffled(df: pd.DataFrame, seed: int = 11) -> pd.DataFrame:
    return df.sample(frac=1.0, random_state=seed).reset_index(drop=True)


def test_questions_come_in_sorted_order_of_their_key() -> None:
    df = _samples()
    _, info = to_arrays(df, question_key=["model", "question_id"])
    keys = list(zip(info["model"], info["question_id"], strict=True))
    assert keys == sorted(keys) and len(keys) == 40


def test_a_shuffled_table_gives_the_same_summary() -> None:
    df = _samples()
    base = summarize_samples(df, "kl").to_dict()
    assert base["groups"] and base["overall"]["ci"]["incoherence"][0] < base["overall"]["incoherence"]
    for seed in (1, 2):
        assert summarize_samples(_shuffled(df, seed), "kl").to_dict() == base
    assert (
        summarize_samples(_shuffled(df), "brier", ci_method="bca").to_dict()
        == summarize_samples(df, "brier", ci_method="bca").to_dict()
    )


@pytest.mark.parametrize("name", ["a.parquet", "b.csv", "c.sqlite", "d.jsonl", "shuffled.parquet", "shuffled.csv"])
def test_every_source_gives_the_same_intervals(tmp_path: Path, name: str, capsys: pytest.CaptureFixture[str]) -> None:
    df = _samples()
    base = summarize_samples(df, "kl").to_dict()
    path = write_samples(_shuffled(df) if name.startswith("shuffled") else df, tmp_path / name)
    assert summarize_samples(read_samples(path), "kl").to_dict() == base
    capsys.readouterr()
    assert main(["analyze", str(path), "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    expected = json.loads(json.dumps(base, default=str))  # as the command prints it
    for part in ("overall", "kinds", "groups"):
        assert printed[part] == expected[part], part


def test_the_analyses_do_not_depend_on_row_order() -> None:
    df = _samples()
    shuffled = _shuffled(df)
    for analysis in (
        lambda t: incoherence_vs_length(t, metric="brier", n_buckets=4, n_boot=50).buckets,
        lambda t: natural_overthinking(t, metric="kl", n_boot=50),
        lambda t: ensemble_analysis(t, n_boot=50).table,
    ):
        pd.testing.assert_frame_equal(analysis(shuffled), analysis(df), check_exact=True)
