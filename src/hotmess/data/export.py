"""Streaming export of a run store, in one fixed Arrow schema, with its questions and run configurations.

:func:`export_store` never holds more than one batch of samples in memory, whatever the store's size: it reads
the store in key order (:meth:`RunStore.iter_batches`) and appends each batch to the output. Parquet files get
:data:`ARROW_SCHEMA`, whose types follow :data:`hotmess.data.schema.COLUMNS` and never depend on whether a column
happens to be all null in the data at hand (so files of different runs concatenate and union cleanly).

Beside the samples it writes the store's other two tables: ``<stem>.questions<suffix>`` (text, options,
correct option, metadata as JSON) and ``<stem>.runs.json`` (each run's status and resolved configuration).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from hotmess.data.schema import COLUMNS
from hotmess.errors import InputError

__all__ = ["ARROW_SCHEMA", "export_store", "sidecar_paths", "to_arrow"]

_TYPES: Final = {"str": pa.string(), "int": pa.int64(), "float": pa.float64(), "bool": pa.bool_()}
ARROW_SCHEMA: Final = pa.schema(
    [pa.field(name, pa.list_(pa.float64()) if kind == "list" else _TYPES[kind]) for name, kind in COLUMNS.items()]
)
"""The Parquet schema of samples: one Arrow type per column of :data:`hotmess.data.schema.COLUMNS`."""


def _plain_list(v: Any) -> list[float | None] | None:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    return [None if (isinstance(x, float) and math.isnan(x)) else float(x) for x in v]


def to_arrow(df: pd.DataFrame) -> pa.Table:
    """A samples frame as an Arrow table in :data:`ARROW_SCHEMA` (missing columns null, extra ones dropped)."""
    arrays = []
    for field in ARROW_SCHEMA:
        if field.name not in df.columns:
            arrays.append(pa.nulls(len(df), field.type))
            continue
        col = df[field.name]
        if pa.types.is_list(field.type):
            arrays.append(pa.array([_plain_list(v) for v in col], type=field.type))
        elif pa.types.is_string(field.type):
            values = col.astype(object).where(col.notna(), None)
            arrays.append(pa.array([None if v is None else str(v) for v in values], type=field.type))
        else:
            arrays.append(pa.array(col.astype(object).where(col.notna(), None).tolist(), type=field.type))
    return pa.Table.from_arrays(arrays, schema=ARROW_SCHEMA)


def sidecar_paths(dest: Path) -> tuple[Path, Path]:
    """Where :func:`export_store` writes the questions and the run configurations beside ``dest``."""
    suffix = dest.suffix.lower()
    return dest.with_name(f"{dest.stem}.questions{suffix}"), dest.with_name(f"{dest.stem}.runs.json")


def export_store(store: str | Path, dest: str | Path, *, run_id: str | None = None, batch_size: int = 50_000) -> int:
    """Stream a run store's samples to ``dest`` (.parquet, .csv or .jsonl), plus its questions and runs.

    Returns the number of samples written. Memory is bounded by ``batch_size`` rows.
    """
    from hotmess.data.store import RunStore

    out = Path(dest)
    suffix = out.suffix.lower()
    if suffix not in (".parquet", ".pq", ".csv", ".jsonl", ".ndjson"):
        raise InputError(f"{out}: unsupported output type '{suffix}'", hint="use .parquet, .csv or .jsonl")
    n = 0
    with RunStore(store, create=False) as st:
        batches = _only_run(st.iter_batches(batch_size), run_id)
        tmp = out.with_name(out.name + ".partial")
        try:
            n = _write_batches(batches, tmp, suffix)
            tmp.replace(out)
        finally:
            tmp.unlink(missing_ok=True)
        questions, runs = st.questions(), st.runs()
    if run_id is not None:
        runs = runs[runs["run_id"] == run_id]
    q_path, r_path = sidecar_paths(out)
    _write_questions(questions, q_path, suffix)
    records = [
        {"run_id": r.run_id, "status": r.status, "created_at": r.created_at, "config": r.config}
        for r in runs.itertuples()
    ]
    r_path.write_text(json.dumps(records, indent=2, default=str), encoding="utf-8")
    return n


def _only_run(batches: Iterator[pd.DataFrame], run_id: str | None) -> Iterator[pd.DataFrame]:
    for b in batches:
        part = b if run_id is None else b[b["run_id"] == run_id]
        if not part.empty:
            yield part


def _write_batches(batches: Iterator[pd.DataFrame], path: Path, suffix: str) -> int:
    n = 0
    if suffix in (".parquet", ".pq"):
        with pq.ParquetWriter(path, ARROW_SCHEMA) as writer:
            for b in batches:
                writer.write_table(to_arrow(b))
                n += len(b)
            if n == 0:
                writer.write_table(ARROW_SCHEMA.empty_table())
        return n
    with path.open("w", encoding="utf-8", newline="") as fh:
        header = True
        for b in batches:
            frame = to_arrow(b).to_pandas()
            if suffix == ".csv":
                for c in (f.name for f in ARROW_SCHEMA if pa.types.is_list(f.type)):
                    frame[c] = [None if v is None else json.dumps(list(v)) for v in frame[c]]
                frame.to_csv(fh, index=False, header=header)
            else:
                text = frame.to_json(orient="records", lines=True, force_ascii=False)
                fh.write(text if text.endswith("\n") else text + "\n")
            header = False
            n += len(b)
        if n == 0 and suffix == ".csv":
            fh.write(",".join(ARROW_SCHEMA.names) + "\n")
    return n


def _write_questions(questions: pd.DataFrame, path: Path, suffix: str) -> None:
    q = questions.copy()
    for c in ("options", "metadata"):
        if c in q.columns:
            q[c] = [json.dumps(v, default=str) for v in q[c]]
    if suffix in (".parquet", ".pq"):
        q.to_parquet(path, index=False)
    elif suffix == ".csv":
        q.to_csv(path, index=False)
    else:
        q.to_json(path, orient="records", lines=True, force_ascii=False)
