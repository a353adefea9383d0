"""Typed configuration of the synthetic optimizer experiment (one dataclass per stage).

Every field has a docstring; :meth:`ExperimentConfig.to_dict` gives the resolved JSON saved with every
checkpoint and result, and :meth:`ExperimentConfig.from_dict` reads it back.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "DataConfig",
    "ExperimentConfig",
    "MeasureConfig",
    "ModelSize",
    "ProblemConfig",
    "RolloutConfig",
    "TrainConfig",
]

StartKind = Literal["offset", "centered"]


@dataclass(frozen=True)
class ProblemConfig:
    """The quadratic objective, its optimizer and the start distribution."""

    dim: int = 4
    """d: dimension of x."""
    condition_number: float = 50.0
    """κ: ratio of the largest to the smallest eigenvalue of A (eigenvalues geometric in [1/κ, 1])."""
    step_size: float = 0.005
    """η: Euclidean norm of every optimizer step, u = −η ∇f/‖∇f‖."""
    start_distribution: StartKind = "offset"
    """``"offset"``: x₀ = b + r·v + σ·z (v a seeded unit vector shared by all starts, z ~ N(0, I)), so the
    error at step 0 is mostly bias; ``"centered"``: x₀ = b + σ·z, whose step-0 error is all variance."""
    start_radius: float = 1.0
    """r: distance of the centre of the start cloud from the minimum b (``"offset"`` only)."""
    start_spread: float = 0.25
    """σ: per-coordinate standard deviation of the start cloud."""

    def __post_init__(self) -> None:
        if self.dim < 1:
            raise ValueError(f"dim: expected >= 1, got {self.dim}")
        if not self.condition_number >= 1.0:
            raise ValueError(f"condition_number: expected >= 1, got {self.condition_number}")
        if not self.step_size > 0:
            raise ValueError(f"step_size: expected > 0, got {self.step_size}")
        if self.start_distribution not in ("offset", "centered"):
            raise ValueError(f"start_distribution: expected 'offset' or 'centered', got {self.start_distribution!r}")
        if self.start_radius < 0 or self.start_spread < 0:
            raise ValueError("start_radius and start_spread: expected >= 0")


@dataclass(frozen=True)
class DataConfig:
    """Training trajectories and their tokens."""

    n_trajectories: int = 20_000
    """Trajectories of the ground-truth optimizer (train and held-out together)."""
    trajectory_steps: int = 4096
    """Optimizer steps per trajectory; each step gives one (x_t, u_t) pair."""
    heldout_fraction: float = 0.1
    """Share of trajectories held out (the split is by trajectory, never by pair)."""
    precision: int = 4
    """p: mantissa decimals of the tokenizer (p + 3 tokens per float)."""

    def __post_init__(self) -> None:
        if self.n_trajectories < 2 or self.trajectory_steps < 1:
            raise ValueError("n_trajectories: expected >= 2 and trajectory_steps >= 1")
        if not 0.0 < self.heldout_fraction < 1.0:
            raise ValueError(f"heldout_fraction: expected in (0, 1), got {self.heldout_fraction}")
        if isinstance(self.precision, bool) or not isinstance(self.precision, int) or not 0 <= self.precision <= 12:
            raise ValueError(f"precision: expected an integer in [0, 12], got {self.precision!r}")  # the tokenizer's


@dataclass(frozen=True)
class ModelSize:
    """One rung of the size ladder (the rest of the model config follows from the data)."""

    n_layer: int
    """Transformer blocks."""
    n_embd: int
    """Residual width C."""
    n_head: int
    """Attention heads (must divide ``n_embd``)."""

    @property
    def name(self) -> str:
        """Short label ``"{n_layer}x{n_embd}h{n_head}"``, e.g. ``"2x48h4"``."""
        return f"{self.n_layer}x{self.n_embd}h{self.n_head}"

    def __post_init__(self) -> None:
        if self.n_layer < 1 or self.n_embd < 1 or self.n_head < 1 or self.n_embd % self.n_head:
            raise ValueError(f"model size {self.name}: need positive sizes and n_head dividing n_embd")


@dataclass(frozen=True)
class TrainConfig:
    """Next-token training with AdamW and a warmup + cosine schedule."""

    steps: int = 65_000
    """Optimizer steps per model."""
    batch_size: int = 1024
    """Sequences (one (x, u) pair each) per step."""
    max_lr: float = 1e-3
    """Peak learning rate."""
    min_lr_ratio: float = 0.1
    """Final learning rate as a fraction of ``max_lr`` (end of the cosine)."""
    warmup_steps: int = 1000
    """Linear warmup steps."""
    weight_decay: float = 0.1
    """AdamW weight decay on matrices (not on biases, norms or embeddings of positions)."""
    grad_clip: float = 1.0
    """Global gradient-norm clip (0 disables)."""
    eval_every: int = 1000
    """Steps between held-out loss evaluations (the last step is always evaluated)."""
    eval_pairs: int = 8192
    """Held-out pairs in the fixed evaluation set."""
    checkpoint_every: int = 5000
    """Steps between checkpoints (the last step is always saved)."""
    loss_on_x: bool = False
    """Also train on predicting the x tokens; by default only the u tokens (the optimizer's output) count."""

    def __post_init__(self) -> None:
        if self.steps < 1 or self.batch_size < 1:
            raise ValueError("steps and batch_size: expected >= 1")
        if self.warmup_steps < 0 or self.eval_every < 1 or self.checkpoint_every < 1 or self.eval_pairs < 1:
            raise ValueError("warmup_steps >= 0, eval_every, checkpoint_every and eval_pairs >= 1 expected")
        if not 0 < self.max_lr < math.inf or not 0 <= self.min_lr_ratio <= 1:  # NaN fails both
            raise ValueError(f"max_lr: expected a finite number > 0 (got {self.max_lr}), min_lr_ratio in [0, 1]")
        if not (self.weight_decay >= 0 and self.grad_clip >= 0):
            raise ValueError("weight_decay and grad_clip: expected >= 0")


@dataclass(frozen=True)
class RolloutConfig:
    """Markovian rollouts of each trained model on its own predictions."""

    n_starts: int = 4096
    """Starting points, drawn from the start distribution with their own seed."""
    n_steps: int = 2048
    """Rollout steps from each start."""
    temperature: float = 0.0
    """0 = greedy constrained decoding; > 0 samples, so variance can also come from decoding."""
    rollouts_per_start: int = 1
    """Rollouts per start (useful with ``temperature > 0``)."""
    batch_size: int = 0
    """Rollouts decoded together (0 = all at once); bounds the KV-cache memory."""

    def __post_init__(self) -> None:
        if self.n_starts < 2 or self.n_steps < 1 or self.rollouts_per_start < 1 or self.batch_size < 0:
            raise ValueError("rollout: need n_starts >= 2, n_steps >= 1, rollouts_per_start >= 1")
        if not 0 <= self.temperature < math.inf:  # NaN too
            raise ValueError(f"temperature: expected >= 0, got {self.temperature}")
        if self.temperature == 0 and self.rollouts_per_start > 1:
            raise ValueError("rollouts_per_start > 1 needs temperature > 0 (greedy rollouts are identical)")


@dataclass(frozen=True)
class MeasureConfig:
    """Decomposition and scaling fits."""

    final_window: int = 64
    """Rollout steps (the last ones) averaged into the "final" bias and variance."""
    n_boot: int = 1000
    """Bootstrap resamples of the starting points for the exponents' confidence intervals."""
    ci_level: float = 0.95
    """Confidence level of the intervals."""
    n_saved_trajectories: int = 16
    """Rollouts per model saved in full (for the trajectory plot)."""

    def __post_init__(self) -> None:
        if self.final_window < 1 or self.n_boot < 1 or not 0 < self.ci_level < 1:
            raise ValueError("final_window >= 1, n_boot >= 1 and ci_level in (0, 1) expected")


@dataclass(frozen=True)
class ExperimentConfig:
    """Everything one ``hotmess synthetic`` run needs, resolved from a preset and overrides."""

    preset: str = "custom"
    """Name of the preset this config came from (informational)."""
    seed: int = 0
    """Master seed; every random stream (problem, data, init, batches, rollouts, bootstrap) derives from it."""
    problem: ProblemConfig = field(default_factory=ProblemConfig)
    """Objective, optimizer and start distribution."""
    data: DataConfig = field(default_factory=DataConfig)
    """Training trajectories and tokenizer precision."""
    sizes: tuple[ModelSize, ...] = (ModelSize(2, 48, 4),)
    """The model-size ladder, smallest first."""
    train: TrainConfig = field(default_factory=TrainConfig)
    """Training schedule (the same for every size)."""
    rollout: RolloutConfig = field(default_factory=RolloutConfig)
    """Rollout settings."""
    measure: MeasureConfig = field(default_factory=MeasureConfig)
    """Decomposition and fit settings."""
    n_seeds: int = 1
    """Training seeds per size: each trains on its own data, initial weights and batches (the same problem and
    evaluation starts); exponents get intervals over seeds."""

    def __post_init__(self) -> None:
        if self.n_seeds < 1:
            raise ValueError(f"n_seeds: expected >= 1, got {self.n_seeds}")
        if not self.sizes:
            raise ValueError("sizes: expected at least one model size")
        if self.measure.final_window > self.rollout.n_steps + 1:
            raise ValueError(
                f"final_window: expected <= n_steps + 1 = {self.rollout.n_steps + 1}, got {self.measure.final_window}"
            )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready nested dict (sizes as lists of dicts)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ExperimentConfig:
        """Inverse of :meth:`to_dict`.

        Examples
        --------
        >>> c = ExperimentConfig(seed=3)
        >>> ExperimentConfig.from_dict(c.to_dict()) == c
        True
        """
        return cls(
            preset=d.get("preset", "custom"),
            seed=int(d.get("seed", 0)),
            problem=ProblemConfig(**d.get("problem", {})),
            data=DataConfig(**d.get("data", {})),
            sizes=tuple(ModelSize(**s) for s in d.get("sizes", [])),
            train=TrainConfig(**d.get("train", {})),
            rollout=RolloutConfig(**d.get("rollout", {})),
            measure=MeasureConfig(**d.get("measure", {})),
            n_seeds=int(d.get("n_seeds", 1)),
        )
