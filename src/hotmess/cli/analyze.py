"""``hotmess analyze PATH``: bias, variance, error, incoherence and accuracy of a samples file or store."""

from __future__ import annotations

import json
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.markup import escape
from rich.table import Table

from hotmess._extras import install_hint
from hotmess.analysis._constants import GROUP_COLUMNS
from hotmess.cli._common import console, err_console, fmt, write_results
from hotmess.data._paths import guard_output
from hotmess.errors import ConfigError, DuplicateSamplesWarning
from hotmess.metrics._constants import DEFAULT_DELTA
from hotmess.metrics.estimators import ESTIMATORS, METRICS

if TYPE_CHECKING:  # numpy and pandas load when the command runs, not for `hotmess --help`
    import pandas as pd

    from hotmess.analysis.summary import TableSummary
    from hotmess.data.engines import EngineStats

__all__ = ["register"]

_ANALYZE_GUARDRAILS = ("chance", "invalid", "truncation", "few_samples")
"""Guardrails that concern the overall numbers (the report shows the per-section ones too)."""


def _table(res: TableSummary) -> Table:
    o = res.overall
    ratio = o.metric != "zero-one" or res.mixed
    level = next(iter(o.ci.values())).level if o.ci else None
    if res.mixed:
        metrics = ", ".join(f"{k}: {'squared error' if k == 'test-vector' else s.metric}" for k, s in res.kinds)
        title = f"hotmess · decomposition per kind ({metrics}), never pooled"
    else:
        title = f"hotmess · {o.metric} decomposition"
    t = Table(title=title, title_justify="left")
    for name in ("group", "questions", "samples", "bias", "variance", "error"):
        t.add_column(name, justify="left" if name == "group" else "right")
    if ratio:
        t.add_column("incoherence" + (f" [{100 * level:g}% CI]" if level else ""), justify="right")
    t.add_column("accuracy", justify="right")
    t.add_column("invalid", justify="right")
    overall = [({**labels, "_overall": ""}, s) for labels, s in res.overalls()]
    rows = [*overall, *res.groups]
    for i, (labels, s) in enumerate(rows):
        labels = dict(labels)
        is_overall = labels.pop("_overall", None) is not None
        if is_overall:
            name = "overall" + (f" · {labels['kind']}" if labels else "")
        else:
            name = escape(" / ".join(v or "-" for v in labels.values()))
        row = [name, str(s.n_questions), str(s.n_samples), fmt(s.bias), fmt(s.variance), fmt(s.error)]
        if ratio:
            ci = s.ci.get("incoherence")
            inco = fmt(s.incoherence) + (f" [{fmt(ci.low)}, {fmt(ci.high)}]" if ci else "")
            row.append(inco if s.metric != "zero-one" else "—")
        acc_ci = s.ci.get("accuracy")
        row.append(fmt(s.accuracy) + (f" [{fmt(acc_ci.low)}, {fmt(acc_ci.high)}]" if acc_ci else ""))
        row.append(f"{s.invalid_rate:.1%}")
        last_overall = is_overall and (i + 1 == len(rows) or "_overall" not in rows[i + 1][0])
        t.add_row(*row, end_section=last_overall)
    return t


ENGINES = ("auto", "memory", "duckdb", "spark")


