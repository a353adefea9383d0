"""Figures of the synthetic experiment (matplotlib ``Figure`` objects, Agg canvas, no pyplot state).

Colours are the Okabe–Ito colour-blind-safe palette, and sizes also differ by marker so no figure relies on
colour alone. The reference optimizer is always drawn black and dashed.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from numpy.typing import NDArray

from hotmess.synthetic.measure import PowerLawFit, SeedScaling, seed_means

__all__ = [
    "PALETTE",
    "figure_png",
    "plot_bias_variance_scaling",
    "plot_losses",
    "plot_rollout_curves",
    "plot_rollout_excess",
    "plot_trajectories",
]

PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442")
"""Okabe–Ito colours, darkest and most distinct first (yellow last)."""
_MARKERS = ("o", "s", "^", "D", "v", "P", "X")
_REF = "optimizer"


def _style(i: int, *, line: bool = True) -> dict[str, Any]:
    style: dict[str, Any] = {"color": PALETTE[i % len(PALETTE)], "marker": _MARKERS[i % len(_MARKERS)]}
    if line:
        style["markevery"] = 0.1
    else:
        style["linestyle"] = "none"
    return style


def _new(n_panels: int, width: float = 4.2, height: float = 3.4) -> tuple[Figure, list[Any]]:
    fig = Figure(figsize=(width * n_panels, height), layout="constrained")
    FigureCanvasAgg(fig)
    axes = [fig.add_subplot(1, n_panels, i + 1) for i in range(n_panels)]
    return fig, axes


def _label(name: str, n_params: float) -> str:
    return name if not np.isfinite(n_params) else f"{name} ({_fmt_n(n_params)})"


def _fmt_n(n: float) -> str:
    return f"{n / 1e6:.2f}M" if n >= 1e6 else f"{n / 1e3:.1f}K"


def _models(metrics: pd.DataFrame) -> list[tuple[str, float]]:
    m = metrics[metrics["model"] != _REF][["model", "n_params"]].drop_duplicates()
    return [(str(r.model), float(r.n_params)) for r in m.sort_values("n_params").itertuples()]


def _per_seed(frame: pd.DataFrame) -> pd.DataFrame:
    return frame if "train_seed" in frame.columns else frame.assign(train_seed=0)


def _step_means(metrics: pd.DataFrame) -> pd.DataFrame:
    """Per model and step, the mean over training seeds (incoherence as the ratio of the means)."""
    return seed_means(_per_seed(metrics), ["model", "step"])


def plot_losses(losses: pd.DataFrame, summary: pd.DataFrame, fits: Mapping[str, PowerLawFit]) -> Figure:
    """Held-out loss during training, mean over training seeds (left), and final held-out loss against
    parameter count: every seed (small) and the seeds' mean (large) (right)."""
    fig, (ax1, ax2) = _new(2)
    runs = _per_seed(summary[summary["model"] != _REF])
    models = seed_means(runs, ["model"]).sort_values("n_params")
    curves = seed_means(_per_seed(losses), ["model", "step"]) if len(losses) else losses
    for i, r in enumerate(models.itertuples()):
        log = curves[curves["model"] == r.model]
        ax1.plot(log["step"], log["heldout_loss"], label=_label(str(r.model), float(r.n_params)), **_style(i))
        mine = runs[runs["model"] == r.model]
        if len(mine) > 1:
            ax2.plot(mine["n_params"], mine["heldout_loss"], alpha=0.35, markersize=4, **_style(i, line=False))
        ax2.plot([r.n_params], [r.heldout_loss], **_style(i, line=False))
    ax1.set(
        xlabel="training step", ylabel="held-out loss (nats / u token)", yscale="log", title="Held-out next-token loss"
    )
    ax1.legend(fontsize=7)
    if "heldout_loss" in fits:
        f = fits["heldout_loss"]
        n = np.geomspace(models["n_params"].min(), models["n_params"].max(), 50)
        ax2.plot(n, f.predict(n), color="0.4", linestyle=":", label=f"∝ {f.power(2)} (R²={f.r2:.2f})")
        ax2.legend(fontsize=7)
    ax2.set(xscale="log", yscale="log", xlabel="parameters N", ylabel="final held-out loss", title="Loss vs size")
    return fig


def plot_rollout_curves(metrics: pd.DataFrame) -> Figure:
    """Bias, variance (log scale) and incoherence against rollout step, one line per model (mean over seeds)."""
    metrics = _step_means(metrics)
    fig, axes = _new(3)
    groups = [(name, n, _style(i)) for i, (name, n) in enumerate(_models(metrics))]
    groups.append((_REF, float("nan"), {"color": "black", "linestyle": "--"}))
    for name, n, style in groups:
        m = metrics[metrics["model"] == name].sort_values("step")
        for ax, col in zip(axes, ("bias", "variance", "incoherence"), strict=True):
            y = m[col].to_numpy()
            if col != "incoherence":
                y = np.where(y > 0, y, np.nan)
            ax.plot(m["step"], y, label=_label(name, n), **style)
    for ax, col in zip(axes[:2], ("bias", "variance"), strict=True):
        ax.set(yscale="log", xlabel="rollout step", ylabel=f"{col} (A-norm)", title=col.capitalize())
    axes[2].set(xlabel="rollout step", ylabel="variance / error", ylim=(0, 1.02), title="Incoherence")
    axes[2].legend(fontsize=7)
    return fig


