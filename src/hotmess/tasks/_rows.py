"""Reading task files into plain records, each with a location for error messages (private).

CSV/TSV are read with the standard library so that a record's physical line is known (quoted cells may span
lines); JSONL line by line; ``.json`` as an array of objects; Parquet through pandas/pyarrow.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hotmess.errors import InputError

__all__ = ["Record", "Table", "find_column", "norm_col", "read_table"]

EXTENSIONS = {".csv": "csv", ".tsv": "tsv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json"}
EXTENSIONS |= {".parquet": "parquet", ".pq": "parquet"}


@dataclass(frozen=True, slots=True)
class Record:
    """One row: its 0-based index among the data rows, where it is (for messages), and its cells."""

    index: int
    where: str
    cells: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Table:
    """The records of one file, with its columns in file order."""

    path: Path
    columns: tuple[str, ...]
    records: tuple[Record, ...]

    def fail(self, record: Record | None, message: str, hint: str) -> InputError:
        """An :class:`InputError` naming the file and, when given, the record."""
        at = f"{self.path}, {record.where}" if record is not None else str(self.path)
        return InputError(f"{at}: {message}", hint=hint)


def norm_col(name: str) -> str:
    """Column name for matching: lower case, runs of non-alphanumerics become ``_``.

    >>> norm_col("Incorrect Answer 1"), norm_col("Writer's Difficulty Estimate")
    ('incorrect_answer_1', 'writer_s_difficulty_estimate')
    """
    return re.sub(r"[^0-9a-z]+", "_", str(name).strip().lower()).strip("_")


def find_column(columns: Iterable[str], candidates: Sequence[str]) -> str | None:
    """The first of ``columns`` whose normalised name is one of ``candidates`` (tried in candidate order)."""
    by_norm: dict[str, str] = {}
    for c in columns:
        by_norm.setdefault(norm_col(c), c)
    for cand in candidates:
        if norm_col(cand) in by_norm:
            return by_norm[norm_col(cand)]
    return None


def is_blank(value: Any) -> bool:
    """``None``, NaN, or a string of whitespace."""
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def read_table(path: str | Path, kind: str | None = None, *, header: bool = True) -> Table:
    """Read ``path`` (kind from the extension unless given). Raises :class:`InputError` on any problem.

    With ``header=False`` (CSV/TSV only) the columns are named ``"0", "1", ...``.
    """
    p = Path(path)
    if not p.exists():
        raise InputError(f"{p}: file not found", hint="check the path (relative paths start at the cwd)")
    if p.is_dir():
        raise InputError(f"{p}: is a directory, not a task file", hint="give one .csv/.jsonl/.parquet file")
    kind = kind or EXTENSIONS.get(p.suffix.lower())
    if kind is None:
        raise InputError(
            f"{p}: unknown file type {p.suffix!r}",
            hint=f"use one of {', '.join(sorted(EXTENSIONS))}, or pass the format explicitly",
        )
    if kind in ("csv", "tsv"):
        table = _read_csv(p, "\t" if kind == "tsv" else ",", header)
    elif kind == "jsonl":
        table = _read_jsonl(p)
    elif kind == "json":
        table = _read_json(p)
    elif kind == "parquet":
        table = _read_parquet(p)
    else:  # pragma: no cover - guarded by EXTENSIONS
        raise InputError(f"{p}: unknown file kind {kind!r}", hint="use csv, tsv, jsonl, json or parquet")
    if not table.records:
        raise InputError(f"{p}: no rows", hint="the file is empty or has only a header; add questions")
    return table


def _read_text(p: Path) -> str:
    try:
        return p.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as err:
        raise InputError(f"{p}: not UTF-8 text (byte {err.start})", hint="re-save the file as UTF-8") from None
    except OSError as err:
        raise InputError(f"{p}: cannot read ({err.strerror})", hint="check the file's permissions") from None


def _read_csv(p: Path, delimiter: str, header: bool) -> Table:
    text = _read_text(p)
    if not text.strip():
        raise InputError(f"{p}: empty file", hint="add a header row and one row per question")
    # the csv module refuses fields over 131,072 characters by default; a long question or passage is no error
    # (the whole file is in memory already, so no field can be longer than it)
    csv.field_size_limit(max(csv.field_size_limit(), len(text) + 1))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    records: list[Record] = []
    columns: tuple[str, ...] = ()
    prev_line = 0
    try:
        for row in reader:
            start, prev_line = prev_line + 1, reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if header and not columns:
                columns = tuple(c.strip() for c in row)
                dup = sorted({c for c in columns if columns.count(c) > 1})
                if dup:
                    raise InputError(f"{p}, line {start}: duplicate column name(s) {dup}", hint="rename the columns")
                continue
            if not columns:
                columns = tuple(str(i) for i in range(len(row)))
            if len(row) > len(columns):
                raise InputError(
                    f"{p}, line {start}: {len(row)} cells but {len(columns)} columns",
                    hint="quote cells that contain the delimiter",
                )
            cells = {c: (row[i] if i < len(row) else "") for i, c in enumerate(columns)}
            records.append(Record(len(records), f"line {start} (data row {len(records) + 1})", cells))
    except csv.Error as err:
        raise InputError(f"{p}, line {reader.line_num}: malformed CSV ({err})", hint="fix the quoting") from None
    return Table(p, columns, tuple(records))


def _as_object(p: Path, value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InputError(
            f"{p}, {where}: expected a JSON object, got {type(value).__name__}",
            hint='write one object per question, e.g. {"question": ..., "answer": ...}',
        )
    return value


def _columns_of(records: Sequence[Record]) -> tuple[str, ...]:
    cols: dict[str, None] = {}
    for r in records:
        cols.update(dict.fromkeys(r.cells))
    return tuple(cols)


def _read_jsonl(p: Path) -> Table:
    records: list[Record] = []
    for lineno, line in enumerate(_read_text(p).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as err:
            raise InputError(
                f"{p}, line {lineno}: invalid JSON ({err.msg} at column {err.colno})",
                hint="each line must be one complete JSON object",
            ) from None
        records.append(Record(len(records), f"line {lineno}", _as_object(p, value, f"line {lineno}")))
    return Table(p, _columns_of(records), tuple(records))


def _read_json(p: Path) -> Table:
    try:
        value = json.loads(_read_text(p))
    except json.JSONDecodeError as err:
        raise InputError(
            f"{p}, line {err.lineno}: invalid JSON ({err.msg})", hint="fix the JSON, or use JSONL"
        ) from None
    if isinstance(value, dict) and isinstance(value.get("questions"), list):
        value = value["questions"]
    if not isinstance(value, list):
        raise InputError(f"{p}: expected a JSON array of objects", hint="or write JSONL, one object a line")
    records = [Record(i, f"item {i}", _as_object(p, v, f"item {i}")) for i, v in enumerate(value)]
    return Table(p, _columns_of(records), tuple(records))


def _read_parquet(p: Path) -> Table:
    import pandas as pd

    try:
        df = pd.read_parquet(p)
    except Exception as err:  # pyarrow raises several unrelated types
        raise InputError(f"{p}: cannot read Parquet ({err})", hint="check the file is Parquet") from None
    columns = tuple(str(c) for c in df.columns)
    records = []
    for i, row in enumerate(df.itertuples(index=False, name=None)):
        cells = {c: _plain(v) for c, v in zip(columns, row, strict=True)}
        records.append(Record(i, f"data row {i + 1}", cells))
    return Table(p, columns, tuple(records))


def _plain(value: Any) -> Any:
    """numpy scalars/arrays from Parquet as plain Python values."""
    if hasattr(value, "tolist"):
        return value.tolist()
    return value
