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

from hotmess.synthetic.measure import PowerLawFit

__all__ = [
    "PALETTE",
    "figure_png",
    "plot_bias_variance_scaling",
    "plot_losses",
    "plot_rollout_curves",
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


def plot_losses(losses: pd.DataFrame, summary: pd.DataFrame, fits: Mapping[str, PowerLawFit]) -> Figure:
    """Held-out loss during training (left) and final held-out loss against parameter count (right)."""
    fig, (ax1, ax2) = _new(2)
    models = summary[summary["model"] != _REF].sort_values("n_params")
    for i, r in enumerate(models.itertuples()):
        log = losses[losses["model"] == r.model]
        ax1.plot(log["step"], log["heldout_loss"], label=_label(str(r.model), float(r.n_params)), **_style(i))
        ax2.plot([r.n_params], [r.heldout_loss], **_style(i, line=False))
    ax1.set(
        xlabel="training step", ylabel="held-out loss (nats / u token)", yscale="log", title="Held-out next-token loss"
    )
    ax1.legend(fontsize=7)
    if "heldout_loss" in fits:
        f = fits["heldout_loss"]
        n = np.geomspace(models["n_params"].min(), models["n_params"].max(), 50)
        ax2.plot(n, f.predict(n), color="0.4", linestyle=":", label=f"∝ N^−{f.exponent:.2f} (R²={f.r2:.2f})")
        ax2.legend(fontsize=7)
    ax2.set(xscale="log", yscale="log", xlabel="parameters N", ylabel="final held-out loss", title="Loss vs size")
    return fig


def plot_rollout_curves(metrics: pd.DataFrame) -> Figure:
    """Bias, variance (log scale) and incoherence against rollout step, one line per model."""
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


def plot_bias_variance_scaling(summary: pd.DataFrame, fits: Mapping[str, PowerLawFit]) -> Figure:
    """Final bias and variance against parameter count (log-log) with fitted power laws."""
    fig, (ax,) = _new(1, width=5.0, height=3.8)
    models = summary[summary["model"] != _REF].sort_values("n_params")
    ref = summary[summary["model"] == _REF]
    n = models["n_params"].to_numpy()
    grid = np.geomspace(n.min(), n.max(), 50) if n.size else n
    for i, q in enumerate(("bias", "variance")):
        label = q
        if q in fits:
            f = fits[q]
            ci = f" [{f.ci.low:.2f}, {f.ci.high:.2f}]" if f.ci else ""
            label = f"{q}: ∝ N^−{f.exponent:.2f}{ci}"
            ax.plot(grid, f.predict(grid), color=PALETTE[i], linestyle=":")
        ax.plot(n, models[f"{q}_final"], linestyle="none", color=PALETTE[i], marker=_MARKERS[i], label=label)
        if len(ref):
            ax.axhline(
                float(ref[f"{q}_final"].iloc[0]),
                color=PALETTE[i],
                linestyle="--",
                linewidth=0.8,
                alpha=0.6,
                label=f"optimizer {q}",
            )
    ax.set(
        xscale="log",
        yscale="log",
        xlabel="parameters N",
        ylabel="final value (A-norm)",
        title="Final bias and variance vs size",
    )
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
