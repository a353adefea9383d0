"""``hotmess report PATH -o report.html``: every analysis on one self-contained HTML page (or as tables)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.markup import escape
from rich.table import Table

from hotmess.analysis._constants import DEFAULT_MARKERS
from hotmess.cli._common import console
from hotmess.data._paths import guard_output
from hotmess.errors import ConfigError

if TYPE_CHECKING:  # the report's libraries load when it is built, not for `hotmess --help`
    from hotmess.report import Report, ReportOptions

__all__ = ["make_report", "register"]

_FORMATS = ("html", "json", "parquet")


def _params(pairs: list[str]) -> dict[str, float]:
    out: dict[str, float] = {}
    for pair in pairs:
        model, sep, value = pair.rpartition("=")
        try:
            n = float(value)
        except ValueError:
            n = float("nan")
        if not sep or not model or not n > 0:
            raise ConfigError(f"--param {pair!r} is not MODEL=N with N > 0", hint="e.g. --param smollm2=135e6")
        out[model] = n
    return out


def make_report(
    path: Path | list[Path],
    out: Path,
    *,
    fmt: str = "html",
    options: ReportOptions | None = None,
    survey: Path | None = None,
    run: str | None = None,
    title: str = "hotmess report",
) -> Report:
    """Read samples from ``path`` (store or samples file), build the report, write it to ``out``.

    ``fmt="html"`` writes one file; ``json``/``parquet`` write a directory of tables plus ``manifest.json``.
    Before any work, ``out`` is checked with :func:`~hotmess.data._paths.guard_output`: an input, a run store
    or a samples file is never written over (an earlier report is).
    """
    from hotmess.analysis import read_survey
    from hotmess.report import build_report, load_inputs, write_html, write_tables

    if fmt not in _FORMATS:
        raise ConfigError(f"unknown format {fmt!r}", hint=f"use one of {', '.join(_FORMATS)}")
    paths = [path] if isinstance(path, Path) else list(path)
    inputs = paths if survey is None else [*paths, survey]
    if fmt == "html":
        guard_output(out, inputs=inputs, what="HTML report", example="report.html")
    else:
        guard_output(out, inputs=inputs, what=f"{fmt} tables", kind="folder", example=f"report-{fmt}")
    df, runs, questions = load_inputs(paths, run_id=run)
    rank_data = read_survey(survey) if survey is not None else None
    report = build_report(
        df, options=options, runs=runs, questions=questions, survey=rank_data, source=", ".join(map(str, paths))
    )
    if fmt == "html":
        write_html(report, out, title=title)
    else:
        write_tables(report, out, fmt=fmt)
    return report


def report(
    path: list[Path] = typer.Argument(
        ..., help="Run stores (.sqlite) or samples files (.parquet, .csv, .jsonl); several are one dataset."
    ),
    out: Path = typer.Option(..., "--out", "-o", help="HTML file to write (a directory for --format json/parquet)."),
    fmt: str = typer.Option("html", "--format", "-f", help="html (one file) | json | parquet (a table directory)."),
    metric: str = typer.Option("kl", "--metric", "-m", help="Decomposition: kl, brier or hard-kl."),
    axis: str = typer.Option(
        "output_tokens", "--axis", help="Length axis: output_tokens, reasoning_tokens, actions or backtracking."
    ),
    buckets: int = typer.Option(5, "--buckets", help="Equal-size length buckets."),
    reference_model: str | None = typer.Option(
        None, "--reference-model", help="Bucket / group questions by this model's lengths (scaling: the largest)."
    ),
    param: list[str] = typer.Option([], "--param", help="Parameter count MODEL=N (repeatable); else from names."),
    groups: int = typer.Option(3, "--groups", help="Difficulty groups of the scaling analysis."),
    difficulty: str = typer.Option("length", "--difficulty", help="Scaling groups from 'length' or 'metadata'."),
    survey: Path | None = typer.Option(None, "--survey", help="Rank data: entity, rater, attribute, rank."),
    markers: str = typer.Option(",".join(DEFAULT_MARKERS), "--markers", help="Backtracking marker words."),
    estimator: str = typer.Option(
        "plugin", "--estimator", help="plugin (the paper's) or corrected (KL jackknife, Brier n/(n−1))."
    ),
    unbiased: bool = typer.Option(False, "--unbiased", help="Brier: same as --estimator corrected (older spelling)."),
    allow_estimated_lengths: bool = typer.Option(
        False,
        "--allow-estimated-lengths",
        help="Split samples into short/long halves even where per-sample token counts are estimates.",
    ),
    by: str | None = typer.Option(
        None,
        "--by",
        help="Comma-separated grouping among model, budget, task (overview, length, overthinking, ensembles).",
    ),
    n_boot: int = typer.Option(1000, "--n-boot", help="Bootstrap resamples over questions (0 = no CIs)."),
    level: float = typer.Option(0.95, "--ci-level", help="Confidence level."),
    seed: int = typer.Option(0, "--seed", help="Seed of the bootstraps and ensemble draws."),
    run: str | None = typer.Option(None, "--run", help="Only samples of this run id."),
    title: str = typer.Option("hotmess report", "--title", help="Title of the HTML page."),
) -> None:
    """Write every analysis (length, overthinking, budgets, ensembles, scaling, answer changes, ...) as a report."""
    if metric not in ("kl", "brier", "hard-kl"):
        raise ConfigError(f"unknown metric {metric!r} for the report", hint="use kl, brier or hard-kl")
    if axis not in ("output_tokens", "reasoning_tokens", "actions", "backtracking"):
        raise ConfigError(
            f"unknown --axis {axis!r}", hint="use output_tokens, reasoning_tokens, actions or backtracking"
        )
    if estimator not in ("plugin", "corrected"):
        raise ConfigError(f"unknown estimator {estimator!r}", hint="use plugin or corrected")
    if unbiased and metric == "brier":
        estimator = "corrected"
    if estimator == "corrected" and metric == "hard-kl":
        raise ConfigError("the corrected estimator is defined for kl and brier, not hard-kl", hint="use plugin")
    if difficulty not in ("length", "metadata"):
        raise ConfigError(f"unknown --difficulty {difficulty!r}", hint="use length or metadata")
    if not 0 < level < 1:
        raise ConfigError(f"--ci-level must be in (0, 1), got {level}", hint="e.g. --ci-level 0.95")
    if n_boot < 0 or buckets < 1 or groups < 1:
        raise ConfigError("--n-boot must be ≥ 0, --buckets and --groups ≥ 1", hint="see hotmess report --help")
    marker_words = tuple(m.strip() for m in markers.split(",") if m.strip())
    if not marker_words:
        raise ConfigError("--markers needs at least one word", hint=f"e.g. --markers {','.join(DEFAULT_MARKERS)}")
    groups_by = tuple(g.strip() for g in by.split(",") if g.strip()) if by else None
    bad = [g for g in groups_by or () if g not in ("model", "budget", "task")]
    if bad:
        raise ConfigError(f"cannot group by {', '.join(bad)}", hint="choose among model, budget, task")
    from hotmess.report import ReportOptions

    options = ReportOptions(
        metric=metric,
        axis=axis,
        n_buckets=buckets,
        reference_model=reference_model,
        params=_params(param),
        n_groups=groups,
        difficulty=difficulty,
        n_boot=n_boot,
        level=level,
        seed=seed,
        estimator=estimator,
        by=groups_by,
        allow_estimated_lengths=allow_estimated_lengths,
        markers=marker_words,
    )
    rep = make_report(path, out, fmt=fmt, options=options, survey=survey, run=run, title=title)
    console.print(sections_table(rep))
    console.print(f"report written to [bold]{escape(str(out))}[/]")


def sections_table(rep: Report) -> Table:
    """One line per section: shown, or skipped and why."""
    t = Table(title="hotmess report", title_justify="left", show_header=False)
    t.add_column("section")
    t.add_column("status")
    for s in rep.sections:
        if s.skipped:
            t.add_row(s.title, f"[yellow]skipped[/]: {escape(s.skipped)}")  # reasons can quote model names
        else:
            t.add_row(s.title, f"[green]✓[/] {len(s.figures)} plot(s), {len(s.tables)} table(s)")
    return t


def register(app: typer.Typer) -> None:
    """Add ``report`` to the ``hotmess`` app."""
    app.command("report")(report)
