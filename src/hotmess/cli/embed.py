"""``hotmess embed STORE``: embed open-ended answers, then embedding variance per question and vs length."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.table import Table

from hotmess.analysis._constants import LENGTH_COLUMNS
from hotmess.cli._common import console, err_console, fmt, write_results
from hotmess.data._paths import guard_output, prepare_output
from hotmess.errors import ConfigError, InputError

if TYPE_CHECKING:  # numpy and pandas load when the command runs, not for `hotmess embed --help`
    from hotmess.analysis.open_ended import LengthAnalysis

__all__ = ["embed", "register"]


def embed(
    store: Path = typer.Argument(..., help="Run store (.sqlite) with open-ended answers."),
    embedder: str = typer.Option("local", "--embedder", "-e", help="local | local:PATH | openai:MODEL."),
    base_url: str | None = typer.Option(None, "--base-url", help="openai: endpoint (default $OPENAI_BASE_URL)."),
    api_key_env: str = typer.Option("OPENAI_API_KEY", "--api-key-env", help="openai: variable holding the key."),
    task: list[str] | None = typer.Option(None, "--task", help="Only these tasks (repeatable)."),
    all_rows: bool = typer.Option(False, "--all", help="Embed every non-error sample with text, not only open-ended."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Re-embed samples that already have an embedding."),
    save: bool = typer.Option(True, "--save/--no-save", help="Store the embeddings (else compute on the fly)."),
    length: str = typer.Option("output_tokens", "--length", help=f"Length axis: {', '.join(LENGTH_COLUMNS)}."),
    buckets: int = typer.Option(5, "--buckets", help="Equal-size length buckets of questions."),
    plot: Path | None = typer.Option(None, "--plot", help="Write the variance-vs-length plot (.png/.svg/.pdf)."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object instead of tables."),
    out: Path | None = typer.Option(None, "--out", "-o", help="Also write results to .json or .csv."),
) -> None:
    """Fill the embedding column of open-ended samples; print embedding variance per question and vs length."""
    if length not in LENGTH_COLUMNS:
        raise ConfigError(f"unknown length axis {length!r}", hint=f"use one of {', '.join(LENGTH_COLUMNS)}")
    if buckets < 1:
        raise ConfigError(f"--buckets must be ≥ 1, got {buckets}", hint="e.g. --buckets 5")
    # outputs are checked before any answer is embedded (which may take long or cost money)
    if out is not None and out.suffix.lower() not in (".json", ".csv", ".parquet", ".pq"):
        raise ConfigError(f"cannot write results to {out}", hint="use a .json, .csv or .parquet file name")
    if plot is not None and plot.suffix.lower() not in (".png", ".svg", ".pdf"):
        raise ConfigError(f"cannot write a plot to {plot}", hint="use a .png, .svg or .pdf file name")
    for target, what, example in ((out, "results", "variance.json"), (plot, "plot", "variance.png")):
        if target is not None:
            prepare_output(target, what=what, create=False)
            guard_output(
                target, inputs=[store], what=what, replaces=(".json", ".csv", ".parquet", ".pq"), example=example
            )
    if store.suffix.lower() not in (".sqlite", ".db", ".sqlite3"):
        raise InputError(f"{store} is not a run store", hint="pass the .sqlite store that `hotmess import` wrote")
    from hotmess.analysis.open_ended import embedding_variance_by_question, length_analysis, plot_length_analysis
    from hotmess.data.store import RunStore
    from hotmess.models.embedders import embed_samples, make_embedder, open_ended_mask, save_embeddings

    with RunStore(store, create=False) as st:
        df = st.samples()
        questions = st.questions()
    if all_rows:
        rows = df["error"].isna() & (df["raw_output"].fillna("").astype(str).str.strip() != "")
    else:
        rows = open_ended_mask(df, questions)
    if task:
        rows &= df["task"].isin(task)
    if not rows.any():
        raise InputError(
            f"{store} has no open-ended samples" + (f" in task(s) {', '.join(task)}" if task else ""),
            hint="import an open-ended log first, or pass --all to embed every answer",
        )
    options: dict[str, Any] = {}
    if embedder.startswith("openai:"):
        options = {"base_url": base_url, "api_key_env": api_key_env or None}
    emb = make_embedder(embedder, **options)
    todo = rows & (df["embedding"].map(lambda v: v is None) | overwrite)
    filled = embed_samples(df, emb, rows=rows, overwrite=overwrite)
    n_saved = save_embeddings(store, filled[todo]) if save and todo.any() else 0
    per_q = embedding_variance_by_question(filled[rows])
    results: dict[str, LengthAnalysis] = {}
    skipped: list[str] = []
    for (model, budget), part in per_q.groupby(["model", "budget"], sort=True):
        label = model + (f" [{budget}]" if budget else "")
        try:
            results[label] = length_analysis(part, outcome="embedding", length=length, n_buckets=buckets)
        except InputError as exc:
            skipped.append(f"{label}: {exc}")
    data = {
        "store": str(store),
        "embedder": emb.name,
        "embedded": int(todo.sum()),
        "saved": n_saved,
        "questions": per_q.replace({float("nan"): None}).to_dict("records"),
        "length_analysis": {k: v.to_dict() for k, v in results.items()},
        "skipped": skipped,
    }
    if out is not None:
        write_results(data, per_q, out)
    if plot is not None and results:
        plot_length_analysis(results, plot)
    if as_json:
        typer.echo(json.dumps(data, indent=2, default=str))
        return
    _print(per_q, results, length)
    err_console.print(
        f"{int(todo.sum())} answer(s) embedded with {emb.name}"
        + (f"; {n_saved} saved to {store}" if save else " (not saved: --no-save)")
    )
    for s in skipped:
        err_console.print(f"[yellow]note:[/] no length analysis for {s}")
    if plot is not None and results:
        err_console.print(f"plot written to {plot}")


def _print(per_q: Any, results: dict[str, LengthAnalysis], length: str) -> None:
    t = Table(title="hotmess · embedding variance of open-ended answers (no target, so no bias)", title_justify="left")
    for name in ("model", "budget", "task", "questions", "samples", "variance (mean)", f"{length} (mean)"):
        t.add_column(name, justify="left" if name in ("model", "budget", "task") else "right")
    for (model, budget, task), part in per_q.groupby(["model", "budget", "task"], sort=True):
        t.add_row(
            model,
            budget or "-",
            task,
            str(len(part)),
            str(int(part["n_samples"].sum())),
            fmt(float(part["variance"].mean())),
            fmt(float(part[length].mean())),
        )
    console.print(t)
    for label, res in results.items():
        b = Table(
            title=f"{label} · variance vs {length}: α = {fmt(res.fit.exponent)}, R² = {fmt(res.fit.r2)}",
            title_justify="left",
        )
        for name in ("bucket", "questions", f"{length} (mean)", "range", "variance"):
            b.add_column(name, justify="right")
        for r in res.buckets.to_dict("records"):
            b.add_row(
                str(r["bucket"]),
                str(r["n_questions"]),
                fmt(r["length_mean"]),
                f"{fmt(r['length_low'])}–{fmt(r['length_high'])}",
                fmt(r["variance"]),
            )
        console.print(b)


def register(app: typer.Typer) -> None:
    """Add ``embed`` to the ``hotmess`` app."""
    app.command("embed")(embed)
