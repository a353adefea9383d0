"""Run bookkeeping for :mod:`hotmess.synthetic.experiment`: output directory, progress bars, threads, files."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from hotmess.errors import ConfigError
from hotmess.synthetic.config import ExperimentConfig
from hotmess.synthetic.measure import PowerLawFit, SeedScaling

__all__ = [
    "ProgressBars",
    "check_out_dir",
    "resolve_jobs",
    "rollout_ticks",
    "save_rollout",
    "torch_threads",
    "write_tables",
]


class ProgressBars:
    """A rich progress display, or nothing."""

    def __init__(self, enabled: bool) -> None:
        self._progress: Any = None
        if enabled:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self._progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                transient=False,
            )

    @contextmanager
    def running(self) -> Iterator[ProgressBars]:
        if self._progress is None:
            yield self
            return
        with self._progress:
            yield self

    def task(self, description: str, total: int) -> Any:
        """A new bar (its clock starts at the first update); returns ``tick(completed)``."""
        if self._progress is None:
            return lambda n: None
        progress = self._progress
        tid = progress.add_task(description, total=total, start=False)
        started = [False]

        def tick(n: int) -> None:
            if not started[0]:
                progress.start_task(tid)
                started[0] = True
            progress.update(tid, completed=n)

        return tick


def check_out_dir(out_dir: Path, config: ExperimentConfig, resume: bool) -> None:
    if out_dir.exists() and not out_dir.is_dir():
        raise ConfigError(f"--out {out_dir} is a file", hint="give a directory (it is created if missing)")
    cfg_path = out_dir / "config.json"
    if resume and cfg_path.exists():
        try:
            # through the dataclass: a run written before a field existed has that field's default
            saved = ExperimentConfig.from_dict(json.loads(cfg_path.read_text())["config"]).to_dict()
        except (ValueError, KeyError, TypeError, AttributeError):  # truncated or foreign config.json
            raise ConfigError(
                f"{cfg_path} is not the config of a hotmess synthetic run", hint="choose a fresh --out"
            ) from None
        if json.loads(json.dumps(saved)) != json.loads(json.dumps(config.to_dict())):
            raise ConfigError(
                f"{out_dir} holds a run with a different config",
                hint="resume with the same preset and overrides, or choose a fresh --out",
            )
    elif not resume and out_dir.exists() and any(out_dir.iterdir()):
        raise ConfigError(
            f"output directory {out_dir} is not empty",
            hint="pass --resume to continue the run there, or choose an empty --out",
        )


@contextmanager
def torch_threads(n: int) -> Iterator[None]:
    before = torch.get_num_threads()
    if n > 0:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def resolve_jobs(jobs: int, device: torch.device, n_sizes: int) -> int:
    if jobs < 0:
        raise ConfigError(f"jobs: expected >= 0, got {jobs}", hint="use 0 for automatic")
    if jobs == 0:
        jobs = 1 if device.type == "cuda" else max(1, min(os.cpu_count() or 1, 4))
    return max(1, min(jobs, n_sizes))


def rollout_ticks(config: ExperimentConfig) -> int:
    """Progress ticks of one model's rollout: steps × batches."""
    rc = config.rollout
    n = rc.n_starts * rc.rollouts_per_start
    return rc.n_steps * -(-n // (rc.batch_size or n))


def save_rollout(path: Path, pts: np.ndarray, config: ExperimentConfig, wall_s: float = 0.0) -> None:
    """Save the final window, a few full trajectories and, up to 1 GiB, every point (for resuming)."""
    n_show = min(config.measure.n_saved_trajectories, pts.shape[0])
    final, shown = pts[:, :, -config.measure.final_window :], pts[:n_show, 0]
    tmp = path.with_suffix(".tmp.npz")
    if pts.nbytes <= 2**30:
        np.savez_compressed(tmp, final=final, trajectories=shown, points=pts, wall_s=wall_s)
    else:
        np.savez_compressed(tmp, final=final, trajectories=shown, wall_s=wall_s)
    tmp.replace(path)


def write_tables(
    out: Path,
    summary: pd.DataFrame,
    metrics: pd.DataFrame,
    losses: pd.DataFrame,
    fits: dict[str, PowerLawFit],
    scaling: SeedScaling | None = None,
) -> None:
    summary.to_csv(out / "summary.csv", index=False)
    metrics.to_parquet(out / "rollout_metrics.parquet", index=False)
    metrics.to_csv(out / "rollout_metrics.csv", index=False)
    losses.to_csv(out / "losses.csv", index=False)
    if scaling is None:
        frame = pd.DataFrame([f.to_dict() for f in fits.values()]).assign(kind="raw")
    else:
        loss = [f.to_dict() | {"kind": "raw"} for q, f in fits.items() if q == "heldout_loss"]
        frame = pd.concat([scaling.fits_frame(), pd.DataFrame(loss)], ignore_index=True)
        scaling.per_seed.to_csv(out / "seed_fits.csv", index=False)
    frame.to_csv(out / "fits.csv", index=False)
    doc: dict[str, Any] = {"fits": frame.to_dict(orient="records")}
    if scaling is not None:
        doc["differences"] = [d.to_dict() for d in scaling.differences.values()]
        doc["floor"] = scaling.floor
        doc["floor_share"] = scaling.floor_share
        doc["per_seed"] = scaling.per_seed.to_dict(orient="records")
    (out / "fits.json").write_text(json.dumps(doc, indent=2, default=float) + "\n")
