"""The experiment's self-contained HTML report: findings, tables, plots embedded as base64 PNG.

All text that comes from data or config is escaped with :func:`html.escape`. The PNGs are also written to
``plots/`` so other reports can link or reuse them.
"""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hotmess.synthetic.config import ExperimentConfig
from hotmess.synthetic.measure import PowerLawFit
from hotmess.synthetic.plots import (
    figure_png,
    plot_bias_variance_scaling,
    plot_losses,
    plot_rollout_curves,
    plot_trajectories,
)
from hotmess.synthetic.problem import Quadratic

__all__ = ["findings", "write_report"]

_REF = "optimizer"
_CSS = """body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;font-size:0.85em;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 7px;
text-align:right}th{background:#f3f3f3}img{max-width:100%}pre{background:#f7f7f7;padding:1em;overflow:auto;
font-size:0.8em}.note{color:#555;font-size:0.9em}"""


def findings(summary: pd.DataFrame, fits: Mapping[str, PowerLawFit]) -> list[str]:
    """Plain-language statements of the three trends SPEC §4 asks to reproduce (computed, not asserted)."""
    out = []
    models = summary[summary["model"] != _REF].sort_values("n_params")
    if len(models) >= 2:
        loss = models["heldout_loss"].to_numpy()
        falls = bool(np.all(np.diff(loss) < 0))
        txt = (
            f"Held-out loss goes from {loss[0]:.4g} (smallest) to {loss[-1]:.4g} (largest); it "
            f"{'falls monotonically' if falls else 'does not fall monotonically'} with size."
        )
        if "heldout_loss" in fits:
            f = fits["heldout_loss"]
            txt += f" Power-law fit: loss ∝ N^−{f.exponent:.3f} (R² = {f.r2:.2f})."
        out.append(txt)
    if "bias" in fits and "variance" in fits:
        b, v = fits["bias"], fits["variance"]
        rel = "faster" if b.exponent > v.exponent else "slower"
        out.append(
            f"Final bias ∝ N^−{b.exponent:.2f} {_ci(b)}, final variance ∝ N^−{v.exponent:.2f} {_ci(v)}: "
            f"bias falls {rel} with size than variance (paper: about 2.2 vs 0.9)."
        )
    if len(models):
        rises = models["incoherence_final"] > models["incoherence_start"]
        out.append(
            f"Incoherence rises from step 0 to the final window for {int(rises.sum())} of {len(models)} "
            f"model(s) (step 0: {models['incoherence_start'].iloc[0]:.3f}; final: "
            + ", ".join(f"{m} {x:.3f}" for m, x in zip(models["model"], models["incoherence_final"], strict=True))
            + ")."
        )
    return out


def _ci(f: PowerLawFit) -> str:
    return f"(CI {f.ci.low:.2f} to {f.ci.high:.2f})" if f.ci else ""


def _table(df: pd.DataFrame, digits: int = 4) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in df.columns)
    body = []
    for row in df.itertuples(index=False):
        cells = []
        for v in row:
            txt = str(v)
            if isinstance(v, float | np.floating):
                x = float(v)
                if not np.isfinite(x):
                    txt = "NaN"
                elif x.is_integer() and abs(x) < 1e12:
                    txt = f"{int(x):,d}"
                else:
                    txt = f"{x:.{digits}g}"
            cells.append(f"<td>{html.escape(txt)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def _trajectories(out: Path, summary: pd.DataFrame) -> dict[str, np.ndarray]:
    models = summary[summary["model"] != _REF].sort_values("n_params")["model"].tolist()
    names = [*dict.fromkeys([*models[:1], *models[-1:]]), _REF]
    trajs = {}
    for name in names:
        path = out / "rollouts" / f"{name}.npz"
        if path.exists():
            with np.load(path) as z:
                trajs[name] = np.asarray(z["trajectories"][:8])
    return trajs


def write_report(
    out: Path,
    *,
    config: ExperimentConfig,
    run_info: Mapping[str, Any],
    summary: pd.DataFrame,
    metrics: pd.DataFrame,
    losses: pd.DataFrame,
    fits: Mapping[str, PowerLawFit],
    problem: Quadratic,
    wall_s: float,
) -> Path:
    """Write ``plots/*.png`` and ``report.html`` under ``out``; return the report's path."""
    figures = {
        "synthetic_losses": ("Held-out loss", plot_losses(losses, summary, fits)),
        "synthetic_rollout": ("Bias, variance and incoherence along the rollout", plot_rollout_curves(metrics)),
        "synthetic_scaling": ("Final bias and variance vs size", plot_bias_variance_scaling(summary, fits)),
    }
    trajs = _trajectories(out, summary)
    if trajs:
        figures["synthetic_trajectories"] = ("Rollouts (first two coordinates)", plot_trajectories(trajs, problem.b))
    (out / "plots").mkdir(parents=True, exist_ok=True)
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>{html.escape('hotmess synthetic optimizer — ' + config.preset)}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>Synthetic optimizer experiment ({html.escape(config.preset)})</h1>",
        "<p class='note'>Transformers trained to imitate fixed-step steepest descent on a quadratic, rolled out "
        "on their own predictions. Bias, variance and error of the rollout points about the minimum b in the "
        f"A-norm; incoherence = variance / error. Run time {html.escape(f'{wall_s:.1f}')} s on "
        f"{html.escape(str(run_info.get('device', '?')))}.</p>",
        "<h2>Findings</h2><ul>",
        *(f"<li>{html.escape(s)}</li>" for s in findings(summary, fits)),
        "</ul>",
    ]
    for key, (title, fig) in figures.items():
        png = figure_png(fig)
        (out / "plots" / f"{key}.png").write_bytes(png)
        parts.append(f"<h2>{html.escape(title)}</h2>")
        parts.append(
            f"<img alt='{html.escape(title, quote=True)}' "
            f"src='data:image/png;base64,{base64.b64encode(png).decode('ascii')}'>"
        )
    parts.append("<h2>Models</h2>" + _table(summary))
    if fits:
        parts.append(
            "<h2>Power-law fits (y ∝ N^−exponent)</h2>" + _table(pd.DataFrame([f.to_dict() for f in fits.values()]))
        )
    parts.append("<h2>Configuration</h2><pre>" + html.escape(json.dumps(dict(run_info), indent=2)) + "</pre>")
    parts.append("</body></html>")
    path = out / "report.html"
    path.write_text("\n".join(parts), encoding="utf-8")
    return path
