"""``hotmess --help`` and ``hotmess analyze small.csv`` start without the heavy libraries (torch, matplotlib,
transformers, scipy): each is imported by the one command that needs it, when it runs. Help of any command
imports not even numpy, pandas or pyarrow: the subcommands import their libraries in their bodies, and the
packages :mod:`hotmess.data`, :mod:`hotmess.metrics` and :mod:`hotmess.analysis` load their modules lazily."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("torch", "matplotlib", "transformers", "sentence_transformers", "scipy", "httpx", "hotmess.sampling")
TABLES = ("numpy", "pandas", "pyarrow")
"""Loaded by every command that reads samples, but never for ``--help``."""

HELP = [
    ["--help"],
    ["--version"],
    ["analyze", "--help"],
    ["compare", "--help"],
    ["report", "--help"],
    ["convert", "--help"],
    ["import", "--help"],
    ["import", "inspect", "--help"],
    ["import", "lm-eval", "--help"],
    ["embed", "--help"],
    ["run", "--help"],
    ["demo", "--help"],
    ["synthetic", "--help"],
]

PROBE = """
import json, sys
from hotmess.cli.main import main
code = main(sys.argv[1:])
print("\\nLOADED " + json.dumps(sorted(m for m in {heavy!r} if m in sys.modules)))
sys.exit(code)
"""


def _loaded(args: list[str], modules: tuple[str, ...]) -> list[str]:
    """The ``modules`` that ``hotmess ARGS`` imported, in a fresh interpreter."""
    proc = subprocess.run(
        [sys.executable, "-c", PROBE.format(heavy=modules), *args], capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    loaded: list[str] = json.loads(proc.stdout.rsplit("LOADED ", 1)[1])
    return loaded


@pytest.mark.parametrize(
    "args", [["--help"], ["analyze", "--help"], ["analyze", str(ROOT / "examples" / "samples.csv")]]
)
def test_command_does_not_import_heavy_libraries(args: list[str]) -> None:
    loaded = _loaded(args, HEAVY)
    assert loaded == [], f"`hotmess {' '.join(args)}` imported {loaded}"


@pytest.mark.parametrize("args", HELP, ids=" ".join)
def test_help_does_not_import_numpy_pandas_or_pyarrow(args: list[str]) -> None:
    loaded = _loaded(args, (*TABLES, *HEAVY))
    assert loaded == [], f"`hotmess {' '.join(args)}` imported {loaded}"


def test_help_list_names_every_command() -> None:
    """A new subcommand is added to :data:`HELP` too."""
    import typer.main

    from hotmess.cli.main import app

    def paths(command: Any, prefix: tuple[str, ...]) -> set[tuple[str, ...]]:
        subs = getattr(command, "commands", {})
        return {prefix} | {p for name, sub in subs.items() for p in paths(sub, (*prefix, name))}

    every = paths(typer.main.get_command(app), ())
    listed = {tuple(a for a in args if a != "--help") for args in HELP if args != ["--version"]}
    assert listed == every


def test_the_probe_sees_what_a_command_loads() -> None:
    """The probe is not blind: analysing a samples file does load pandas and numpy."""
    loaded = _loaded(["analyze", str(ROOT / "examples" / "samples.csv")], TABLES)
    assert {"numpy", "pandas"} <= set(loaded)


LAZY_NAMES = """
import types
import hotmess.analysis.ensembles  # imports the submodule hotmess.analysis.guardrails before anyone asks for the name
from hotmess import analysis, data, metrics
from hotmess.analysis.guardrails import guardrails
from hotmess.data import read_samples
from hotmess.data.io import read_samples as defined
assert analysis.guardrails is guardrails and read_samples is defined
for package in (analysis, data, metrics):
    for name in package.__all__:
        value = getattr(package, name)
        assert not isinstance(value, types.ModuleType), (package.__name__, name)
        assert name in dir(package)
    assert not hasattr(package, "no_such_name")
"""


def test_lazy_packages_keep_every_public_name() -> None:
    """Every name of ``__all__`` resolves to its object, also ``analysis.guardrails`` after its submodule loads."""
    proc = subprocess.run([sys.executable, "-c", LAZY_NAMES], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
