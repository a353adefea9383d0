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
    assert html.count("data:image/png;base64,") == 3  # no saved trajectories here
    assert (tmp_path / "plots" / "synthetic_losses.png").read_bytes()[:4] == b"\x89PNG"


def test_findings_are_computed_not_asserted() -> None:
    summary, _, _ = _tables()
    text = " ".join(findings(summary, {}))
    assert "falls monotonically" in text and "2 of 2" in text
    worse = summary.assign(heldout_loss=[np.nan, 0.5, 1.0], incoherence_final=[0.9, 0.05, 0.9])
    text = " ".join(findings(worse, {}))
    assert "does not fall monotonically" in text and "1 of 2" in text
