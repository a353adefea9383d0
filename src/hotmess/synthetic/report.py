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
from hotmess.synthetic.measure import PowerLawFit, SeedScaling, seed_means
from hotmess.synthetic.plots import (
    figure_png,
    plot_bias_variance_scaling,
    plot_losses,
    plot_rollout_curves,
    plot_rollout_excess,
    plot_trajectories,
)
from hotmess.synthetic.problem import Quadratic

__all__ = ["findings", "write_report"]

_REF = "optimizer"
_CSS = """body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;font-size:0.85em;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 7px;
text-align:right}th{background:#f3f3f3}img{max-width:100%}pre{background:#f7f7f7;padding:1em;overflow:auto;
font-size:0.8em}.note{color:#555;font-size:0.9em}.wide{overflow-x:auto}"""


def findings(
    summary: pd.DataFrame,
    fits: Mapping[str, PowerLawFit],
    scaling: SeedScaling | None = None,
    metrics: pd.DataFrame | None = None,
) -> list[str]:
    """Plain-language statements of the trends SPEC §4 asks about, each computed from this run's numbers and
    intervals, with a verdict ("supported" / "not supported by this run") where the run can decide."""
    out = []
    runs = summary[summary["model"] != _REF]
    runs = runs if "train_seed" in runs.columns else runs.assign(train_seed=0)
    n_seeds = int(runs["train_seed"].nunique()) if len(runs) else 0
    models = seed_means(runs, ["model"]).sort_values("n_params")
    if len(models) >= 2:
        loss = models["heldout_loss"].to_numpy()
        monotone = [
            bool(np.all(np.diff(g.sort_values("n_params")["heldout_loss"].to_numpy()) < 0))
            for _, g in runs.groupby("train_seed")
        ]
        txt = (
            f"Held-out loss (mean over {n_seeds} training seed{'s' if n_seeds != 1 else ''}) goes from "
            f"{loss[0]:.4g} (smallest) to {loss[-1]:.4g} (largest); it falls monotonically with size in "
            f"{sum(monotone)} of {len(monotone)} seed{'s' if len(monotone) != 1 else ''}."
        )
        if "heldout_loss" in fits:
            f = fits["heldout_loss"]
            txt += f" Power-law fit: loss ∝ {f.power(3)} (R² = {f.r2:.2f})."
        out.append(txt)
    if scaling is not None:
        for kind in ("excess", "raw"):
            d = scaling.differences.get(kind)
            src = scaling.excess if kind == "excess" else scaling.raw
            if d is None or "bias" not in src or "variance" not in src:
                if kind == "excess":
                    out.append(
                        "In excess of the optimizer: not every size ends above the optimizer's own bias and "
                        "variance, so no excess power law is fitted; the claim is not supported by this run."
                    )
                continue
            b, v = src["bias"], src["variance"]
            what = "in excess of the optimizer's floor" if kind == "excess" else "raw (floor included)"
            verdict = "supported" if d.supported else "not supported by this run"
            why = []
            if d.n_seeds < 2:
                why.append("one training seed cannot show seed-to-seed variation (rerun with --seeds 3 or more)")
            if d.ci is not None and d.ci.low <= 0:
                why.append("its interval includes 0")
            if d.seeds_positive < d.n_seeds:
                why.append(f"only {d.seeds_positive} of {d.n_seeds} seeds agree")
            if d.n_sizes < 3:
                why.append("two sizes cannot show whether the trend holds across the ladder")
            elif d.leave_one_out_positive < d.n_sizes:
                why.append(
                    f"dropping one size flips the sign in {d.n_sizes - d.leave_one_out_positive} of {d.n_sizes} cases"
                )
            ci = f" [{d.ci.low:.2f}, {d.ci.high:.2f}]" if d.ci else ""
            txt = (
                f"Bias vs variance, {what}: bias ∝ {b.power(2)} {_ci(b)}, variance ∝ {v.power(2)} "
                f"{_ci(v)}; α_bias − α_variance = {d.value:.2f}{ci}. Bias falls faster than variance in "
                f'{d.seeds_positive} of {d.n_seeds} seeds. Claim "bias falls faster with size": {verdict}'
                + (f" ({'; '.join(why)})." if why and not d.supported else ".")
            )
            fb, fv = scaling.fit_ci.get(f"{kind}/bias"), scaling.fit_ci.get(f"{kind}/variance")
            if fb is not None and fv is not None:
                txt += (
                    f" Each fit's own residual interval ({d.n_sizes} sizes): bias {fb.low:.2f} to {fb.high:.2f}, "
                    f"variance {fv.low:.2f} to {fv.high:.2f}."
                )
            if kind == "raw":
                flagged = [q for q in ("bias", "variance") if scaling.flagged(q)]
                if flagged:
                    txt += (
                        " Flagged: the optimizer's own final "
                        + " and ".join(
                            f"{q} is {100 * scaling.floor_share[q]:.0f}% of the smallest model value" for q in flagged
                        )
                        + (
                            ", so a pure power law of the raw values is biased toward 0 there; the excess fit above "
                            "answers the paper's question."
                        )
                    )
            out.append(txt)
    elif "bias" in fits and "variance" in fits:
        b, v = fits["bias"], fits["variance"]
        out.append(f"Final bias ∝ {b.power(2)} {_ci(b)}, final variance ∝ {v.power(2)} {_ci(v)}.")
    if len(models):
        ref = summary[summary["model"] == _REF]
        txt = ""
        if len(ref):
            r0, r1 = float(ref["incoherence_start"].iloc[0]), float(ref["incoherence_final"].iloc[0])
            txt = f"The optimizer itself goes from incoherence {r0:.3f} at step 0 to {r1:.3f} in the final window"
            txt += " — so a rise along the rollout is not by itself something the models add. "
            diff = models["incoherence_final"].to_numpy() - r1
            txt += (
                "Final incoherence, model − optimizer: "
                + ", ".join(f"{m} {x:+.3f}" for m, x in zip(models["model"], diff, strict=True))
                + "."
            )
        else:
            rises = models["incoherence_final"] > models["incoherence_start"]
            txt = f"Incoherence rises from step 0 to the final window for {int(rises.sum())} of {len(models)} model(s)."
        out.append(txt)
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
    return f"<div class='wide'><table><tr>{head}</tr>{''.join(body)}</table></div>"


