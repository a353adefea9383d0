"""One self-contained HTML file: inline CSS, figures as base64 PNG, no script, everything from data escaped.

The page opens with the report's banners (guardrails on what the data can show, each linking to the sections it
affects, which repeat a one-line reminder), and ends with the sample browser (:mod:`hotmess.report.browser`).
"""

from __future__ import annotations

import base64
import html
import json
import math
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hotmess import __version__
from hotmess.report.browser import BROWSER_CSS, browser_html
from hotmess.report.build import Banner, Report, Section
from hotmess.report.notes import INTRO

__all__ = ["render_html", "table_html", "write_html", "write_tables"]

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1a1a1a;background:#fff}
main{max-width:1180px;margin:0 auto;padding:1.5rem 2rem 4rem}
h1{font-size:1.7rem;margin-bottom:.2rem}h2{margin-top:2.4rem;border-bottom:2px solid #0072B2;padding-bottom:.2rem}
h3{font-size:1rem;margin:1.2rem 0 .4rem}
.meta,.method{color:#444}.method{background:#f4f7fb;border-left:4px solid #0072B2;padding:.6rem .9rem}
.skip{background:#fff6e5;border-left:4px solid #E69F00;padding:.6rem .9rem}
.note{color:#555;font-size:.9rem}
nav ol{columns:2;font-size:.95rem}
figure{margin:1rem 0}figure img{max-width:100%;height:auto;border:1px solid #ddd}
.tbl{overflow-x:auto;max-height:32rem;overflow-y:auto;margin:.4rem 0 1rem}
table{border-collapse:collapse;font-size:.82rem;font-variant-numeric:tabular-nums}
th,td{border:1px solid #ddd;padding:.25rem .5rem;text-align:right;white-space:nowrap}
th{background:#f0f0f0;position:sticky;top:0}td.s{text-align:left}
pre{white-space:pre-wrap;word-break:break-word;background:#f8f8f8;border:1px solid #ddd;padding:.6rem;
max-height:18rem;overflow:auto;font-size:.8rem}
footer{margin-top:3rem;color:#777;font-size:.8rem}
.banner{padding:.6rem .9rem;margin:.6rem 0;border-left:5px solid}.banner p{margin:.2rem 0}
.banner.warning{background:#fdecea;border-color:#D55E00}.banner.info{background:#eaf3fb;border-color:#0072B2}
.affected{font-size:.9rem;padding:.3rem .7rem;margin:.4rem 0}
.affected.warning{background:#fdecea}.affected.info{background:#eaf3fb}
"""


def _e(x: Any) -> str:
    """Escape anything for HTML text or attribute context."""
    return html.escape(str(x), quote=True)


def _cell(v: Any) -> tuple[str, bool]:
    """Formatted text of one cell and whether it is text (left-aligned)."""
    if v is None or v is pd.NA:
        return "—", False
    if isinstance(v, bool | np.bool_):
        return ("yes" if v else "no"), True
    if isinstance(v, int | np.integer):
        return str(int(v)), False
    if isinstance(v, float | np.floating):
        f = float(v)
        if math.isnan(f):
            return "—", False
        if f != 0 and (abs(f) >= 1e5 or abs(f) < 1e-3):
            return f"{f:.3g}", False
        return f"{f:.4g}" if abs(f) >= 100 else f"{f:.3f}", False
    return str(v), True


def _ci_columns(df: pd.DataFrame) -> list[tuple[str, str | None, str | None]]:
    """``(column, low, high)`` per shown column: ``X`` with ``X_low``/``X_high`` becomes one interval column."""
    cols = [str(c) for c in df.columns]
    bounds = {f"{c}_low" for c in cols if f"{c}_low" in cols and f"{c}_high" in cols}
    bounds |= {f"{c}_high" for c in cols if f"{c}_low" in cols and f"{c}_high" in cols}
    out: list[tuple[str, str | None, str | None]] = []
    for c in cols:
        if c in bounds:
            continue
        has = f"{c}_low" in bounds
        out.append((c, f"{c}_low" if has else None, f"{c}_high" if has else None))
    return out


def table_html(df: pd.DataFrame, *, max_rows: int = 300, level: float | None = None) -> str:
    """An escaped HTML table (at most ``max_rows`` rows, with a note when cut).

    Headers are shown with spaces for underscores; a column ``X`` with ``X_low`` and ``X_high`` is shown as one
    column ``X [95% CI]`` (``level``, else ``df.attrs["level"]``, else just ``[CI]``) of ``value [low, high]``.
    """
    level = level if level is not None else df.attrs.get("level")
    ci = f"[{100 * float(level):g}% CI]" if isinstance(level, float | int) else "[CI]"
    df = df.rename(columns=str)
    cols = _ci_columns(df)
    head = "".join(f"<th>{_e(c.replace('_', ' ') + (' ' + ci if lo else ''))}</th>" for c, lo, _hi in cols)
    pos = {c: i for i, c in enumerate(df.columns)}
    body = []
    for row in df.head(max_rows).itertuples(index=False, name=None):
        cells = []
        for c, lo, hi in cols:
            text, is_text = _cell(row[pos[c]])
            if lo is not None and hi is not None:
                (low, _), (high, _) = _cell(row[pos[lo]]), _cell(row[pos[hi]])
                if (low, high) != ("—", "—"):
                    text = f"{text} [{low}, {high}]"
            cells.append(f'<td class="s">{_e(text)}</td>' if is_text else f"<td>{_e(text)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    cut = f'<p class="note">first {max_rows} of {len(df)} rows shown</p>' if len(df) > max_rows else ""
    return f'<div class="tbl"><table><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table></div>{cut}'


def _figure(name: str, png: bytes, title: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    alt = f"{title}: {name.replace('_', ' ')}"
    return f'<figure><img alt="{_e(alt)}" src="data:image/png;base64,{data}"></figure>'


def _affects(key: str, section: str) -> bool:
    return section == key or section.startswith(key + "__")


_BANNER_NAMES = {
    "chance": "accuracy at chance",
    "invalid": "invalid answers",
    "truncation": "truncated samples",
    "few_samples": "samples per question",
    "few_per_bucket": "questions per bucket",
    "few_ensembles": "ensembles per size",
}


def _banner_label(b: Banner) -> str:
    """Short name of a banner for the sections' reminders: what it is about, and its value."""
    label = _BANNER_NAMES.get(b.key, b.key.replace("_", " ").replace("-", " "))
    if b.value is not None and math.isfinite(b.value):
        label += f" ({b.value:.0%})" if 0 <= b.value <= 1 else f" ({b.value:.3g})"
    return label


def _banners(report: Report) -> str:
    fixed = {"samples": "Sample browser", "examples": "Example raw outputs", "config": "Run configuration"}
    out = []
    for b in report.banners:
        level = "warning" if b.level == "warning" else "info"
        links = []
        for key in b.affects:
            hits = [(s.key, s.title) for s in report.sections if _affects(key, s.key)]
            hits += [(k, t) for k, t in fixed.items() if k == key]
            links += [f'<a href="#{_e(k)}">{_e(t)}</a>' for k, t in hits] or [_e(key)]
        tail = f'<p class="note">Affects: {", ".join(links)}</p>' if links else ""
        head = "Warning" if level == "warning" else "Note"
        out.append(
            f'<div class="banner {level}" id="banner-{_e(b.key)}" role="note">'
            f"<p><strong>{head}:</strong> {_e(b.message)}</p>{tail}</div>"
        )
    return "".join(out)


def _reminders(report: Report, key: str) -> str:
    """One line per section naming every banner that weakens its findings (warnings first)."""
    hits = [b for b in report.banners if any(_affects(a, key) for a in b.affects)]
    if not hits:
        return ""
    warn = any(b.level == "warning" for b in hits)
    links = ", ".join(f'<a href="#banner-{_e(b.key)}">{_e(_banner_label(b))}</a>' for b in hits)
    level, sign = ("warning", "⚠") if warn else ("info", "ℹ")
    return f'<p class="affected {level}">{sign} affected by: {links}</p>'


def _section(s: Section, *, reminders: str = "", level: float | None = None) -> str:
    out = [f'<section id="{_e(s.key)}"><h2>{_e(s.title)}</h2>{reminders}']
    if s.method:
        out.append(f'<p class="method">{_e(s.method)}</p>')
    if s.skipped:
        out.append(f'<p class="skip">Skipped: {_e(s.skipped)}</p></section>')
        return "".join(out)
    for n in s.notes:
        out.append(f'<p class="note">{_e(n)}</p>')
    for name, png in s.figures.items():
        out.append(_figure(name, png, s.title))
    for name, t in s.tables.items():
        out.append(f"<h3>{_e(name.replace('_', ' '))}</h3>{table_html(t, level=level)}")
    out.append("</section>")
    return "".join(out)


def render_html(report: Report, *, title: str = "hotmess report") -> str:
    """The report as one HTML document (no external resources, no script).

    Banners come first, then the navigation, the sections, example outputs, the sample browser and the run
    configuration.
    """
    nav = "".join(
        f'<li><a href="#{_e(s.key)}">{_e(s.title)}</a>{" (skipped)" if s.skipped else ""}</li>' for s in report.sections
    )
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<title>{_e(title)}</title><style>{_CSS}{BROWSER_CSS}</style></head><body><main>",
        f"<h1>{_e(title)}</h1>",
        f'<p class="meta">Samples: <code>{_e(report.source)}</code> · metric {_e(report.options.metric)} · '
        f"length axis {_e(report.options.axis)} · {_e(report.options.n_boot)} bootstrap resamples · "
        f"{_e(f'{100 * report.options.level:g}%')} intervals</p>",
        f'<p class="method">{_e(INTRO)}</p>',
        _banners(report),
        f'<nav><ol>{nav}<li><a href="#examples">Example raw outputs</a></li>'
        '<li><a href="#samples">Sample browser</a></li><li><a href="#config">Run configuration</a></li></ol></nav>',
    ]
    level = report.options.level
    parts += [_section(s, reminders=_reminders(report, s.key), level=level) for s in report.sections]
    parts.append('<section id="examples"><h2>Example raw outputs</h2>')
    if report.examples is not None and not report.examples.empty:
        parts.append('<p class="note">Model text is shown verbatim as text (escaped), never interpreted.</p>')
        for r in report.examples.itertuples(index=False):
            head = f"{r.model} · {r.task} · {r.question_id} · {r.kind} (answer {r.answer}, correct {r.correct})"
            parts.append(f"<h3>{_e(head)}</h3><pre>{_e(r.raw_output)}</pre>")
    else:
        parts.append('<p class="note">No raw outputs in the samples.</p>')
    parts.append("</section>")
    parts.append(browser_html(report.samples, report.questions))
    parts.append('<section id="config"><h2>Run configuration</h2>')
    if report.runs is not None and not report.runs.empty:
        for r in report.runs.itertuples(index=False):
            parts.append(f"<h3>run {_e(r.run_id)} ({_e(r.status)})</h3><pre>{_e(r.config)}</pre>")
    else:
        parts.append('<p class="note">No runs table (the samples did not come from a run store).</p>')
    opts = json.dumps(asdict(report.options), indent=2, default=str)
    parts.append(f"<h3>report options</h3><pre>{_e(opts)}</pre></section>")
    parts.append(f"<footer>Generated by hotmess {_e(__version__)}.</footer></main></body></html>")
    return "\n".join(parts)


def write_html(report: Report, path: str | Path, *, title: str = "hotmess report") -> Path:
    """Write :func:`render_html` to ``path`` (parent directories created)."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(render_html(report, title=title), encoding="utf-8")
    return p


def _jsonable(df: pd.DataFrame) -> list[dict[str, Any]]:
    text = df.to_json(orient="records", double_precision=15, default_handler=str)
    return list(json.loads(text))


def write_tables(report: Report, directory: str | Path, *, fmt: str = "json") -> list[Path]:
    """Write every table to ``directory`` as ``<name>.json`` or ``<name>.parquet``, plus ``manifest.json``.

    NaN is written as JSON ``null`` and as Parquet nulls.
    """
    if fmt not in ("json", "parquet"):
        raise ValueError(f"fmt: expected 'json' or 'parquet', got {fmt!r}")
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    written = []
    for name, t in report.tables().items():
        p = d / f"{name}.{fmt}"
        if fmt == "json":
            p.write_text(json.dumps(_jsonable(t), indent=1) + "\n", encoding="utf-8")
        else:
            out = t.copy()
            for c in out.columns:
                if out[c].dtype == object:
                    out[c] = out[c].map(lambda v: None if v is None else str(v))
            out.to_parquet(p, index=False)
        written.append(p)
    m = d / "manifest.json"
    m.write_text(json.dumps(report.manifest(), indent=2, default=str) + "\n", encoding="utf-8")
    written.append(m)
    return written
