"""Training pairs (x_t, u_t) of the ground-truth optimizer, tokenized on the fly on the training device.

Trajectories are stored once as float32 positions ``(n, T, d)`` (x₀ … x_{T−1}); a batch draws random
(trajectory, step) pairs, recomputes u_t = u(x_t) exactly from the stored x_t and tokenizes both. One
sequence is ``tokens(x) ‖ tokens(u)``: ``2 d (p + 3)`` tokens, fixed length, no separators. The model input is
the sequence without its last token and the target is the sequence shifted by one; by default only targets
that are u tokens are trained on (the x tokens are the condition, not the task).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from hotmess.synthetic.config import DataConfig, ProblemConfig
from hotmess.synthetic.model import IGNORE_INDEX
from hotmess.synthetic.problem import Quadratic, optimizer_rollout, sample_starts, split_trajectories
from hotmess.synthetic.tokenizer import FloatTokenizer

__all__ = ["PairData", "build_data"]


@dataclass(eq=False)
class PairData:
    """Train and held-out trajectories on one device, and how to turn pairs into token batches.

    Attributes
    ----------
    problem
        The objective whose optimizer produced the trajectories.
    tokenizer
        The float tokenizer (precision p).
    train, heldout
        float32 tensors ``(n_traj, T, d)`` of positions x_t.
    loss_on_x
        Whether targets that are x tokens count in the loss.
    """

    problem: Quadratic
    tokenizer: FloatTokenizer
    train: torch.Tensor
    heldout: torch.Tensor
    loss_on_x: bool = False

    @property
    def n_x_tokens(self) -> int:
        """Tokens of one x (also of one u): ``d (p + 3)``."""
        return self.problem.dim * self.tokenizer.tokens_per_float

    @property
    def block_size(self) -> int:
        """Model input length: the sequence ``tokens(x) ‖ tokens(u)`` minus its last token."""
        return 2 * self.n_x_tokens - 1

    @property
    def device(self) -> torch.device:
        """Where the trajectories (and every batch) live."""
        return self.train.device

    def sample_pairs(
        self, n: int, generator: torch.Generator, *, split: str = "train"
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``n`` random pairs ``x, u`` (each ``(n, d)`` float64) from the ``"train"`` or ``"heldout"`` split."""
        traj = self.train if split == "train" else self.heldout
        n_traj, T, _ = traj.shape
        i = torch.randint(n_traj, (n,), generator=generator, device=self.device)
        t = torch.randint(T, (n,), generator=generator, device=self.device)
        x = traj[i, t].to(torch.float64)  # (n, d)
        return x, self.problem.step_torch(x)

    def tokens(self, x: torch.Tensor, u: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Inputs and targets ``(n, block_size)`` for pairs ``x, u`` ``(n, d)``."""
        seq = torch.cat([self.tokenizer.encode_torch(x), self.tokenizer.encode_torch(u)], dim=1)  # (n, 2dk)
        inputs, targets = seq[:, :-1], seq[:, 1:].clone()
        if not self.loss_on_x:
            targets[:, : self.n_x_tokens - 1] = IGNORE_INDEX
        return inputs, targets

    def batch(self, n: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """A training batch (inputs, targets), each ``(n, block_size)``."""
        return self.tokens(*self.sample_pairs(n, generator))

    def heldout_set(self, n: int, *, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
        """A fixed held-out evaluation set of ``n`` pairs (the same for every model given ``seed``)."""
        gen = torch.Generator(device=self.device).manual_seed(seed)
        return self.tokens(*self.sample_pairs(n, gen, split="heldout"))


def build_data(
    problem: Quadratic,
    problem_config: ProblemConfig,
    config: DataConfig,
    *,
    seed: int,
    device: torch.device | str = "cpu",
    loss_on_x: bool = False,
) -> PairData:
    """Generate trajectories from random starts, split them by trajectory and move them to ``device``.

    Examples
    --------
    >>> from hotmess.synthetic.problem import make_problem
    >>> pc = ProblemConfig(dim=2, step_size=0.05)
    >>> data = build_data(make_problem(pc, rng=0), pc, DataConfig(10, 8, 0.2, precision=2), seed=1)
    >>> tuple(data.train.shape), tuple(data.heldout.shape), data.block_size
    ((8, 8, 2), (2, 8, 2), 19)
    """
    rng = np.random.default_rng(seed)
    starts = sample_starts(problem, problem_config, config.n_trajectories, rng=rng)
    traj = optimizer_rollout(problem, starts, config.trajectory_steps - 1, dtype=np.float32)
    train_idx, heldout_idx = split_trajectories(config.n_trajectories, config.heldout_fraction, rng=rng)
    dev = torch.device(device)
    return PairData(
        problem=problem,
        tokenizer=FloatTokenizer(config.precision),
        train=torch.from_numpy(traj[train_idx]).to(dev),
        heldout=torch.from_numpy(traj[heldout_idx]).to(dev),
        loss_on_x=loss_on_x,
    )
