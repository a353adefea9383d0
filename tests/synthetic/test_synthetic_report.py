"""The HTML report escapes text, embeds its plots and states the findings it computed."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd

from hotmess.synthetic.config import ExperimentConfig
from hotmess.synthetic.measure import fit_power_law
from hotmess.synthetic.problem import Quadratic
from hotmess.synthetic.report import findings, write_report


def _tables() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    models = [("optimizer", np.nan, np.nan), ("<b>small</b>", 1e3, 1.0), ("big", 1e4, 0.5)]
    summary = pd.DataFrame(
        [
            {
                "model": m,
                "n_params": n,
                "heldout_loss": loss,
                "bias_start": 1.0,
                "variance_start": 0.1,
                "incoherence_start": 0.09,
                "bias_final": 0.1 / (n or 1),
                "variance_final": 0.2,
                "incoherence_final": 0.9,
            }
            for m, n, loss in models
        ]
    )
    metrics = pd.concat(
        [
            pd.DataFrame(
                {
                    "model": m,
                    "n_params": n,
                    "step": np.arange(5),
                    "bias": np.linspace(1, 0.1, 5),
                    "variance": 0.1,
                    "error": np.linspace(1, 0.1, 5) + 0.1,
                    "incoherence": 0.5,
                }
            )
            for m, n, _ in models
        ]
    )
    losses = pd.concat(
        [pd.DataFrame({"model": m, "step": [10, 20], "heldout_loss": [2 * loss, loss]}) for m, _, loss in models[1:]]
    )
    return summary, metrics, losses


def test_report_escapes_and_embeds(tmp_path: Path) -> None:
    summary, metrics, losses = _tables()
    q = Quadratic(A=np.eye(2), b=np.zeros(2), step_size=0.1, offset_direction=np.eye(2)[0])
    fits = {"heldout_loss": fit_power_law([1e3, 1e4], [1.0, 0.5], quantity="heldout_loss")}
    cfg = dataclasses.replace(ExperimentConfig(), preset="<script>alert(1)</script>")
    path = write_report(
        tmp_path,
        config=cfg,
        run_info={"device": "cpu & <gpu>"},
        summary=summary,
        metrics=metrics,
        losses=losses,
        fits=fits,
        problem=q,
        wall_s=1.5,
    )
    html = path.read_text()
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "&lt;b&gt;small&lt;/b&gt;" in html and "cpu &amp; &lt;gpu&gt;" in html
    assert html.count("data:image/png;base64,") == 4  # no saved trajectories here
    assert (tmp_path / "plots" / "synthetic_losses.png").read_bytes()[:4] == b"\x89PNG"


def test_findings_are_computed_not_asserted() -> None:
    summary, _, _ = _tables()
    text = " ".join(findings(summary, {}))
    assert "falls monotonically with size in 1 of 1 seed" in text
    # the optimizer's own rise is stated, and each model is given relative to it
    assert "optimizer itself goes from incoherence 0.090" in text and "big +0.000" in text
    two = pd.concat([summary.assign(train_seed=0), summary.assign(train_seed=1)], ignore_index=True)
    two.loc[(two["train_seed"] == 1) & (two["model"] == "big"), "heldout_loss"] = 2.0  # seed 1: the big one is worse
    two.loc[two["model"] == "optimizer", "train_seed"] = np.nan
    text = " ".join(findings(two.drop_duplicates(subset=["model", "train_seed"]), {}))
    assert "mean over 2 training seeds" in text and "in 1 of 2 seeds" in text


def _scaling(n_seeds: int, alpha_b: float, alpha_v: float):  # type: ignore[no-untyped-def]
    from hotmess.synthetic.measure import seed_scaling

    rng = np.random.default_rng(0)
    q = Quadratic(A=np.eye(2), b=np.zeros(2), step_size=0.1, offset_direction=np.eye(2)[0])
    sizes = np.array([1e3, 4e3, 1.6e4, 6.4e4])

    def cloud(bias: float, var: float) -> np.ndarray:
        z = rng.standard_normal((300, 2, 2))
        z -= z.mean(axis=0)
        z /= np.sqrt((z**2).sum(axis=2).mean(axis=0))[None, :, None]
        return (np.sqrt(bias) * np.eye(2)[0] + np.sqrt(var) * z)[:, None]

    finals = [
        [
            cloud(
                10 * (n / 1e3) ** -alpha_b * np.exp(0.05 * rng.standard_normal()),
                0.3 * (n / 1e3) ** -alpha_v * np.exp(0.05 * rng.standard_normal()),
            )
            for n in sizes
        ]
        for _ in range(n_seeds)
    ]
    return sizes, seed_scaling(sizes, finals, cloud(1e-9, 1e-4), q, n_boot=300, rng=0)


def test_findings_state_the_verdict_the_numbers_give() -> None:
    summary, _, _ = _tables()
    _, strong = _scaling(4, 2.0, 0.7)
    text = " ".join(findings(summary, dict(strong.raw), strong))
    assert 'Claim "bias falls faster with size": supported.' in text and "4 of 4 seeds" in text
    _, one = _scaling(1, 2.0, 0.7)
    text = " ".join(findings(summary, dict(one.raw), one))
    assert "not supported by this run (one training seed" in text and "supported." not in text
    _, same = _scaling(4, 1.0, 1.0)
    text = " ".join(findings(summary, dict(same.raw), same))
    assert 'Claim "bias falls faster with size": supported' not in text
