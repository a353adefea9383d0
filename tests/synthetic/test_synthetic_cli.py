"""``hotmess synthetic`` end to end through the real entry point (tiny settings)."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hotmess.cli import main as cli_main
from hotmess.cli import synthetic

TINY = [
    "--seeds",
    "1",  # cpu-small trains 3; later "--seeds" options win (click keeps the last)
    "--steps",
    "30",
    "--sizes",
    "1x8h2,1x16h2",
    "--trajectories",
    "16",
    "--trajectory-steps",
    "32",
    "--starts",
    "16",
    "--rollout-steps",
    "8",
    "--n-boot",
    "20",
    "--batch-size",
    "16",
    "--quiet",
    "--device",
    "cpu",
]


@pytest.fixture
def main() -> Iterator:  # type: ignore[type-arg]
    """``hotmess.cli.main.main`` with ``synthetic`` registered (until it is in SUBCOMMANDS)."""
    app = cli_main.app
    n = len(app.registered_commands)
    if "synthetic" not in cli_main.SUBCOMMANDS:
        synthetic.register(app)
    yield cli_main.main
    del app.registered_commands[n:]


def test_cli_runs_end_to_end_and_resumes(main, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "run"
    assert main(["synthetic", "--out", str(out), *TINY, "--resume"]) == 0  # nothing there yet: a fresh run, said so
    first = capsys.readouterr()
    assert "nothing to resume" in first.err and "report:" in first.out
    for name in (
        "config.json",
        "problem.json",
        "summary.csv",
        "losses.csv",
        "rollout_metrics.parquet",
        "rollout_metrics.csv",
        "fits.json",
        "fits.csv",
        "report.html",
        "checkpoints/1x8h2.pt",
        "checkpoints/1x16h2.json",
        "rollouts/optimizer.npz",
        "plots/synthetic_rollout.png",
    ):
        assert (out / name).exists(), name
    summary = pd.read_csv(out / "summary.csv")
    assert summary["model"].tolist() == ["optimizer", "1x8h2", "1x16h2"]
    metrics = pd.read_parquet(out / "rollout_metrics.parquet")
    assert len(metrics) == 3 * 9
    doc = json.loads((out / "fits.json").read_text())
    fits = {f["quantity"]: f for f in doc["fits"] if f["kind"] == "raw"}
    assert set(fits) == {"bias", "variance", "error", "heldout_loss"}
    assert {d["kind"] for d in doc["differences"]} <= {"raw", "excess"} and doc["differences"]
    assert not any(d["supported"] for d in doc["differences"])  # one seed, two sizes: never a claim
    assert "not supported by this run" in first.out
    html = (out / "report.html").read_text()
    png = (out / "plots" / "synthetic_rollout.png").read_bytes()
    assert base64.b64encode(png).decode() in html and "<script" not in html
    assert json.loads((out / "config.json").read_text())["config"]["train"]["steps"] == 30
    ckpt = out / "checkpoints" / "1x8h2.pt"
    mtime = ckpt.stat().st_mtime_ns
    assert main(["synthetic", "--out", str(out), *TINY]) == 2  # not empty, no --resume
    assert "--resume" in capsys.readouterr().err
    assert main(["synthetic", "--out", str(out), *TINY, "--resume"]) == 0
    assert ckpt.stat().st_mtime_ns == mtime  # finished models are not retrained
    again = pd.read_csv(out / "summary.csv")
    measured = [c for c in summary.columns if not c.endswith(("wall_s", "per_s"))]
    pd.testing.assert_frame_equal(again[measured], summary[measured])
    assert main(["synthetic", "--out", str(out), *TINY, "--resume", "--seed", "5"]) == 2  # other config

    serial = tmp_path / "serial"  # training sizes side by side (auto jobs) changes nothing
    assert main(["synthetic", "--out", str(serial), *TINY, "--jobs", "1"]) == 0
    pd.testing.assert_frame_equal(pd.read_csv(serial / "summary.csv")[measured], summary[measured])


def test_cli_seeds_train_every_size_per_seed_and_resume(
    main, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "seeds"
    assert main(["synthetic", "--out", str(out), *TINY, "--seeds", "2"]) == 0
    text = capsys.readouterr().out
    assert "means over 2 training seeds" in text and "of 2 seeds" in text
    for name in (
        "checkpoints/1x8h2.pt",
        "checkpoints/1x8h2-seed1.pt",
        "rollouts/1x16h2-seed1.npz",
        "seed_fits.csv",
        "plots/synthetic_rollout_excess.png",
    ):
        assert (out / name).exists(), name
    summary = pd.read_csv(out / "summary.csv")
    runs = summary[summary["model"] != "optimizer"]
    assert sorted(zip(runs["model"], runs["train_seed"], strict=True)) == [
        ("1x16h2", 0),
        ("1x16h2", 1),
        ("1x8h2", 0),
        ("1x8h2", 1),
    ]
    # seed 1 trains on its own data and weights: its losses differ from seed 0's
    assert runs.groupby("model")["heldout_loss"].nunique().min() == 2
    per_seed = pd.read_csv(out / "seed_fits.csv")
    assert set(per_seed["seed"]) == {0, 1} and set(per_seed["kind"]) == {"raw", "excess"}
    metrics = pd.read_parquet(out / "rollout_metrics.parquet")
    ref = metrics[metrics["model"] == "optimizer"]
    assert (ref["bias_excess"] == 0).all() and {"variance_excess", "incoherence_excess"} <= set(metrics.columns)
    one = metrics[(metrics["model"] == "1x8h2") & (metrics["train_seed"] == 1)].set_index("step")
    assert np.allclose(one["bias_excess"], one["bias"] - ref.set_index("step")["bias"].reindex(one.index))
    # seed 0 of a --seeds 2 run is the one-seed run: same streams, same numbers
    single = tmp_path / "single"
    assert main(["synthetic", "--out", str(single), *TINY]) == 0
    capsys.readouterr()
    s0 = pd.read_csv(single / "summary.csv").set_index("model")
    both = summary[summary["train_seed"].fillna(0) == 0].set_index("model")
    assert np.allclose(s0.loc[["1x8h2", "1x16h2"], "heldout_loss"], both.loc[["1x8h2", "1x16h2"], "heldout_loss"])
    mtime = (out / "checkpoints" / "1x8h2-seed1.pt").stat().st_mtime_ns
    assert main(["synthetic", "--out", str(out), *TINY, "--seeds", "2", "--resume"]) == 0
    assert (out / "checkpoints" / "1x8h2-seed1.pt").stat().st_mtime_ns == mtime
    assert main(["synthetic", "--out", str(out), *TINY, "--seeds", "0"]) == 2


def test_cli_user_errors_are_one_line(main, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    assert main(["synthetic", "--out", str(tmp_path / "x"), "--preset", "nope"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: unknown preset") and err.count("\n") == 1
    assert main(["synthetic", "--out", str(tmp_path / "x"), "--sizes", "big"]) == 2
    assert main(["synthetic", "--out", str(tmp_path / "x"), "--device", "tpu"]) == 2
    assert not (tmp_path / "x").exists() or not any((tmp_path / "x").iterdir())
