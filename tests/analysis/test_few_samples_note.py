"""The few-samples note appears once, with the smallest count, however many groups raise it."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from hotmess.analysis.summary import summarize_samples


def test_one_few_samples_note_with_the_smallest_count() -> None:
    rng = np.random.default_rng(0)
    rows = []
    for model, n in (("a", 5), ("b", 3), ("c", 8)):  # each model's questions have n samples
        for q in range(6):
            for _ in range(n):
                rows.append({"model": model, "question_id": f"q{q}", "answer": "ABCD"[rng.integers(4)], "correct": "A"})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = summarize_samples(pd.DataFrame(rows), n_boot=0)
    few = [w for w in res.warnings if w.startswith("some questions have only")]
    assert few == ["some questions have only 3 samples; estimates stabilise around 30 per question"]
    assert len(res.groups) == 3  # the groups are still all there
