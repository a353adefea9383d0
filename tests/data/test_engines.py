"""DuckDB and Spark statistics give the in-memory numbers: KL, Brier, 0/1, hard-KL, test vectors, intervals."""

from __future__ import annotations

import importlib.util
import shutil
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hotmess.analysis import summarize_samples
from hotmess.analysis.scale import summarize_stats
from hotmess.analysis.summary import TableSummary
from hotmess.data import read_samples, write_samples
from hotmess.data.engines import duckdb_stats
from hotmess.data.io import normalize_samples
from hotmess.errors import InputError

pytestmark = pytest.mark.filterwarnings("ignore")
duckdb = pytest.importorskip("duckdb")


def mixed_samples(seed: int, *, probs: bool = True, tests: bool = True, n_q: int = 30) -> pd.DataFrame:
    """Ragged counts, invalid answers, probability samples, open-ended rows, test vectors and error rows."""
    rng = np.random.default_rng(seed)
    rows = []
    for model in ("m1", "m2"):
        for q in range(n_q):
            k = int(rng.integers(2, 6))
            correct = int(rng.integers(0, k))
            kind = "open-ended" if q % 7 == 3 else None
            if kind:
                k, correct = 2, 0
            budget = "low" if q % 2 else "high"
            n = int(rng.integers(1, 13))
            soft = probs and q % 5 == 1
            for s in range(n):
                a = int(rng.integers(-1, k))
                row = {
                    "run_id": "r",
                    "model": model,
                    "task": "t",
                    "question_id": f"q{q:03d}",
                    "context_id": s % 3,
                    "sample_index": s // 3,
                    "budget": budget,
                    "n_options": k,
                    "correct": correct,
                    "answer": a,
                    "valid": a >= 0,
                    "probs": None,
                    "kind": kind,
                    "error": None,
                    "test_outcomes": None,
                }
                if soft and a >= 0:
                    p = rng.dirichlet(np.ones(k))
                    row["probs"], row["answer"] = tuple(float(x) for x in p), int(np.argmax(p))
                if s == 5 and q % 4 == 0:
                    row.update(error="timeout", answer=-1, valid=False)
                rows.append(row)
        if tests:
            for q in range(6):
                T = int(rng.integers(1, 5))
                for r in range(int(rng.integers(2, 7))):
                    rows.append(
                        {
                            "run_id": "r",
                            "model": model,
                            "task": "swe",
                            "question_id": f"s{q}",
                            "context_id": 0,
                            "sample_index": r,
                            "budget": "",
                            "n_options": 0,
                            "correct": -1,
                            "answer": -1,
                            "valid": True,
                            "probs": None,
                            "kind": "test-vector",
                            "error": None,
                            "test_outcomes": tuple(int(x) for x in rng.integers(0, 2, T)),
                        }
                    )
    return normalize_samples(pd.DataFrame(rows))


def assert_same(a: TableSummary, b: TableSummary, tol: float = 1e-9) -> None:
    assert [k for k, _ in a.kinds] == [k for k, _ in b.kinds]
    pairs = [*zip([s for _, s in a.kinds], [s for _, s in b.kinds], strict=True)]
    assert [lab for lab, _ in a.groups] == [lab for lab, _ in b.groups]
    pairs += [*zip([s for _, s in a.groups], [s for _, s in b.groups], strict=True)]
    for x, y in pairs:
        assert (x.n_questions, x.n_samples, x.n_invalid) == (y.n_questions, y.n_samples, y.n_invalid)
        for f in ("bias", "variance", "error", "accuracy", "incoherence", "expected_accuracy"):
            vx, vy = getattr(x, f), getattr(y, f)
            assert (np.isnan(vx) and np.isnan(vy)) or vx == pytest.approx(vy, abs=tol), f
        assert x.ci.keys() == y.ci.keys()
        for k in x.ci:
            for e in ("low", "high"):
                vx, vy = getattr(x.ci[k], e), getattr(y.ci[k], e)
                assert (np.isnan(vx) and np.isnan(vy)) or vx == pytest.approx(vy, abs=tol), (k, e)
    assert a.n_error_rows == b.n_error_rows and a.rows_by_kind == b.rows_by_kind


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pd.DataFrame]:
    d = tmp_path_factory.mktemp("parquet")
    df = mixed_samples(1)
    write_samples(df[df["model"] == "m1"], d / "part-m1.parquet")
    write_samples(df[df["model"] == "m2"], d / "part-m2.parquet")
    return d, pd.concat([read_samples(d / "part-m1.parquet"), read_samples(d / "part-m2.parquet")])


