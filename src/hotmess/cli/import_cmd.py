"""``hotmess import inspect|lm-eval ...``: read existing repeated runs into a run store and say how incoherent.

After writing, every (model, task) touched by the import is summarised from the store (so files imported
one by one — e.g. several few-shot seeds — add up): multiple-choice and open-ended correctness with the KL
decomposition, SWE-bench-style tasks with the test-vector decomposition.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.table import Table

from hotmess.cli._common import console, err_console, fmt
from hotmess.errors import ConfigError

if TYPE_CHECKING:  # the importers (numpy, pandas) load when an import runs, not for `hotmess import --help`
    from hotmess.importers import ImportReport

__all__ = ["import_app", "register", "summarize_import"]

import_app = typer.Typer(
    name="import",
    help="Import existing repeated runs (Inspect logs, lm-eval sample logs) into a run store.",
    no_args_is_help=True,
)

_KIND_METRIC = {"multiple-choice": "kl", "open-ended": "kl (correctness)", "test-vector": "test vectors"}


def summarize_import(
    store: Path, report: ImportReport, *, n_boot: int = 1000, seed: int = 0
) -> tuple[list[dict[str, Any]], list[str]]:
    """One summary per (kind, model, task) touched by ``report``, over all of the store's samples of it.

    Returns the summaries and the notes (warnings) raised while computing them.
    """
    from hotmess.analysis.open_ended import summarize_test_vectors, test_vectors_by_question
    from hotmess.analysis.summary import summarize_samples
    from hotmess.data.store import RunStore

    kinds = {(log.model, log.task): log.kind for log in report.logs}
    with RunStore(store, create=False) as st:
        df = st.samples()
    out: list[dict[str, Any]] = []
    notes: list[str] = []
    for (model, task), kind in kinds.items():
        part = df[(df["model"] == model) & (df["task"] == task)]
        row: dict[str, Any] = {"kind": kind, "model": model, "task": task, "metric": _KIND_METRIC[kind]}
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            if kind == "test-vector":
                pq = test_vectors_by_question(part)
                s = summarize_test_vectors(pq, n_boot=n_boot, rng=seed)
                row.update(s.to_dict())
                row["accuracy"] = row.pop("resolved")
                row["ci_accuracy"] = row["ci"].pop("resolved", None)
                row["n_samples"] = row.pop("n_runs")
            else:
                res = summarize_samples(part, "kl", by=[], n_boot=n_boot, rng=seed)
                d = res.overall.to_dict()
                row.update({k: d[k] for k in ("n_questions", "n_samples", "bias", "variance", "error", "incoherence")})
                row.update(accuracy=d["accuracy"], ci=d["ci"], invalid_rate=d["invalid_rate"])
                notes.extend(res.warnings)
        notes.extend(str(w.message) for w in caught)
        out.append(row)
    return out, list(dict.fromkeys(notes))


def _print(report: ImportReport, summary: list[dict[str, Any]], notes: list[str]) -> None:
    t = Table(title="hotmess · imported", title_justify="left")
    for name in ("log", "kind", "model", "task", "questions", "samples", "errors", "limit hits"):
        t.add_column(name, justify="left" if name in ("log", "kind", "model", "task") else "right")
    for log in report.logs:
        s = log.summary()
        t.add_row(
            Path(log.source).name,
            log.kind,
            log.model,
            log.task,
            str(s["questions"]),
            str(s["samples"]),
            str(s["errors"]),
            str(s["limit_hits"]),
        )
    console.print(t)
    err_console.print(
        f"{report.n_new} new sample(s) written to {report.store}; {report.n_already_stored} already stored"
    )
    s_t = Table(
        title="hotmess · incoherence of the imported tasks (all their samples in the store)", title_justify="left"
    )
    for name in ("model", "task", "decomposition", "questions", "samples", "bias", "variance", "error"):
        s_t.add_column(name, justify="left" if name in ("model", "task", "decomposition") else "right")
    s_t.add_column("incoherence [95% CI]", justify="right")
    s_t.add_column("accuracy", justify="right")
    for r in summary:
        ci = (r.get("ci") or {}).get("incoherence")
        inc = fmt(r["incoherence"]) + (f" [{fmt(ci[0])}, {fmt(ci[1])}]" if ci else "")
        s_t.add_row(
            r["model"],
            r["task"],
            r["metric"],
            str(r["n_questions"]),
            str(r["n_samples"]),
            fmt(r["bias"]),
            fmt(r["variance"]),
            fmt(r["error"]),
            inc,
            fmt(r["accuracy"]),
        )
    console.print(s_t)
    for w in [*report.warnings, *notes]:
        err_console.print(f"[yellow]note:[/] {w}")
    if any(r["kind"] == "open-ended" for r in summary):
        err_console.print(
            f"[dim]open-ended answers: for their embedding variance run `hotmess embed {report.store}`[/]"
        )


def _check_n_boot(n_boot: int) -> None:
    if n_boot < 0:  # before importing: a bad option must not leave a store behind
        raise ConfigError("--n-boot must be ≥ 0", hint="use 0 to skip confidence intervals")


def _finish(report: ImportReport, store: Path, n_boot: int, as_json: bool) -> None:
    summary, notes = summarize_import(store, report, n_boot=n_boot)
    if as_json:
        typer.echo(json.dumps({"import": report.to_dict(), "summary": summary, "notes": notes}, indent=2, default=str))
        return
    _print(report, summary, notes)


@import_app.command("inspect")
def inspect_cmd(
    logs: list[Path] = typer.Argument(..., help="Inspect logs (.eval or .json), or folders of them."),
    store: Path = typer.Option(..., "--store", "-s", help="Run store (.sqlite) to write into (created if missing)."),
    scorer: str | None = typer.Option(None, "--scorer", help="Scorer to use when a log has several."),
    kind: str = typer.Option("auto", "--kind", help="auto, multiple-choice, open-ended or test-vector."),
    model: str | None = typer.Option(None, "--model", help="Model name to store (default: the log's)."),
    task: str | None = typer.Option(None, "--task", help="Task name to store (default: the log's)."),
    budget: str | None = typer.Option(None, "--budget", help="Budget label (default: from the generate config)."),
    errors_as_rows: bool = typer.Option(
        False, "--errors-as-rows", help="Test vectors: failed samples become error rows, not 'tests unchanged'."
    ),
    reader: str = typer.Option("auto", "--reader", help="auto, inspect (inspect-ai) or builtin (zip + zstandard)."),
    limit_hits: str = typer.Option(
        "baseline",
        "--limit-hits",
        help="Test vectors: runs that hit a limit get the baseline (tests unchanged) or keep their logged tests.",
    ),
    n_boot: int = typer.Option(1000, "--n-boot", help="Bootstrap resamples over questions (0 = no CIs)."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object instead of tables."),
) -> None:
    """Import Inspect logs: one sample per (sample id, epoch)."""
    _check_n_boot(n_boot)
    if kind not in ("auto", "multiple-choice", "open-ended", "test-vector"):
        raise ConfigError(f"unknown kind {kind!r}", hint="use auto, multiple-choice, open-ended or test-vector")
    if reader not in ("auto", "inspect", "builtin"):
        raise ConfigError(f"unknown reader {reader!r}", hint="use auto, inspect or builtin")
    if limit_hits not in ("baseline", "logged"):
        raise ConfigError(f"unknown --limit-hits {limit_hits!r}", hint="use baseline or logged")
    from hotmess.importers import import_inspect

    report = import_inspect(
        logs,
        store,
        scorer=scorer,
        kind=kind,
        model=model,
        task=task,
        budget=budget,
        errors_as_unchanged=not errors_as_rows,
        reader=reader,
        limit_hits=limit_hits,
    )
    _finish(report, store, n_boot, as_json)


@import_app.command("lm-eval")
def lm_eval_cmd(
    files: list[Path] = typer.Argument(..., help="samples_<task>_<date>.jsonl files, or folders of them."),
    store: Path = typer.Option(..., "--store", "-s", help="Run store (.sqlite) to write into (created if missing)."),
    model: str | None = typer.Option(None, "--model", help="Model name to store (default: from the results file)."),
    task: str | None = typer.Option(None, "--task", help="Task name to store (default: from the file name)."),
    filter_name: str | None = typer.Option(None, "--filter", help="lm-eval filter to read (default: the first)."),
    context_id: int | None = typer.Option(None, "--context-id", help="Context id (default: the fewshot seed)."),
    budget: str = typer.Option("", "--budget", help="Budget label to store."),
    tokenizer: Path | None = typer.Option(
        None, "--tokenizer", help="Local Hugging Face model folder whose tokenizer counts output tokens."
    ),
    gguf_file: str | None = typer.Option(None, "--gguf-file", help="GGUF file inside --tokenizer."),
    n_boot: int = typer.Option(1000, "--n-boot", help="Bootstrap resamples over questions (0 = no CIs)."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object instead of tables."),
) -> None:
    """Import lm-evaluation-harness sample logs: every element of resps is a sample."""
    _check_n_boot(n_boot)
    from hotmess.importers import import_lm_eval

    counter = hf_token_counter(tokenizer, gguf_file=gguf_file) if tokenizer is not None else None
    report = import_lm_eval(
        files,
        store,
        model=model,
        task=task,
        filter_name=filter_name,
        context_id=context_id,
        budget=budget,
        token_counter=counter,
    )
    _finish(report, store, n_boot, as_json)


def hf_token_counter(path: str | Path, *, gguf_file: str | None = None) -> Callable[[str], int]:
    """:func:`hotmess.importers.lm_eval.hf_token_counter`, imported on the first call (numpy is slow to import)."""
    from hotmess.importers.lm_eval import hf_token_counter as counter

    return counter(path, gguf_file=gguf_file)


def register(app: typer.Typer) -> None:
    """Add ``import`` (with ``inspect`` and ``lm-eval``) to the ``hotmess`` app."""
    app.add_typer(import_app, name="import")
