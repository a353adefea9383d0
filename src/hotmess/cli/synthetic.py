"""``hotmess synthetic``: the synthetic optimizer experiment from data generation to plots (SPEC §4)."""

from __future__ import annotations

from pathlib import Path

import typer

from hotmess._extras import install_hint
from hotmess.errors import ConfigError

__all__ = ["register"]


def synthetic(
    out: Path = typer.Option(..., "--out", help="Output directory (required; nothing is written elsewhere)."),
    preset: str = typer.Option(
        "cpu-small", "--preset", help="cpu-small (default, minutes on a CPU), gpu-medium, or paper (GPU)."
    ),
    seed: int | None = typer.Option(None, "--seed", help="Master seed of every random stream (default 0)."),
    seeds: int | None = typer.Option(
        None, "--seeds", help="Training seeds per size (own data, init, batches); exponents get intervals over seeds."
    ),
    device: str = typer.Option("auto", "--device", help="auto, cpu or cuda (bf16)."),
    sizes: str | None = typer.Option(
        None, "--sizes", help="Model ladder: comma-separated LAYERSxWIDTH or LAYERSxWIDTHhHEADS, e.g. 1x16h2,2x48h4."
    ),
    steps: int | None = typer.Option(None, "--steps", help="Training steps per model."),
    batch_size: int | None = typer.Option(None, "--batch-size", help="Training batch (sequences)."),
    lr: float | None = typer.Option(None, "--lr", help="Peak learning rate."),
    trajectories: int | None = typer.Option(None, "--trajectories", help="Training trajectories."),
    trajectory_steps: int | None = typer.Option(None, "--trajectory-steps", help="Steps per trajectory."),
    precision: int | None = typer.Option(None, "--precision", help="Mantissa decimals p of the tokenizer."),
    starts: int | None = typer.Option(None, "--starts", help="Rollout starting points."),
    rollout_steps: int | None = typer.Option(None, "--rollout-steps", help="Steps per rollout."),
    temperature: float | None = typer.Option(None, "--temperature", help="0 = greedy; > 0 samples."),
    rollouts_per_start: int | None = typer.Option(
        None, "--rollouts-per-start", help="Rollouts per start (needs --temperature > 0)."
    ),
    start_distribution: str | None = typer.Option(
        None, "--start-distribution", help="offset (default) or centered; see docs/synthetic.md."
    ),
    n_boot: int | None = typer.Option(None, "--n-boot", help="Bootstrap resamples for the exponents' CIs."),
    resume: bool = typer.Option(False, "--resume", help="Continue the run in --out (same config)."),
    threads: int = typer.Option(1, "--threads", help="CPU threads per model for torch (0 = torch default)."),
    jobs: int = typer.Option(
        0, "--jobs", help="Model sizes trained side by side (0 = auto: CPU cores, max 4; 1 on CUDA)."
    ),
    quiet: bool = typer.Option(False, "--quiet", help="No progress bars."),
) -> None:
    """Train a ladder of tiny transformers to imitate an optimizer, roll them out, decompose their error."""
    try:
        import matplotlib  # noqa: F401  (the report's plots)

        from hotmess.synthetic import get_preset, run_experiment, with_overrides
    except ImportError as exc:  # torch or matplotlib missing
        raise ConfigError(
            f"the synthetic experiment needs torch and matplotlib ({exc})", hint=install_hint("synthetic,plot")
        ) from None
    config = with_overrides(
        get_preset(preset),
        seed=seed,
        seeds=seeds,
        sizes=sizes,
        steps=steps,
        batch_size=batch_size,
        max_lr=lr,
        n_trajectories=trajectories,
        trajectory_steps=trajectory_steps,
        precision=precision,
        n_starts=starts,
        rollout_steps=rollout_steps,
        temperature=temperature,
        rollouts_per_start=rollouts_per_start,
        start_distribution=start_distribution,
        n_boot=n_boot,
    )
    if resume and not (out / "config.json").is_file():
        from hotmess.cli._common import err_console

        err_console.print(f"[yellow]note:[/] nothing to resume in {out}; starting a fresh run there")
    result = run_experiment(config, out, device=device, resume=resume, progress=not quiet, threads=threads, jobs=jobs)
    from hotmess.synthetic.measure import seed_means
    from hotmess.synthetic.report import findings

    cols = [
        "model",
        "n_params",
        "heldout_loss",
        "bias_final",
        "variance_final",
        "incoherence_start",
        "incoherence_final",
    ]
    table = seed_means(result.summary, ["model"]) if config.n_seeds > 1 else result.summary
    if config.n_seeds > 1:
        typer.echo(f"means over {config.n_seeds} training seeds (each seed: summary.csv)")
    typer.echo(table[[c for c in cols if c in table]].to_string(index=False))
    for line in findings(result.summary, result.fits, result.scaling, result.metrics):
        typer.echo(f"- {line}")
    typer.echo(f"done in {result.wall_s:.1f} s; report: {result.report}")


def register(app: typer.Typer) -> None:
    """Add the ``synthetic`` command to ``app``."""
    app.command("synthetic")(synthetic)
