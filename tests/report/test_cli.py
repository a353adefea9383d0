"""``hotmess report`` through a local typer app (the command is registered the way cli/main.py does it)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from hotmess.cli import report as report_cmd
from hotmess.errors import ConfigError


@pytest.fixture(scope="module")
def app() -> typer.Typer:
    a = typer.Typer(add_completion=False, pretty_exceptions_enable=False)

    @a.callback()
    def _root() -> None:
        """test app"""

    report_cmd.register(a)
    return a


def test_report_html(app: typer.Typer, store: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    res = CliRunner().invoke(app, ["report", str(store), "-o", str(out), "--n-boot", "20", "--metric", "brier"])
    assert res.exit_code == 0, res.output
    assert "report written to" in res.output and "Scaling with model size" in res.output
    assert "skipped" in res.output  # no --survey given
    assert out.read_text().startswith("<!DOCTYPE html>")


def test_report_tables(app: typer.Typer, store: Path, tmp_path: Path) -> None:
    out = tmp_path / "tables"
    args = [
        "report",
        str(store),
        "-o",
        str(out),
        "--format",
        "json",
        "--n-boot",
        "0",
        "--param",
        "fam-8B=7.6e9",
        "--axis",
        "backtracking",
        "--difficulty",
        "metadata",
    ]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["options"]["params"] == {"fam-8B": 7.6e9} and manifest["options"]["axis"] == "backtracking"
    cells = json.loads((out / "scaling__cells.json").read_text())
    assert {c["group_label"] for c in cells} == {"1", "2", "3"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--param", "fam-8B"], "MODEL=N"),
        (["--metric", "zero-one"], "metric"),
        (["--axis", "words"], "axis"),
        (["--format", "pdf"], "format"),
    ],
)
def test_bad_options(app: typer.Typer, store: Path, tmp_path: Path, args: list[str], message: str) -> None:
    res = CliRunner().invoke(app, ["report", str(store), "-o", str(tmp_path / "x"), "--n-boot", "0", *args])
    assert res.exit_code != 0 and isinstance(res.exception, ConfigError) and message in str(res.exception)


def test_names_with_rich_markup_are_printed_as_text(app: typer.Typer, store: Path, tmp_path: Path) -> None:
    # a skip reason quotes the (unknown) reference model; "[/x]" used to crash rich after the report was written
    out = tmp_path / "r.html"
    args = ["report", str(store), "-o", str(out), "--n-boot", "0", "--reference-model", "[/x]"]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    assert "reference model '[/x]'" in res.output and "report written to" in res.output


def test_markers_need_a_word(app: typer.Typer, store: Path, tmp_path: Path) -> None:
    res = CliRunner().invoke(app, ["report", str(store), "-o", str(tmp_path / "x"), "--n-boot", "0", "--markers", " ,"])
    assert res.exit_code != 0 and isinstance(res.exception, ConfigError) and "--markers" in str(res.exception)