@pytest.mark.parametrize("metric", ["kl", "brier", "zero-one"])
def test_duckdb_equals_memory(dataset: tuple[Path, pd.DataFrame], metric: str) -> None:
    folder, mem = dataset
    es = duckdb_stats([folder])
    assert_same(summarize_samples(mem, metric, n_boot=200, rng=3), summarize_stats(es, metric, n_boot=200, rng=3))


def test_duckdb_equals_memory_hard_kl_and_corrected(tmp_path: Path) -> None:
    df = mixed_samples(2, probs=False)
    write_samples(df, tmp_path / "a.parquet")
    mem = read_samples(tmp_path / "a.parquet")
    es = duckdb_stats([tmp_path / "a.parquet"])
    assert_same(summarize_samples(mem, "hard-kl", n_boot=100), summarize_stats(es, "hard-kl", n_boot=100))
    for metric in ("kl", "brier"):
        a = summarize_samples(mem, metric, estimator="corrected", n_boot=100)
        b = summarize_stats(es, metric, estimator="corrected", n_boot=100)
        assert_same(a, b)
        assert a.warnings == b.warnings


def test_run_store_and_parquet_together(tmp_path: Path) -> None:
    """Several sources are one dataset: a store for one model, Parquet for the other."""
    df = mixed_samples(4)
    write_samples(df[df["model"] == "m1"], tmp_path / "m1.sqlite")
    write_samples(df[df["model"] == "m2"], tmp_path / "m2.parquet")
    mem = pd.concat([read_samples(tmp_path / "m1.sqlite"), read_samples(tmp_path / "m2.parquet")])
    es = duckdb_stats([tmp_path / "m1.sqlite", tmp_path / "m2.parquet"])
    assert_same(summarize_samples(mem, "kl", n_boot=100), summarize_stats(es, "kl", n_boot=100))


def test_a_sample_in_two_sources_is_refused(tmp_path: Path) -> None:
    df = mixed_samples(5, tests=False)
    write_samples(df, tmp_path / "a.parquet")
    write_samples(df.iloc[:10], tmp_path / "b.parquet")
    with pytest.raises(InputError, match="present 2 times"):
        duckdb_stats([tmp_path / "a.parquet", tmp_path / "b.parquet"])


def test_row_order_does_not_change_the_interval(tmp_path: Path) -> None:
    df = mixed_samples(6)
    write_samples(df, tmp_path / "a.parquet")
    write_samples(df.sample(frac=1.0, random_state=0), tmp_path / "b" / "shuffled.parquet")
    a = summarize_stats(duckdb_stats([tmp_path / "a.parquet"]), "kl", n_boot=300)
    b = summarize_stats(duckdb_stats([tmp_path / "b"]), "kl", n_boot=300)
    assert a.overall.ci["incoherence"] == b.overall.ci["incoherence"]


def test_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        duckdb_stats([tmp_path / "nope"])
    (tmp_path / "x.csv").write_text("a,b\n1,2\n")
    with pytest.raises(InputError, match="reads Parquet"):
        duckdb_stats([tmp_path / "x.csv"])
    pd.DataFrame({"question_id": ["q"], "answer": ["A"]}).to_parquet(tmp_path / "foreign.parquet")
    with pytest.raises(InputError, match="lacks columns"):
        duckdb_stats([tmp_path / "foreign.parquet"])


@pytest.mark.slow
@pytest.mark.skipif(
    importlib.util.find_spec("pyspark") is None or shutil.which("java") is None,
    reason="needs pyspark and a Java runtime",
)
def test_spark_equals_duckdb(dataset: tuple[Path, pd.DataFrame]) -> None:
    from pyspark.sql import SparkSession

    from hotmess.data.engines import spark_stats

    folder, _ = dataset
    spark = (
        SparkSession.builder.master("local[2]")
        .appName("hotmess-test")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .getOrCreate()
    )
    try:
        sp = spark_stats(sorted(str(p) for p in folder.glob("*.parquet")), spark=spark)
    finally:
        spark.stop()
    dk = duckdb_stats([folder])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for metric in ("kl", "brier", "zero-one"):
            assert_same(summarize_stats(dk, metric, n_boot=200), summarize_stats(sp, metric, n_boot=200))
