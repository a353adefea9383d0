"""End to end on tiny models: bigger learns better, rollouts measure consistently, training resumes exactly."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from hotmess.errors import ConfigError
from hotmess.synthetic.config import DataConfig, ModelSize, ProblemConfig, TrainConfig
from hotmess.synthetic.data import build_data
from hotmess.synthetic.measure import final_values, step_metrics
from hotmess.synthetic.problem import make_problem, optimizer_rollout, sample_starts
from hotmess.synthetic.rollout import rollout_model
from hotmess.synthetic.train import train_model

PC = ProblemConfig(dim=2, condition_number=10.0, step_size=0.02)


@pytest.fixture(scope="module")
def setup():  # type: ignore[no-untyped-def]
    q = make_problem(PC, rng=0)
    data = build_data(q, PC, DataConfig(256, 96, 0.1, precision=2), seed=1)
    return q, data


def test_two_tiny_models_larger_learns_better_and_rollouts_are_consistent(setup, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    q, data = setup
    tc = TrainConfig(
        steps=300, batch_size=64, max_lr=3e-3, warmup_steps=30, eval_every=100, eval_pairs=1024, checkpoint_every=1000
    )
    small, r_small = train_model(ModelSize(1, 8, 2), data, tc, seed=10, checkpoint=tmp_path / "s.pt")
    large, r_large = train_model(ModelSize(2, 32, 2), data, tc, seed=11, checkpoint=tmp_path / "l.pt")
    assert r_large.n_params > 5 * r_small.n_params
    assert r_large.final_heldout_loss < r_small.final_heldout_loss
    assert r_small.log[-1]["heldout_loss"] < r_small.log[0]["heldout_loss"]  # it learns at all
    assert (tmp_path / "s.pt").exists() and (tmp_path / "s.json").exists()
    starts = sample_starts(q, PC, 32, rng=2)
    ref = optimizer_rollout(q, starts, 60)[:, None]
    for model in (small, large):
        pts = rollout_model(model, data.tokenizer, starts, 60)
        assert pts.shape == (32, 1, 61, 2) and np.isfinite(pts).all()
        m = step_metrics(pts, q, model="m")
        np.testing.assert_allclose(m["error"], m["bias"] + m["variance"], rtol=1e-9)
        assert np.isfinite(m[["bias", "variance", "error", "incoherence"]].to_numpy()).all()
        assert m["incoherence"].between(0, 1).all()
        # the model moves the cloud towards b: error falls from the start like the optimizer's does
        assert m["error"].iloc[30] < 0.5 * m["error"].iloc[0]
    r = step_metrics(ref, q, model="optimizer")
    assert r["incoherence"].iloc[-1] > r["incoherence"].iloc[0]
    assert final_values(ref[:, :, -5:], q)["error"] < 0.05 * r["error"].iloc[0]


class _StopError(Exception):
    pass


def test_resume_continues_exactly(setup, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _, data = setup
    tc = TrainConfig(
        steps=40, batch_size=16, max_lr=3e-3, warmup_steps=5, eval_every=10, eval_pairs=128, checkpoint_every=20
    )
    size = ModelSize(1, 8, 2)
    straight, r1 = train_model(size, data, tc, seed=3, checkpoint=tmp_path / "a.pt")

    def stop_at_25(step: int) -> None:
        if step == 25:
            raise _StopError

    with pytest.raises(_StopError):
        train_model(size, data, tc, seed=3, checkpoint=tmp_path / "b.pt", on_step=stop_at_25)
    resumed, r2 = train_model(size, data, tc, seed=3, checkpoint=tmp_path / "b.pt", resume=True)
    assert r2.resumed_from == 20
    for p, q in zip(straight.parameters(), resumed.parameters(), strict=True):
        assert torch.equal(p, q)
    assert [row["heldout_loss"] for row in r1.log] == [row["heldout_loss"] for row in r2.log]
    with pytest.raises(ConfigError, match="different"):
        train_model(
            size, data, TrainConfig(**{**tc.__dict__, "steps": 50}), seed=3, checkpoint=tmp_path / "b.pt", resume=True
        )
