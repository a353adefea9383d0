"""Write ``examples/compare.csv``: three simulated models answering the same 30 questions (for ``hotmess compare``).

``small`` and ``medium`` are one design (no difference planted). ``large`` is more incoherent on every question:
less bias and the same variance, so variance is a larger share of a smaller error. It also answered four questions
the others did not (left out of the paired comparison, with a note). Ten samples per question: five contexts × two
samples. Run ``python examples/make_compare.py`` from the repository root; docs/analyses.md quotes its output.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from hotmess.analysis import simulate_samples

OUT = Path(__file__).resolve().parent / "compare.csv"
LETTERS = np.array(list("ABCDE"))


def make(rng: int = 4) -> pd.DataFrame:
    gen = np.random.default_rng(rng)
    n = 30
    error = gen.uniform(1.5, 1.75, n)  # Brier error of a five-option question (2 = always wrong)
    incoherence = gen.uniform(0.32, 0.42, n)
    layout = {"kind": "answers", "n_contexts": 5, "samples_per_context": 2, "n_options": 5, "task": "sim"}
    parts = []
    variance = error * incoherence
    for model, scale in (("small", 1.0), ("medium", 1.0), ("large", 0.88)):  # large: less bias, same variance
        parts.append(simulate_samples(error * scale - variance, variance, model=model, rng=gen, **layout))
    ids = [f"x{i:02d}" for i in range(4)]  # answered by the large model only
    parts.append(simulate_samples(np.full(4, 1.0), np.full(4, 0.6), model="large", question_ids=ids, rng=gen, **layout))
    df = pd.concat(parts, ignore_index=True)
    out = df[["model", "task", "question_id", "context_id", "sample_index", "n_options"]].copy()
    out["correct"] = LETTERS[df["correct"].to_numpy()]
    out["answer"] = LETTERS[df["answer"].to_numpy()]
    return out


if __name__ == "__main__":
    make().to_csv(OUT, index=False)
    print(f"wrote {OUT}")
