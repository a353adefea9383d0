"""Banners at the top of the page, reminders in the sections they affect, and interval columns in tables."""

from __future__ import annotations

import dataclasses
import html
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd

from hotmess.report import Report, ReportOptions, render_html, table_html, write_tables
from hotmess.report.build import Banner, Section

EVIL = "<script>alert(1)</script>"


def _sections(page: str) -> dict[str, str]:
    return dict(re.findall(r'<section id="([^"]+)">(.*?)</section>', page, re.DOTALL))


def _small(banners: list[Banner]) -> Report:
    """Two decomposition kinds: section keys like ``length__test-vector``."""
    sections = [
        Section("overview", "Overview", ""),
        Section("length__multiple-choice", "Length — multiple-choice", ""),
        Section("length__test-vector", "Length — test-vector", ""),
        Section("structure__multiple-choice", "Structure — multiple-choice", ""),
    ]
    return Report(source="x", options=ReportOptions(plots=False), sections=sections, banners=banners)


def test_banners_come_first_escaped_and_link_to_every_affected_section() -> None:
    page = render_html(
        _small(
            [
                Banner("invalid_answers", "warning", f"36% invalid {EVIL}", ("length",), 0.36),
                Banner("few_runs", "info", "one run only", ("structure__multiple-choice", "nowhere"), None),
            ]
        )
    )
    assert EVIL not in page and html.escape(EVIL) in page
    first = page.index('<div class="banner warning" id="banner-invalid_answers"')
    assert page.index('<p class="method">') < first < page.index("<nav>")  # after the intro, before the nav
    assert '<div class="banner info" id="banner-few_runs"' in page
    warn = re.search(r'<div class="banner warning".*?</div>', page, re.DOTALL)
    assert warn is not None
    assert re.findall(r'href="#([^"]+)"', warn.group(0)) == ["length__multiple-choice", "length__test-vector"]
    info = re.search(r'<div class="banner info".*?</div>', page, re.DOTALL)
    assert info is not None and "nowhere" in info.group(0)  # an unknown key is named, not linked
    assert re.findall(r'href="#([^"]+)"', info.group(0)) == ["structure__multiple-choice"]
    secs = _sections(page)
    reminder = '⚠ affected by: <a href="#banner-invalid_answers">invalid answers (36%)</a>'
    assert reminder in secs["length__multiple-choice"] and reminder in secs["length__test-vector"]
    assert "affected by" not in secs["overview"]
    assert 'ℹ affected by: <a href="#banner-few_runs">few runs</a>' in secs["structure__multiple-choice"]
    assert reminder not in secs["structure__multiple-choice"]


def test_no_banners_no_boxes() -> None:
    page = render_html(_small([]))
    assert 'class="banner' not in page and "affected by" not in page


def test_banners_on_a_built_report(report: Report, tmp_path: Path) -> None:
    rep = dataclasses.replace(report, banners=[Banner("truncated", "warning", "12% cut off", ("length", "samples"))])
    page = render_html(rep)
    box = re.search(r'<div class="banner warning".*?</div>', page, re.DOTALL)
    assert box is not None
    assert re.findall(r'href="#([^"]+)"', box.group(0)) == ["length", "samples"]
    assert 'id="samples"' in page and 'href="#samples">Sample browser' in page
    assert not re.search(r"""(src|href)=["']?(https?:|//)""", page)  # nothing external


def test_interval_columns_are_one_cell() -> None:
    df = pd.DataFrame({"model": ["m"], "share": [0.5], "share_low": [0.4], "share_high": [0.61234], "n_questions": [3]})
    t = table_html(df, level=0.9)
    heads = re.findall(r"<th>(.*?)</th>", t)
    assert heads == ["model", "share [90% CI]", "n questions"]
    assert "<td>0.500 [0.400, 0.612]</td>" in t and "<td>3</td>" in t
    assert "<th>share [CI]</th>" in table_html(df)  # no level known
    df.attrs["level"] = 0.95
    assert "<th>share [95% CI]</th>" in table_html(df)
    nan = table_html(df.assign(share_low=np.nan, share_high=np.nan))
    assert "<td>0.500</td>" in nan  # no interval (e.g. --n-boot 0): the value alone
    only_low = table_html(pd.DataFrame({"x": [1.0], "x_low": [0.5]}))
    assert re.findall(r"<th>(.*?)</th>", only_low) == ["x", "x low"]  # not a pair: left as it is


def test_exports_keep_raw_columns(report: Report, tmp_path: Path) -> None:
    write_tables(report, tmp_path, fmt="json")
    rows = json.loads((tmp_path / "length__buckets.json").read_text())
    assert {"incoherence", "incoherence_low", "incoherence_high"} <= set(rows[0])
    page = render_html(report)
    assert "<th>incoherence [95% CI]</th>" in page and "<th>incoherence_low</th>" not in page
