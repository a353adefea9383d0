"""The whole experiment: data → train every size → roll out → measure → tables, plots, HTML report.

Everything is written under one explicit output directory::

    config.json            resolved config, seeds, device, versions
    problem.json           A, b, η and the offset direction of the starts
    checkpoints/<size>.pt  model + optimizer + batch-generator state + log + config (and <size>.json)
    rollouts/<name>.npz    last ``final_window`` steps of every rollout and a few full trajectories
    losses.csv             held-out / train loss log of every size
    rollout_metrics.parquet, rollout_metrics.csv   bias, variance, error, incoherence per step and model
    summary.csv            one row per model (and the reference optimizer): final values, loss, timings
    fits.json, fits.csv    power laws of final bias / variance / error and of held-out loss vs size
    plots/*.png, report.html

``resume=True`` reuses finished checkpoints and rollouts and continues unfinished training.
"""

from __future__ import annotations

import json
import platform
import threading
import time
import warnings
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from hotmess import __version__
from hotmess.errors import ConfigError
from hotmess.synthetic._runs import (
    ProgressBars,
    check_out_dir,
    resolve_jobs,
    rollout_ticks,
    save_rollout,
    torch_threads,
    write_tables,
)
from hotmess.synthetic.config import ExperimentConfig, ModelSize
from hotmess.synthetic.data import PairData, build_data
from hotmess.synthetic.measure import PowerLawFit, final_values, fit_power_law, scaling_fits, step_metrics
from hotmess.synthetic.problem import Quadratic, make_problem, optimizer_rollout, sample_starts
from hotmess.synthetic.rollout import rollout_model
from hotmess.synthetic.train import train_model

__all__ = ["REFERENCE", "ExperimentResult", "derive_seed", "resolve_device", "run_experiment"]

REFERENCE = "optimizer"
"""Model name of the ground-truth optimizer in every table."""


def derive_seed(seed: int, *keys: str) -> int:
    """A stable 32-bit seed for the stream named ``keys`` under the master ``seed``.

    Examples
    --------
    >>> derive_seed(0, "train", "2x48h4") == derive_seed(0, "train", "2x48h4") != derive_seed(1, "train")
    True
    """
    key = tuple(zlib.crc32(k.encode()) for k in keys)
    return int(np.random.SeedSequence(seed, spawn_key=key).generate_state(1)[0])


