"""``hotmess run``: sample a model on a task into a run store (resumable: rerun the same command)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.markup import escape

from hotmess.cli._common import console, err_console
from hotmess.errors import ConfigError, HotmessError, Interrupted

if TYPE_CHECKING:
    from hotmess.sampling import RunConfig

__all__ = ["register"]


def _options(pairs: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for pair in pairs:
        if "=" not in pair:
            raise ConfigError(f"--option/-M {pair!r} is not KEY=VALUE", hint="e.g. -M timeout_s=120")
        k, v = pair.split("=", 1)
        try:
            out[k.strip()] = json.loads(v)
        except json.JSONDecodeError:
            out[k.strip()] = v
    return out


def run(
    model: str = typer.Option("smollm2", "--model", help="smollm2 | local:PATH | openai:MODEL | anthropic:MODEL."),
    task: str = typer.Option(
        "generated:arithmetic", "--task", help="A task file (CSV/JSONL/Parquet) or generated:NAME."
    ),
    store: Path = typer.Option(..., "--store", "-s", help="Run store to write into (.sqlite); created if missing."),
    contexts: int = typer.Option(
        10, "--contexts", help="Few-shot contexts per question (with --target-ci: the most a question can get)."
    ),
    samples: int | None = typer.Option(
        None, "--samples", help="Samples per context [default: 3; with --target-ci: S of --first-round]."
    ),
    k_shot: int = typer.Option(3, "--k-shot", help="Exemplars per context."),
    fmt: str | None = typer.Option(None, "--format", help="letter | prob | answer_tag (default: the task's)."),
    scoring: str = typer.Option("generate", "--scoring", help="generate | loglik (score options; local models)."),
    temperature: float = typer.Option(1.0, "--temperature"),
    max_tokens: int = typer.Option(512, "--max-tokens", help="Cap on generated tokens per sample."),
    budget: list[str] = typer.Option(
        [],
        "--budget",
        help="Reasoning budget (repeatable): low|medium|high, think:N (thinking tokens), tokens:N (output cap).",
    ),
    seed: int = typer.Option(0, "--seed", help="Root seed of contexts and sampling seeds."),
    limit: int | None = typer.Option(None, "--limit", help="Only the first N questions."),
    no_shuffle: bool = typer.Option(False, "--no-shuffle", help="Keep the original option order."),
    base_url: list[str] = typer.Option([], "--base-url", help="OpenAI-compatible endpoint (repeat for replicas)."),
    api_key_env: str | None = typer.Option(None, "--api-key-env", help="Environment variable holding the key."),
    option: list[str] = typer.Option(
        [], "--option", "-M", help="Backend option KEY=VALUE (repeatable; -M as in Inspect), e.g. -M timeout_s=120."
    ),
    task_option: list[str] = typer.Option(
        [], "--task-option", help="Task loader option KEY=VALUE (repeatable), e.g. target=matching."
    ),
    concurrency: int | None = typer.Option(None, "--concurrency", help="Requests in flight."),
    retries: int = typer.Option(6, "--retries", help="Retries of a transient failure (after the first attempt)."),
    breaker: int = typer.Option(
        20,
        "--max-consecutive-failures",
        help="Stop once this many attempts in a row (over ≥ 60 s) could not reach the endpoint; 0: never.",
    ),
    max_samples: int | None = typer.Option(None, "--max-samples", help="Stop after N new samples."),
    max_total_tokens: int | None = typer.Option(None, "--max-total-tokens", help="Stop after N output tokens."),
    max_cost: float | None = typer.Option(None, "--max-cost", help="Stop at this estimated cost."),
    price: float | None = typer.Option(None, "--price-per-mtok", help="Price per million output tokens."),
    shard: str | None = typer.Option(
        None, "--shard", help="K/N: sample only the K-th of N disjoint parts (one machine of N; merge with convert)."
    ),
    no_progress: bool = typer.Option(
        False, "--no-progress", help="No progress (a bar on a terminal, else a line every 30 s)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the run summary as JSON."),
    target_ci: float | None = typer.Option(
        None,
        "--target-ci",
        help="Adaptive sampling: add contexts round by round where the uncertainty is, until the 95% interval "
        "of the dataset incoherence has at most this half-width (see docs/sampling.md).",
    ),
    first_round: str | None = typer.Option(
        None,
        "--first-round",
        help="Adaptive: the first round, CxS (contexts × samples per context) per question (2x2).",
    ),
    max_rounds: int | None = typer.Option(None, "--max-rounds", help="Adaptive: stop after N rounds."),
) -> None:
    """Sample MODEL on TASK: contexts × samples per question, every sample stored exactly once."""
    opts = _options(option)
    if base_url:
        from hotmess.models import parse_model_spec

        backend = parse_model_spec(model)[0]
        if backend in ("local", "smollm2"):
            raise ConfigError(
                f"--base-url does not apply to {model}", hint="use it with openai:MODEL or anthropic:MODEL"
            )
        if backend == "anthropic":  # one endpoint, no replicas
            if len(base_url) > 1:
                raise ConfigError("the anthropic backend takes one --base-url", hint="give --base-url once")
            opts["base_url"] = base_url[0]
        else:
            opts["base_urls"] = list(base_url)
    if api_key_env:
        if not os.environ.get(api_key_env, "").strip():  # asked for by name: never silently send no key
            raise ConfigError(f"--api-key-env {api_key_env} is not set", hint=f"export {api_key_env}=<your key>")
        opts["api_key_env"] = api_key_env
    from hotmess.sampling import Budget, RunConfig  # the runner and its providers: imported when a run starts
    from hotmess.sampling.api import execute

    first_contexts = 2
    if target_ci is None and (first_round is not None or max_rounds is not None):
        raise ConfigError(
            "--first-round and --max-rounds shape an adaptive run, and no --target-ci was given",
            hint="add --target-ci W (e.g. 0.05), or drop those options for a fixed run",
        )
    if target_ci is not None and samples is not None and samples < 1:  # else `samples or …` below would hide it
        raise ConfigError(f"--samples must be ≥ 1, got {samples}", hint="e.g. --samples 3")
    if target_ci is not None and not 0 < target_ci < 1:
        raise ConfigError(
            f"--target-ci must be a half-width in (0, 1), got {target_ci}",
            hint="incoherence lies in [0, 1]; e.g. --target-ci 0.05",
        )
    if target_ci is not None:
        first_round = first_round or "2x2"
        first_contexts, per_context = _first_round(first_round)
        if samples is not None and per_context is not None and samples != per_context:
            raise ConfigError(
                f"--samples {samples} and --first-round {first_round} disagree on the samples per context",
                hint="give the samples per context once (--first-round CxS, or --first-round C with --samples S)",
            )
        samples = samples or per_context or 2
    samples = 3 if samples is None else samples

    config = RunConfig(
        model=model,
        task=task,
        n_contexts=contexts,
        samples_per_context=samples,
        k_shot=k_shot,
        fmt=fmt,
        shuffle_options=not no_shuffle,
        scoring=scoring,
        temperature=temperature,
        max_tokens=max_tokens,
        budgets=tuple(Budget.parse(b) for b in budget) or (Budget(),),
        seed=seed,
        limit=limit,
        max_samples=max_samples,
        max_total_tokens=max_total_tokens,
        max_cost=max_cost,
        price_per_mtok=price,
        concurrency=concurrency,
        max_retries=retries,
        max_consecutive_failures=breaker,
        shard=_shard(shard),
        model_options=opts,
        task_options=_options(task_option),
        target_ci=target_ci,
        first_contexts=first_contexts,
        max_rounds=max_rounds,
    )
    if max_cost is not None and price is None:
        raise ConfigError("--max-cost needs --price-per-mtok", hint="give the price per million output tokens")
    try:
        stats = execute(config, store, progress=not no_progress, on_start=_say_endpoint)
    except KeyboardInterrupt:
        raise Interrupted(_kept(config, store), hint="rerun the same command to resume") from None
    if as_json:
        typer.echo(json.dumps(stats.to_dict(), indent=2))
    else:
        others = f", {stats.by_others} by other workers sharing the run" if stats.by_others else ""
        console.print(
            f"run [bold]{stats.run_id}[/]: {stats.written} new samples ({stats.invalid} invalid), "
            f"{stats.already_done} already stored{others}, {stats.output_tokens} output tokens in "
            f"{stats.elapsed:.1f}s"
        )
        if stats.retries:
            console.print("retried: " + ", ".join(f"{k} {v}" for k, v in stats.retries.items()))
        if stats.rounds:
            last = stats.rounds[-1]
            console.print(
                f"adaptive: {len(stats.rounds)} round(s), {last['samples']} samples · incoherence "
                f"{last['incoherence']:.4f} [{last['low']:.4f}, {last['high']:.4f}] ±{last['half_width']:.4f}",
                highlight=False,
            )
    if stats.stop_reason and not stats.stopped:
        err_console.print(f"stop: {escape(stats.stop_reason)}", highlight=False)
    for note in stats.notes:
        err_console.print(f"[yellow]note:[/] {escape(note)}")
    if stats.error_rows:
        err_console.print(
            "[yellow]note:[/] "
            + ", ".join(f"{v} {k}" for k, v in stats.error_rows.items())
            + " sample(s) failed after retries and are stored as error rows; rerun the same command to retry them"
        )
    if stats.stopped:
        err_console.print(f"[yellow]stopped:[/] {stats.stopped}; rerun the same command to continue")
    if not as_json:
        console.print(f"next: hotmess analyze {store}")
    if not stats.complete:
        raise typer.Exit(4 if stats.error_rows else 0)


def _first_round(text: str) -> tuple[int, int | None]:
    """``"2x2"`` → ``(2, 2)``; ``"3"`` → ``(3, None)``."""
    t = text.strip().lower().replace("×", "x")
    parts = t.split("x")
    if len(parts) in (1, 2) and all(p.strip().isdigit() and int(p) >= 1 for p in parts):
        return int(parts[0]), (int(parts[1]) if len(parts) == 2 else None)
    raise ConfigError(f"--first-round {text!r} is not CxS", hint="contexts × samples per context, e.g. 2x2")


def _shard(text: str | None) -> tuple[int, int] | None:
    """``"2/4"`` → ``(2, 4)``."""
    if text is None:
        return None
    k, sep, n = text.partition("/")
    if not sep or not k.strip().isdigit() or not n.strip().isdigit():
        raise ConfigError(f"--shard {text!r} is not K/N", hint="e.g. --shard 1/4 on the first of four machines")
    return int(k), int(n)


def _say_endpoint(provider: Any) -> None:
    """One line on stderr naming where requests go, before the first one (a wrong endpoint costs money)."""
    urls = getattr(provider, "endpoints", None)
    if urls:
        err_console.print(f"endpoint: {', '.join(urls)} (model {provider.name})", highlight=False, markup=False)


def _kept(config: RunConfig, store: Path) -> str:
    """What an interrupted run kept, in words."""
    from hotmess.sampling.api import stored_samples

    try:
        run_id, n = stored_samples(store, config)
    except (HotmessError, OSError):  # interrupted before the store existed
        return "nothing was stored yet"
    return f"{n} samples of run {run_id} are stored in {store}"


def register(app: typer.Typer) -> None:
    """Add ``run`` to the ``hotmess`` app."""
    app.command("run")(run)