def analyze(
    sources: list[str] = typer.Argument(
        ...,
        help="Run stores (.sqlite) or samples files (.parquet, .csv, .jsonl), one dataset; folders of Parquet "
        "files go to DuckDB.",
    ),
    metric: str = typer.Option("kl", "--metric", "-m", help=f"Decomposition: {', '.join(METRICS)}."),
    by: str | None = typer.Option(
        None, "--by", help=f"Comma-separated grouping among {', '.join(GROUP_COLUMNS)} (default: those that vary)."
    ),
    run: str | None = typer.Option(None, "--run", help="Only samples of this run id."),
    delta: float = typer.Option(DEFAULT_DELTA, "--delta", help="KL Laplace smoothing δ."),
    estimator: str = typer.Option(
        "plugin",
        "--estimator",
        help="plugin (the paper's) or corrected (KL jackknife, Brier and test-vector n/(n−1) variance).",
    ),
    unbiased: bool = typer.Option(False, "--unbiased", help="Brier: same as --estimator corrected (older spelling)."),
    jackknife: bool = typer.Option(False, "--jackknife", help="KL: same as --estimator corrected (older spelling)."),
    n_boot: int = typer.Option(1000, "--n-boot", help="Bootstrap resamples over questions (0 = no CIs)."),
    level: float = typer.Option(0.95, "--ci-level", help="Confidence level."),
    ci_method: str = typer.Option("percentile", "--ci-method", help="percentile or bca."),
    seed: int = typer.Option(0, "--seed", help="Seed of the bootstrap."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object instead of a table."),
    out: Path | None = typer.Option(None, "--out", "-o", help="Also write results to .json, .csv or .parquet."),
    engine: str = typer.Option(
        "auto",
        "--engine",
        help="memory (pandas), duckdb (streams Parquet and stores past memory) or spark (a Spark session); "
        "auto: duckdb for folders and globs, memory otherwise.",
    ),
    spark_master: str | None = typer.Option(
        None, "--spark-master", help="Spark master URL for --engine spark (default: the session's own, or local)."
    ),
) -> None:
    """Split model error into bias and variance; print incoherence with bootstrap CIs."""
    if metric not in METRICS:
        raise ConfigError(f"unknown metric {metric!r}", hint=f"use one of {', '.join(METRICS)}")
    if estimator not in ESTIMATORS:
        raise ConfigError(f"unknown estimator {estimator!r}", hint=f"use one of {', '.join(ESTIMATORS)}")
    if (unbiased and metric == "brier") or (jackknife and metric == "kl"):
        estimator = "corrected"
    if estimator == "corrected" and metric not in ("kl", "brier"):
        raise ConfigError(
            f"the corrected estimator is defined for kl and brier, not {metric}", hint="drop --estimator corrected"
        )
    if ci_method not in ("percentile", "bca"):
        raise ConfigError(f"unknown CI method {ci_method!r}", hint="use percentile or bca")
    if not 0 < level < 1:
        raise ConfigError(f"--ci-level must be in (0, 1), got {level}", hint="e.g. --ci-level 0.95")
    if n_boot < 0:
        raise ConfigError("--n-boot must be ≥ 0", hint="use 0 to skip confidence intervals")
    if not 0 < delta < float("inf"):  # also refuses NaN
        raise ConfigError(f"--delta must be a finite number > 0, got {delta}", hint="the default is 1e-12")
    paths = [Path(x) for x in sources]  # local paths; --engine spark also takes URIs (hdfs://, s3a://) as given
    if engine not in ENGINES:
        raise ConfigError(f"unknown engine {engine!r}", hint=f"use one of {', '.join(ENGINES)}")
    groups = [g.strip() for g in by.split(",") if g.strip()] if by else None
    if out is not None:  # before any work: never write over the input, a run store or a samples file
        guard_output(
            out,
            inputs=list(paths),
            what="results",
            replaces=(".json", ".csv", ".parquet", ".pq"),
            example="results.json",
        )
    if engine == "auto":
        engine = "duckdb" if any(p.is_dir() or any(ch in str(p) for ch in "*?[") for p in paths) else "memory"
    from hotmess.analysis.guardrails import guardrails
    from hotmess.analysis.scale import summarize_stats
    from hotmess.analysis.summary import summarize_samples

    opts = {"by": groups, "estimator": estimator, "n_boot": n_boot, "level": level, "ci_method": ci_method, "rng": seed}
    df = None
    with warnings.catch_warnings(record=True) as caught:  # a note below, not a Python warning
        warnings.simplefilter("always", DuplicateSamplesWarning)
        if engine == "memory":
            df = read_many(paths, run_id=run)  # a store's samples carry its question kinds (open-ended) in attrs
            res = summarize_samples(df, metric, delta=delta, **opts)  # type: ignore[arg-type]  # checked above
        else:
            if run is not None:
                raise ConfigError("--run works with --engine memory only", hint="drop --run or add --engine memory")
            stats = _engine_stats(engine, sources if engine == "spark" else paths, delta, spark_master)
            res = summarize_stats(stats, metric, **opts)  # type: ignore[arg-type]
    collapsed = [str(c.message) for c in caught if issubclass(c.category, DuplicateSamplesWarning)]
    for c in caught:
        if not issubclass(c.category, DuplicateSamplesWarning):
            warnings.showwarning(c.message, c.category, c.filename, c.lineno)
    checks = [g for g in guardrails(df) if g.key in _ANALYZE_GUARDRAILS] if df is not None else []
    if df is None:
        res.warnings.append(
            f"computed by {engine} from per-question statistics; the guardrails (chance, invalid answers, "
            "truncation) need the samples in memory: --engine memory"
        )
    source = str(paths[0]) if len(paths) == 1 else [str(p) for p in paths]
    data = {"source": source, "engine": engine, **res.to_dict()}
    data["guardrails"] = [{"key": g.key, "level": g.level, "message": g.message, "value": g.value} for g in checks]
    if out is not None:
        write_results(data, res.to_frame(), out)
    if as_json:
        typer.echo(json.dumps(data, indent=2, allow_nan=False, default=str))
        for w in collapsed:  # what was counted changed: say so on stderr even when stdout is JSON
            err_console.print(f"[yellow]note:[/] {escape(w)}")
        return
    console.print(_table(res))
    for g in checks:  # what limits these numbers, before anything else
        colour = "red" if g.level == "warning" else "yellow"
        err_console.print(f"[{colour}]{g.level}:[/] {escape(g.message)}")
    for w in res.warnings:
        err_console.print(f"[yellow]note:[/] {escape(w)}")
    choice_kinds = [k for k, _ in res.kinds if k != "test-vector"]
    if "test-vector" in dict(res.kinds) and metric != "kl":
        err_console.print(
            f"[yellow]note:[/] test-vector samples use the test-vector decomposition; --metric {metric} "
            "applies to the other kinds only"
        )
    if metric == "zero-one" and choice_kinds:
        err_console.print("[dim]0/1 bias and variance are reported as absolute numbers (no incoherence ratio).[/]")
    if out is not None:
        err_console.print(f"results written to {out}")


def read_many(paths: Sequence[str | Path], *, run_id: str | None = None) -> pd.DataFrame:
    """:func:`hotmess.data.sources.read_many`, imported on the first call (pandas is slow to import)."""
    from hotmess.data.sources import read_many as read

    return read(paths, run_id=run_id)


def _engine_stats(engine: str, paths: list[Any], delta: float, spark_master: str | None) -> EngineStats:
    from hotmess.data.engines import duckdb_stats, spark_stats

    if engine == "duckdb":
        return duckdb_stats(paths, delta=delta)
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise ConfigError("--engine spark needs pyspark", hint=install_hint("spark")) from None
    builder = SparkSession.builder.appName("hotmess")
    if spark_master:
        builder = builder.master(spark_master)
    return spark_stats([str(p) for p in paths], spark=builder.getOrCreate(), delta=delta)


def register(app: typer.Typer) -> None:
    """Add ``analyze`` to the ``hotmess`` app."""
    app.command("analyze")(analyze)