def resolve_device(device: str) -> torch.device:
    """``"auto"`` → CUDA when available, else CPU; ``"cuda"`` without a GPU raises :class:`ConfigError`."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device not in ("cpu", "cuda"):
        raise ConfigError(f"unknown device {device!r}", hint="use auto, cpu or cuda")
    if device == "cuda" and not torch.cuda.is_available():
        raise ConfigError(
            "--device cuda was asked for but no CUDA device is available", hint="use --device cpu or auto"
        )
    return torch.device(device)


@dataclass(frozen=True)
class ExperimentResult:
    """Tables and paths of one finished run."""

    out_dir: Path
    """Where everything was written."""
    config: ExperimentConfig
    """The resolved config."""
    summary: pd.DataFrame = field(repr=False)
    """One row per model and the reference: n_params, held-out loss, step-0 and final decompositions."""
    metrics: pd.DataFrame = field(repr=False)
    """Per-step bias, variance, error, incoherence of every model and the reference."""
    losses: pd.DataFrame = field(repr=False)
    """Training log of every size."""
    fits: dict[str, PowerLawFit] = field(repr=False)
    """Power laws vs parameter count: ``bias``, ``variance``, ``error``, ``heldout_loss`` (empty with < 2 sizes)."""
    wall_s: float
    """Total wall time of this call."""
    report: Path
    """The HTML report."""


def run_experiment(
    config: ExperimentConfig,
    out_dir: Path | str,
    *,
    device: str = "auto",
    resume: bool = False,
    progress: bool = False,
    threads: int = 1,
    jobs: int = 0,
) -> ExperimentResult:
    """Run the synthetic optimizer experiment end to end and write its outputs under ``out_dir``.

    Parameters
    ----------
    config
        Resolved configuration (a preset with overrides).
    out_dir
        Output directory; must be empty (or absent) unless ``resume``.
    device
        ``"auto"``, ``"cpu"`` or ``"cuda"``.
    resume
        Continue a run in ``out_dir`` with the same config.
    progress
        Show rich progress bars.
    threads
        CPU threads torch may use during the run (restored afterwards); 0 keeps torch's default. One thread
        is the default: these models are too small to gain from intra-op parallelism, and on a shared
        machine extra threads contend for cores and can slow training down tenfold.
    jobs
        Model sizes trained side by side in threads (each with ``threads`` intra-op threads). 0 = automatic:
        one on CUDA, else up to the number of CPU cores (at most 4). Results do not depend on it.
    """
    if threads < 0:
        raise ConfigError(f"threads: expected >= 0, got {threads}", hint="use 0 for torch's default")
    if jobs < 0:  # checked before --out is written (a half-made --out would refuse the corrected command)
        raise ConfigError(f"jobs: expected >= 0, got {jobs}", hint="use 0 for automatic")
    with torch_threads(threads):
        return _run(config, out_dir, device=device, resume=resume, progress=progress, jobs=jobs)


def _run(
    config: ExperimentConfig, out_dir: Path | str, *, device: str, resume: bool, progress: bool, jobs: int
) -> ExperimentResult:
    t_start = time.perf_counter()
    out = Path(out_dir)
    check_out_dir(out, config, resume)
    dev = resolve_device(device)
    try:
        for sub in ("checkpoints", "rollouts", "plots"):
            (out / sub).mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # e.g. a file where a folder of the path should be
        raise ConfigError(
            f"cannot create --out {out}: {exc.strerror or type(exc).__name__}", hint="give a writable directory"
        ) from None
    run_info = {
        "config": config.to_dict(),
        "device": str(dev),
        "torch": str(torch.__version__),
        "hotmess": __version__,
        "python": platform.python_version(),
    }
    (out / "config.json").write_text(json.dumps(run_info, indent=2) + "\n")
    problem = make_problem(config.problem, rng=derive_seed(config.seed, "problem"))
    (out / "problem.json").write_text(json.dumps(problem.to_dict(), indent=2) + "\n")
    data = build_data(
        problem,
        config.problem,
        config.data,
        seed=derive_seed(config.seed, "data"),
        device=dev,
        loss_on_x=config.train.loss_on_x,
    )
    starts = sample_starts(
        problem, config.problem, config.rollout.n_starts, rng=derive_seed(config.seed, "eval-starts")
    )
    rows, metric_frames, loss_frames, finals, n_params = [], [], [], [], []
    bars = ProgressBars(progress)
    n_jobs = resolve_jobs(jobs, dev, len(config.sizes))
    with bars.running():
        ref = _reference(problem, starts, config, out)
        metric_frames.append(step_metrics(ref, problem, model=REFERENCE))
        rows.append(_summary_row(REFERENCE, float("nan"), ref, problem, config))
        ticks = {
            s.name: (
                bars.task(f"train   {s.name}", config.train.steps),
                bars.task(f"rollout {s.name}", rollout_ticks(config)),
            )
            for s in config.sizes
        }
        stop = threading.Event()

        def one(size: ModelSize) -> _SizeResult:
            return _one_size(size, data, starts, problem, config, out, run_info, resume, ticks[size.name], stop)

        results: dict[str, _SizeResult] = {}
        try:
            if n_jobs == 1:
                results = {s.name: one(s) for s in config.sizes}
            else:  # models are independent: train them side by side, the most expensive first
                order = sorted(config.sizes, key=lambda s: s.n_layer * s.n_embd**2, reverse=True)
                with ThreadPoolExecutor(max_workers=n_jobs, thread_name_prefix="hotmess-train") as pool:
                    futures = {s.name: pool.submit(one, s) for s in order}
                    results = {name: f.result() for name, f in futures.items()}
        except BaseException:
            stop.set()  # let the other workers stop at their next step (they checkpoint as usual)
            raise
        for size in config.sizes:
            r = results[size.name]
            loss_frames.append(r.losses)
            metric_frames.append(r.metrics)
            rows.append(r.row)
            finals.append(r.final)
            n_params.append(r.n_params)
    summary = pd.DataFrame(rows)
    metrics = pd.concat(metric_frames, ignore_index=True)
    losses = pd.concat(loss_frames, ignore_index=True) if loss_frames else pd.DataFrame()
    fits = _fits(n_params, finals, summary, problem, config)
    write_tables(out, summary, metrics, losses, fits)
    from hotmess.synthetic.report import write_report

    report = write_report(
        out,
        config=config,
        run_info=run_info,
        summary=summary,
        metrics=metrics,
        losses=losses,
        fits=fits,
        problem=problem,
        wall_s=time.perf_counter() - t_start,
    )
    return ExperimentResult(out, config, summary, metrics, losses, fits, time.perf_counter() - t_start, report)


@dataclass(frozen=True)
class _SizeResult:
    row: dict[str, Any]
    losses: pd.DataFrame
    metrics: pd.DataFrame
    final: np.ndarray
    n_params: int


class _CancelledError(Exception):
    """Raised inside a worker when another worker failed or the user interrupted."""


def _one_size(
    size: ModelSize,
    data: PairData,
    starts: np.ndarray,
    problem: Quadratic,
    config: ExperimentConfig,
    out: Path,
    run_info: dict[str, Any],
    resume: bool,
    ticks: tuple[Any, Any],
    stop: threading.Event,
) -> _SizeResult:
    """Train (or resume) one size, roll it out and measure it."""
    train_tick, rollout_tick = ticks

    def on_step(step: int) -> None:
        if stop.is_set():
            raise _CancelledError(size.name)
        train_tick(step)

    model, tr = train_model(
        size,
        data,
        config.train,
        seed=derive_seed(config.seed, "train", size.name),
        checkpoint=out / "checkpoints" / f"{size.name}.pt",
        resume=resume,
        run_config=run_info,
        on_step=on_step,
    )
    train_tick(config.train.steps)
    pts, rollout_s = _model_rollout(model, data.tokenizer, starts, config, out, size.name, rollout_tick, resume)
    row = _summary_row(size.name, tr.n_params, pts, problem, config)
    row.update(
        heldout_loss=tr.final_heldout_loss,
        tokens_per_s=tr.tokens_per_s,
        train_wall_s=tr.wall_s,
        rollout_wall_s=rollout_s,
        n_layer=size.n_layer,
        n_embd=size.n_embd,
        n_head=size.n_head,
    )
    return _SizeResult(
        row=row,
        losses=pd.DataFrame(tr.log).assign(model=size.name, n_params=tr.n_params),
        metrics=step_metrics(pts, problem, model=size.name, n_params=tr.n_params),
        final=pts[:, :, -config.measure.final_window :],
        n_params=tr.n_params,
    )


def _reference(problem: Quadratic, starts: np.ndarray, config: ExperimentConfig, out: Path) -> np.ndarray:
    traj = optimizer_rollout(problem, starts, config.rollout.n_steps)[:, None]  # (K, 1, T+1, d)
    save_rollout(out / "rollouts" / f"{REFERENCE}.npz", traj, config)
    return traj


def _model_rollout(
    model: Any,
    tokenizer: Any,
    starts: np.ndarray,
    config: ExperimentConfig,
    out: Path,
    name: str,
    tick: Any,
    resume: bool,
) -> tuple[np.ndarray, float]:
    """Roll out (or, when resuming, load) one model; returns the points and the rollout's wall time."""
    path = out / "rollouts" / f"{name}.npz"
    rc = config.rollout
    done = [0]

    def on_step(_: int) -> None:
        done[0] += 1
        tick(done[0])

    if resume and path.exists():
        with np.load(path) as z:
            if "points" in z:
                tick(rollout_ticks(config))
                return np.asarray(z["points"]), float(z["wall_s"])
    t0 = time.perf_counter()
    pts = rollout_model(
        model,
        tokenizer,
        starts,
        rc.n_steps,
        temperature=rc.temperature,
        rollouts_per_start=rc.rollouts_per_start,
        seed=derive_seed(config.seed, "rollout", name),
        batch_size=rc.batch_size,
        on_step=on_step,
    )
    wall = time.perf_counter() - t0
    save_rollout(path, pts, config, wall)
    return pts, wall


