"""``hotmess compare`` end to end through ``hotmess.cli.main.main``: table, verdicts, --json, --out, errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hotmess.analysis import simulate_samples
from hotmess.analysis.compare import compare_groups
from hotmess.cli.main import main

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "compare.csv"


def run_cli(capsys: pytest.CaptureFixture[str], *args: object) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def test_example_file_is_what_its_script_writes() -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_compare", ROOT / "examples" / "make_compare.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    pd.testing.assert_frame_equal(module.make(), pd.read_csv(EXAMPLE), check_dtype=False)


def test_table_verdicts_and_notes(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(capsys, "compare", EXAMPLE, "--metric", "brier", "--baseline", "small", "--n-boot", "500")
    assert code == 0, err
    assert "compare by model (brier, plugin) · baseline small" in out
    assert "difference [95% CI]" in out and "p (Holm)" in out  # three models: Holm over two comparisons
    assert "model large is more incoherent than model small: +" in out and "(Holm)" in out
    assert "model medium vs model small: no difference detected at 95% after Holm correction in" in out
    assert "note: multiple-choice: model large vs small: compared on 30 shared questions; left out 4 only in" in err
    assert all(line.startswith(("note:", "written")) for line in err.strip().splitlines())  # one line each


def test_json_matches_the_library(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(capsys, "compare", EXAMPLE, "--json", "--n-boot", "300", "--seed", "7", "--by", "model")
    assert code == 0, err
    data = json.loads(out)
    assert data["source"] == str(EXAMPLE) and data["by"] == "model" and data["baseline"] == "large"
    assert data["metric"] == "kl" and data["n_boot"] == 300 and "Student" in data["p_value_method"]
    rows = data["comparisons"]
    assert len(rows) == 10 and {r["group"] for r in rows} == {"medium", "small"}
    lib = compare_groups(pd.read_csv(EXAMPLE), "model", "kl", n_boot=300, rng=7).frame
    assert [r["difference"] for r in rows] == pytest.approx(lib["difference"].tolist())
    assert [r["p_holm"] for r in rows] == pytest.approx(lib["p_holm"].tolist())
    assert any("left out" in n for n in data["notes"])
    assert "note:" in err  # notes stay on stderr when stdout is JSON


def test_out_csv_is_the_tidy_frame(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "cmp.csv"
    code, _out, err = run_cli(capsys, "compare", EXAMPLE, "--n-boot", "200", "--out", path, "--level", "0.9")
    assert code == 0, err
    t = pd.read_csv(path)
    need = {"group", "baseline", "quantity", "value_group", "value_baseline", "difference", "diff_low", "diff_high"}
    need |= {"ratio", "ratio_low", "ratio_high", "p_value", "p_holm", "n_shared", "verdict"}
    assert need <= set(t.columns) and len(t) == 10
    assert t["verdict"].str.contains("at 90%").any() or t["detected"].any()
    assert f"written to {path}" in err


def test_sources_compared_with_each_other(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """Two stores of one model: --by source (the default when nothing else varies), baseline the first given."""
    design = (np.linspace(0.2, 0.8, 12), np.full(12, 0.2))
    old, new = tmp_path / "old.parquet", tmp_path / "new.parquet"
    simulate_samples(*design, model="m", rng=0).to_parquet(old)
    simulate_samples(design[0], np.full(12, 0.45), model="m", rng=1).to_parquet(new)
    code, out, err = run_cli(capsys, "compare", new, old, "--metric", "brier", "--n-boot", "300", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["by"] == "source" and data["baseline"] == str(new)
    v = {r["quantity"]: r for r in data["comparisons"]}
    assert v["variance"]["group"] == str(old) and v["variance"]["difference"] < 0 and v["variance"]["detected"]
    code, out, err = run_cli(capsys, "compare", old, new, "--by", "model")  # one dataset: its samples collide
    assert code == 2 and "come from more than one source" in err and "--by source" in err


def test_report_page(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    page = tmp_path / "cmp.html"
    code, _out, err = run_cli(capsys, "compare", EXAMPLE, "--n-boot", "100", "--report", page)
    assert code == 0, err
    text = page.read_text()
    assert "Comparing groups by model" in text and "data:image/png;base64," in text and "<script" not in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--by", "colour"], "cannot compare by 'colour'"),
        (["--metric", "zero-one"], "incoherence ratio"),
        (["--baseline", "huge"], "no model named 'huge'"),
        (["--level", "1.5"], "--level must be in (0, 1)"),
        (["--by", "source"], "two or more sources"),
        (["--out", EXAMPLE], "results"),
        (["--by", "task"], "cannot compare by 'task'"),  # q1 of one task is not q1 of another: nothing to pair
        (["--metric", "hard-kl", "--estimator", "corrected"], "corrected estimator is defined for kl and brier"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str], args: list[object], message: str) -> None:
    code, out, err = run_cli(capsys, "compare", EXAMPLE, *args)
    assert code == 2 and out == ""
    assert err.startswith("error: ") and message in err and len(err.strip().splitlines()) == 1, err


def test_one_model_has_nothing_to_compare(capsys: pytest.CaptureFixture[str]) -> None:
    code, _out, err = run_cli(capsys, "compare", ROOT / "examples" / "samples.csv")
    assert code == 2 and err.startswith("error: nothing to compare") and "--by" in err


def test_documented_example_is_what_compare_prints(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """docs/analyses.md quotes `hotmess compare examples/compare.csv …`: its numbers and verdicts are current."""
    import re
    import shlex

    docs = (ROOT / "docs" / "analyses.md").read_text(encoding="utf-8")
    block = next(
        m.group(1)
        for m in re.finditer(r"```console\n(.*?)```", docs, flags=re.S)
        if m.group(1).startswith("$ hotmess compare")
    )
    command, *documented = block.splitlines()
    monkeypatch.chdir(ROOT)
    code, out, err = run_cli(capsys, *shlex.split(command)[2:])
    assert code == 0, err
    printed = [line.rstrip() for line in (out + err).splitlines()]

    def numbers(lines: list[str]) -> list[list[str]]:
        return [re.findall(r"[-+]?\d+\.\d+(?:e-?\d+)?|<0\.001", line) for line in lines if line.startswith("│")]

    assert numbers(printed) == numbers(documented)
    words = [line for line in documented if line.startswith(("model ", "note:"))]
    assert words and words == [line for line in printed if line.startswith(("model ", "note:"))]
