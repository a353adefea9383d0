"""The SQLite run store: where every sample lands, exactly once.

One file holds any number of runs. Sampling writes into it batch by batch (one transaction per batch, WAL
journal, so a killed process loses at most the batch in flight and never corrupts what is there); analysis
and export read from it. Writing a sample whose key is already stored does nothing — unless the stored row
is an *error row* (a failure that survived retries), which a later successful sample replaces, and which a
later failure updates (its message and time). A good sample is never replaced.

Opening a file checks, before writing anything, that it is empty or a hotmess store: another application's
SQLite file (even one with a ``samples`` table of its own) is refused and left exactly as it was.

Older stores stay usable. A store of an older schema version (see :data:`ADDED_COLUMNS`) is read as it is, the
columns it lacks reading as null, even when the file is read-only; opening it for writing upgrades it first —
the missing columns added and the version raised, in one write transaction that waits for other processes —
and a store that cannot be upgraded (a read-only file) is still read, and refuses only writes.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import hashlib
import json
import math
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from hotmess.data._paths import prepare_output
from hotmess.data.schema import CHOICE_COLUMNS, COLUMNS, KEY_COLUMNS, LIST_COLUMNS, Sample
from hotmess.errors import StoreError

__all__ = ["ADDED_COLUMNS", "ROUND_COLUMN", "SCHEMA_VERSION", "RunStore", "run_protocols"]

SCHEMA_VERSION = 2
#: Schema version -> the ``samples`` columns it added (an older store lacks them until it is upgraded).
ADDED_COLUMNS: dict[int, tuple[str, ...]] = {2: ("length_source", "finish_reason", "kind")}
#: An optional ``samples`` column, not part of the sample schema: the round of an adaptive run
#: (:mod:`hotmess.sampling.adaptive`) that drew the sample. Added by the first write that gives a round, without
#: changing the schema version (a store without it, or an older hotmess, reads the samples as before);
#: :meth:`RunStore.sample_rounds` reads it.
ROUND_COLUMN = "round"
#: How long opening or writing a store waits for another process that holds it.
_BUSY_SECONDS = 30.0

_SQL_TYPES = {"str": "TEXT", "int": "INTEGER", "float": "REAL", "bool": "INTEGER", "list": "TEXT"}
_NOT_NULL = {*KEY_COLUMNS, "n_options", "correct", "answer", "valid"}
_VALUE_COLUMNS = tuple(c for c in COLUMNS if c not in KEY_COLUMNS)
_NAMES = list(COLUMNS)
_VALUE_INDEX = tuple(_NAMES.index(c) for c in _VALUE_COLUMNS)
_KEY_INDEX = tuple(_NAMES.index(c) for c in KEY_COLUMNS)
_ERROR, _CREATED = _NAMES.index("error"), _NAMES.index("created_at")
_SAMPLE_FILE_SUFFIXES = (".parquet", ".pq", ".csv", ".tsv", ".jsonl", ".ndjson", ".json")


def _ddl() -> str:
    cols = ",\n  ".join(
        f"{name} {_SQL_TYPES[kind]}{' NOT NULL' if name in _NOT_NULL else ''}" for name, kind in COLUMNS.items()
    )
    return f"""
