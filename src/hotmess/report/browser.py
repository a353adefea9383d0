"""The sample browser: every question's samples, raw outputs included, as escaped HTML (no script).

One ``<details>`` block per question (model, budget, task, question id) whose summary gives the accuracy and the
number of samples, invalid answers and truncated outputs; inside, the question text and options (when the store
has them) and one table row per sample. Filters ("only invalid / wrong / truncated") are checkboxes styled with
CSS selectors, so the page needs no JavaScript and shows everything when they are unchecked.
"""

from __future__ import annotations

import html
import math
from typing import Any

import pandas as pd

__all__ = ["BROWSER_CSS", "MAX_CHARS", "MAX_QUESTIONS", "MAX_SAMPLES", "browser_html", "option_letter"]

MAX_QUESTIONS = 200
"""Questions shown by default (the rest are counted in a note)."""
MAX_SAMPLES = 50
"""Samples shown per question by default."""
MAX_CHARS = 4000
"""Characters of each raw output shown."""

_GROUP = ("model", "budget", "task", "question_id")
_FILTERS = (("inv", "only invalid"), ("wrong", "only wrong"), ("trunc", "only truncated"))

BROWSER_CSS = (
    "#samples details{border:1px solid #ddd;margin:.3rem 0;padding:.2rem .6rem}"
    "#samples summary{cursor:pointer;font-size:.9rem}#samples summary code{font-weight:600}"
    "#samples .q{white-space:pre-wrap;margin:.4rem 0}#samples ol.opts{list-style:none;padding-left:.5rem}"
    "#samples li.ok{font-weight:600;color:#006d4f}#samples td pre{max-height:12rem;margin:0;min-width:28rem}"
    "#samples td{vertical-align:top}#samples tr.wrong td.r{color:#b03000}#samples tr.inv td.a{color:#b03000}"
    "#samples .flt{margin-right:1rem}#samples th{text-align:left}"
    + "".join(
        f"#f-{k}:checked~.qs tr.smp:not(.{k}){{display:none}}"
        f"#f-{k}:checked~.qs details:not(:has(tr.{k})){{display:none}}"
        for k, _ in _FILTERS
    )
)
"""Styles of the browser, filters included (appended to the page's inline CSS)."""


def _e(x: Any) -> str:
    return html.escape(str(x), quote=True)


def _missing(v: Any) -> bool:
    if v is None or v is pd.NA:
        return True
    return isinstance(v, float) and math.isnan(v)


def option_letter(i: int) -> str:
    """``0 → A``, ``25 → Z``, then ``#27``, ... (answers are 0-based)."""
    return chr(ord("A") + i) if 0 <= i < 26 else f"#{i + 1}"


def _score(r: Any) -> float | None:
    """1/0 for a right/wrong answer, the share of passed tests for a test vector, None when not scored."""
    if not _missing(r.error):
        return None
    outcomes = getattr(r, "test_outcomes", None)
    if int(r.correct) < 0 and outcomes is not None and not _missing(outcomes) and len(outcomes):
        return float(sum(int(o) for o in outcomes)) / len(outcomes)
    if int(r.correct) < 0:
        return None
    return 1.0 if bool(r.valid) and int(r.answer) == int(r.correct) else 0.0


def _row(r: Any, max_chars: int) -> str:
    score = _score(r)
    invalid = _missing(r.error) and not bool(r.valid)
    truncated = r.finish_reason == "length"
    classes = ["smp"]
    if invalid:
        classes.append("inv")
    if score is not None and score < 1:
        classes.append("wrong")
    if truncated:
        classes.append("trunc")
    if not _missing(r.error):
        answer, verdict = "error", f"not scored: {r.error}"
    else:
        answer = option_letter(int(r.answer)) if bool(r.valid) and int(r.answer) >= 0 else "invalid"
        outcomes = getattr(r, "test_outcomes", None)
        if int(r.correct) < 0 and outcomes is not None and not _missing(outcomes) and len(outcomes):
            verdict = f"{sum(int(o) for o in outcomes)}/{len(outcomes)} tests"
        else:
            verdict = "—" if score is None else ("right" if score == 1 else "wrong")
    text = "" if _missing(r.raw_output) else str(r.raw_output)
    cut = ""
    if len(text) > max_chars:
        cut = f'<p class="note">first {max_chars:,} of {len(text):,} characters shown</p>'
        text = text[:max_chars]
    tokens = "—" if _missing(r.output_tokens) else str(int(r.output_tokens))
    finish = "—" if _missing(r.finish_reason) else r.finish_reason
    cells = [str(int(r.context_id)), str(int(r.sample_index))]
    return (
        f'<tr class="{" ".join(classes)}">'
        + "".join(f"<td>{_e(c)}</td>" for c in cells)
        + f'<td class="s a">{_e(answer)}</td><td class="s r">{_e(verdict)}</td><td>{_e(tokens)}</td>'
        f'<td class="s">{_e(finish)}</td><td class="s"><pre>{_e(text)}</pre>{cut}</td></tr>'
    )


