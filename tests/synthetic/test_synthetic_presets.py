"""Presets, size parsing and overrides."""

from __future__ import annotations

import json

import pytest

from hotmess.errors import ConfigError
from hotmess.synthetic.config import ExperimentConfig, ModelSize
from hotmess.synthetic.model import GPT, GPTConfig
from hotmess.synthetic.presets import PRESETS, get_preset, parse_sizes, with_overrides


def test_paper_preset_follows_the_spec() -> None:
    c = get_preset("paper")
    assert (c.problem.dim, c.problem.condition_number, c.problem.step_size) == (4, 50.0, 0.005)
    assert (c.data.n_trajectories, c.data.trajectory_steps, c.data.precision) == (20_000, 4096, 4)
    assert c.data.heldout_fraction == 0.1
    assert (c.train.batch_size, c.train.steps) == (1024, 65_000)
    assert (c.rollout.n_starts, c.rollout.n_steps, c.rollout.temperature) == (4096, 2048, 0.0)
    counts = [
        GPT(GPTConfig(block_size=55, n_layer=s.n_layer, n_head=s.n_head, n_embd=s.n_embd)).n_params for s in c.sizes
    ]
    assert counts == sorted(counts)
    assert 40_000 <= counts[0] <= 60_000 and 4_000_000 <= counts[-1] <= 5_500_000


def test_every_preset_round_trips_through_json() -> None:
    for name, c in PRESETS.items():
        assert c.preset == name
        assert ExperimentConfig.from_dict(json.loads(json.dumps(c.to_dict()))) == c


def test_parse_sizes() -> None:
    assert parse_sizes("2x48h4,4x96") == (ModelSize(2, 48, 4), ModelSize(4, 96, 6))
    with pytest.raises(ConfigError, match="cannot read"):
        parse_sizes("2by48")
    with pytest.raises(ConfigError, match="divide"):
        parse_sizes("2x48h5")


def test_overrides_and_their_errors() -> None:
    c = with_overrides(
        get_preset("cpu-small"),
        steps=7,
        rollout_steps=4,
        seed=9,
        temperature=0.5,
        rollouts_per_start=3,
        start_distribution="centered",
        precision=None,
    )
    assert (c.train.steps, c.rollout.n_steps, c.seed) == (7, 4, 9)
    assert c.measure.final_window == 5  # shrunk to fit the shorter rollout
    assert c.problem.start_distribution == "centered"
    assert c.data.precision == get_preset("cpu-small").data.precision
    with pytest.raises(ConfigError, match="preset"):
        get_preset("huge")
    with pytest.raises(ConfigError, match="invalid option"):
        with_overrides(c, steps=0)
    with pytest.raises(ConfigError, match="invalid option"):
        with_overrides(get_preset("cpu-small"), rollouts_per_start=2)  # greedy rollouts would be identical
    with pytest.raises(ConfigError, match="unknown override"):
        with_overrides(c, colour="red")
