"""Quadratic problem, ground-truth optimizer, start distribution and data."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from hotmess.metrics import continuous_decomposition
from hotmess.synthetic.config import DataConfig, ProblemConfig
from hotmess.synthetic.data import build_data
from hotmess.synthetic.model import IGNORE_INDEX
from hotmess.synthetic.problem import make_problem, optimizer_rollout, sample_starts, split_trajectories


@pytest.mark.parametrize(("dim", "kappa"), [(2, 10.0), (4, 50.0), (6, 3.0)])
def test_problem_is_spd_with_the_asked_condition_number(dim: int, kappa: float) -> None:
    q = make_problem(ProblemConfig(dim=dim, condition_number=kappa), rng=dim)
    ev = np.linalg.eigvalsh(q.A)
    assert np.allclose(q.A, q.A.T) and ev.min() > 0
    assert ev.max() / ev.min() == pytest.approx(kappa, rel=1e-9)
    assert np.linalg.norm(q.offset_direction) == pytest.approx(1.0)
    assert np.all(np.abs(q.b) <= 1.0)


def test_problem_is_reproducible_from_the_seed() -> None:
    a, b, c = (make_problem(ProblemConfig(), rng=s) for s in (5, 5, 6))
    assert np.array_equal(a.A, b.A) and np.array_equal(a.b, b.b)
    assert not np.array_equal(a.A, c.A)


def test_steps_have_the_fixed_norm_and_point_downhill() -> None:
    q = make_problem(ProblemConfig(dim=4, step_size=0.005), rng=0)
    x = q.b + np.random.default_rng(1).normal(size=(100, 4))
    u = q.step(x)
    assert np.allclose(np.linalg.norm(u, axis=1), 0.005)
    assert np.all(q.value(x + u) < q.value(x))
    assert np.allclose(q.step_torch(torch.from_numpy(x)).numpy(), u)
    assert np.array_equal(q.step(q.b[None]), np.zeros((1, 4)))  # no step at the minimum


@pytest.mark.parametrize("cfg", [ProblemConfig(), ProblemConfig(dim=2, condition_number=10.0, step_size=0.02)])
def test_ground_truth_optimizer_reaches_the_minimum(cfg: ProblemConfig) -> None:
    q = make_problem(cfg, rng=3)
    x0 = sample_starts(q, cfg, 64, rng=4)
    dist0 = np.linalg.norm(x0 - q.b, axis=1)
    n_steps = int(3 * dist0.max() / cfg.step_size)
    traj = optimizer_rollout(q, x0, n_steps)
    assert traj.shape == (64, n_steps + 1, cfg.dim)
    final = np.linalg.norm(traj[:, -1] - q.b, axis=1)
    # fixed-norm steps cannot settle exactly: they end oscillating within a few steps of b
    assert np.all(final < 5 * cfg.step_size)
    assert q.value(traj[:, -1]).mean() < 0.01 * q.value(x0).mean()


def test_offset_starts_begin_bias_dominated_and_centered_all_variance() -> None:
    cfg = ProblemConfig(dim=4, start_radius=1.0, start_spread=0.25)
    q = make_problem(cfg, rng=0)
    x0 = sample_starts(q, cfg, 4096, rng=1)
    assert np.allclose(x0.mean(axis=0), q.b + q.offset_direction, atol=0.03)
    assert np.allclose(x0.std(axis=0), 0.25, atol=0.02)
    d = continuous_decomposition(x0, q.b, metric=q.A)
    expected_bias = float(q.offset_direction @ q.A @ q.offset_direction)
    assert float(d.bias) == pytest.approx(expected_bias, rel=0.1)
    assert float(d.variance) == pytest.approx(0.25**2 * np.trace(q.A), rel=0.1)
    assert d.incoherence < 0.5
    centered = ProblemConfig(dim=4, start_distribution="centered", start_spread=0.25)
    dc = continuous_decomposition(sample_starts(q, centered, 4096, rng=1), q.b, metric=q.A)
    assert dc.incoherence > 0.99


def test_split_is_by_trajectory_and_disjoint() -> None:
    tr, ho = split_trajectories(100, 0.1, rng=0)
    assert len(ho) == 10 and len(tr) == 90
    assert not set(tr.tolist()) & set(ho.tolist())
    with pytest.raises(ValueError, match="n"):
        split_trajectories(1, 0.1, rng=0)


def test_data_batches_are_valid_token_pairs() -> None:
    pc = ProblemConfig(dim=2, step_size=0.05)
    q = make_problem(pc, rng=0)
    data = build_data(q, pc, DataConfig(20, 16, 0.25, precision=2), seed=1)
    assert data.train.shape == (15, 16, 2) and data.heldout.shape == (5, 16, 2)
    gen = torch.Generator().manual_seed(0)
    x, u = data.sample_pairs(32, gen)
    assert torch.allclose(u.norm(dim=1), torch.full((32,), 0.05, dtype=torch.float64))
    inputs, targets = data.tokens(x, u)
    assert inputs.shape == targets.shape == (32, data.block_size) == (32, 19)
    kept = targets[:, :-1] >= 0  # the target is the input shifted by one
    assert torch.equal(targets[:, :-1][kept], inputs[:, 1:][kept])
    assert (targets[:, : data.n_x_tokens - 1] == IGNORE_INDEX).all()
    assert (targets[:, data.n_x_tokens - 1 :] >= 0).all()
    decoded_u = data.tokenizer.decode_torch(targets[:, data.n_x_tokens - 1 :])
    assert torch.allclose(decoded_u, u, rtol=6e-3, atol=0)
