"""A simulated multi-model, multi-budget run store and the report built from it (built once per session)."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hotmess.analysis import simulate_samples
from hotmess.data import RunStore, write_samples
from hotmess.report import Report, ReportOptions, build_report, load_inputs

INJECTION = (
    "<script>window.__pwned = 1; console.error('pwned')</script><img src=x onerror=\"window.__pwned=2\"> & Answer: B"
)


def family_samples(n: int = 24, rng: int = 0) -> pd.DataFrame:
    """Three sizes × two budgets; harder questions are longer, have more markers; one raw output injects markup."""
    gen = np.random.default_rng(rng)
    level = np.repeat([0, 1, 2], n // 3)
    lengths = 80 * 2.0**level * np.exp(gen.normal(0, 0.2, n))
    parts = []
    for name, size in (("fam-135M", 1.35e8), ("fam-1.7B", 1.7e9), ("fam-8B", 8e9)):
        f = size / 1.35e8
        for budget, stretch, extra in (("low", 1.0, 0.0), ("high", 2.0, 0.05)):
            err = np.array([1.55, 1.65, 1.75])[level] * f**-0.02
            inco = np.clip(0.32 + 0.04 * level + extra + 0.02 * np.log10(f), 0.3, 0.5)
            parts.append(
                simulate_samples(
                    err * (1 - inco),
                    err * inco,
                    kind="answers",
                    lengths=lengths * stretch,
                    model=name,
                    budget=budget,
                    rng=gen,
                    markers=gen.poisson(level[:, None] + 0.5, (n, 30)),
                    invalid_rate=0.05,
                    context_stickiness=0.3,
                    task="sim-arith",
                    n_options=5,
                )
            )
    df = pd.concat(parts, ignore_index=True)
    df.loc[(df["question_id"] == "q0000") & (df["context_id"] == 0), "raw_output"] = INJECTION
    return df


@pytest.fixture(scope="session")
def samples() -> pd.DataFrame:
    return family_samples()


@pytest.fixture(scope="session")
def store(samples: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("store") / "runs.sqlite"
    write_samples(samples, path)
    with RunStore(path) as s:
        s.save_run("", {"model": "fam-*", "task": "sim-arith", "note": "<b>not bold</b>"}, status="complete")
        s.save_questions(
            {
                "task": "sim-arith",
                "question_id": f"q{i:04d}",
                "text": "?",
                "options": [],
                "correct": 0,
                "metadata": {"difficulty": i // 8 + 1},
            }
            for i in range(24)
        )
    return path


@pytest.fixture(scope="session")
def report(store: Path) -> Report:
    df, runs, questions = load_inputs(store)
    survey = pd.DataFrame(
        {
            "entity": list("abcd") * 2,
            "rater": [1] * 4 + [2] * 4,
            "attribute": "intelligence",
            "rank": [1, 2, 3, 4, 2, 1, 3, 4],
        }
    )
    survey = pd.concat([survey, survey.assign(attribute="coherence", rank=[4, 3, 1, 2, 4, 2, 3, 1])])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return build_report(
            df, options=ReportOptions(n_boot=100), runs=runs, questions=questions, survey=survey, source=str(store)
        )