def _summary_row(
    name: str, n_params: float, pts: np.ndarray, problem: Quadratic, config: ExperimentConfig
) -> dict[str, Any]:
    start = final_values(pts[:, :, :1], problem)
    final = final_values(pts[:, :, -config.measure.final_window :], problem)
    row: dict[str, Any] = {"model": name, "n_params": float(n_params)}
    row.update({f"{k}_start": v for k, v in start.items()})
    row.update({f"{k}_final": v for k, v in final.items()})
    return row


def _fits(
    n_params: list[int], finals: list[np.ndarray], summary: pd.DataFrame, problem: Quadratic, config: ExperimentConfig
) -> dict[str, PowerLawFit]:
    if len(set(n_params)) < 2:
        return {}
    try:
        fits = scaling_fits(
            n_params,
            finals,
            problem,
            n_boot=config.measure.n_boot,
            level=config.measure.ci_level,
            rng=derive_seed(config.seed, "bootstrap"),
        )
        models = summary[summary["model"] != REFERENCE]
        fits["heldout_loss"] = fit_power_law(models["n_params"], models["heldout_loss"], quantity="heldout_loss")
    except ValueError as exc:  # e.g. a zero final variance: no power law to fit
        warnings.warn(f"scaling fits skipped: {exc}", RuntimeWarning, stacklevel=2)
        return {}
    return fits
