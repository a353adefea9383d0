"""Named configurations: ``cpu-small`` (the default, minutes on two CPU cores), ``cpu-medium``, ``gpu-medium``
and ``paper``.

``paper`` follows SPEC §4 (d = 4, κ = 50, η = 0.005, 20k × 4096 trajectories, p = 4, ~46K–4.9M parameters,
batch 1024, 65k steps, 4096 starts × 2048 rollout steps) and is a GPU job. ``cpu-small`` shrinks every axis
(d = 2, κ = 10, η = 0.02, p = 2, four models of 1.1K–58K parameters, each trained with 3 seeds) so the whole
pipeline runs on a laptop; on it held-out loss falls with size in every seed. ``cpu-medium`` adds a fifth size
(152K) and trains 5 seeds, for a stronger claim in a longer run. ``gpu-medium`` sits between them and
``paper``: the paper's problem with a shorter schedule.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from hotmess.errors import ConfigError
from hotmess.synthetic.config import (
    DataConfig,
    ExperimentConfig,
    MeasureConfig,
    ModelSize,
    ProblemConfig,
    RolloutConfig,
    TrainConfig,
)

__all__ = ["CPU_LADDER", "PAPER_LADDER", "PRESETS", "get_preset", "parse_sizes", "with_overrides"]

PAPER_LADDER: tuple[ModelSize, ...] = (
    ModelSize(2, 42, 3),
    ModelSize(3, 64, 4),
    ModelSize(4, 96, 4),
    ModelSize(6, 128, 4),
    ModelSize(8, 192, 6),
    ModelSize(8, 224, 7),
)
"""The paper-scale ladder, ~46K to ~4.9M parameters, growing in depth and width."""

CPU_LADDER: tuple[ModelSize, ...] = (
    ModelSize(1, 8, 2),
    ModelSize(1, 16, 2),
    ModelSize(2, 32, 2),
    ModelSize(2, 48, 4),
    ModelSize(3, 64, 4),
)
"""The CPU ladder, ~1.1K to ~152K parameters: cpu-small trains the first four, cpu-medium all five."""

PRESETS: dict[str, ExperimentConfig] = {
    "cpu-small": ExperimentConfig(
        preset="cpu-small",
        problem=ProblemConfig(dim=2, condition_number=10.0, step_size=0.02, start_radius=1.0, start_spread=0.25),
        data=DataConfig(n_trajectories=1024, trajectory_steps=128, heldout_fraction=0.1, precision=2),
        sizes=CPU_LADDER[:4],
        train=TrainConfig(
            steps=1500,
            batch_size=128,
            max_lr=3e-3,
            warmup_steps=100,
            weight_decay=0.1,
            eval_every=250,
            eval_pairs=4096,
            checkpoint_every=500,
        ),
        rollout=RolloutConfig(n_starts=256, n_steps=128),
        measure=MeasureConfig(final_window=16, n_boot=500, n_saved_trajectories=16),
        n_seeds=3,
    ),
    "cpu-medium": ExperimentConfig(
        preset="cpu-medium",
        problem=ProblemConfig(dim=2, condition_number=10.0, step_size=0.02, start_radius=1.0, start_spread=0.25),
        data=DataConfig(n_trajectories=1024, trajectory_steps=128, heldout_fraction=0.1, precision=2),
        sizes=CPU_LADDER,
        train=TrainConfig(
            steps=1500,
            batch_size=128,
            max_lr=3e-3,
            warmup_steps=100,
            weight_decay=0.1,
            eval_every=250,
            eval_pairs=4096,
            checkpoint_every=500,
        ),
        rollout=RolloutConfig(n_starts=256, n_steps=128),
        measure=MeasureConfig(final_window=16, n_boot=1000, n_saved_trajectories=16),
        n_seeds=5,
    ),
    "gpu-medium": ExperimentConfig(
        preset="gpu-medium",
        problem=ProblemConfig(),
        data=DataConfig(n_trajectories=4096, trajectory_steps=1024, precision=4),
        sizes=PAPER_LADDER[:4],
        train=TrainConfig(
            steps=6000, batch_size=512, max_lr=1e-3, warmup_steps=300, eval_every=500, checkpoint_every=2000
        ),
        rollout=RolloutConfig(n_starts=1024, n_steps=768),
        measure=MeasureConfig(final_window=64, n_boot=1000),
    ),
    "paper": ExperimentConfig(
        preset="paper",
        problem=ProblemConfig(),
        data=DataConfig(n_trajectories=20_000, trajectory_steps=4096, precision=4),
        sizes=PAPER_LADDER,
        train=TrainConfig(
            steps=65_000, batch_size=1024, max_lr=1e-3, warmup_steps=1000, eval_every=1000, checkpoint_every=5000
        ),
        rollout=RolloutConfig(n_starts=4096, n_steps=2048, batch_size=4096),
        measure=MeasureConfig(final_window=128, n_boot=1000),
    ),
}
"""Preset name → resolved configuration."""


def get_preset(name: str) -> ExperimentConfig:
    """The preset ``name``; :class:`ConfigError` naming the choices otherwise.

    Examples
    --------
    >>> get_preset("paper").data.precision
    4
    """
    try:
        return PRESETS[name]
    except KeyError:
        raise ConfigError(f"unknown preset {name!r}", hint=f"choose one of {', '.join(PRESETS)}") from None


_SIZE = re.compile(r"^(\d+)x(\d+)(?:h(\d+))?$")


def parse_sizes(spec: str) -> tuple[ModelSize, ...]:
    """Parse ``"LxC[hH],..."`` (layers x width, optional heads; default heads = max(1, C // 16)).

    Examples
    --------
    >>> [s.name for s in parse_sizes("1x16h2, 2x64")]
    ['1x16h2', '2x64h4']
    """
    sizes = []
    for part in (p.strip() for p in spec.split(",")):
        m = _SIZE.match(part)
        if not m:
            raise ConfigError(
                f"cannot read model size {part!r}",
                hint="write sizes as LAYERSxWIDTH[hHEADS], comma-separated, e.g. 2x48h4,4x96",
            )
        layers, width = int(m.group(1)), int(m.group(2))
        heads = int(m.group(3)) if m.group(3) else max(1, width // 16)
        try:
            sizes.append(ModelSize(layers, width, heads))
        except ValueError as exc:
            raise ConfigError(str(exc), hint="the number of heads must divide the width") from None
    if not sizes:
        raise ConfigError("no model sizes given", hint="e.g. --sizes 1x16h2,2x32h2")
    return tuple(sizes)


def with_overrides(config: ExperimentConfig, **overrides: Any) -> ExperimentConfig:
    """Apply CLI-style overrides (``None`` = keep) and re-validate; bad values raise :class:`ConfigError`.

    Recognised keys: ``seed, seeds, sizes, steps, batch_size, max_lr, n_trajectories, trajectory_steps,
    precision, n_starts, rollout_steps, temperature, rollouts_per_start, start_distribution, n_boot``.

    Examples
    --------
    >>> c = with_overrides(get_preset("cpu-small"), steps=10, sizes="1x8h2")
    >>> c.train.steps, [s.name for s in c.sizes]
    (10, ['1x8h2'])
    """
    o = {k: v for k, v in overrides.items() if v is not None}
    groups = {
        "train": {"steps": "steps", "batch_size": "batch_size", "max_lr": "max_lr"},
        "data": {"n_trajectories": "n_trajectories", "trajectory_steps": "trajectory_steps", "precision": "precision"},
        "rollout": {
            "n_starts": "n_starts",
            "rollout_steps": "n_steps",
            "temperature": "temperature",
            "rollouts_per_start": "rollouts_per_start",
        },
        "problem": {"start_distribution": "start_distribution"},
        "measure": {"n_boot": "n_boot"},
    }
    known = {"seed", "seeds", "sizes"} | {k for g in groups.values() for k in g}
    unknown = set(o) - known
    if unknown:
        raise ConfigError(f"unknown override(s) {sorted(unknown)}", hint=f"use one of {sorted(known)}")
    try:
        changes: dict[str, Any] = {}
        for group, keys in groups.items():
            sub = {field: o[key] for key, field in keys.items() if key in o}
            if sub:
                changes[group] = dataclasses.replace(getattr(config, group), **sub)
        if "seed" in o:
            changes["seed"] = int(o["seed"])
        if "seeds" in o:
            changes["n_seeds"] = int(o["seeds"])
        if "sizes" in o:
            changes["sizes"] = parse_sizes(o["sizes"]) if isinstance(o["sizes"], str) else tuple(o["sizes"])
        measure = changes.get("measure", config.measure)
        n_steps = changes.get("rollout", config.rollout).n_steps
        if measure.final_window > n_steps + 1:
            changes["measure"] = dataclasses.replace(measure, final_window=n_steps + 1)
        return dataclasses.replace(config, **changes)
    except ValueError as exc:
        if isinstance(exc, ConfigError):
            raise
        raise ConfigError(f"invalid option: {exc}", hint="see `hotmess synthetic --help`") from None