CREATE TABLE IF NOT EXISTS samples (
  {cols},
  PRIMARY KEY ({", ".join(KEY_COLUMNS)})
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS runs (
  run_id TEXT PRIMARY KEY,
  created_at REAL NOT NULL,
  updated_at REAL NOT NULL,
  status TEXT NOT NULL,
  config TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS questions (
  task TEXT NOT NULL,
  question_id TEXT NOT NULL,
  text TEXT,
  options TEXT,
  correct INTEGER,
  metadata TEXT,
  PRIMARY KEY (task, question_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


def _encode_list(v: Any) -> str | None:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    return json.dumps([None if isinstance(x, float) and math.isnan(x) else x for x in list(v)])


def _decode_list(v: Any) -> list[Any] | None:
    if v is None or (isinstance(v, float) and math.isnan(v)):  # SQL NULL reads as NaN in a str column
        return None
    return [float("nan") if x is None else x for x in json.loads(v)]


def _create_file(path: Path) -> bool:
    """Create the empty store file (True), naming the reason when the folder does not allow it."""
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
    except FileExistsError:  # created meanwhile by another process: open it like any existing store
        return False
    except OSError as exc:
        reason = {
            errno.EACCES: "permission denied",
            errno.EPERM: "permission denied",
            errno.EROFS: "read-only file system",
            errno.ENOENT: "the folder does not accept new files",
        }.get(exc.errno or 0, (exc.strerror or type(exc).__name__).lower())
        raise StoreError(
            f"cannot write the run store at {path}: {reason}",
            hint="choose a writable location for the run store, or fix the folder's permissions",
        ) from None
    return True


@functools.cache
def _expected_columns() -> dict[str, frozenset[str]]:
    """Table -> columns of a hotmess store (read from the DDL itself)."""
    con = sqlite3.connect(":memory:")
    try:
        con.executescript(_ddl())
        tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {t: frozenset(_columns(con, t)) for t in tables}
    finally:
        con.close()


def _added_since(version: int) -> set[str]:
    """``samples`` columns that schema versions after ``version`` added."""
    return {c for v, cols in ADDED_COLUMNS.items() if v > version for c in cols}


def _check_own(conn: sqlite3.Connection, path: Path, objects: dict[str, str]) -> int:
    """The store's schema version; raise unless it is a hotmess store this version can use. Writes nothing."""
    tables = {name for name, kind in objects.items() if kind == "table"}
    version: str | None = None
    if "meta" in tables and {"key", "value"} <= _columns(conn, "meta"):
        row = conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        version = None if row is None else str(row[0])
    if version is None:
        names = ", ".join(sorted(objects))
        raise sqlite3.DatabaseError(f"it holds other tables ({names[:100]}) and no hotmess schema version")
    if not version.isdigit():
        raise sqlite3.DatabaseError(f"its schema version {version[:20]!r} is not a hotmess one")
    if int(version) > SCHEMA_VERSION:
        raise StoreError(
            f"{path} has store schema version {version}, newer than this hotmess ({SCHEMA_VERSION})",
            hint="upgrade hotmess",
        )
    expected = _expected_columns()
    later = _added_since(int(version))  # an older store lacks these until it is upgraded
    for table in sorted((expected.keys() & tables) | {"samples"}):
        missing = expected[table] - _columns(conn, table) - (later if table == "samples" else set())
        if missing:
            raise sqlite3.DatabaseError(f"its {table} table lacks the column(s) {', '.join(sorted(missing))[:100]}")
    return int(version)


def _columns(conn: sqlite3.Connection, table: str) -> set[str]:
    return {r[1] for r in conn.execute("SELECT * FROM pragma_table_info(?)", (table,))}


def _open_error(path: Path, exc: sqlite3.DatabaseError, *, create: bool) -> StoreError:
    """The one-line error for a database that cannot be opened, read or written."""
    text = str(exc)
    if isinstance(exc, sqlite3.OperationalError) and any(
        s in text for s in ("unable to open", "readonly", "read-only")
    ):
        return StoreError(
            f"cannot {'write' if create else 'read'} the run store at {path}: {text}",
            hint="check the permissions of the file and its folder, or choose another location for the run store",
        )
    if isinstance(exc, sqlite3.OperationalError) and "locked" in text:
        return StoreError(
            f"the run store at {path} stayed locked by another process for {_BUSY_SECONDS:g} s ({text})",
            hint="wait for the other process (another `hotmess run` or an open SQLite shell) and try again",
        )
    return StoreError(
        f"{path} is not a hotmess run store ({text})",
        hint="pass a .sqlite file written by hotmess, or a .parquet/.csv/.jsonl samples file",
    )


class RunStore:
    """A SQLite file of samples, runs and questions.

    Parameters
    ----------
    path
        The store file; created (with its parent directory) when ``create`` is true.
    create
        Create the file if missing; otherwise a missing file is a :class:`~hotmess.errors.StoreError`.

    Examples
    --------
    >>> import tempfile, os
    >>> d = tempfile.mkdtemp()
    >>> with RunStore(os.path.join(d, "runs.sqlite")) as store:
    ...     n_new = store.write([Sample(model="m", task="t", question_id="q", context_id=0, sample_index=0,
    ...                         n_options=2, correct=0, answer=0, valid=True)])
    ...     len(store)
    1
    """

    def __init__(self, path: str | Path, *, create: bool = True) -> None:
        self.path = Path(path)
        created = False
        #: ``samples`` columns this (older, not yet upgraded) store lacks: read as null, written after upgrading.
        self._absent: frozenset[str] = frozenset()
        if self.path.is_dir():
            raise StoreError(
                f"{self.path} is not a hotmess run store (it is a directory)", hint="give a file name for the run store"
            )
        if not self.path.exists():
            if not create:
                raise StoreError(f"run store {self.path} does not exist", hint="check the path")
            if self.path.suffix.lower() in _SAMPLE_FILE_SUFFIXES:  # never a SQLite file under a table's name
                raise StoreError(
                    f"{self.path} is named like a samples file, not a run store",
                    hint="give the run store a .sqlite name (export samples later with `hotmess convert`)",
                )
            prepare_output(self.path, what="run store", error=StoreError)
            created = _create_file(self.path)
        try:
            self._conn = sqlite3.connect(self.path, timeout=_BUSY_SECONDS, check_same_thread=False)
            self._open(create)
        except BaseException as exc:
            if hasattr(self, "_conn"):
                self._conn.close()
            if created and not (isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc)):
                # ours alone: remove what we created (a lock means another process opened it too: leave it)
                self.path.unlink(missing_ok=True)
            if isinstance(exc, sqlite3.DatabaseError):
                raise _open_error(self.path, exc, create=create) from None
            raise
        cols = ", ".join(COLUMNS)
        marks = ", ".join("?" for _ in COLUMNS)
        updates = ", ".join(f"{c}=excluded.{c}" for c in _VALUE_COLUMNS)
        self._insert = (  # new samples, and good samples replacing error rows
            f"INSERT INTO samples ({cols}) VALUES ({marks}) "
            f"ON CONFLICT ({', '.join(KEY_COLUMNS)}) DO UPDATE SET {updates} "
            "WHERE samples.error IS NOT NULL AND excluded.error IS NULL"
        )
        self._refail = (  # a later failure updates an error row: its message, time and the rest
            f"UPDATE samples SET {', '.join(f'{c}=?' for c in _VALUE_COLUMNS)} "
            f"WHERE {' AND '.join(f'{c}=?' for c in KEY_COLUMNS)} AND error IS NOT NULL AND created_at < ?"
        )

    def _open(self, create: bool) -> None:
        """Check the file is a hotmess store (or empty) before writing anything, then make what is missing.

        A complete store is opened without writing (a reader never waits for a writer, and a store on a
        read-only medium stays readable); a new or incomplete one gets its tables in one write transaction,
        retried while another process (creating the same store at the same moment) holds the file. A complete
        store of an older schema version is read as it is; opened with ``create`` (for writing) it is upgraded
        first (:meth:`_upgrade`), and when that fails (a read-only file) it stays readable and the first
        :meth:`write` says why it cannot write.
        """
        objects = self._conn.execute("SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'").fetchall()
        if objects:
            version = _check_own(self._conn, self.path, {name: kind for kind, name in objects})
            if {"samples", "runs", "questions", "meta"} <= {name for _, name in objects}:
                # complete (the WAL journal mode is kept in the file); an older one is read as it is, and
                # upgraded when opened for writing
                self._absent = frozenset(_expected_columns()["samples"] - _columns(self._conn, "samples"))
                if create and (version < SCHEMA_VERSION or self._absent):
                    self._try_upgrade()
                return
        elif not create:  # opening for reading must not turn an empty file into a store
            raise sqlite3.DatabaseError("the file is empty")
        if not create:
            return

        def make() -> None:
            # switching a new file to WAL needs it to itself: SQLite answers "locked" at once instead of
            # waiting, so wait here; IMMEDIATE takes the write lock before the DDL (a deferred BEGIN would
            # fail at once when it upgrades a stale read snapshot)
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.executescript(
                f"BEGIN IMMEDIATE;{_ddl()}INSERT OR IGNORE INTO meta VALUES ('schema_version', '{SCHEMA_VERSION}');"
                "COMMIT;"
            )

        self._while_locked(make)
        self._absent = frozenset(_expected_columns()["samples"] - _columns(self._conn, "samples"))
        if self._absent:  # an older store completed by this call (its tables were made by CREATE IF NOT EXISTS)
            self._upgrade()

    def _while_locked(self, step: Any) -> None:
        """Run the write transaction ``step()``, again while another process holds the file (at most
        ``_BUSY_SECONDS``); a transaction left open by a failure is rolled back."""
        deadline = time.monotonic() + _BUSY_SECONDS
        while True:
            try:
                step()
                return
            except sqlite3.OperationalError as exc:
                if self._conn.in_transaction:
                    self._conn.rollback()
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def _upgrade(self) -> None:
        """Bring an older store to :data:`SCHEMA_VERSION`: add the missing ``samples`` columns, raise the version.

        One write transaction (``BEGIN IMMEDIATE``, retried while another process holds the file), which reads
        the columns again inside it: another process may have upgraded the store meanwhile.
        """

        def step() -> None:
            self._conn.execute("BEGIN IMMEDIATE")
            have = _columns(self._conn, "samples")
            for name in COLUMNS:  # schema order; ALTER TABLE appends (reads and writes name their columns)
                if name not in have:
                    self._conn.execute(f"ALTER TABLE samples ADD COLUMN {name} {_SQL_TYPES[COLUMNS[name]]}")
            row = self._conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
            if row is None or not str(row[0]).isdigit() or int(row[0]) < SCHEMA_VERSION:
                self._conn.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
            self._conn.execute("COMMIT")

        self._while_locked(step)
        self._absent = frozenset()

    def _try_upgrade(self) -> None:
        """Upgrade the store; if it cannot be written (read-only, or held too long), keep reading it as it is."""
        with contextlib.suppress(sqlite3.OperationalError):  # writing says why, if it comes to that
            self._upgrade()

    # -- context management -------------------------------------------------------------------------------
    def close(self) -> None:
        """Close the connection (checkpointing the WAL)."""
        self._conn.close()

    def __enter__(self) -> RunStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- samples --------------------------------------------------------------------------------------------
    def write(self, samples: Iterable[Sample | Mapping[str, Any]], *, sample_round: int | None = None) -> int:
        """Write a batch of samples in one transaction; returns how many were new or replaced error rows.

        A stored good sample is never replaced. A stored error row is replaced by a good sample (counted) or
        updated by a later failure (message and ``created_at``; not counted: no new sample). ``sample_round`` (an
        adaptive run's round) is recorded in the optional :data:`ROUND_COLUMN` of the rows written.
        """
        if self._absent:
            self._upgrade_for_writing()
        if sample_round is not None:
            self._ensure_round_column()
        now = time.time()
        rows = []
        for s in samples:
            row = s.to_row() if isinstance(s, Sample) else dict(s)
            for name, allowed in CHOICE_COLUMNS.items():
                if _plain(row.get(name), "str") not in (None, *allowed):
                    raise StoreError(
                        f"a sample could not be stored: {name} {row[name]!r} is not one of {', '.join(allowed)}",
                        hint=f"use {', '.join(allowed)}, or None when unknown",
                    )
            if not row.get("created_at"):
                row["created_at"] = now
            rows.append(
                tuple(
                    _encode_list(row.get(c)) if c in LIST_COLUMNS else _plain(row.get(c), COLUMNS[c]) for c in COLUMNS
                )
            )
        if not rows:
            return 0
        try:
            with self._conn:
                before = self._conn.total_changes
                self._conn.executemany(self._insert, rows)
                n_new = self._conn.total_changes - before
                if (
                    sample_round is not None
                ):  # rows just inserted (or replacing error rows) and error rows of this batch
                    keys = " AND ".join(f"{c}=?" for c in KEY_COLUMNS)
                    self._conn.executemany(
                        f'UPDATE samples SET "{ROUND_COLUMN}"=? WHERE {keys} AND "{ROUND_COLUMN}" IS NULL',
                        [(int(sample_round), *(r[i] for i in _KEY_INDEX)) for r in rows],
                    )
                failed = [r for r in rows if r[_ERROR] is not None]
                if failed:
                    self._conn.executemany(
                        self._refail,
                        [(*(r[i] for i in _VALUE_INDEX), *(r[i] for i in _KEY_INDEX), r[_CREATED]) for r in failed],
                    )
                return n_new
        except sqlite3.IntegrityError as exc:
            raise StoreError(f"a sample could not be stored: {exc}", hint="every key column must be set") from None

    def _upgrade_for_writing(self) -> None:
        """Upgrade an older store before its first sample is written; a one-line StoreError when it cannot be."""
        try:
            self._upgrade()
        except sqlite3.OperationalError as exc:
            raise StoreError(
                f"cannot write to the run store at {self.path}: it has an older schema (without the column(s) "
                f"{', '.join(sorted(self._absent))}) and upgrading it failed: {exc}",
                hint="make the file writable (reading it needs no upgrade), or write into a new run store",
            ) from None

    def _ensure_round_column(self) -> None:
        """Add the optional :data:`ROUND_COLUMN` to ``samples`` if missing (one write transaction)."""
        if ROUND_COLUMN in _columns(self._conn, "samples"):
            return

        def step() -> None:
            self._conn.execute("BEGIN IMMEDIATE")
            if ROUND_COLUMN not in _columns(self._conn, "samples"):  # another process may have added it
                self._conn.execute(f'ALTER TABLE samples ADD COLUMN "{ROUND_COLUMN}" INTEGER')
            self._conn.execute("COMMIT")

        try:
            self._while_locked(step)
        except sqlite3.OperationalError as exc:
            raise StoreError(
                f"cannot record sampling rounds in the run store at {self.path}: {exc}",
                hint="make the file writable, or write into a new run store",
            ) from None

    def sample_rounds(self, run_id: str | None = None) -> pd.DataFrame:
        """The round of each stored sample (adaptive runs): the key columns and ``round`` (null: not recorded).

        A store without the optional column (no adaptive run wrote into it) gives null rounds.
        """
        have = ROUND_COLUMN in _columns(self._conn, "samples")
        col = f'"{ROUND_COLUMN}"' if have else "NULL"
        sql = f"SELECT {', '.join(KEY_COLUMNS)}, {col} AS round FROM samples"
        args: tuple[Any, ...] = ()
        if run_id is not None:
            sql += " WHERE run_id = ?"
            args = (run_id,)
        df = pd.read_sql_query(sql + f" ORDER BY {', '.join(KEY_COLUMNS)}", self._conn, params=args)
        df["round"] = df["round"].astype("Int64")
        return df

    @property
    def schema_version(self) -> int:
        """The store's schema version as the file says (older stores are upgraded when opened for writing)."""
        row = self._conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        return int(row[0])

    def _select(self) -> str:
        """The select list of every schema column; columns an older store lacks read as null."""
        return ", ".join(f"NULL AS {c}" if c in self._absent else c for c in COLUMNS)

    def completed_keys(self, run_id: str | None = None) -> set[tuple[Any, ...]]:
        """Keys of stored samples that are not error rows (what a resumed run skips)."""
        sql = f"SELECT {', '.join(KEY_COLUMNS)} FROM samples WHERE error IS NULL"
        args: tuple[Any, ...] = ()
        if run_id is not None:
            sql += " AND run_id = ?"
            args = (run_id,)
        return {tuple(r) for r in self._conn.execute(sql, args)}

    @property
    def connection(self) -> sqlite3.Connection:
        """The store's SQLite connection (for the sampler's work claims, which live in the same file)."""
        return self._conn

    def count_samples(self, run_id: str, *, model: str | None = None, task: str | None = None) -> int:
        """How many samples of ``run_id`` (and ``model``, ``task`` when given) are stored, error rows excluded."""
        sql, args = "SELECT COUNT(*) FROM samples WHERE run_id=? AND error IS NULL", [run_id]
        for column, value in (("model", model), ("task", task)):
            if value is not None:
                sql += f" AND {column}=?"
                args.append(value)
        return int(self._conn.execute(sql, args).fetchone()[0])

    def __len__(self) -> int:
        return int(self._conn.execute("SELECT COUNT(*) FROM samples").fetchone()[0])

    def samples(self, *, run_id: str | Sequence[str] | None = None, include_errors: bool = True) -> pd.DataFrame:
        """All samples (optionally of some runs) as a DataFrame with the columns of the schema."""
        sql = f"SELECT {self._select()} FROM samples"
        where, args = [], []
        if run_id is not None:
            ids = [run_id] if isinstance(run_id, str) else list(run_id)
            where.append(f"run_id IN ({', '.join('?' for _ in ids)})")
            args.extend(ids)
        if not include_errors:
            where.append("error IS NULL")
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += f" ORDER BY {', '.join(KEY_COLUMNS)}"
        df = _decode_frame(pd.read_sql_query(sql, self._conn, params=args))
        # which runs draw the same samples: analyses count a repeated sample once only between those
        runs = self.runs()
        df.attrs["run_protocols"] = run_protocols(runs)
        adaptive = sorted(
            str(r)
            for r, c in zip(runs.get("run_id", ()), runs.get("config", ()), strict=True)
            if isinstance(c, dict) and c.get("target_ci") is not None
        )
        if adaptive:  # sampled round by round, unequally per question: analyses say so (summarize_samples)
            df.attrs["adaptive_runs"] = adaptive
        # which questions are open-ended (scored right/wrong as two options): analyses never pool them with
        # multiple-choice questions (hotmess.analysis.sample_kinds)
        df.attrs["question_kinds"] = self.question_kinds()
        return df

    def question_kinds(self) -> dict[str, dict[str, str]]:
        """``{task: {question_id: kind}}`` for questions whose metadata names a kind (e.g. ``"open-ended"``).

        Plain string keys, so the mapping travels with a Parquet export (pandas keeps ``DataFrame.attrs``).
        """
        rows = self._conn.execute(
            "SELECT task, question_id, json_extract(metadata, '$.kind') FROM questions "
            "WHERE json_valid(metadata) AND json_extract(metadata, '$.kind') IS NOT NULL"
        ).fetchall()
        out: dict[str, dict[str, str]] = {}
        for t, q, k in rows:
            out.setdefault(str(t), {})[str(q)] = str(k)
        return out

    def iter_batches(self, batch_size: int = 10_000) -> Iterator[pd.DataFrame]:
        """Samples in key order, ``batch_size`` rows at a time (for exports that must not load it all)."""
        sql = f"SELECT {self._select()} FROM samples ORDER BY {', '.join(KEY_COLUMNS)}"
        for df in pd.read_sql_query(sql, self._conn, chunksize=batch_size):  # one query, read in chunks
            if not df.empty:  # an empty store gives one empty chunk
                yield _decode_frame(df)

    # -- runs and questions ---------------------------------------------------------------------------------
    def save_run(self, run_id: str, config: Mapping[str, Any], *, status: str = "running") -> None:
        """Record (or update) a run's resolved configuration and status."""
        now = time.time()
        text = json.dumps(config, sort_keys=True, default=str)
        with self._conn:
            self._conn.execute(
                "INSERT INTO runs VALUES (?, ?, ?, ?, ?) ON CONFLICT(run_id) DO UPDATE SET "
                "updated_at=excluded.updated_at, status=excluded.status, config=excluded.config",
                (run_id, now, now, status, text),
            )

    def set_status(self, run_id: str, status: str) -> None:
        """Update a run's status ("running", "complete", "interrupted", "failed")."""
        with self._conn:
            self._conn.execute("UPDATE runs SET status=?, updated_at=? WHERE run_id=?", (status, time.time(), run_id))

    def runs(self) -> pd.DataFrame:
        """One row per run: run_id, created_at, updated_at, status, config (parsed dict)."""
        df = pd.read_sql_query("SELECT * FROM runs ORDER BY created_at", self._conn)
        df["config"] = [json.loads(c) for c in df["config"]]
        return df

    def run_config(self, run_id: str) -> dict[str, Any] | None:
        """The saved configuration of ``run_id``, or None."""
        row = self._conn.execute("SELECT config FROM runs WHERE run_id=?", (run_id,)).fetchone()
        return None if row is None else dict(json.loads(row[0]))

    def save_questions(self, rows: Iterable[Mapping[str, Any]]) -> None:
        """Record question texts, options and metadata (task, question_id, text, options, correct, metadata)."""
        data = [
            (
                r["task"],
                str(r["question_id"]),
                r.get("text"),
                json.dumps(list(r.get("options") or [])),
                r.get("correct"),
                json.dumps(r.get("metadata") or {}, default=str),
            )
            for r in rows
        ]
        with self._conn:
            self._conn.executemany("INSERT OR REPLACE INTO questions VALUES (?, ?, ?, ?, ?, ?)", data)

    def questions(self) -> pd.DataFrame:
        """Stored questions with ``options`` and ``metadata`` parsed."""
        df = pd.read_sql_query("SELECT * FROM questions ORDER BY task, question_id", self._conn)
        df["options"] = [json.loads(v) if v else [] for v in df["options"]]
        df["metadata"] = [json.loads(v) if v else {} for v in df["metadata"]]
        return df


def _decode_frame(df: pd.DataFrame) -> pd.DataFrame:
    """Rows read from the samples table with the schema's dtypes: lists decoded, ``valid`` bool, counts Int64."""
    for c in LIST_COLUMNS:
        df[c] = [_decode_list(v) for v in df[c]]
    df["valid"] = df["valid"].astype(bool)
    for c in ("seed", "output_tokens", "reasoning_tokens", "actions"):
        df[c] = df[c].astype("Int64")
    for c in (*CHOICE_COLUMNS, "finish_reason"):  # null as None (an all-null column may read as NaN)
        df[c] = df[c].astype(object).where(df[c].notna(), None)
    return df


def _plain(v: Any, kind: str) -> Any:
    """Python scalar suitable for sqlite from a value that may be a numpy/pandas scalar or NA."""
    if v is None:
        return None
    try:
        if pd.isna(v):
            return None
    except (TypeError, ValueError):
        pass
    if kind == "int":
        return int(v)
    if kind == "bool":
        return int(bool(v))
    if kind == "float":
        return float(v)
    return str(v)


def run_protocols(runs: pd.DataFrame) -> dict[str, str]:
    """A key per run that is equal for runs whose samples are the same draws: the hash of the run's identity.

    ``runs`` is :meth:`RunStore.runs` (``run_id`` and the saved ``config``). Runs sampled by ``hotmess run``
    get the hash of :func:`hotmess.sampling.config.identity_of` (their sampling settings without transport
    options); any other run (an import) gets its own id, so that it is never taken for another.
    """
    from hotmess.sampling.config import identity_of

    out: dict[str, str] = {}
    for run_id, config in zip(runs.get("run_id", ()), runs.get("config", ()), strict=True):
        out[str(run_id)] = "run:" + str(run_id)
        if isinstance(config, dict) and {"model", "task", "n_contexts", "samples_per_context"} <= config.keys():
            try:
                ident = identity_of(config)
                # an adaptive run draws the same slot with the same seed and prompt as a fixed run: its samples
                # are the same draws, counted once between the two
                ident.pop("adaptive", None)
                text = json.dumps(ident, sort_keys=True, default=str)
            except (TypeError, ValueError, AttributeError):  # a hand-edited or foreign config: its own protocol
                continue
            out[str(run_id)] = "protocol:" + hashlib.sha256(text.encode()).hexdigest()[:16]
    return out
