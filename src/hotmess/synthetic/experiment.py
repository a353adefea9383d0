"""The whole experiment: data → train every size → roll out → measure → tables, plots, HTML report.

Everything is written under one explicit output directory::

    config.json            resolved config, seeds, device, versions
    problem.json           A, b, η and the offset direction of the starts
    checkpoints/<run>.pt   model + optimizer + batch-generator state + log + config (and <run>.json);
                           <run> is the size (training seed 0) or <size>-seed<k>
    rollouts/<run>.npz     last ``final_window`` steps of every rollout and a few full trajectories
    losses.csv             held-out / train loss log of every size and training seed
    rollout_metrics.parquet, rollout_metrics.csv   bias, variance, error, incoherence per step, model and
                           training seed, and each one's excess over the optimizer at the same step
    summary.csv            one row per model and training seed (and the optimizer): final values, loss, timings
    fits.json, fits.csv    power laws vs size of the final bias / variance / error (raw and in excess of the
                           optimizer's) and of held-out loss, with intervals over seeds × starts and each fit's
                           own residual interval; α_bias − α_variance and the evidence for its sign
    seed_fits.csv          every training seed's own exponents
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
from hotmess.synthetic.measure import (
    QUANTITIES,
    PowerLawFit,
    SeedScaling,
    final_values,
    fit_power_law,
    seed_means,
    seed_scaling,
    step_metrics,
)
from hotmess.synthetic.problem import Quadratic, make_problem, optimizer_rollout, sample_starts
from hotmess.synthetic.rollout import rollout_model
from hotmess.synthetic.train import train_model

__all__ = ["REFERENCE", "ExperimentResult", "derive_seed", "resolve_device", "run_experiment", "run_name"]

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


def run_name(size: ModelSize, train_seed: int) -> str:
    """File name of one trained model: the size for training seed 0 (as before seeds existed), else
    ``<size>-seed<k>``."""
    return size.name if train_seed == 0 else f"{size.name}-seed{train_seed}"


def _stream(config: ExperimentConfig, train_seed: int, *keys: str) -> int:
    """The seed of a per-training-seed stream; training seed 0 keeps the streams of a one-seed run."""
    return derive_seed(config.seed, *keys) if train_seed == 0 else derive_seed(config.seed, *keys, f"seed{train_seed}")


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
    """Power laws vs parameter count: ``bias``, ``variance``, ``error`` (of the seed means), ``heldout_loss``
    (empty with < 2 sizes)."""
    scaling: SeedScaling | None = field(repr=False)
    """The fits over training seeds, raw and in excess of the optimizer's floor (None with < 2 sizes)."""
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
    datas: dict[int, PairData] = {}
    data_lock = threading.Lock()

    def data_of(train_seed: int) -> PairData:
        with data_lock:
            if train_seed not in datas:
                datas[train_seed] = build_data(
                    problem,
                    config.problem,
                    config.data,
                    seed=_stream(config, train_seed, "data"),
                    device=dev,
                    loss_on_x=config.train.loss_on_x,
                )
            return datas[train_seed]

    starts = sample_starts(
        problem, config.problem, config.rollout.n_starts, rng=derive_seed(config.seed, "eval-starts")
    )
    rows, metric_frames, loss_frames = [], [], []
    bars = ProgressBars(progress)
    runs = [(k, s) for k in range(config.n_seeds) for s in config.sizes]
    n_jobs = resolve_jobs(jobs, dev, len(runs))
    with bars.running():
        ref = _reference(problem, starts, config, out)
        metric_frames.append(step_metrics(ref, problem, model=REFERENCE))
        rows.append(_summary_row(REFERENCE, float("nan"), ref, problem, config))
        ticks = {
            run_name(s, k): (
                bars.task(f"train   {run_name(s, k)}", config.train.steps),
                bars.task(f"rollout {run_name(s, k)}", rollout_ticks(config)),
            )
            for k, s in runs
        }
        stop = threading.Event()

        def one(run: tuple[int, ModelSize]) -> _SizeResult:
            k, size = run
            return _one_size(
                size, k, data_of(k), starts, problem, config, out, run_info, resume, ticks[run_name(size, k)], stop
            )

        results: dict[str, _SizeResult] = {}
        try:
            if n_jobs == 1:
                results = {run_name(s, k): one((k, s)) for k, s in runs}
            else:  # models are independent: train them side by side, the most expensive first
                order = sorted(runs, key=lambda r: (r[1].n_layer * r[1].n_embd ** 2, -r[0]), reverse=True)
                with ThreadPoolExecutor(max_workers=n_jobs, thread_name_prefix="hotmess-train") as pool:
                    futures = {run_name(s, k): pool.submit(one, (k, s)) for k, s in order}
                    results = {name: f.result() for name, f in futures.items()}
        except BaseException:
            stop.set()  # let the other workers stop at their next step (they checkpoint as usual)
            raise
        for k, size in runs:
            r = results[run_name(size, k)]
            loss_frames.append(r.losses)
            metric_frames.append(r.metrics)
            rows.append(r.row)
    summary = pd.DataFrame(rows)
    summary.insert(1, "train_seed", summary.pop("train_seed").astype("Int64"))  # next to the model (none: optimizer)
    metrics = _with_excess(pd.concat(metric_frames, ignore_index=True))
    losses = pd.concat(loss_frames, ignore_index=True) if loss_frames else pd.DataFrame()
    finals = [[results[run_name(s, k)].final for s in config.sizes] for k in range(config.n_seeds)]
    n_params = [results[run_name(s, 0)].n_params for s in config.sizes]
    fits, scaling = _fits(n_params, finals, ref[:, :, -config.measure.final_window :], summary, problem, config)
    write_tables(out, summary, metrics, losses, fits, scaling)
    from hotmess.synthetic.report import write_report

    report = write_report(
        out,
        config=config,
        run_info=run_info,
        summary=summary,
        metrics=metrics,
        losses=losses,
        fits=fits,
        scaling=scaling,
        problem=problem,
        wall_s=time.perf_counter() - t_start,
    )
    wall = time.perf_counter() - t_start
    return ExperimentResult(out, config, summary, metrics, losses, fits, scaling, wall, report)


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
    train_seed: int,
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
    """Train (or resume) one size with one training seed, roll it out and measure it."""
    train_tick, rollout_tick = ticks
    name = run_name(size, train_seed)

    def on_step(step: int) -> None:
        if stop.is_set():
            raise _CancelledError(size.name)
        train_tick(step)

    model, tr = train_model(
        size,
        data,
        config.train,
        seed=_stream(config, train_seed, "train", size.name),
        checkpoint=out / "checkpoints" / f"{name}.pt",
        resume=resume,
        run_config=run_info,
        on_step=on_step,
    )
    train_tick(config.train.steps)
    pts, rollout_s = _model_rollout(
        model,
        data.tokenizer,
        starts,
        config,
        out,
        name,
        _stream(config, train_seed, "rollout", size.name),
        rollout_tick,
        resume,
    )
    row = _summary_row(size.name, tr.n_params, pts, problem, config)
    row.update(
        train_seed=train_seed,
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
        losses=pd.DataFrame(tr.log).assign(model=size.name, n_params=tr.n_params, train_seed=train_seed),
        metrics=step_metrics(pts, problem, model=size.name, n_params=tr.n_params).assign(
            train_seed=pd.array([train_seed] * (pts.shape[2]), dtype="Int64")
        ),
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
    seed: int,
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
        seed=seed,
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


def _with_excess(metrics: pd.DataFrame) -> pd.DataFrame:
    """Each row's bias, variance, error and incoherence minus the optimizer's at the same step (``*_excess``)."""
    ref = metrics[metrics["model"] == REFERENCE].set_index("step")
    out = metrics.copy()
    for q in (*QUANTITIES, "incoherence"):
        out[f"{q}_excess"] = out[q].to_numpy() - ref[q].reindex(out["step"]).to_numpy()
    return out


def _fits(
    n_params: list[int],
    finals: list[list[np.ndarray]],
    reference: np.ndarray,
    summary: pd.DataFrame,
    problem: Quadratic,
    config: ExperimentConfig,
) -> tuple[dict[str, PowerLawFit], SeedScaling | None]:
    if len(set(n_params)) < 2:
        return {}, None
    try:
        scaling = seed_scaling(
            n_params,
            finals,
            reference,
            problem,
            n_boot=config.measure.n_boot,
            level=config.measure.ci_level,
            rng=derive_seed(config.seed, "bootstrap"),
        )
        fits = dict(scaling.raw)
        models = seed_means(summary[summary["model"] != REFERENCE], ["model"])
        fits["heldout_loss"] = fit_power_law(models["n_params"], models["heldout_loss"], quantity="heldout_loss")
    except ValueError as exc:  # e.g. a zero final variance: no power law to fit
        warnings.warn(f"scaling fits skipped: {exc}", RuntimeWarning, stacklevel=2)
        return {}, None
    return fits, scaling
