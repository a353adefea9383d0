"""Helpers shared by the subcommands: consoles, number formatting, writing results."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console

from hotmess.data._paths import prepare_output
from hotmess.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["console", "err_console", "fmt", "write_results"]

console = Console()
if not console.is_terminal:
    console = Console(width=140)  # pipes and CI logs: wide enough for one table row per group
err_console = Console(stderr=True, soft_wrap=True)  # notes stay one line in logs


def fmt(x: float | None, digits: int = 3) -> str:
    """A number for a table cell; '—' for missing/NaN."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "—"
    return f"{x:.{digits}g}" if abs(x) >= 1e4 or (0 < abs(x) < 1e-3) else f"{x:.{digits}f}"


def write_results(data: dict[str, Any], frame: pd.DataFrame | None, path: Path) -> None:
    """Write results as JSON (``.json``) or a table (``.csv``/``.parquet``) by the file's suffix."""
    suffix = path.suffix.lower()
    if suffix not in (".json", ".csv", ".parquet", ".pq") or (suffix != ".json" and frame is None):
        raise InputError(f"cannot write results to {path}", hint="use a .json, .csv or .parquet file name")
    prepare_output(path, what="results")
    if suffix == ".json":
        path.write_text(json.dumps(data, indent=2, allow_nan=False, default=str) + "\n")
    elif suffix == ".csv" and frame is not None:
        frame.to_csv(path, index=False)
    elif frame is not None:
        frame.to_parquet(path, index=False)
