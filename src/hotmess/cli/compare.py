"""``hotmess compare SOURCE… --by model``: paired differences between groups on the questions they share."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.markup import escape
from rich.table import Table

from hotmess.analysis._constants import GROUP_COLUMNS
from hotmess.cli._common import console, err_console, fmt, write_results
from hotmess.data._paths import guard_output
from hotmess.errors import ConfigError, InputError
from hotmess.metrics._constants import DEFAULT_DELTA
from hotmess.metrics.estimators import ESTIMATORS

if TYPE_CHECKING:  # numpy and pandas load when the command runs, not for `hotmess --help`
    import pandas as pd

    from hotmess.analysis.compare import CompareResult

__all__ = ["register"]

BY = (*(c for c in GROUP_COLUMNS if c != "task"), "run_id", "source")  # tasks share no questions to pair
"""Columns ``--by`` accepts; ``source`` makes each input file or store one group."""

RATIO_METRICS = ("kl", "brier", "hard-kl")


def _ci(lo: float, hi: float) -> str:
    return f" [{fmt(lo)}, {fmt(hi)}]" if math.isfinite(lo) and math.isfinite(hi) else ""


def _p(p: float) -> str:
    if not math.isfinite(p):
        return "—"
    return "<0.001" if p < 0.001 else f"{p:.3g}"


def _signed(x: float) -> str:
    return ("+" if x > 0 else "") + fmt(x)


def _table(res: CompareResult) -> Table:
    f = res.frame
    mixed = f["kind"].nunique() > 1
    holm = bool((f["n_comparisons"] > 1).any())
    level = f"{100 * res.level:g}%"
    t = Table(
        title=f"hotmess · compare by {res.by} ({res.metric}, {res.estimator}) · baseline {res.baseline}",
        title_justify="left",
    )
    heads = ["kind"] if mixed else []
    heads += [res.by, "quantity", "shared", res.baseline, "value", f"difference [{level} CI]", f"ratio [{level} CI]"]
    heads += ["p"]
    heads += ["p (Holm)"] if holm else []
    for i, name in enumerate(heads):
        t.add_column(escape(name), justify="left" if i < len(heads) - (7 if holm else 6) else "right")
    rows = f.to_dict(orient="records")
    for i, r in enumerate(rows):
        cells = [escape(str(r["kind"]))] if mixed else []
        cells += [escape(str(r["group"])), str(r["quantity"]), str(r["n_shared"])]
        cells += [fmt(r["value_baseline"]), fmt(r["value_group"])]
        diff = _signed(r["difference"]) + _ci(r["diff_low"], r["diff_high"])
        cells += [f"[bold]{escape(diff)}[/]" if r["detected"] else escape(diff)]
        cells += [fmt(r["ratio"]) + _ci(r["ratio_low"], r["ratio_high"]), _p(r["p_value"])]
        cells += [_p(r["p_holm"])] if holm else []
        last = i + 1 == len(rows) or (rows[i + 1]["group"], rows[i + 1]["kind"]) != (r["group"], r["kind"])
        t.add_row(*cells, end_section=last)
    return t


def _verdict_lines(res: CompareResult) -> list[str]:
    """Detected differences as sentences; per comparison, one line naming the quantities without one."""
    out = []
    f = res.frame
    for (_kind, group), rows in f.groupby(["kind", "group"], sort=False):
        out += [str(v) for v in rows.loc[rows["detected"], "verdict"]]
        tested = rows["p_holm"].notna().to_numpy()
        none = rows.loc[~rows["detected"].astype(bool).to_numpy() & tested, "quantity"].tolist()
        untested = rows.loc[~tested, "quantity"].tolist()
        head = f"{res.by} {group} vs {res.by} {res.baseline}" + (f" ({_kind})" if f["kind"].nunique() > 1 else "")
        if none:
            holm = " after Holm correction" if int(rows["n_comparisons"].iloc[0]) > 1 else ""
            out.append(f"{head}: no difference detected at {100 * res.level:g}%{holm} in {', '.join(none)}")
        if untested:
            why = "--n-boot 0" if res.n_boot == 0 else "no interval"
            out.append(f"{head}: not tested ({why}) in {', '.join(untested)}")
    return out


def compare(
    sources: list[str] = typer.Argument(
        ...,
        help="Run stores (.sqlite) or samples files (.parquet, .csv, .jsonl); several are one dataset, or one group "
        "each with --by source.",
    ),
    by: str | None = typer.Option(
        None,
        "--by",
        help=f"Groups to compare: one of {', '.join(BY)} (default: model, else budget, whichever varies; else "
        "source when several sources are given). source: each input is one group.",
    ),
    baseline: str | None = typer.Option(
        None, "--baseline", help="Group the others are compared with (default: the first; for source, the first given)."
    ),
    metric: str = typer.Option("kl", "--metric", "-m", help=f"Decomposition: {', '.join(RATIO_METRICS)}."),
    estimator: str = typer.Option(
        "plugin",
        "--estimator",
        help="plugin (the paper's) or corrected (KL jackknife, Brier n/(n−1)); use corrected when the groups have "
        "different numbers of samples per question.",
    ),
    delta: float = typer.Option(DEFAULT_DELTA, "--delta", help="KL Laplace smoothing δ."),
    run: str | None = typer.Option(None, "--run", help="Only samples of this run id."),
    n_boot: int = typer.Option(2000, "--n-boot", help="Paired bootstrap resamples over shared questions (0 = none)."),
    level: float = typer.Option(0.95, "--level", "--ci-level", help="Confidence level."),
    seed: int = typer.Option(0, "--seed", help="Seed of the bootstrap."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object instead of a table."),
    out: Path | None = typer.Option(None, "--out", "-o", help="Also write results to .json, .csv or .parquet."),
    report: Path | None = typer.Option(
        None, "--report", help="Also write an HTML page with a forest plot of the differences and the verdicts."
    ),
) -> None:
    """Compare groups on the questions they share: paired differences, intervals, p-values, verdicts."""
    if by is not None and by not in BY:
        raise ConfigError(f"cannot compare by {by!r}", hint=f"use one of {', '.join(BY)}")
    if metric not in RATIO_METRICS:
        raise ConfigError(
            f"compare needs a metric with an incoherence ratio, not {metric!r}", hint=f"use {', '.join(RATIO_METRICS)}"
        )
    if estimator not in ESTIMATORS:
        raise ConfigError(f"unknown estimator {estimator!r}", hint=f"use one of {', '.join(ESTIMATORS)}")
    if estimator == "corrected" and metric not in ("kl", "brier"):
        raise ConfigError(f"the corrected estimator is defined for kl and brier, not {metric}", hint="use --metric kl")
    if not 0 < level < 1:
        raise ConfigError(f"--level must be in (0, 1), got {level}", hint="e.g. --level 0.95")
    if n_boot < 0:
        raise ConfigError("--n-boot must be ≥ 0", hint="use 0 to skip intervals and p-values")
    if not 0 < delta < float("inf"):
        raise ConfigError(f"--delta must be a finite number > 0, got {delta}", hint="the default is 1e-12")
    paths = [Path(x) for x in sources]
    if by == "source" and len(paths) < 2:
        raise ConfigError("--by source needs two or more sources", hint="pass the stores or files to compare")
    for target, what, suffixes, example in (
        (out, "results", (".json", ".csv", ".parquet", ".pq"), "results.json"),
        (report, "HTML report", (".html", ".htm"), "compare.html"),
    ):
        if target is not None:  # before any work: never write over the input, a run store or a samples file
            guard_output(target, inputs=list(paths), what=what, replaces=suffixes, example=example)

    from hotmess.analysis.compare import compare_groups

    df = _read(paths, run)
    by = by or _default_by(df, len(paths))
    if by != "source" and len(paths) > 1:
        _refuse_shared_samples(df)
    if by == "source" and baseline is None:
        baseline = str(paths[0])
    res = compare_groups(
        df, by, metric, estimator=estimator, baseline=baseline, n_boot=n_boot, level=level, rng=seed, delta=delta
    )
    source = str(paths[0]) if len(paths) == 1 else [str(p) for p in paths]
    data: dict[str, Any] = {"source": source, **res.to_dict()}
    if out is not None:
        write_results(data, res.frame, out)
    if report is not None:
        from hotmess.report.compare import write_compare_html

        write_compare_html(res, report, source=", ".join(map(str, paths)))
    if as_json:
        typer.echo(json.dumps(data, indent=2, allow_nan=False, default=str))
    else:
        console.print(_table(res))
        for line in _verdict_lines(res):
            console.print(escape(line), highlight=False, soft_wrap=True)  # one line each, however long
    for note in res.notes:
        err_console.print(f"[yellow]note:[/] {escape(note)}")
    for path in (out, report):
        if path is not None and not as_json:
            err_console.print(f"written to {escape(str(path))}")


def _read(paths: list[Path], run: str | None) -> pd.DataFrame:
    """Every source's samples in one table with a ``source`` column (the path as given)."""
    import pandas as pd

    from hotmess.data.sources import read_many

    names = [str(p) for p in paths]
    if len(set(names)) < len(names):
        raise ConfigError("the same source is given twice", hint="name each store or file once")
    frames = [read_many([p], run_id=run).assign(source=name) for p, name in zip(paths, names, strict=True)]
    if len(frames) == 1:
        return frames[0]
    df = pd.concat(frames, ignore_index=True)
    kinds: dict[str, dict[str, Any]] = {}
    protocols: dict[str, Any] = {}
    for f in frames:
        for task, qs in (f.attrs.get("question_kinds") or {}).items():
            kinds.setdefault(task, {}).update(qs)
        protocols.update(f.attrs.get("run_protocols") or {})
    df.attrs["question_kinds"] = kinds
    if protocols:
        df.attrs["run_protocols"] = protocols
    return df


def _default_by(df: pd.DataFrame, n_sources: int) -> str:
    for column in ("model", "budget"):
        if df[column].astype(str).nunique() > 1:
            return column
    if n_sources > 1:
        return "source"
    raise InputError(
        "nothing to compare: the samples hold one model under one budget",
        hint="choose groups with --by (task, run_id) or pass several sources",
    )


def _refuse_shared_samples(df: pd.DataFrame) -> None:
    """Several sources are one dataset unless compared by source: a sample held by two of them is refused."""
    from hotmess.data.schema import KEY_COLUMNS

    dup = df.duplicated(list(KEY_COLUMNS), keep=False)
    if dup.any():
        where = sorted(set(df.loc[dup, "source"].astype(str)))
        raise InputError(
            f"{int(dup.sum())} samples come from more than one source ({', '.join(where)})",
            hint="to compare the sources with each other, use --by source",
        )


def register(app: typer.Typer) -> None:
    """Add ``compare`` to the ``hotmess`` app."""
    app.command("compare")(compare)
