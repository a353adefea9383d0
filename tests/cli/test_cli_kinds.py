"""End to end through the CLI: test-vector stores, mixed stores (kinds never pooled), the estimator option."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from hotmess.cli.main import main
from hotmess.metrics import test_vector_decomposition

FIXTURES = Path(__file__).resolve().parents[1] / "importers" / "fixtures" / "inspect"


def _run(capsys, *args: object) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def swe_store(tmp_path: Path, capsys) -> Path:
    pytest.importorskip("inspect_ai")
    store = tmp_path / "s.sqlite"
    code, _, err = _run(capsys, "import", "inspect", FIXTURES / "swe_mini.eval", "-s", store)
    assert code == 0, err
    return store


def test_analyze_prints_the_test_vector_decomposition_of_an_imported_swe_log(swe_store: Path, capsys) -> None:
    from hotmess.data import read_samples

    code, out, err = _run(capsys, "analyze", swe_store, "--json", "--n-boot", "0")
    assert code == 0, err
    data = json.loads(out)
    assert data["overall"]["metric"] == "test-vector" and [k["kind"] for k in data["kinds"]] == ["test-vector"]
    df = read_samples(swe_store)
    outcomes = np.stack([np.stack(g["test_outcomes"].map(np.asarray).tolist()) for _, g in df.groupby("question_id")])
    d = test_vector_decomposition(outcomes.astype(float))
    assert data["overall"]["incoherence"] == pytest.approx(d.variance.sum() / d.error.sum(), abs=1e-12)
    code, out, _ = _run(capsys, "analyze", swe_store)
    assert code == 0 and "test-vector decomposition" in out


def test_report_on_a_swe_store_has_its_sections(swe_store: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "r"
    code, _, err = _run(
        capsys, "report", swe_store, "-o", out, "--format", "json", "--n-boot", "50", "--axis", "actions"
    )
    assert code == 0, err
    manifest = json.loads((out / "manifest.json").read_text())
    shown = {s["key"] for s in manifest["sections"] if s["skipped"] is None}
    assert {"overview", "length", "overthinking", "answer_changes"} <= shown
    skipped = {s["key"]: s["skipped"] for s in manifest["sections"] if s["skipped"]}
    assert "probabilit" in skipped["ensembles"]


def test_a_mixed_store_is_analysed_per_kind(swe_store: Path, capsys) -> None:
    logs = [FIXTURES / "mc_quiz.eval", FIXTURES / "open_qa.eval"]
    code, _, err = _run(capsys, "import", "inspect", *logs, "-s", swe_store)
    assert code == 0, err
    code, out, err = _run(capsys, "analyze", swe_store, "--json", "--n-boot", "0")
    data = json.loads(out)
    # open-ended answers are stored as right/wrong two-option questions; the questions table tells them apart
    assert [k["kind"] for k in data["kinds"]] == ["multiple-choice", "open-ended", "test-vector"]
    assert data["rows_by_kind"]["test-vector"] == 12
    alone = {}
    for task in ("mc_quiz", "open_qa"):
        from hotmess.analysis import summarize_samples
        from hotmess.data import read_samples

        df = read_samples(swe_store)
        alone[task] = summarize_samples(df[df["task"] == task], n_boot=0).overall.incoherence
    got = {k["kind"]: k["incoherence"] for k in data["kinds"]}
    assert got["multiple-choice"] == pytest.approx(alone["mc_quiz"], abs=1e-12)
    assert got["open-ended"] == pytest.approx(alone["open_qa"], abs=1e-12)
    code, out, err = _run(capsys, "analyze", swe_store, "--n-boot", "0")
    assert "overall · multiple-choice" in out and "overall · test-vector" in out and "never pooled" in err


def test_estimator_option(tmp_path: Path, capsys) -> None:
    example = Path(__file__).resolve().parents[2] / "examples" / "samples.csv"
    base = ["analyze", example, "--metric", "brier", "--n-boot", "0", "--json"]
    _, plug, _ = _run(capsys, *base)
    _, corr, _ = _run(capsys, *base, "--estimator", "corrected")
    _, old, _ = _run(capsys, *base, "--unbiased")
    p, c = json.loads(plug)["overall"], json.loads(corr)["overall"]
    assert c["variance"] == pytest.approx(p["variance"] * 6 / 5) and json.loads(old)["overall"] == c
    assert c["options"]["estimator"] == "corrected"
    code, _, err = _run(capsys, "analyze", example, "--estimator", "bogus")
    assert code == 2 and "estimator" in err and "Traceback" not in err
    code, _, err = _run(capsys, "analyze", example, "--metric", "zero-one", "--estimator", "corrected")
    assert code == 2 and "kl and brier" in err


def test_hard_kl_on_probability_samples_is_a_one_line_error(tmp_path: Path, capsys) -> None:
    from hotmess.analysis import simulate_samples
    from hotmess.data import write_samples

    path = write_samples(simulate_samples(np.full(3, 0.5), np.full(3, 0.3), rng=0), tmp_path / "p.parquet")
    code, _, err = _run(capsys, "analyze", path, "--metric", "hard-kl")
    assert code == 2 and "probability vectors" in err and "Traceback" not in err


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".jsonl", ".sqlite"])
def test_kinds_survive_convert(swe_store: Path, tmp_path: Path, capsys, suffix: str) -> None:
    code, _, err = _run(capsys, "import", "inspect", FIXTURES / "open_qa.eval", "-s", swe_store)
    assert code == 0, err
    out = tmp_path / f"copy{suffix}"
    code, _, err = _run(capsys, "convert", swe_store, out)
    assert code == 0, err
    code, text, err = _run(capsys, "analyze", out, "--json", "--n-boot", "0")
    assert code == 0, err
    assert [k["kind"] for k in json.loads(text)["kinds"]] == ["open-ended", "test-vector"]


def test_corrected_estimator_leaves_a_group_of_single_samples_out(tmp_path: Path, capsys) -> None:
    rows = ["question_id,answer,correct,model"]
    rows += ["q1,A,A,m1", "q1,B,A,m1", "q2,A,A,m1", "q2,A,A,m1"]  # m1: two questions with two samples
    rows += ["q1,B,A,m2", "q2,C,A,m2"]  # m2: one sample per question
    path = tmp_path / "one.csv"
    path.write_text("\n".join(rows) + "\n")
    code, out, err = _run(capsys, "analyze", path, "--metric", "brier", "--estimator", "corrected", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert [g["model"] for g in data["groups"]] == ["m1"] and data["overall"]["n_questions"] == 2
    assert any("left out" in w for w in data["warnings"])


def test_analyze_states_its_guardrails(tmp_path: Path, capsys) -> None:
    rows = ["question_id,answer,correct,finish_reason"]
    for q in range(6):
        answers = ["A", "B", "C", "D", "", "B", "C", "D"]  # at chance; one in eight invalid
        rows += [f"q{q},{a},A,{f}" for a, f in zip(answers, ["stop", "length"] * 4, strict=True)]
    path = tmp_path / "guess.csv"
    path.write_text("\n".join(rows) + "\n")
    code, out, err = _run(capsys, "analyze", path, "--json", "--n-boot", "0")
    keys = {g["key"] for g in json.loads(out)["guardrails"]}
    assert code == 0 and {"chance", "invalid", "truncation", "few_samples"} <= keys
    code, out, err = _run(capsys, "analyze", path, "--n-boot", "0")
    assert "hit the token cap" in err and "could not be parsed" in err


def test_report_by_groups_like_analyze(swe_store: Path, tmp_path: Path, capsys) -> None:
    code, _, err = _run(capsys, "import", "inspect", FIXTURES / "mc_quiz.eval", "-s", swe_store)
    out = tmp_path / "r"
    code, _, err = _run(capsys, "report", swe_store, "-o", out, "--format", "json", "--n-boot", "20", "--by", "task")
    assert code == 0, err
    summary = json.loads((out / "overview__summary.json").read_text())
    assert {r["group"] for r in summary} >= {"multiple-choice/mc_quiz", "test-vector/swe_mini"}
    code, _, err = _run(capsys, "report", swe_store, "-o", tmp_path / "x.html", "--by", "colour")
    assert code == 2 and "cannot group by colour" in err
