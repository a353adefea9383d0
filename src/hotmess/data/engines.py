"""Per-question sufficient statistics computed by a database engine: DuckDB (embedded) or Apache Spark.

The samples never enter Python's memory: the engine streams them and returns a few sums per question (and
option, or test), from which :mod:`hotmess.metrics.stats` computes the same decompositions as the in-memory
path. The aggregation is written once, as the SQL in this module; only two small fragments (exploding a list
with its positions, and a list's minimum) differ between the engines' dialects.

Sources: Parquet files, folders of them and globs (read by the engine itself, in parallel, streaming), and
run stores (SQLite; streamed into DuckDB in batches, since DuckDB cannot read SQLite offline). Several
sources are one dataset; a sample key (:data:`hotmess.data.schema.KEY_COLUMNS`) present twice across them is
refused, as the store refuses it.

Rows are scored as the in-memory path scores them (:func:`hotmess.analysis.sample_kinds`): error rows are
left out; the ``kind`` column decides where set, otherwise ``test_outcomes`` makes a test vector and a
correct option with ≥ 2 options a multiple-choice question. (Older stores that mark open-ended questions only
in their questions table should be read in memory, or upgraded by a re-import.)
"""

from __future__ import annotations

import glob
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal

import pandas as pd

from hotmess._extras import install_hint
from hotmess.data.schema import KEY_COLUMNS
from hotmess.errors import InputError
from hotmess.metrics.kl import DEFAULT_DELTA

__all__ = ["GROUP", "Dialect", "EngineStats", "duckdb_stats", "spark_stats", "stats_queries"]

GROUP: Final[tuple[str, ...]] = ("kind", "model", "budget", "task", "question_id")
"""Columns of every statistics table: a question within its kind, model and budget."""
_SHARP = 1.0 - 1e-12


@dataclass(frozen=True)
class Dialect:
    """The two SQL pieces that differ between engines."""

    name: str
    explode_probs: str  # FROM clause over scored rows `s`, giving columns c (0-based position) and p (value)
    explode_tests: str  # the same for test_outcomes: columns j and y
    list_min: str  # function name: minimum of a list


DUCKDB: Final = Dialect(
    "duckdb",
    "(SELECT *, unnest(probs) AS p, unnest(range(len(probs))) AS c FROM s WHERE valid AND probs IS NOT NULL) e",
    "(SELECT *, unnest(test_outcomes) AS y, unnest(range(len(test_outcomes))) AS j FROM s "
    "WHERE kind = 'test-vector') e",
    "list_min",
)
SPARK: Final = Dialect(
    "spark",
    "(SELECT * FROM s LATERAL VIEW posexplode(probs) x AS c, p WHERE valid AND probs IS NOT NULL) e",
    "(SELECT * FROM s LATERAL VIEW posexplode(test_outcomes) x AS j, y WHERE kind = 'test-vector') e",
    "array_min",
)

_KEYS = ", ".join(GROUP)
_TABLES = ("questions", "probs", "tests", "runs")


