"""The report: every section on data that has it, skipped with a reason on data that does not; escaping."""

from __future__ import annotations

import base64
import io
import json
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hotmess.analysis import simulate_samples
from hotmess.report import Report, ReportOptions, build_report, render_html, table_html, write_html, write_tables

from .conftest import INJECTION

SECTIONS = [
    "overview",
    "compare",
    "length",
    "overthinking",
    "budgets",
    "ensembles",
    "scaling",
    "difficulty",
    "answer_changes",
    "structure",
    "survey",
]


def test_every_section_is_shown(report: Report) -> None:
    assert [s.key for s in report.sections] == SECTIONS
    skipped = {s.key: s.skipped for s in report.sections if s.skipped}
    assert skipped == {}
    by = {s.key: s for s in report.sections}
    assert set(by["scaling"].tables) == {"cells", "fits", "regression"}
    assert "backtracking_fits" in by["structure"].tables  # markers present → marker axis analysed
    assert all(len(s.figures) >= 1 for s in report.sections if s.key != "overview")
    assert "comparisons" in by["compare"].tables and by["compare"].notes  # verdicts in words
    assert report.runs is not None and len(report.runs) == 1
    assert set(report.examples["kind"]) == {"correct", "wrong", "invalid"}


def test_figures_are_pngs(report: Report) -> None:
    import matplotlib.image as mpimg

    for s in report.sections:
        for png in s.figures.values():
            img = mpimg.imread(io.BytesIO(png), format="png")
            assert img.shape[0] > 100 and img.shape[1] > 100


def test_html_is_self_contained_and_escaped(report: Report, tmp_path: Path) -> None:
    path = write_html(report, tmp_path / "r.html")
    text = path.read_text()
    assert "<script" not in text.lower().replace("&lt;script", "")  # no script element at all
    assert "&lt;script&gt;window.__pwned" in text and "onerror=&quot;" in text
    assert "&lt;b&gt;not bold&lt;/b&gt;" in text  # run config escaped too
    assert not re.search(r"""(src|href)=["']?(https?:|//)""", text)  # nothing external
    imgs = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', text)
    assert len(imgs) == sum(len(s.figures) for s in report.sections)
    assert all(base64.b64decode(i)[:8] == b"\x89PNG\r\n\x1a\n" for i in imgs)
    assert INJECTION not in text


def test_one_model_one_budget_skips_with_reasons(tmp_path: Path) -> None:
    df = simulate_samples(
        np.full(12, 0.6), np.full(12, 0.5), kind="answers", lengths=np.linspace(50, 500, 12), rng=0, model="solo"
    )
    path = tmp_path / "samples.parquet"
    df.to_parquet(path)
    from hotmess.report import load_inputs

    data, runs, questions = load_inputs(path)
    assert runs is None and questions is None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rep = build_report(data, options=ReportOptions(n_boot=50, plots=False))
    skipped = {s.key: s.skipped for s in rep.sections if s.skipped}
    assert set(skipped) == {"compare", "budgets", "scaling", "difficulty", "survey"}
    assert "one model" in skipped["scaling"] and "one budget" in skipped["budgets"]
    assert "nothing to compare" in skipped["compare"]
    html = render_html(rep)
    assert html.count("Skipped:") == 5 and "No runs table" in html


def test_table_html_escapes_and_formats() -> None:
    t = table_html(pd.DataFrame({"<a>": ["<i>x</i>"], "v": [0.123456], "n": [np.nan], "k": [3]}))
    assert "&lt;a&gt;" in t and "&lt;i&gt;x&lt;/i&gt;" in t and "0.123" in t and "—" in t
    assert "<i>" not in t


@pytest.mark.parametrize("fmt", ["json", "parquet"])
def test_tables_export(report: Report, tmp_path: Path, fmt: str) -> None:
    files = write_tables(report, tmp_path / fmt, fmt=fmt)
    names = {p.name for p in files}
    assert f"length__buckets.{fmt}" in names and "manifest.json" in names and f"scaling__fits.{fmt}" in names
    manifest = json.loads((tmp_path / fmt / "manifest.json").read_text())
    assert [s["key"] for s in manifest["sections"]] == SECTIONS
    if fmt == "json":
        rows = json.loads((tmp_path / fmt / "length__fits.json").read_text())
        assert {"model", "budget", "alpha", "alpha_low", "r2"} <= set(rows[0])
    else:
        back = pd.read_parquet(tmp_path / fmt / "length__buckets.parquet")
        pd.testing.assert_frame_equal(back, report.tables()["length__buckets"], check_dtype=False)


def test_names_from_data_are_escaped_and_never_parsed_as_tex() -> None:
    """Model/task/question/budget names reach tables, headings and plot labels: HTML-escaped, never TeX."""
    evil = "<img src=x onerror=alert(1)> $\\frac{x$"  # invalid TeX: mathtext raised and the section was skipped
    df = simulate_samples(
        np.full(8, 0.6), np.full(8, 0.5), kind="answers", lengths=np.linspace(50, 500, 8), rng=0, model=evil
    )
    df["task"] = evil
    df["question_id"] = evil + df["question_id"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rep = build_report(df, options=ReportOptions(n_boot=20, reference_model=evil, markers=(evil, "wait")))
    skipped = {s.key for s in rep.sections if s.skipped}
    assert skipped == {
        "compare",  # one model (tests/report/test_compare_report.py puts such names in the forest plot)
        "budgets",
        "scaling",
        "difficulty",
        "survey",
    }  # a "$" in a plot label used to skip the plotted sections
    html = render_html(rep, title=evil)
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html


def test_custom_markers_reach_every_section(samples: pd.DataFrame) -> None:
    """With --axis backtracking, budgets and scaling count the report's markers too, not the default ones."""
    opts = ReportOptions(axis="backtracking", markers=("never-written",), n_boot=0, plots=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rep = build_report(samples[samples["question_id"] < "q0012"], options=opts)
    by = {s.key: s for s in rep.sections}
    assert by["budgets"].skipped is None and by["scaling"].skipped is None
    assert (by["budgets"].tables["budgets"]["length"] == 0).all()  # the simulated raw outputs say "Wait," only
    assert (by["scaling"].tables["cells"]["length"] == 0).all()
