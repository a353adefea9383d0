"""The README's promises: its Python example runs, and `hotmess analyze examples/samples.csv` prints its table."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from hotmess.cli.main import main

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _block(lang: str, starts_with: str) -> str:
    for m in re.finditer(rf"```{lang}\n(.*?)```", README, flags=re.S):
        if m.group(1).startswith(starts_with):
            return m.group(1)
    raise AssertionError(f"no ```{lang} block starting with {starts_with!r} in README.md")


def test_python_example_runs(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(ROOT)
    exec(compile(_block("python", "from hotmess"), "README.md", "exec"), {})
    printed = capsys.readouterr().out.split()
    assert 0.0 <= float(printed[0]) <= 1.0 and printed[1].startswith("Interval(")


def test_documented_analyze_table_is_what_analyze_prints(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(ROOT)
    documented = _block("console", "$ hotmess analyze examples/samples.csv").splitlines()[1:]
    os.environ.pop("COLUMNS", None)
    assert main(["analyze", "examples/samples.csv"]) == 0
    captured = capsys.readouterr()
    printed = (captured.out + captured.err).splitlines()
    row = next(line for line in documented if line.startswith("│ overall"))
    numbers = re.findall(r"\d+\.\d+|\d+%", row)
    printed_row = next(line for line in printed if line.startswith("│ overall"))
    assert re.findall(r"\d+\.\d+|\d+%", printed_row) == numbers