def stats_queries(
    dialect: Dialect, *, delta: float = DEFAULT_DELTA, n_classes: int = 2, source: str = "src"
) -> dict[str, str]:
    """The SQL of every statistics table, for ``dialect``, reading the samples view ``source``.

    Returns name → query: ``scored`` (the table ``s`` of scored rows, to create first), ``n_classes`` (the
    most options of any choice question; the other queries need it), ``questions`` (one row per question, with
    the answer counts ``cnt_c`` and one-hot counts ``hot_c`` for each option c < ``n_classes``), ``probs`` (one
    row per question with probability samples: ``sum_p_c``, ``sum_log_c``, ``sum_sq``, ``n_sharp``), ``tests``
    (one row per task and test), ``runs`` (one row per task), ``rows`` (rows and error rows of the source) and
    ``duplicates`` (a sample key present more than once). Every table is keyed by :data:`GROUP`; only the
    per-question rows reach Python.
    """
    if not (delta > 0):
        raise ValueError(f"delta: expected a positive number, got {delta!r}")
    choice = "correct >= 0 AND n_options >= 2"
    tests = "test_outcomes IS NOT NULL AND size_of(test_outcomes) > 0"
    size = "len" if dialect.name == "duckdb" else "size"
    tests = tests.replace("size_of", size)
    kind = (
        f"CASE WHEN kind IS NOT NULL THEN (CASE WHEN kind = 'test-vector' AND {tests} THEN kind "
        f"WHEN kind <> 'test-vector' AND {choice} THEN kind END) "
        f"WHEN {tests} THEN 'test-vector' WHEN {choice} THEN 'multiple-choice' END"
    )
    cols = "model, budget, task, question_id, answer, correct, n_options, valid, probs, test_outcomes"
    choice_kinds = "kind IN ('multiple-choice', 'open-ended')"
    return {
        "scored": f"SELECT {kind} AS kind, {cols} FROM {source} WHERE error IS NULL",
        "rows": f"SELECT COUNT(*), SUM(CASE WHEN error IS NULL THEN 0 ELSE 1 END) FROM {source}",
        "duplicates": (
            f"SELECT {', '.join(KEY_COLUMNS)}, COUNT(*) AS n FROM {source} "
            f"GROUP BY {', '.join(KEY_COLUMNS)} HAVING COUNT(*) > 1 LIMIT 1"
        ),
        "n_classes": f"SELECT MAX(n_options) FROM s WHERE {choice_kinds}",
        "questions": (
            f"SELECT {_KEYS}, COUNT(*) AS n, SUM(CASE WHEN valid THEN 0 ELSE 1 END) AS n_invalid, "
            "MAX(n_options) AS n_options, MIN(correct) AS correct_min, MAX(correct) AS correct_max, "
            "SUM(CASE WHEN valid AND probs IS NOT NULL THEN 1 ELSE 0 END) AS n_probs"
            + "".join(
                f", SUM(CASE WHEN valid AND answer = {c} THEN 1 ELSE 0 END) AS cnt_{c}"
                f", SUM(CASE WHEN valid AND answer = {c} AND probs IS NULL THEN 1 ELSE 0 END) AS hot_{c}"
                for c in range(n_classes)
            )
            + f" FROM s WHERE {choice_kinds} GROUP BY {_KEYS}"
        ),
        "probs": (
            f"SELECT {_KEYS}, SUM(p * p) AS sum_sq, SUM(CASE WHEN p >= {_SHARP!r} THEN 1 ELSE 0 END) AS n_sharp"
            + "".join(
                f", SUM(CASE WHEN c = {c} THEN p ELSE 0 END) AS sum_p_{c}"
                f", SUM(CASE WHEN c = {c} THEN LN(GREATEST(p, 0.0) + {delta!r}) ELSE 0 END) AS sum_log_{c}"
                for c in range(n_classes)
            )
            + f" FROM {dialect.explode_probs} WHERE {choice_kinds} AND c < n_options GROUP BY {_KEYS}"
        ),
        "tests": (
            f"SELECT {_KEYS}, j, COUNT(*) AS n, SUM(y) AS sum_y, SUM(y * y) AS sum_y2 "
            f"FROM {dialect.explode_tests} GROUP BY {_KEYS}, j"
        ),
        "runs": (
            f"SELECT {_KEYS}, COUNT(*) AS n_runs, MIN({size}(test_outcomes)) AS t_min, "
            f"MAX({size}(test_outcomes)) AS t_max, "
            f"SUM(CASE WHEN {dialect.list_min}(test_outcomes) >= 1 THEN 1 ELSE 0 END) AS resolved "
            f"FROM s WHERE kind = 'test-vector' GROUP BY {_KEYS}"
        ),
    }


@dataclass(frozen=True)
class EngineStats:
    """The statistics tables an engine returned (pandas, one row per question / option / test)."""

    questions: pd.DataFrame
    probs: pd.DataFrame
    tests: pd.DataFrame
    runs: pd.DataFrame
    delta: float
    engine: str
    n_rows: int
    n_error: int

    @property
    def empty(self) -> bool:
        """No scored question of any kind."""
        return self.questions.empty and self.runs.empty


# -- sources -----------------------------------------------------------------------------------------------