def _trajectories(out: Path, summary: pd.DataFrame) -> dict[str, np.ndarray]:
    models = list(dict.fromkeys(summary[summary["model"] != _REF].sort_values("n_params")["model"].tolist()))
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
    scaling: SeedScaling | None = None,
) -> Path:
    """Write ``plots/*.png`` and ``report.html`` under ``out``; return the report's path."""
    figures = {
        "synthetic_losses": ("Held-out loss", plot_losses(losses, summary, fits)),
        "synthetic_rollout": ("Bias, variance and incoherence along the rollout", plot_rollout_curves(metrics)),
        "synthetic_rollout_excess": (
            "What the models add: model − optimizer along the rollout",
            plot_rollout_excess(metrics),
        ),
        "synthetic_scaling": ("Final bias and variance vs size", plot_bias_variance_scaling(summary, fits, scaling)),
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
        *(f"<li>{html.escape(s)}</li>" for s in findings(summary, fits, scaling, metrics)),
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
    if scaling is not None:
        parts.append(
            "<h2>Power-law fits (y ∝ N^−exponent)</h2><p class='note'>raw: the seed-mean final values; excess: "
            "minus the optimizer's own. ci: ± t(seeds − 1) × the seeds × starts bootstrap SE; fit_ci: each fit's "
            "own residual t interval; floor_flag: the optimizer's value is ≥ 10% of the smallest model value.</p>"
            + _table(scaling.fits_frame())
            + "<h3>α_bias − α_variance</h3>"
            + _table(pd.DataFrame([d.to_dict() for d in scaling.differences.values()]))
            + "<h3>Each training seed's exponents</h3>"
            + _table(
                scaling.per_seed.pivot_table(
                    index=["seed", "kind"], columns="quantity", values="exponent"
                ).reset_index()
            )
        )
    elif fits:
        parts.append(
            "<h2>Power-law fits (y ∝ N^−exponent)</h2>" + _table(pd.DataFrame([f.to_dict() for f in fits.values()]))
        )
    parts.append("<h2>Configuration</h2><pre>" + html.escape(json.dumps(dict(run_info), indent=2)) + "</pre>")
    parts.append("</body></html>")
    path = out / "report.html"
    path.write_text("\n".join(parts), encoding="utf-8")
    return path
