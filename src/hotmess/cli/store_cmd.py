"""``hotmess convert SRC DEST``: move samples between a run store and Parquet/CSV/JSONL."""

from __future__ import annotations

from pathlib import Path

import typer

from hotmess.cli._common import err_console
from hotmess.data._paths import guard_output

__all__ = ["register"]


def convert(
    src: Path = typer.Argument(..., help="Run store or samples file to read."),
    dest: Path = typer.Argument(..., help="Output: .sqlite (merged exactly once), .parquet, .csv or .jsonl."),
    run: str | None = typer.Option(None, "--run", help="Only samples of this run id."),
) -> None:
    """Convert samples between formats (a .sqlite destination merges into that store).

    DEST is never SRC (however named). A .sqlite DEST that exists is merged into; a samples-file DEST that
    exists is replaced, unless it is a run store under another name.
    """
    from hotmess.data import STORE_SUFFIXES, read_samples, write_samples  # pandas: not for `hotmess --help`
    from hotmess.data.export import export_store, sidecar_paths

    is_store = dest.suffix.lower() in STORE_SUFFIXES
    example = f"{src.stem}-converted{dest.suffix or '.parquet'}"
    guard_output(dest, inputs=[src], what="converted samples", kind="store" if is_store else "samples", example=example)
    if src.suffix.lower() in STORE_SUFFIXES and _is_store(src) and not is_store:
        # a store streams out batch by batch (bounded memory), with its questions and run configurations
        n = export_store(src, dest, run_id=run)
        questions, runs = sidecar_paths(dest)
        err_console.print(f"wrote {n} samples to {dest} (questions: {questions.name}, runs: {runs.name})")
        return
    df = read_samples(src, run_id=run)
    write_samples(df, dest)
    err_console.print(f"wrote {len(df)} samples to {dest}")


def _is_store(p: Path) -> bool:
    try:
        with p.open("rb") as fh:
            return fh.read(16) == b"SQLite format 3\x00"
    except OSError:
        return False


def register(app: typer.Typer) -> None:
    """Add ``convert`` to the ``hotmess`` app."""
    app.command("convert")(convert)
