"""``hotmess --help`` and ``hotmess analyze small.csv`` start without the heavy libraries (torch, matplotlib,
transformers, scipy): each is imported by the one command that needs it, when it runs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("torch", "matplotlib", "transformers", "sentence_transformers", "scipy", "httpx", "hotmess.sampling")

PROBE = """
import json, sys
from hotmess.cli.main import main
code = main(sys.argv[1:])
print("\\nLOADED " + json.dumps(sorted(m for m in {heavy!r} if m in sys.modules)))
sys.exit(code)
"""


@pytest.mark.parametrize(
    "args", [["--help"], ["analyze", "--help"], ["analyze", str(ROOT / "examples" / "samples.csv")]]
)
def test_command_does_not_import_heavy_libraries(args: list[str]) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", PROBE.format(heavy=HEAVY), *args], capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    loaded = json.loads(proc.stdout.rsplit("LOADED ", 1)[1])
    assert loaded == [], f"`hotmess {' '.join(args)}` imported {loaded}"
