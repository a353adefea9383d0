"""Reading and writing sample tables: the run store, Parquet, CSV and JSONL.

:func:`read_samples` accepts the full schema (:mod:`hotmess.data.schema`) *and* the simplest file a user
can write by hand — one row per sample with ``question_id``, ``answer`` and ``correct`` — and returns a
table with every schema column, normalised:

* ``answer`` / ``correct``: an option letter (``A``, ``b``, ``(C)``) or a 0-based index; an empty or
  unparseable ``answer`` is an invalid sample (−1); an unparseable ``correct`` is an error.
* ``n_options``: if absent, the largest option seen (in answers, targets or probability vectors) per task.
* ``probs``: a list, a JSON list ``"[0.2, 0.8]"`` or ``"0.2, 0.8"``; used instead of ``answer`` where present.
* ``context_id`` / ``sample_index``: if absent, every sample of a question gets its own index.
* ``valid``: if absent, true where an answer or probability vector was given and ``error`` is empty.
* ``length_source``: one of :data:`~hotmess.data.schema.LENGTH_SOURCES` (any case) or empty; if absent, null
  (unknown). ``finish_reason``: any text or empty; if absent, null.
"""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hotmess.data._columns import combine_codes, text_array, text_codes
from hotmess.data._normalize import normalize_owned, normalize_samples, parse_option, release_arrow_memory
from hotmess.data._paths import prepare_output
from hotmess.data.schema import LIST_COLUMNS, SLOT_COLUMNS
from hotmess.data.store import RunStore, run_protocols
from hotmess.errors import DuplicateSamplesWarning, InputError

__all__ = [
    "STORE_SUFFIXES",
    "collapse_duplicate_samples",
    "normalize_samples",
    "parse_option",
    "read_samples",
    "run_protocols",
    "write_samples",
]

STORE_SUFFIXES = (".sqlite", ".sqlite3", ".db")
_TABLE_SUFFIXES = (".parquet", ".pq", ".csv", ".jsonl", ".ndjson", ".json")


def _read_table(path: Path) -> pd.DataFrame:
    suffix = path.suffix.lower()
    try:
        if suffix in (".parquet", ".pq"):
            return pd.read_parquet(path)
        if suffix == ".csv":
            return pd.read_csv(
                path,
                dtype={
                    "question_id": str,
                    "answer": str,
                    "correct": str,
                    "model": str,
                    "task": str,
                    "budget": str,
                    "run_id": str,
                    "length_source": str,
                    "kind": str,
                    "finish_reason": str,
                },
                keep_default_na=False,
                na_values=[""],
            )
        if suffix in (".jsonl", ".ndjson"):
            return pd.read_json(path, lines=True, dtype=False, precise_float=True)  # floats as written
        if suffix == ".json":
            return pd.read_json(path, dtype=False, precise_float=True)
    except (ValueError, OSError, UnicodeDecodeError) as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        raise InputError(
            f"{path} could not be parsed as {suffix[1:]}: {str(exc).splitlines()[0][:160]}",
            hint="check the file is complete and in the format its extension says",
        ) from None
    except Exception as exc:  # pyarrow raises its own types for corrupt Parquet
        raise InputError(
            f"{path} could not be parsed as {suffix[1:]}: {type(exc).__name__}: {str(exc)[:160]}",
            hint="check the file is complete and in the format its extension says",
        ) from None
    raise InputError(
        f"{path}: unsupported file type '{suffix}'",
        hint=f"use a run store ({', '.join(STORE_SUFFIXES)}) or a samples file ({', '.join(_TABLE_SUFFIXES)})",
    )


