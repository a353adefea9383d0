"""One self-contained HTML file: inline CSS, figures as base64 PNG, no script, everything from data escaped."""

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
from hotmess.report.build import Report, Section
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


def table_html(df: pd.DataFrame, *, max_rows: int = 300) -> str:
    """An escaped HTML table (at most ``max_rows`` rows, with a note when cut)."""
    head = "".join(f"<th>{_e(c)}</th>" for c in df.columns)
    body = []
    for row in df.head(max_rows).itertuples(index=False, name=None):
        cells = []
        for v in row:
            text, is_text = _cell(v)
            cells.append(f'<td class="s">{_e(text)}</td>' if is_text else f"<td>{_e(text)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    cut = f'<p class="note">first {max_rows} of {len(df)} rows shown</p>' if len(df) > max_rows else ""
    return f'<div class="tbl"><table><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table></div>{cut}'


def _figure(name: str, png: bytes, title: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    alt = f"{title}: {name.replace('_', ' ')}"
    return f'<figure><img alt="{_e(alt)}" src="data:image/png;base64,{data}"></figure>'


def _section(s: Section) -> str:
    out = [f'<section id="{_e(s.key)}"><h2>{_e(s.title)}</h2>']
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
        out.append(f"<h3>{_e(name.replace('_', ' '))}</h3>{table_html(t)}")
    out.append("</section>")
    return "".join(out)


def render_html(report: Report, *, title: str = "hotmess report") -> str:
    """The report as one HTML document (no external resources, no script)."""
    nav = "".join(
        f'<li><a href="#{_e(s.key)}">{_e(s.title)}</a>{" (skipped)" if s.skipped else ""}</li>' for s in report.sections
    )
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body><main>",
        f"<h1>{_e(title)}</h1>",
        f'<p class="meta">Samples: <code>{_e(report.source)}</code> · metric {_e(report.options.metric)} · '
        f"length axis {_e(report.options.axis)} · {_e(report.options.n_boot)} bootstrap resamples · "
        f"{_e(f'{100 * report.options.level:g}%')} intervals</p>",
        f'<p class="method">{_e(INTRO)}</p>',
        f'<nav><ol>{nav}<li><a href="#examples">Example raw outputs</a></li>'
        '<li><a href="#config">Run configuration</a></li></ol></nav>',
    ]
    parts += [_section(s) for s in report.sections]
    parts.append('<section id="examples"><h2>Example raw outputs</h2>')
    if report.examples is not None and not report.examples.empty:
        parts.append('<p class="note">Model text is shown verbatim as text (escaped), never interpreted.</p>')
        for r in report.examples.itertuples(index=False):
            head = f"{r.model} · {r.task} · {r.question_id} · {r.kind} (answer {r.answer}, correct {r.correct})"
            parts.append(f"<h3>{_e(head)}</h3><pre>{_e(r.raw_output)}</pre>")
    else:
        parts.append('<p class="note">No raw outputs in the samples.</p>')
    parts.append('</section><section id="config"><h2>Run configuration</h2>')
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