def plot_rollout_excess(metrics: pd.DataFrame) -> Figure:
    """What each model adds to the optimizer along the rollout: bias, variance and incoherence of the model
    minus the optimizer's at the same step (mean over training seeds). Zero is the optimizer itself."""
    means = _step_means(metrics)
    ref = means[means["model"] == _REF].set_index("step")
    fig, axes = _new(3)
    for i, (name, n) in enumerate(_models(means)):
        m = means[means["model"] == name].sort_values("step")
        for ax, q in zip(axes, ("bias", "variance", "incoherence"), strict=True):
            ax.plot(
                m["step"], m[q].to_numpy() - ref[q].reindex(m["step"]).to_numpy(), label=_label(name, n), **_style(i)
            )
    # differences smaller than the optimizer's own final error are drawn on a linear scale around 0: there
    # the optimizer's step-to-step wobble (its bias is ~1e-7) would otherwise fill the plot with sign flips
    tail = ref["error"].to_numpy()[-max(1, len(ref) // 8) :]
    linthresh = float(max(np.nanmean(tail), 1e-12))
    for ax, q in zip(axes, ("bias", "variance", "incoherence"), strict=True):
        ax.axhline(0.0, color="black", linestyle="--", linewidth=0.9)
        ylabel = "model − optimizer" + ("" if q == "incoherence" else " (A-norm)")
        ax.set(xlabel="rollout step", ylabel=ylabel, title=f"{q.capitalize()}: model − optimizer")
        if q != "incoherence":
            ax.set_yscale("symlog", linthresh=linthresh)
    axes[2].legend(fontsize=7)
    return fig


def plot_bias_variance_scaling(
    summary: pd.DataFrame, fits: Mapping[str, PowerLawFit], scaling: SeedScaling | None = None
) -> Figure:
    """Final bias and variance against parameter count (log-log): every training seed (small, faint), the
    seeds' mean (large) and the fitted power law; with ``scaling``, a second panel of the same in excess of
    the optimizer's floor."""
    panels = ["raw"] + (["excess"] if scaling is not None and scaling.excess else [])
    fig, axes = _new(len(panels), width=5.0, height=3.8)
    runs = _per_seed(summary[summary["model"] != _REF])
    ref = summary[summary["model"] == _REF]
    for ax, kind in zip(axes, panels, strict=True):
        source = fits if kind == "raw" else (scaling.excess if scaling is not None else {})
        table = runs.assign(
            **{f"{q}_excess": runs[f"{q}_final"] - (scaling.floor[q] if scaling else 0.0) for q in ("bias", "variance")}
        )
        means = seed_means(table, ["model"]).sort_values("n_params")
        n = means["n_params"].to_numpy()
        grid = np.geomspace(n.min(), n.max(), 50) if n.size else n
        for i, q in enumerate(("bias", "variance")):
            col = f"{q}_final" if kind == "raw" else f"{q}_excess"
            label = q
            if q in source:
                f = source[q]
                ci = f" [{f.ci.low:.2f}, {f.ci.high:.2f}]" if f.ci else ""
                label = f"{q}: ∝ {f.power(2)}{ci}"
                ax.plot(grid, f.predict(grid), color=PALETTE[i], linestyle=":")
            seeds = table[table[col] > 0]
            if runs["train_seed"].nunique() > 1:
                ax.plot(
                    seeds["n_params"],
                    seeds[col],
                    linestyle="none",
                    color=PALETTE[i],
                    marker=_MARKERS[i],
                    markersize=4,
                    alpha=0.35,
                )
            y = means[col].to_numpy()
            ax.plot(n, np.where(y > 0, y, np.nan), linestyle="none", color=PALETTE[i], marker=_MARKERS[i], label=label)
            if kind == "raw" and len(ref):
                ax.axhline(
                    float(ref[f"{q}_final"].iloc[0]),
                    color=PALETTE[i],
                    linestyle="--",
                    linewidth=0.8,
                    alpha=0.6,
                    label=f"optimizer {q}",
                )
        title = "Final bias and variance vs size" if kind == "raw" else "In excess of the optimizer"
        ylabel = "final value (A-norm)" if kind == "raw" else "model − optimizer (A-norm)"
        ax.set(xscale="log", yscale="log", xlabel="parameters N", ylabel=ylabel, title=title)
        ax.legend(fontsize=7)
    return fig


def plot_trajectories(trajectories: Mapping[str, NDArray[np.float64]], b: NDArray[np.float64]) -> Figure:
    """First two coordinates of a few rollouts per model (and the optimizer), the minimum marked ×."""
    names = list(trajectories)
    fig, axes = _new(len(names), width=3.4, height=3.4)
    for ax, name in zip(axes, names, strict=True):
        tr = trajectories[name]  # (n, T+1, d)
        j = 1 if tr.shape[-1] > 1 else 0
        for k in range(tr.shape[0]):
            ax.plot(tr[k, :, 0], tr[k, :, j], color=PALETTE[k % len(PALETTE)], linewidth=0.8, alpha=0.8)
            ax.plot(tr[k, 0, 0], tr[k, 0, j], marker="o", markersize=3, color=PALETTE[k % len(PALETTE)])
        ax.plot(b[0], b[j], marker="x", color="black", markersize=9, mew=2)
        ax.set(title=name, xlabel="x₁", ylabel="x₂" if j else "x₁")
    return fig


def figure_png(fig: Figure, *, dpi: int = 110) -> bytes:
    """The figure as PNG bytes."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()