def _question_text(q: Any | None) -> str:
    if q is None:
        return '<p class="note">The question text is not in the input (only a run store holds it).</p>'
    parts = [f'<p class="q">{_e(q["text"])}</p>']
    options = q["options"]
    if options is not None and not _missing(options) and len(options):
        correct = -1 if _missing(q["correct"]) else int(q["correct"])
        items = []
        for i, opt in enumerate(options):
            mark = ' class="ok"' if i == correct else ""
            tail = " ✓ correct" if i == correct else ""
            items.append(f"<li{mark}>{_e(option_letter(i))}. {_e(opt)}{_e(tail)}</li>")
        parts.append(f'<ol class="opts">{"".join(items)}</ol>')
    return "".join(parts)


def browser_html(
    samples: pd.DataFrame | None,
    questions: pd.DataFrame | None = None,
    *,
    max_questions: int = MAX_QUESTIONS,
    max_samples: int = MAX_SAMPLES,
    max_chars: int = MAX_CHARS,
) -> str:
    """The ``<section id="samples">`` of the report: one collapsible block per question, every string escaped.

    At most ``max_questions`` questions (in model, budget, task, question-id order), ``max_samples`` samples per
    question and ``max_chars`` characters per raw output are shown; a note says how many were left out.
    """
    out = ['<section id="samples"><h2>Sample browser</h2>']
    if samples is None or samples.empty:
        out.append('<p class="note">No samples.</p></section>')
        return "".join(out)
    qmap: dict[tuple[str, str], Any] = {}
    if questions is not None and not questions.empty:
        for _i, q in questions.iterrows():
            qmap[(str(q["task"]), str(q["question_id"]))] = q
    df = samples.sort_values([*_GROUP, "context_id", "sample_index"], kind="stable")
    groups = list(df.groupby(list(_GROUP), sort=True))
    out.append(
        '<p class="note">Every sample per question; model text is shown verbatim as text (escaped), never '
        "interpreted. Accuracy counts invalid answers as wrong; error rows are not scored. Truncated: the model "
        "stopped at its token limit (finish reason “length”).</p>"
    )
    if len(groups) > max_questions:
        out.append(f'<p class="note">first {max_questions} of {len(groups)} questions shown</p>')
    for k, label in _FILTERS:
        out.append(f'<input type="checkbox" id="f-{k}"><label class="flt" for="f-{k}">{_e(label)}</label>')
    out.append('<div class="qs">')
    for (model, budget, task, qid), g in groups[:max_questions]:
        scores = [s for s in (_score(r) for r in g.itertuples(index=False)) if s is not None]
        acc = f"{sum(scores) / len(scores):.0%}" if scores else "—"
        n_invalid = int((g["error"].isna() & ~g["valid"].astype(bool)).sum())
        n_trunc = int((g["finish_reason"] == "length").sum())
        where = " · ".join(str(x) for x in (model, budget or "default budget", task) if str(x) != "")
        summary = (
            f"<code>{_e(qid)}</code> · {_e(where)} · accuracy {_e(acc)} · {len(g)} samples · "
            f"{n_invalid} invalid · {n_trunc} truncated"
        )
        body = [_question_text(qmap.get((str(task), str(qid))))]
        if len(g) > max_samples:
            body.append(f'<p class="note">first {max_samples} of {len(g)} samples shown</p>')
        rows = "".join(_row(r, max_chars) for r in g.head(max_samples).itertuples(index=False))
        body.append(
            '<div class="tbl"><table><thead><tr><th>context</th><th>sample</th><th>answer</th><th>right?</th>'
            f"<th>output tokens</th><th>finish</th><th>raw output</th></tr></thead><tbody>{rows}</tbody></table></div>"
        )
        out.append(f"<details><summary>{summary}</summary>{''.join(body)}</details>")
    out.append("</div></section>")
    return "".join(out)
