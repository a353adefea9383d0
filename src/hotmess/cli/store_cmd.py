"""``hotmess convert SRC DEST``: move samples between a run store and Parquet/CSV/JSONL."""

from __future__ import annotations

from pathlib import Path

import typer

from hotmess.cli._common import err_console
from hotmess.data import read_samples, write_samples
from hotmess.errors import InputError

__all__ = ["register"]


def convert(
    src: Path = typer.Argument(..., help="Run store or samples file to read."),
    dest: Path = typer.Argument(..., help="Output: .sqlite (merged exactly once), .parquet, .csv or .jsonl."),
    run: str | None = typer.Option(None, "--run", help="Only samples of this run id."),
) -> None:
    """Convert samples between formats (a .sqlite destination merges into that store)."""
    if src.resolve() == dest.resolve():
        raise InputError("source and destination are the same file", hint="choose another output path")
    df = read_samples(src, run_id=run)
    write_samples(df, dest)
    err_console.print(f"wrote {len(df)} samples to {dest}")


def register(app: typer.Typer) -> None:
    """Add ``convert`` to the ``hotmess`` app."""
    app.command("convert")(convert)
