"""The comparison page of ``hotmess compare --report``: forest plot, verdicts, escaping, self-contained HTML."""

from __future__ import annotations

import base64
import io
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hotmess.analysis import simulate_samples
from hotmess.analysis.compare import CompareResult, compare_groups

pytest.importorskip("matplotlib")

from hotmess.report import plots
from hotmess.report.compare import compare_section, plot_compare, render_compare_html, write_compare_html

EVIL = "<script>alert(1)</script> $\\frac{x$"


@pytest.fixture(scope="module")
def result() -> CompareResult:
    """Three models on 15 shared questions: one with more variance, one like the baseline; a name with markup."""
    design = (np.linspace(0.2, 0.8, 15), np.full(15, 0.25))
    df = pd.concat(
        [
            simulate_samples(*design, model="base", rng=0),
            simulate_samples(design[0], np.full(15, 0.45), model=EVIL, rng=1),
            simulate_samples(*design, model="same", rng=2),
        ]
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return compare_groups(df, metric="brier", n_boot=200, baseline="base")


def test_forest_plot_has_one_panel_per_quantity_and_plain_text_labels(result: CompareResult) -> None:
    fig = plot_compare(result.frame)
    with plots._style():
        fig.canvas.draw()
    axes = [ax for ax in fig.axes if ax.get_title()]
    assert [ax.get_title() for ax in axes] == ["incoherence", "bias", "variance", "error", "accuracy"]
    labels = [
        t.get_text()
        for ax in fig.axes
        for t in (*ax.get_xticklabels(), *ax.get_yticklabels())
        if t.get_visible() and t.get_text()
    ]
    assert f"{EVIL} − base" in labels and "same − base" in labels  # the name as text, never parsed as TeX
    assert not [s for s in labels if s.startswith("$") or "\\mathdefault" in s]


def test_section_holds_the_figure_tables_and_verdicts(result: CompareResult) -> None:
    s = compare_section(result)
    assert s.key == "compare" and s.skipped is None and list(s.figures) == ["differences"]
    assert s.figures["differences"][:8] == b"\x89PNG\r\n\x1a\n"
    assert set(s.tables) == {"comparisons", "groups"}
    shown = s.tables["comparisons"]
    assert {"difference", "difference_low", "difference_high", "p_holm", "model"} <= set(shown.columns)
    assert len(shown) == 10 and s.notes[: len(result.frame)] == result.verdicts()
    assert compare_section(result, plots=False).figures == {}


def test_page_is_self_contained_escaped_and_states_the_verdicts(result: CompareResult, tmp_path: Path) -> None:
    import matplotlib.image as mpimg

    path = write_compare_html(result, tmp_path / "sub" / "c.html", source="<b>store</b>.sqlite")
    text = path.read_text()
    assert "<script" not in text.lower().replace("&lt;script", "")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text and "&lt;b&gt;store&lt;/b&gt;.sqlite" in text
    assert not re.search(r"""(src|href)=["']?(https?:|//)""", text)
    imgs = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', text)
    assert len(imgs) == 1
    img = mpimg.imread(io.BytesIO(base64.b64decode(imgs[0])), format="png")
    assert img.shape[0] > 150 and img.shape[1] > 600
    detected = result.frame[result.frame["detected"]]
    assert len(detected) >= 1
    for v in detected["verdict"]:  # detected differences first, in bold
        assert f"<li><strong>{v.replace('<', '&lt;').replace('>', '&gt;')}</strong></li>" in text
    assert "difference [95% CI]" in text and "Holm" in text
    assert render_compare_html(result, source="x", title="<t>").count("&lt;t&gt;") == 2  # <title> and <h1>
