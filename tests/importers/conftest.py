"""Shared paths of the importer tests: the committed fixtures made by fixtures/make_fixtures.py."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
INSPECT = FIXTURES / "inspect"
LM_EVAL = FIXTURES / "lm_eval"


def lm_eval_file(folder: str, task: str) -> Path:
    """The samples file of ``task`` in ``lm_eval/<folder>``."""
    (path,) = sorted((LM_EVAL / folder).glob(f"samples_{task}_*.jsonl"))
    return path


def raw_inspect_samples(name: str) -> list[dict[str, Any]]:
    """The samples of a committed .json Inspect log, straight from the file (an independent reading)."""
    data = json.loads((INSPECT / name).read_text())
    return list(data["samples"])


@pytest.fixture
def store(tmp_path: Path) -> Path:
    """A fresh run store path."""
    return tmp_path / "runs.sqlite"


def eval_entries(path: Path) -> list[str]:
    """Entry names of a .eval archive."""
    with zipfile.ZipFile(path) as zf:
        return zf.namelist()