def read_samples(path: str | Path, *, run_id: str | None = None) -> pd.DataFrame:
    """Read samples from a run store or a Parquet/CSV/JSONL file, normalised to the full schema.

    Raises
    ------
    hotmess.errors.InputError
        Missing file, unsupported type, unparseable file, missing columns or bad values — with the row.
    """
    p = Path(path)
    if not p.exists():
        raise InputError(f"{p} does not exist", hint="check the path")
    if p.is_dir():
        raise InputError(f"{p} is a directory", hint="pass a run store or a samples file inside it")
    if p.suffix.lower() in STORE_SUFFIXES:
        with RunStore(p, create=False) as store:
            df = store.samples(run_id=run_id)  # carries the runs' protocols in df.attrs
        if df.empty:
            raise InputError(
                f"{p} holds no samples" + (f" for run {run_id!r}" if run_id else ""),
                hint="run `hotmess run` first, or check --run",
            )
        return df
    df = normalize_owned([_read_table(p)], source=str(p))  # the file's columns go as they are parsed
    release_arrow_memory()  # the file's own columns are gone: give their memory back, not to the next read only
    if run_id is not None:
        df = df[df["run_id"] == run_id].reset_index(drop=True)
        if df.empty:
            raise InputError(f"{p} holds no samples for run {run_id!r}", hint="check --run")
    return df


def collapse_duplicate_samples(df: pd.DataFrame, *, protocols: dict[str, str] | None = None) -> pd.DataFrame:
    """Count once the samples that several runs of one protocol hold: same slot and seed, different ``run_id``.

    A run resumed under a new id (by an older hotmess, whose run ids also hashed transport options such as a
    timeout or a base URL) draws the same samples again: same model, task, question, context, sample index and budget
    (:data:`~hotmess.data.schema.SLOT_COLUMNS`) and the same ``seed``. Of such rows one is kept — a non-error
    row first, then the earliest ``created_at``, then the run that started first — and the others are left
    out, with a :class:`~hotmess.errors.DuplicateSamplesWarning` naming how many and which runs. Rows without
    a seed (imported data) and rows of one slot with different seeds (different samples) are all kept.

    ``protocols`` (run id → :func:`run_protocols` key; default ``df.attrs["run_protocols"]``, which
    :func:`read_samples` sets for a run store) limits this to runs with the same sampling settings: two runs
    that differ in, say, temperature draw different samples under the same seeds and are never collapsed, nor
    are imported runs or runs it does not list. Without it (a Parquet/CSV/JSONL file, where run settings are not
    known) nothing is collapsed, and the warning says which runs share slots and seeds.

    Examples
    --------
    >>> import warnings
    >>> df = pd.DataFrame({"run_id": ["a", "b", "b"], "model": "m", "task": "t", "question_id": "q",
    ...                    "context_id": 0, "sample_index": [0, 0, 1], "budget": "", "seed": [7, 7, 8],
    ...                    "error": None, "created_at": [1.0, 2.0, 2.0]})
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     out = collapse_duplicate_samples(df, protocols={"a": "p", "b": "p"})  # one protocol
    >>> out["run_id"].tolist(), caught[0].message.n_collapsed
    (['a', 'b'], 1)
    """
    cols = [*SLOT_COLUMNS, "seed"]
    if df.empty or any(c not in df.columns for c in [*cols, "run_id"]):
        return df
    if protocols is None:
        protocols = df.attrs.get("run_protocols")
    if protocols is None:  # a plain file: whether its runs shared their settings is not known
        _warn_unproven_repeats(df, cols)
        return df
    known = protocols
    # a run the mapping does not list (samples copied without their run's settings) is a protocol of its own
    run_codes, run_ids = text_codes(df["run_id"])
    names = np.array([known.get(r, "run:" + r) for r in run_ids], dtype=object)
    df = df.assign(_protocol=text_array(names, run_codes))
    cols = [*cols, "_protocol"]
    seeded = np.flatnonzero(df["seed"].notna().to_numpy())
    shared = _repeated(df, cols, seeded)
    rows = seeded[shared]  # positions of the rows whose seeded slot another row holds too
    if rows.size == 0:
        return df.drop(columns="_protocol", errors="ignore")
    sub = df.iloc[rows]
    created = pd.to_numeric(df["created_at"], errors="coerce") if "created_at" in df else pd.Series(0.0, df.index)
    run_start = created.groupby(df["run_id"].to_numpy()).min()
    order = pd.DataFrame(
        {
            "slot": sub.groupby(cols, sort=False).ngroup().to_numpy(),
            "error": sub["error"].notna().to_numpy() if "error" in sub else False,
            "created": created.iloc[rows].fillna(np.inf).to_numpy(),
            "run_start": sub["run_id"].map(run_start).fillna(np.inf).to_numpy(),
            "run": sub["run_id"].astype(str).to_numpy(),
            "pos": rows,
        }
    ).sort_values(["slot", "error", "created", "run_start", "run", "pos"], kind="stable")
    kept_run = order.groupby("slot")["run"].transform("first")
    drop = order.loc[order["run"] != kept_run, "pos"].to_numpy()
    if drop.size == 0:  # repeated slots within one run only: not this function's business
        return df.drop(columns="_protocol", errors="ignore")
    runs = tuple(sorted(order.loc[order["slot"].isin(order.loc[order["pos"].isin(drop), "slot"]), "run"].unique()))
    shown = _name_runs(runs)
    warnings.warn(
        DuplicateSamplesWarning(
            f"{drop.size} repeated sample(s) left out: runs {shown} hold the same samples (same model, task, "
            "question, context, sample index, budget and seed), each now counted once; pass --run to analyse one run",
            n_collapsed=int(drop.size),
            runs=runs,
        ),
        stacklevel=2,
    )
    keep = np.ones(len(df), dtype=bool)
    keep[drop] = False
    return df[keep].drop(columns="_protocol", errors="ignore")


