"""``run_demo`` without the model: the report covers the run just sampled, not every run in the folder."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hotmess.analysis import simulate_samples
from hotmess.cli import demo as demo_cmd
from hotmess.data import write_samples
from hotmess.sampling.runner import RunStats


def test_report_is_of_this_run_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "demo"
    out.mkdir()
    # an earlier demo with other settings (another run id) left 6 questions in the same store
    old = simulate_samples(
        np.full(6, 0.5),
        np.full(6, 0.5),
        kind="answers",
        model="m",
        task="t",
        rng=0,
        question_ids=[f"old{i}" for i in range(6)],
    )
    write_samples(old.assign(run_id="earlier"), out / "demo.sqlite")

    def fake_execute(config: object, store: Path, *, progress: bool = True) -> RunStats:
        new = simulate_samples(np.full(4, 0.5), np.full(4, 0.5), kind="answers", model="m", task="t", rng=1)
        write_samples(new.assign(run_id="now"), store)
        return RunStats(run_id="now", written=len(new))

    monkeypatch.setattr("hotmess.sampling.api.execute", fake_execute)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, rep, path = demo_cmd.run_demo(out, config=object(), n_boot=0, progress=False)
    summary: pd.DataFrame = next(s for s in rep.sections if s.key == "overview").tables["summary"]
    assert summary["n_questions"].iloc[0] == 4 and summary["n_samples"].iloc[0] == 4 * 30
    assert path.is_file()