def _expand(sources: Sequence[str | Path]) -> tuple[list[str], list[Path]]:
    """Parquet files (expanded from folders and globs) and run stores among ``sources``."""
    if not sources:
        raise InputError("no input given", hint="pass Parquet files, folders of them, globs, or run stores")
    parquet: list[str] = []
    stores: list[Path] = []
    for raw in sources:
        text = str(raw)
        if any(ch in text for ch in "*?["):
            hits = sorted(glob.glob(text, recursive=True))
            if not hits:
                raise InputError(f"{text} matches no file", hint="check the pattern")
            parquet.extend(h for h in hits if h.endswith(".parquet"))
            continue
        p = Path(text)
        if not p.exists():
            raise InputError(f"{p} does not exist", hint="check the path")
        if p.is_dir():
            found = sorted(str(f) for f in p.rglob("*.parquet"))
            found_stores = sorted(f for f in p.rglob("*") if f.suffix in (".sqlite", ".db") and _is_sqlite(f))
            if not found and not found_stores:
                raise InputError(f"{p} holds no Parquet files or run stores", hint="pass the files themselves")
            parquet.extend(found)
            stores.extend(found_stores)
        elif p.suffix == ".parquet":
            parquet.append(str(p))
        elif _is_sqlite(p):
            stores.append(p)
        else:
            raise InputError(
                f"{p}: the duckdb engine reads Parquet files and run stores, not '{p.suffix}'",
                hint="convert it first (hotmess convert FILE out.parquet) or use --engine memory",
            )
    return parquet, stores


def _is_sqlite(p: Path) -> bool:
    try:
        with p.open("rb") as fh:
            return fh.read(16) == b"SQLite format 3\x00"
    except OSError:
        return False


def _store_batches(store: Path, batch_size: int) -> Iterator[pd.DataFrame]:
    from hotmess.data.store import RunStore

    with RunStore(store, create=False) as st:
        yield from st.iter_batches(batch_size)


# -- DuckDB ------------------------------------------------------------------------------------------------

_COLUMNS = (*KEY_COLUMNS, "answer", "correct", "n_options", "valid", "probs", "test_outcomes", "error", "kind")


def duckdb_stats(
    sources: Sequence[str | Path],
    *,
    delta: float = DEFAULT_DELTA,
    memory_limit: str = "1GB",
    threads: int | None = None,
    batch_size: int = 200_000,
) -> EngineStats:
    """Statistics of every sample in ``sources`` (Parquet files, folders, globs, run stores) with DuckDB.

    DuckDB reads Parquet itself; run stores are streamed into a temporary on-disk DuckDB table in batches.
    ``memory_limit`` bounds DuckDB's memory (it spills to a temporary folder beyond it).
    """
    try:
        import duckdb
    except ImportError:
        raise InputError("the duckdb engine needs duckdb", hint=install_hint("scale")) from None
    parquet, stores = _expand(sources)
    with tempfile.TemporaryDirectory(prefix="hotmess-duckdb-") as tmp:
        con = duckdb.connect(str(Path(tmp) / "samples.duckdb"))
        try:
            con.execute(f"SET memory_limit = '{memory_limit}'")
            con.execute(f"SET temp_directory = '{tmp}'")
            con.execute("SET preserve_insertion_order = false")
            if threads:
                con.execute(f"SET threads = {int(threads)}")
            parts: list[str] = []
            if parquet:
                try:
                    names = set(con.execute("SELECT name FROM parquet_schema(?)", [parquet[0]]).df()["name"])
                except duckdb.Error as exc:
                    raise InputError(f"{parquet[0]} is not a readable Parquet file: {exc}", hint="check it") from None
                missing = [c for c in _COLUMNS if c not in names and c not in ("kind", "test_outcomes", "probs")]
                if missing:
                    raise InputError(
                        f"{parquet[0]} lacks columns {', '.join(missing)} of the hotmess schema",
                        hint="write it with hotmess (hotmess convert) or use --engine memory",
                    )
                files = ", ".join("'" + f.replace("'", "''") + "'" for f in parquet)
                con.execute(f"CREATE VIEW pq AS SELECT * FROM read_parquet([{files}], union_by_name = true)")
                parts.append(f"SELECT {_select(names)} FROM pq")
            if stores:
                con.execute(
                    "CREATE TABLE st (run_id VARCHAR, model VARCHAR, task VARCHAR, question_id VARCHAR, "
                    "context_id BIGINT, sample_index BIGINT, budget VARCHAR, answer BIGINT, correct BIGINT, "
                    "n_options BIGINT, valid BOOLEAN, probs DOUBLE[], test_outcomes DOUBLE[], error VARCHAR, "
                    "kind VARCHAR)"
                )
                for store in stores:
                    for batch in _store_batches(store, batch_size):
                        frame = batch.reindex(columns=list(_COLUMNS))
                        frame["probs"] = frame["probs"].map(_as_list)
                        frame["test_outcomes"] = frame["test_outcomes"].map(_as_list)
                        con.register("batch", frame)
                        con.execute(f"INSERT INTO st SELECT {', '.join(_COLUMNS)} FROM batch")
                        con.unregister("batch")
                parts.append(f"SELECT {', '.join(_COLUMNS)} FROM st")
            con.execute("CREATE VIEW src AS " + " UNION ALL ".join(parts))
            q = stats_queries(DUCKDB, delta=delta)
            _check_duplicates(con.execute(q["duplicates"]).df())
            con.execute(f"CREATE TABLE s AS {q['scored']}")
            n_rows, n_error = con.execute(q["rows"]).fetchone()  # type: ignore[misc]
            n_classes = con.execute(q["n_classes"]).fetchone()[0] or 2  # type: ignore[index]
            q = stats_queries(DUCKDB, delta=delta, n_classes=int(n_classes))
            frames = {name: con.execute(q[name]).df() for name in _TABLES}
        finally:
            con.close()
    return EngineStats(**frames, delta=delta, engine="duckdb", n_rows=int(n_rows), n_error=int(n_error or 0))


