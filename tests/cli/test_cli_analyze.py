"""``hotmess analyze`` and ``hotmess convert`` end to end through ``hotmess.cli.main.main``."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pandas as pd
import pytest

from hotmess.cli.main import main
from tests.metrics import naive  # the per-question reference implementation

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "samples.csv"

# examples/samples.csv by hand: one task, options A–D seen → C = 4 for every question.
#   q1: A A A A A A, correct A     q2: B B B C B D, correct B
#   q3: C C C C C C, correct A     q4: D A B ∅ C D, correct D   (∅ = empty answer → invalid → uniform ¼)
A, B, C, D, X = 0, 1, 2, 3, -1
QUESTIONS = [([A] * 6, A), ([B, B, B, C, B, D], B), ([C] * 6, A), ([D, A, B, X, C, D], D)]

# Hard accuracy (invalid counts as wrong): (1 + 4/6 + 0 + 2/6)/4 = ½.
ACCURACY = 0.5

# Brier. q1: 0. q2: f̃ = (0, ⅔, ⅙, ⅙): BIAS = (⅓)² + 2(⅙)² = ⅙; ERROR = 2·2/6 = ⅔; VARIANCE = ½.
# q3: BIAS = ERROR = 2. q4: f̃ = (1.25, 1.25, 1.25, 2.25)/6; ERROR = (3·2 + ¾)/6 = 9/8 (the invalid sample is
# at ‖y − u‖² = 3/16 + 9/16 = ¾); BIAS = 3(1.25/6)² + (3.75/6)² = 18.75/36 = 25/48; VARIANCE = 9/8 − 25/48 = 29/48.
BRIER = {
    "bias": (0 + 1 / 6 + 2 + 25 / 48) / 4,
    "variance": (0 + 1 / 2 + 0 + 29 / 48) / 4,
    "error": (0 + 2 / 3 + 2 + 9 / 8) / 4,
}
# Hard KL (f_c = share of samples answering c; an invalid answer is its own class, never correct). q1 (0, 0, 0).
# q2 f_B = ⅔: (0, ⅓, ⅓). q3 f_C = 1, f_A = 0: (1, 0, 1). q4 f = (1, 1, 1, 2)/6 and f_invalid = 1/6, mode D =
# target: (0, ⅔, ⅔) — the invalid sample is an error, not agreement with every option.
HARD_KL = {"bias": 1 / 4, "variance": (1 / 3 + 2 / 3) / 4, "error": (1 / 3 + 1 + 2 / 3) / 4}
# 0/1. q2 mode B right: (0, ⅓, ⅓); q3 (1, 0, 1); q4 mode D right: VARIANCE = P(≠ D) = 4/6 = ERROR.
ZERO_ONE = {"bias": 1 / 4, "variance": (1 / 3 + 2 / 3) / 4, "error": (1 / 3 + 1 + 2 / 3) / 4}


def _kl_by_naive(delta: float = 1e-12) -> dict[str, float]:
    rows = [
        naive.kl_question([naive.one_hot_vector(a, 4) for a in answers], target, delta) for answers, target in QUESTIONS
    ]
    return {name: sum(r[i] for r in rows) / 4 for i, name in enumerate(("bias", "variance", "error"))}


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def analyze_json(capsys, *args: str) -> dict:
    code, out, err = run_cli(capsys, "analyze", *args, "--json")
    assert code == 0, err
    return json.loads(out)


def _check_overall(o: dict, expected: dict[str, float], *, rel: float = 1e-12) -> None:
    for name, value in expected.items():
        assert o[name] == pytest.approx(value, rel=rel, abs=1e-12), name
    assert o["incoherence"] == pytest.approx(expected["variance"] / expected["error"], rel=rel)
    assert o["incoherence"] == pytest.approx(o["variance"] / o["error"], rel=1e-12)
    assert o["accuracy"] == pytest.approx(ACCURACY)
    assert o["n_questions"] == 4 and o["n_samples"] == 24 and o["n_invalid"] == 1


def test_analyze_example_kl_matches_the_naive_implementation(capsys):
    data = analyze_json(capsys, EXAMPLE, "--metric", "kl")
    assert data["metric"] == "kl" and data["groups"] == []
    _check_overall(data["overall"], _kl_by_naive(), rel=1e-9)
    o = data["overall"]
    assert {"bias", "variance", "error", "incoherence", "accuracy", "n_questions"} <= set(o)
    assert o["ci_level"] == 0.95 and o["options"]["delta"] == 1e-12
    lo, hi = o["ci"]["incoherence"]
    assert 0.0 <= lo <= o["incoherence"] <= hi <= 1.0
    assert any("30" in w for w in data["warnings"])  # 6 samples per question: warned


def test_analyze_example_brier_by_hand(capsys):
    data = analyze_json(capsys, EXAMPLE, "--metric", "brier", "--n-boot", "0")
    _check_overall(data["overall"], BRIER)
    assert data["overall"]["incoherence"] == pytest.approx((53 / 48) / (91 / 24))  # = 53/182
    assert data["overall"]["ci"] == {} and data["overall"]["ci_level"] is None


def test_analyze_example_hard_kl_by_hand(capsys):
    data = analyze_json(capsys, EXAMPLE, "--metric", "hard-kl", "--n-boot", "200")
    _check_overall(data["overall"], HARD_KL)
    assert data["overall"]["incoherence"] == pytest.approx(1 / 2)


def test_analyze_example_zero_one_has_no_incoherence(capsys):
    data = analyze_json(capsys, EXAMPLE, "--metric", "zero-one")
    o = data["overall"]
    for name, value in ZERO_ONE.items():
        assert o[name] == pytest.approx(value), name
    assert o["incoherence"] is None and "incoherence" not in o["ci"]
    code, out, err = run_cli(capsys, "analyze", EXAMPLE, "--metric", "zero-one", "--n-boot", "0")
    assert code == 0 and "incoherence" not in out and "absolute numbers" in err


def test_analyze_table_output(capsys):
    code, out, err = run_cli(capsys, "analyze", EXAMPLE, "--n-boot", "100")
    assert code == 0
    assert "kl decomposition" in out and "overall" in out and "incoherence [95% CI]" in out
    assert "note:" in err


def test_analyze_options_change_the_numbers(capsys):
    base = analyze_json(capsys, EXAMPLE, "--metric", "brier", "--n-boot", "0")["overall"]
    unb = analyze_json(capsys, EXAMPLE, "--metric", "brier", "--n-boot", "0", "--unbiased")["overall"]
    assert unb["variance"] == pytest.approx(base["variance"] * 6 / 5)  # n/(n−1), n = 6 everywhere
    kl = analyze_json(capsys, EXAMPLE, "--n-boot", "0", "--delta", "0.1")["overall"]
    _check_overall(kl, _kl_by_naive(0.1), rel=1e-9)
    bca = analyze_json(capsys, EXAMPLE, "--ci-method", "bca", "--n-boot", "300", "--seed", "3")["overall"]
    again = analyze_json(capsys, EXAMPLE, "--ci-method", "bca", "--n-boot", "300", "--seed", "3")["overall"]
    assert bca["ci"] == again["ci"] and bca["options"]["ci_method"] == "bca"


@pytest.mark.parametrize("suffix", [".json", ".csv", ".parquet"])
def test_analyze_out_files(capsys, tmp_path, suffix):
    out = tmp_path / f"res{suffix}"
    code, _, err = run_cli(capsys, "analyze", EXAMPLE, "--metric", "brier", "--n-boot", "50", "--out", out)
    assert code == 0 and out.exists() and str(out) in err.replace("\n", "")
    if suffix == ".json":
        data = json.loads(out.read_text())
        assert data["overall"]["bias"] == pytest.approx(BRIER["bias"])
        assert data["source"] == str(EXAMPLE)
        return
    frame = pd.read_csv(out) if suffix == ".csv" else pd.read_parquet(out)
    row = frame.iloc[0]
    assert row["group"] == "overall" and len(frame) == 1
    assert row["bias"] == pytest.approx(BRIER["bias"]) and row["error"] == pytest.approx(BRIER["error"])
    assert row["incoherence_low"] <= row["incoherence"] <= row["incoherence_high"]


def _two_models(tmp_path: Path) -> Path:
    df = pd.read_csv(EXAMPLE, dtype=str, keep_default_na=False)
    other = df.copy()
    other["model"] = "other-model"
    other["answer"] = other["correct"]  # a model that is always right
    path = tmp_path / "two.csv"
    pd.concat([df, other]).to_csv(path, index=False)
    return path


def test_analyze_by_model(capsys, tmp_path):
    path = _two_models(tmp_path)
    data = analyze_json(capsys, path, "--metric", "brier", "--by", "model", "--n-boot", "0")
    groups = {g["model"]: g for g in data["groups"]}
    assert set(groups) == {"demo-model", "other-model"}
    demo = groups["demo-model"]
    assert demo["bias"] == pytest.approx(BRIER["bias"]) and demo["n_questions"] == 4
    assert groups["other-model"]["error"] == 0.0 and groups["other-model"]["incoherence"] is None
    o = data["overall"]
    assert o["n_questions"] == 8 and o["error"] == pytest.approx(BRIER["error"] / 2)
    # grouping by the varying column is also the default
    assert len(analyze_json(capsys, path, "--metric", "brier", "--n-boot", "0")["groups"]) == 2


def test_convert_between_formats_and_into_a_store(capsys, tmp_path):
    expected = analyze_json(capsys, EXAMPLE, "--metric", "brier", "--n-boot", "0")["overall"]
    chain = [EXAMPLE, tmp_path / "a.parquet", tmp_path / "b.jsonl", tmp_path / "c.csv", tmp_path / "d.sqlite"]
    for src, dest in itertools.pairwise(chain):
        code, _, err = run_cli(capsys, "convert", src, dest)
        assert code == 0 and "wrote 24 samples" in err.replace("\n", " ")
    store = chain[-1]
    for path in chain[1:]:
        got = analyze_json(capsys, path, "--metric", "brier", "--n-boot", "0")["overall"]
        for name in ("bias", "variance", "error", "incoherence", "accuracy", "n_invalid"):
            assert got[name] == pytest.approx(expected[name]), (path.suffix, name)
    # converting into the same store again merges exactly once
    assert run_cli(capsys, "convert", EXAMPLE, store)[0] == 0
    assert analyze_json(capsys, store, "--metric", "brier", "--n-boot", "0")["overall"]["n_samples"] == 24
    # and the store's samples round-trip back out
    assert run_cli(capsys, "convert", store, tmp_path / "e.jsonl")[0] == 0
    assert len(pd.read_json(tmp_path / "e.jsonl", lines=True)) == 24


def test_analyze_a_store_by_run(capsys, tmp_path):
    df = pd.read_csv(EXAMPLE, dtype=str, keep_default_na=False)
    df["run_id"] = ["r1"] * 12 + ["r2"] * 12
    src = tmp_path / "runs.csv"
    df.to_csv(src, index=False)
    store = tmp_path / "runs.sqlite"
    assert run_cli(capsys, "convert", src, store)[0] == 0
    data = analyze_json(capsys, store, "--run", "r1", "--metric", "hard-kl", "--n-boot", "0")
    assert data["overall"]["n_questions"] == 2
    assert data["overall"]["error"] == pytest.approx((0 + 1 / 3) / 2)


def test_version_and_help(capsys):
    code, out, _ = run_cli(capsys, "--version")
    assert code == 0 and out.startswith("hotmess ")
    code, out, _ = run_cli(capsys, "analyze", "--help")
    assert code == 0 and "--metric" in out


# --------------------------------------------------------------------------------- bad input campaign
def _bad_inputs(tmp_path: Path) -> dict[str, list[str]]:
    def write(name: str, content: bytes | str) -> str:
        p = tmp_path / name
        p.write_bytes(content if isinstance(content, bytes) else content.encode())
        return str(p)

    (tmp_path / "adir.csv").mkdir()
    return {
        "missing file": ["analyze", str(tmp_path / "nope.csv")],
        "directory": ["analyze", str(tmp_path / "adir.csv")],
        "empty csv": ["analyze", write("empty.csv", "")],
        "header-only csv": ["analyze", write("header.csv", "question_id,answer,correct\n")],
        "missing columns": ["analyze", write("cols.csv", "question,answer\nq1,A\n")],
        "unparseable correct": ["analyze", write("corr.csv", "question_id,answer,correct\nq1,A,yes\n")],
        "probs wrong length": [
            "analyze",
            write("probs.csv", 'question_id,answer,correct,n_options,probs\nq1,A,A,4,"[0.5, 0.5]"\n'),
        ],
        "probs not summing to 1": ["analyze", write("psum.csv", 'question_id,correct,probs\nq1,A,"[0.9, 0.9]"\n')],
        "corrupt parquet": ["analyze", write("bad.parquet", b"PAR1\x00\x01garbage" * 50 + b"PAR1")],
        "truncated parquet": ["analyze", write("trunc.parquet", pd.DataFrame({"a": [1]}).to_parquet()[:40])],
        "binary .sqlite": ["analyze", write("bad.sqlite", bytes(range(256)) * 64)],
        "binary .csv": ["analyze", write("bin.csv", b"\xff\xfe\x00\x81" * 300)],
        "unsupported suffix": ["analyze", write("s.xlsx", "x")],
        "unknown metric": ["analyze", str(EXAMPLE), "--metric", "mse"],
        "ci level 2": ["analyze", str(EXAMPLE), "--ci-level", "2"],
        "bad ci method": ["analyze", str(EXAMPLE), "--ci-method", "student"],
        "negative delta": ["analyze", str(EXAMPLE), "--delta", "-1"],
        "bad group": ["analyze", str(EXAMPLE), "--by", "colour"],
        "unknown run": ["analyze", str(EXAMPLE), "--run", "nope"],
        "bad out suffix": ["analyze", str(EXAMPLE), "--n-boot", "0", "--out", str(tmp_path / "r.txt")],
        "convert missing": ["convert", str(tmp_path / "nope.csv"), str(tmp_path / "x.parquet")],
        "convert to itself": ["convert", str(EXAMPLE), str(EXAMPLE)],
        "convert bad suffix": ["convert", str(EXAMPLE), str(tmp_path / "x.xlsx")],
    }


BAD_CASES = [
    "missing file",
    "directory",
    "empty csv",
    "header-only csv",
    "missing columns",
    "unparseable correct",
    "probs wrong length",
    "probs not summing to 1",
    "corrupt parquet",
    "truncated parquet",
    "binary .sqlite",
    "binary .csv",
    "unsupported suffix",
    "unknown metric",
    "ci level 2",
    "bad ci method",
    "negative delta",
    "bad group",
    "unknown run",
    "bad out suffix",
    "convert missing",
    "convert to itself",
    "convert bad suffix",
]


@pytest.mark.parametrize("case", BAD_CASES)
def test_bad_input_gives_one_error_line_and_nonzero_exit(capsys, tmp_path, case):
    args = _bad_inputs(tmp_path)[case]
    code = main(args)
    out, err = capsys.readouterr()
    assert isinstance(code, int) and code != 0
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error:"), err
    assert "Traceback" not in err and "unexpected" not in err
    assert out == ""


def test_bad_input_with_debug_shows_the_exception(tmp_path, monkeypatch):
    from hotmess.errors import InputError

    monkeypatch.setenv("HOTMESS_DEBUG", "0")  # `--debug` exports HOTMESS_DEBUG=1; restored after the test
    with pytest.raises(InputError):
        main(["--debug", "analyze", str(tmp_path / "nope.csv")])


def test_binary_sqlite_is_left_untouched(capsys, tmp_path):
    p = tmp_path / "bad.sqlite"
    content = bytes(range(256)) * 64
    p.write_bytes(content)
    assert main(["analyze", str(p)]) != 0
    assert p.read_bytes() == content
