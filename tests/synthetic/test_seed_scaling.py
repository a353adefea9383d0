"""Scaling fits over training seeds, raw and in excess of the optimizer's floor, on planted ladders."""

from __future__ import annotations

import numpy as np
import pytest

from hotmess.synthetic.measure import seed_scaling
from hotmess.synthetic.problem import Quadratic

PROBLEM = Quadratic(A=np.eye(2), b=np.zeros(2), step_size=0.1, offset_direction=np.array([1.0, 0.0]))
SIZES = np.array([1e3, 4e3, 1.6e4, 6.4e4, 2.56e5])
K, W = 200, 4


def cloud(bias: float, variance: float, rng: np.random.Generator) -> np.ndarray:
    """Final points ``(K, 1, W, 2)`` whose bias and variance about b = 0 (A = I) are exactly the targets."""
    z = rng.standard_normal((K, W, 2))
    z -= z.mean(axis=0)
    z /= np.sqrt((z**2).sum(axis=2).mean(axis=0))[None, :, None]  # mean ‖z‖² = 1 at every step
    offset = np.sqrt(bias) * np.array([1.0, 0.0])
    return (offset + np.sqrt(variance) * z)[:, None]


def planted(alpha_b: float, alpha_v: float, floor_b: float, floor_v: float, n_seeds: int, noise: float, seed: int):
    """A ladder whose excess bias and variance fall as N^−α (times seed × size noise) above a floor."""
    rng = np.random.default_rng(seed)
    finals = []
    for _ in range(n_seeds):
        jitter = np.exp(noise * rng.standard_normal((2, SIZES.size)))
        b = floor_b + 1e1 * (SIZES / 1e3) ** -alpha_b * jitter[0]
        v = floor_v + 3e-1 * (SIZES / 1e3) ** -alpha_v * jitter[1]
        finals.append([cloud(bb, vv, rng) for bb, vv in zip(b, v, strict=True)])
    reference = cloud(floor_b, floor_v, rng)
    return finals, reference


def test_floor_aware_fit_recovers_planted_exponents_and_raw_fit_is_flagged() -> None:
    finals, ref = planted(2.0, 1.0, floor_b=1e-8, floor_v=5e-3, n_seeds=5, noise=0.15, seed=1)
    res = seed_scaling(SIZES, finals, ref, PROBLEM, n_boot=600, rng=0)
    for q, alpha in (("bias", 2.0), ("variance", 1.0)):
        ci = res.excess[q].ci
        assert ci is not None and ci.low <= alpha <= ci.high, (q, res.excess[q])
    # the raw variance flattens against the optimizer's floor: its exponent is biased low and flagged
    assert res.raw["variance"].exponent < 0.8
    assert res.flagged("variance") and not res.flagged("bias")
    assert res.differences["excess"].supported
    assert res.differences["excess"].seeds_positive == 5
    frame = res.fits_frame()
    assert bool(frame.loc[(frame["kind"] == "raw") & (frame["quantity"] == "variance"), "floor_flag"].iloc[0])


def test_one_seed_never_supports_a_claim() -> None:
    finals, ref = planted(2.0, 1.0, floor_b=1e-6, floor_v=1e-6, n_seeds=1, noise=0.0, seed=2)
    res = seed_scaling(SIZES, finals, ref, PROBLEM, n_boot=200, rng=0)
    assert res.differences["raw"].value == pytest.approx(1.0, abs=0.05)
    assert not res.differences["raw"].supported  # one training seed: the interval cannot see seed variation


def test_equal_exponents_are_not_supported_at_about_the_nominal_rate() -> None:
    """Null: bias and variance fall at the same rate; 'bias falls faster' must rarely be claimed."""
    claimed, covered = 0, 0
    n_rep = 40
    for rep in range(n_rep):
        finals, ref = planted(1.5, 1.5, floor_b=1e-7, floor_v=1e-7, n_seeds=3, noise=0.1, seed=100 + rep)
        d = seed_scaling(SIZES, finals, ref, PROBLEM, n_boot=200, rng=rep).differences["excess"]
        claimed += d.supported
        covered += d.ci is not None and d.ci.low <= 0.0 <= d.ci.high
    assert claimed <= 0.1 * n_rep
    assert covered >= 0.85 * n_rep


def test_seed_scaling_refuses_ragged_input() -> None:
    finals, ref = planted(2.0, 1.0, 1e-6, 1e-3, n_seeds=2, noise=0.1, seed=3)
    with pytest.raises(ValueError, match="per-size points"):
        seed_scaling(SIZES, [finals[0], finals[1][:2]], ref, PROBLEM, n_boot=10)
