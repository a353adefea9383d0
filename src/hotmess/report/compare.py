"""The comparison page of ``hotmess compare --report``: a forest plot of the paired differences and the verdicts.

``hotmess compare --report`` writes a comparison on its own page, with the grouping (``--by``) and baseline
asked for. The full report (``hotmess report``) has a "Paired comparisons" section with the same body: the
models compared with the first one when there are several, else the budgets. The page uses the report's styles
and renderers (:mod:`hotmess.report.html`), so it reads like the report.
"""

from __future__ import annotations

import html
import json
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from hotmess import __version__
from hotmess.report.build import Section
from hotmess.report.html import _CSS, _section
from hotmess.report.notes import INTRO, METHODS

if TYPE_CHECKING:
    from hotmess.analysis.compare import CompareResult

__all__ = ["compare_body", "compare_section", "plot_compare", "render_compare_html", "write_compare_html"]


def _label(r: dict[str, Any], mixed: bool) -> str:
    return f"{r['group']} − {r['baseline']}" + (f" ({r['kind']})" if mixed else "")


def plot_compare(frame: pd.DataFrame, *, level: float = 0.95) -> Any:
    """Forest plot: one panel per quantity, one row per comparison, the difference with its interval.

    A difference detected at ``level`` (Holm-corrected p below ``1 − level``) is a filled blue dot, the others
    are open grey circles; the dashed line is no difference.
    """
    from hotmess.report.plots import PALETTE, _figure, _style

    quantities = list(dict.fromkeys(frame["quantity"]))
    rows = frame.drop_duplicates(["kind", "group"])[["kind", "group", "baseline"]].to_dict(orient="records")
    mixed = frame["kind"].nunique() > 1
    labels = [_label(r, mixed) for r in rows]
    y = np.arange(len(rows))[::-1]  # the first comparison on top
    with _style():
        fig, axes = _figure(len(quantities), width=2.7, height=1.9 + 0.45 * len(rows))
        for ax, q in zip(axes, quantities, strict=True):
            sub = frame[frame["quantity"] == q].set_index(["kind", "group"])
            for yi, r in zip(y, rows, strict=True):
                s = sub.loc[(r["kind"], r["group"])]
                d, lo, hi = float(s["difference"]), float(s["diff_low"]), float(s["diff_high"])
                hit = bool(s["detected"])
                colour = PALETTE[0] if hit else "0.45"
                if np.isfinite(lo) and np.isfinite(hi):
                    ax.plot([lo, hi], [yi, yi], color=colour, lw=2.0 if hit else 1.4, solid_capstyle="butt")
                ax.plot(
                    [d], [yi], "o", color=colour, markerfacecolor=colour if hit else "white", markersize=7, zorder=3
                )
            ax.axvline(0.0, color="0.3", ls="--", lw=0.9, zorder=1)
            ax.set_yticks(y, labels if ax is axes[0] else [""] * len(labels))
            ax.set_ylim(-0.7, len(rows) - 0.3)
            ax.set(title=q, xlabel="difference")
            ax.grid(axis="y", visible=False)
            ax.ticklabel_format(axis="x", style="plain", useOffset=False)
        handles = [
            axes[0].plot([], [], "o-", color=PALETTE[0], label=f"detected at {100 * level:g}%")[0],
            axes[0].plot([], [], "o-", color="0.45", markerfacecolor="white", label="not detected")[0],
        ]
        fig.legend(handles=handles, loc="outside lower center", ncols=2)
    return fig


def _display(frame: pd.DataFrame, by: str) -> pd.DataFrame:
    """The comparisons as the page shows them: each value with its interval, and the p-values (left-out counts are
    in the notes, the full frame in ``--out``)."""
    t = frame.rename(
        columns={
            "value_baseline": "baseline_value",
            "baseline_low": "baseline_value_low",
            "baseline_high": "baseline_value_high",
            "value_group": "group_value",
            "group_low": "group_value_low",
            "group_high": "group_value_high",
            "diff_low": "difference_low",
            "diff_high": "difference_high",
        }
    )
    cols = ["kind", "group", "quantity", "n_shared"]  # one baseline: named in the title and the columns
    for c in ("baseline_value", "group_value", "difference", "ratio"):
        cols += [c, f"{c}_low", f"{c}_high"]
    cols += ["p_value", "p_holm"]
    if t["kind"].nunique() == 1:
        cols.remove("kind")
    return t[cols].rename(columns={"group": by})


def compare_body(
    result: CompareResult, *, plots: bool = True
) -> tuple[dict[str, pd.DataFrame], dict[str, bytes | None], list[str]]:
    """Tables, the forest plot and the verdicts (then the notes) of a comparison, as a report section holds them."""
    figures: dict[str, bytes | None] = {}
    if plots:
        from hotmess.report.plots import to_png

        figures["differences"] = to_png(plot_compare(result.frame, level=result.level))
    groups = result.groups.rename(columns={"group": result.by})
    notes = [*result.verdicts(), *result.notes]
    tables = {"comparisons": _display(result.frame, result.by), "groups": groups}
    return tables, figures, notes


def compare_section(result: CompareResult, *, plots: bool = True) -> Section:
    """The comparison as a report :class:`~hotmess.report.Section` (key ``compare``)."""
    tables, figures, notes = compare_body(result, plots=plots)
    shown = {k: v for k, v in figures.items() if v is not None}
    return Section("compare", f"Comparing groups by {result.by}", METHODS["compare"], tables, shown, notes)


def _verdicts(result: CompareResult) -> str:
    """The verdict sentences, detected differences first and in bold."""
    f = result.frame.sort_values("detected", ascending=False, kind="stable")
    items = [
        f"<li><strong>{html.escape(v)}</strong></li>" if hit else f"<li>{html.escape(v)}</li>"
        for v, hit in zip(f["verdict"], f["detected"], strict=True)
    ]
    return f'<section id="verdicts"><h2>Verdicts</h2><ul class="verdicts">{"".join(items)}</ul></section>'


def render_compare_html(result: CompareResult, *, source: str, title: str = "hotmess compare") -> str:
    """The comparison as one self-contained HTML document (no script, nothing external, data escaped)."""
    e = html.escape
    options = {
        "by": result.by,
        "baseline": result.baseline,
        "metric": result.metric,
        "estimator": result.estimator,
        "n_boot": result.n_boot,
        "level": result.level,
    }
    meta = (
        f"Samples: <code>{e(source)}</code> · by {e(result.by)} · baseline {e(result.baseline)} · metric "
        f"{e(result.metric)} ({e(result.estimator)}) · {result.n_boot} paired bootstrap resamples · "
        f"{100 * result.level:g}% intervals"
    )
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<title>{e(title)}</title><style>{_CSS}</style></head><body><main>",
        f"<h1>{e(title)}</h1>",
        f'<p class="meta">{meta}</p>',
        f'<p class="method">{e(INTRO)}</p>',
        _verdicts(result),
        _section(replace(compare_section(result), notes=list(result.notes)), level=result.level),
        f"<section id='config'><h2>Options</h2><pre>{e(json.dumps(options, indent=2))}</pre></section>",
        f"<footer>Generated by hotmess {e(__version__)}.</footer></main></body></html>",
    ]
    return "\n".join(parts)


def write_compare_html(result: CompareResult, path: str | Path, *, source: str, title: str = "hotmess compare") -> Path:
    """Write :func:`render_compare_html` to ``path`` (parent directories created)."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(render_compare_html(result, source=source, title=title), encoding="utf-8")
    return p
