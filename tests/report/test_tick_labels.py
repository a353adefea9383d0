"""Every figure's tick labels are plain text: no raw TeX such as ``$\\mathdefault{10^{0}}$``.

``text.parse_math`` is off in the report (labels come from data), so any formatter that writes mathtext shows
its source. Each plot is drawn from simulated analyses and every visible tick label is checked.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest

from hotmess import analysis as an

pytest.importorskip("matplotlib")

from hotmess.report import plots


def _figures() -> dict[str, Callable[[], Any]]:
    gen = np.random.default_rng(0)
    lengths = np.exp(gen.uniform(np.log(50), np.log(1600), 40))
    df = an.simulate_samples(np.full(40, 0.6), np.full(40, 0.3), lengths=lengths, rng=1)
    many = an.simulate_samples(
        np.full(10, 0.4), np.full(10, 0.6), kind="answers", n_contexts=16, samples_per_context=10, rng=2
    )
    fam = pd.concat(
        an.simulate_samples(np.full(12, 0.5) * (n / 1e8) ** -0.3, np.full(12, 0.2), model=m, rng=3)
        for m, n in (("fam-100M", 1e8), ("fam-1B", 1e9), ("fam-10B", 1e10))
    )
    two = pd.concat([df.assign(budget="low"), df.assign(budget="high")])
    return {
        "length": lambda: plots.plot_length(*_length(df)),
        "overthinking": lambda: plots.plot_overthinking(an.natural_overthinking(df, n_boot=20)),
        "budgets": lambda: plots.plot_budgets(an.budget_effects(two, n_boot=20)),
        "ensembles": lambda: plots.plot_ensembles(*_ensembles(many)),
        "scaling": lambda: plots.plot_scaling(*_scaling(fam)),
        "answer_changes": lambda: plots.plot_answer_changes(an.answer_changes(many)),
        "invalid_rates": lambda: plots.plot_invalid_rates(an.invalid_rates(many)),
        "difficulty": lambda: plots.plot_difficulty(_difficulty(df)),
    }


def _length(df: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    res = an.incoherence_vs_length(df, n_buckets=4, n_boot=20)
    return res.buckets, res.fits


def _difficulty(df: pd.DataFrame) -> pd.DataFrame:
    ids = df["question_id"].unique()
    levels = pd.DataFrame({"task": "sim", "question_id": ids, "difficulty": np.arange(len(ids)) % 3 + 1})
    return an.incoherence_by_difficulty(df, levels, n_boot=20)[0]


def _ensembles(df: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    res = an.ensemble_analysis(df, n_boot=20)
    return res.table, res.fits


def _scaling(df: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    res = an.scaling_analysis(df, metric="brier", n_boot=20)
    return res.cells, res.fits


@pytest.mark.parametrize("name", list(_figures()))
def test_tick_labels_are_plain_text(name: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fig = _figures()[name]()
    with plots._style():
        fig.canvas.draw()
    labels = [
        t.get_text()
        for ax in fig.axes
        for t in (*ax.get_xticklabels(which="both"), *ax.get_yticklabels(which="both"))
        if t.get_visible() and t.get_text()
    ]
    assert labels, name
    raw = [s for s in labels if "$" in s or "\\" in s]
    assert not raw, f"{name}: raw TeX in tick labels {raw[:4]}"