def _repeated(df: pd.DataFrame, cols: list[str], rows: np.ndarray) -> np.ndarray:
    """``df.iloc[rows].duplicated(subset=cols, keep=False)`` without copying the rows: one code per column."""
    if rows.size == 0:
        return np.zeros(0, dtype=bool)
    parts = []
    for c in cols:
        codes, uniques = pd.factorize(df[c].iloc[rows], use_na_sentinel=False)  # equal values, as duplicated sees
        parts.append((codes.astype(np.int64), len(uniques)))
    return pd.Series(combine_codes(parts, sort=False, compact=False)).duplicated(keep=False).to_numpy()


def _name_runs(runs: tuple[str, ...]) -> str:
    """``'a', 'b' and 3 more``: run ids for a one-line note."""
    return ", ".join(repr(r) for r in runs[:5]) + (f" and {len(runs) - 5} more" if len(runs) > 5 else "")


def _warn_unproven_repeats(df: pd.DataFrame, cols: list[str]) -> None:
    """Say (without dropping anything) that runs of a file share slots and seeds: maybe one run under two ids."""
    seeded = np.flatnonzero(df["seed"].notna().to_numpy())
    shared = df.iloc[seeded[_repeated(df, cols, seeded)]]
    runs = tuple(sorted(shared["run_id"].astype(str).unique()))
    if len(runs) < 2:
        return
    shown = _name_runs(runs)
    warnings.warn(
        DuplicateSamplesWarning(
            f"{len(shared)} sample(s) of runs {shown} share model, task, question, context, sample index, budget "
            "and seed; this table does not say whether the runs used the same settings, so all are counted — if "
            "they are one run resumed under two ids, analyse one with --run (or analyse the run store, which knows)",
            n_collapsed=0,
            runs=runs,
        ),
        stacklevel=3,
    )


def write_samples(df: pd.DataFrame, path: str | Path) -> Path:
    """Write a samples table to a store (merging, exactly once), Parquet, CSV or JSONL, by suffix."""
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix not in STORE_SUFFIXES + _TABLE_SUFFIXES[:-1]:
        raise InputError(
            f"{p}: unsupported output type '{suffix}'",
            hint=f"use one of {', '.join(STORE_SUFFIXES + _TABLE_SUFFIXES[:-1])}",
        )
    if suffix in STORE_SUFFIXES:
        with RunStore(p) as store:
            store.write(df.to_dict("records"))
        return p
    prepare_output(p, what="samples file")
    out = df.copy()
    if suffix in (".parquet", ".pq"):
        for c in LIST_COLUMNS:
            out[c] = [None if v is None else [float(x) for x in v] for v in out[c]]
        out.to_parquet(p, index=False)
    elif suffix == ".csv":
        for c in LIST_COLUMNS:
            out[c] = [None if v is None else json.dumps([None if _isnan(x) else x for x in v]) for v in out[c]]
        out.to_csv(p, index=False)
    else:  # .jsonl, .ndjson
        out.to_json(p, orient="records", lines=True, force_ascii=False)
    return p


def _isnan(x: Any) -> bool:
    return isinstance(x, float) and math.isnan(x)
