"""Several stores and files as one dataset: read each, check that no sample comes from two of them."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from hotmess.data.schema import KEY_COLUMNS
from hotmess.errors import InputError

__all__ = ["read_many"]


def read_many(paths: Sequence[str | Path], *, run_id: str | None = None) -> pd.DataFrame:
    """Samples of every path (run stores, Parquet, CSV, JSONL) in one table; a key seen twice is refused.

    One store per machine or per model can be analysed together this way; the sample key
    (:data:`~hotmess.data.schema.KEY_COLUMNS`) must be unique across all of them, exactly as within one store.
    The question kinds that stores carry in ``attrs`` are merged.

    Examples
    --------
    >>> read_many([])  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    hotmess.errors.InputError: no input given
    """
    from hotmess.data.io import read_samples

    if not paths:
        raise InputError("no input given", hint="pass one or more run stores or samples files")
    frames = [read_samples(p, run_id=run_id) for p in paths]
    if len(frames) == 1:
        return frames[0]
    origin = pd.Series([str(p) for p, f in zip(paths, frames, strict=True) for _ in range(len(f))])
    df = pd.concat(frames, ignore_index=True)
    dup = df.duplicated(list(KEY_COLUMNS), keep=False).to_numpy()
    if dup.any():
        rows = df.index[dup]
        first = df.loc[rows[0], list(KEY_COLUMNS)]
        where = sorted(set(origin.iloc[rows[:50]].tolist()) if len(rows) else set())
        key = ", ".join(f"{c}={first[c]!r}" for c in KEY_COLUMNS)
        raise InputError(
            f"sample {key} comes from more than one input ({', '.join(where)})",
            hint="each sample must come from one source; drop the repeated store or file",
        )
    kinds: dict[str, dict[str, Any]] = {}
    for f in frames:
        for task, qs in (f.attrs.get("question_kinds") or {}).items():
            kinds.setdefault(task, {}).update(qs)
    protocols: dict[str, Any] = {}
    for f in frames:
        protocols.update(f.attrs.get("run_protocols") or {})
    df.attrs["question_kinds"] = kinds
    if protocols:
        df.attrs["run_protocols"] = protocols
    adaptive = sorted({r for f in frames for r in f.attrs.get("adaptive_runs") or ()})
    if adaptive:
        df.attrs["adaptive_runs"] = adaptive
    return df