def _select(names: set[str]) -> str:
    """Parquet columns in the order of :data:`_COLUMNS`, NULL for the optional ones a file lacks."""
    typed = {"kind": "VARCHAR", "probs": "DOUBLE[]", "test_outcomes": "DOUBLE[]"}
    out = []
    for c in _COLUMNS:
        if c in names:
            out.append(f"CAST({c} AS DOUBLE[]) AS {c}" if c in ("probs", "test_outcomes") else c)
        else:
            out.append(f"CAST(NULL AS {typed[c]}) AS {c}")
    return ", ".join(out)


def _as_list(v: Any) -> list[float] | None:
    if v is None or (isinstance(v, float) and v != v):
        return None
    return [float(x) for x in v]


def _check_duplicates(dup: pd.DataFrame) -> None:
    if dup.empty:
        return
    row = dup.iloc[0]
    key = ", ".join(f"{c}={row[c]!r}" for c in KEY_COLUMNS)
    raise InputError(
        f"sample {key} is present {int(row['n'])} times across the inputs",
        hint="each sample must come from one source; drop the repeated file or store",
    )


# -- Spark -------------------------------------------------------------------------------------------------


def spark_stats(
    sources: Sequence[str | Path] | Any,
    *,
    spark: Any = None,
    delta: float = DEFAULT_DELTA,
) -> EngineStats:
    """The same statistics with Apache Spark: from Parquet paths (any URI Spark reads: ``s3a://``, ``hdfs://``,
    local) or from a Spark DataFrame in the hotmess schema.

    Parameters
    ----------
    sources
        Paths (read with ``spark.read.parquet``), or a ``pyspark.sql.DataFrame``.
    spark
        The session (default: the active one, or a new local one).
    delta
        KL smoothing δ.
    """
    try:
        from pyspark.sql import DataFrame, SparkSession
    except ImportError:
        raise InputError("the spark engine needs pyspark", hint=install_hint("spark")) from None
    session = spark or SparkSession.builder.getOrCreate()
    if isinstance(sources, DataFrame):
        df = sources
    else:
        paths = [str(s) for s in sources]
        if not paths:
            raise InputError("no input given", hint="pass Parquet paths")
        df = session.read.option("mergeSchema", "true").parquet(*paths)
    present = set(df.columns)
    missing = [c for c in _COLUMNS if c not in present and c not in ("kind", "test_outcomes", "probs")]
    if missing:
        raise InputError(
            f"the input lacks columns {', '.join(missing)} of the hotmess schema", hint="see docs/scale.md"
        )
    from pyspark.sql import functions as sf

    for c, typ in (("kind", "string"), ("probs", "array<double>"), ("test_outcomes", "array<double>")):
        df = df.withColumn(c, sf.col(c).cast(typ)) if c in present else df.withColumn(c, sf.lit(None).cast(typ))
    df.select(*_COLUMNS).createOrReplaceTempView("src")
    q = stats_queries(SPARK, delta=delta)
    _check_duplicates(session.sql(q["duplicates"]).toPandas())
    session.sql(q["scored"]).cache().createOrReplaceTempView("s")
    n_classes = session.sql(q["n_classes"]).collect()[0][0] or 2
    q = stats_queries(SPARK, delta=delta, n_classes=int(n_classes))
    frames = {name: session.sql(q[name]).toPandas() for name in _TABLES}
    n_rows, n_error = session.sql(q["rows"]).collect()[0]
    return EngineStats(**frames, delta=delta, engine="spark", n_rows=int(n_rows), n_error=int(n_error or 0))


Engine = Literal["duckdb", "spark"]
