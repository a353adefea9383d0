"""The quadratic objective, the ground-truth optimizer and its trajectories (SPEC §4).

f(x) = ½ (x − b)ᵀ A (x − b) with A random symmetric positive definite of condition number κ; the optimizer is
steepest descent with a fixed step norm η: u = −η ∇f/‖∇f‖ = −η A(x − b)/‖A(x − b)‖ (u = 0 at x = b).

Start distribution
------------------
SPEC §4 only says "random starting points near the minimum". Bias and variance are measured over the points
of all rollouts at one step, so at step 0 they describe the start cloud itself. A cloud centred on b has
x̄ ≈ b and its step-0 error is (up to sampling noise) all variance: incoherence would start near 1 and
could not *rise* along the rollout. The default, ``"offset"``, centres the cloud at b + r·v (v a seeded unit
vector, the same for every start) with spread σ, so the step-0 error is mostly bias,
E[bias] ≈ r² vᵀAv against E[variance] = σ² tr(A), and the rollout shows how the optimizer (or a model of
it) removes the shared offset and what spread it leaves behind. ``"centered"`` is kept as an option.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from numpy.typing import ArrayLike, NDArray

from hotmess.synthetic.config import ProblemConfig

__all__ = [
    "Quadratic",
    "make_problem",
    "optimizer_rollout",
    "sample_starts",
    "split_trajectories",
]


@dataclass(frozen=True, eq=False)
class Quadratic:
    """The objective ½ (x − b)ᵀA(x − b) and its fixed-step steepest-descent optimizer.

    Attributes
    ----------
    A
        ``(d, d)`` symmetric positive definite matrix (also the metric of the decomposition).
    b
        ``(d,)`` minimum.
    step_size
        η, the Euclidean norm of every step.
    offset_direction
        ``(d,)`` unit vector v of the ``"offset"`` start distribution.

    Examples
    --------
    >>> q = Quadratic(A=np.diag([1.0, 4.0]), b=np.zeros(2), step_size=0.1, offset_direction=np.eye(2)[0])
    >>> q.step([[1.0, 0.0], [0.0, 0.0]]).tolist()
    [[-0.1, -0.0], [0.0, 0.0]]
    """

    A: NDArray[np.float64]
    b: NDArray[np.float64]
    step_size: float
    offset_direction: NDArray[np.float64]

    @property
    def dim(self) -> int:
        """Dimension d."""
        return int(self.b.shape[0])

    @property
    def condition_number(self) -> float:
        """κ(A) computed from its eigenvalues."""
        ev = np.linalg.eigvalsh(self.A)
        return float(ev[-1] / ev[0])

    def value(self, x: ArrayLike) -> NDArray[np.float64]:
        """f(x) for points ``(..., d)``."""
        dx = np.asarray(x, dtype=np.float64) - self.b
        return 0.5 * np.einsum("...i,ij,...j->...", dx, self.A, dx)

    def step(self, x: ArrayLike) -> NDArray[np.float64]:
        """The optimizer's update u(x) for points ``(..., d)``."""
        g = (np.asarray(x, dtype=np.float64) - self.b) @ self.A  # A symmetric: row-vector form
        norm = np.linalg.norm(g, axis=-1, keepdims=True)
        return np.where(norm > 0, -self.step_size * g / np.where(norm > 0, norm, 1.0), 0.0)

    def step_torch(self, x: torch.Tensor) -> torch.Tensor:
        """:meth:`step` for a float tensor ``(..., d)`` on any device (same dtype out)."""
        A = torch.as_tensor(self.A, dtype=x.dtype, device=x.device)
        b = torch.as_tensor(self.b, dtype=x.dtype, device=x.device)
        g = (x - b) @ A
        norm = g.norm(dim=-1, keepdim=True)
        return torch.where(norm > 0, -self.step_size * g / norm.clamp_min(torch.finfo(x.dtype).tiny), 0.0)

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form (saved as ``problem.json``)."""
        return {
            "A": self.A.tolist(),
            "b": self.b.tolist(),
            "step_size": self.step_size,
            "offset_direction": self.offset_direction.tolist(),
            "condition_number": self.condition_number,
        }


def make_problem(config: ProblemConfig, *, rng: np.random.Generator | int | None) -> Quadratic:
    """Draw A (random rotation of eigenvalues geometric in [1/κ, 1]), b ~ U(−1, 1)^d and v.

    Examples
    --------
    >>> q = make_problem(ProblemConfig(dim=4, condition_number=50.0), rng=0)
    >>> round(q.condition_number, 6), q.A.shape, bool(np.allclose(q.A, q.A.T))
    (50.0, (4, 4), True)
    """
    gen = np.random.default_rng(rng)
    d = config.dim
    q, r = np.linalg.qr(gen.standard_normal((d, d)))
    q = q * np.sign(np.diag(r))  # Haar-distributed rotation
    eig = np.geomspace(1.0 / config.condition_number, 1.0, d) if d > 1 else np.ones(1)
    A = (q * eig) @ q.T
    A = 0.5 * (A + A.T)
    b = gen.uniform(-1.0, 1.0, size=d)
    v = gen.standard_normal(d)
    v /= np.linalg.norm(v)
    return Quadratic(A=A, b=b, step_size=float(config.step_size), offset_direction=v)


def sample_starts(
    problem: Quadratic, config: ProblemConfig, n: int, *, rng: np.random.Generator | int | None
) -> NDArray[np.float64]:
    """``(n, d)`` starting points from the configured start distribution (see the module docstring).

    Examples
    --------
    >>> q = make_problem(ProblemConfig(dim=2), rng=0)
    >>> x0 = sample_starts(q, ProblemConfig(dim=2, start_spread=0.0), 3, rng=1)
    >>> bool(np.allclose(np.linalg.norm(x0 - q.b, axis=1), 1.0))
    True
    """
    gen = np.random.default_rng(rng)
    centre = problem.b.copy()
    if config.start_distribution == "offset":
        centre = centre + config.start_radius * problem.offset_direction
    return centre + config.start_spread * gen.standard_normal((n, problem.dim))


def optimizer_rollout(
    problem: Quadratic, starts: ArrayLike, n_steps: int, *, dtype: type = np.float64
) -> NDArray[np.floating]:
    """Ground-truth trajectories ``(n, n_steps + 1, d)`` from ``starts`` ``(n, d)`` (x₀ included).

    Examples
    --------
    >>> q = Quadratic(A=np.eye(1), b=np.zeros(1), step_size=0.25, offset_direction=np.ones(1))
    >>> optimizer_rollout(q, [[1.0]], 5)[0, :, 0].tolist()
    [1.0, 0.75, 0.5, 0.25, 0.0, 0.0]
    """
    x = np.array(starts, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != problem.dim:
        raise ValueError(f"starts: expected shape (n, {problem.dim}), got {x.shape}")
    out: NDArray[np.floating] = np.empty((x.shape[0], n_steps + 1, problem.dim), dtype=dtype)
    out[:, 0] = x
    for t in range(n_steps):
        x = x + problem.step(x)
        out[:, t + 1] = x
    return out


def split_trajectories(
    n: int, heldout_fraction: float, *, rng: np.random.Generator | int | None
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Random split of ``n`` trajectory indices into (train, held-out); at least one of each.

    Examples
    --------
    >>> tr, ho = split_trajectories(10, 0.1, rng=0)
    >>> len(tr), len(ho), sorted(np.concatenate([tr, ho]).tolist()) == list(range(10))
    (9, 1, True)
    """
    if n < 2:
        raise ValueError(f"n: expected >= 2 trajectories to split, got {n}")
    n_ho = min(n - 1, max(1, round(n * heldout_fraction)))
    perm = np.random.default_rng(rng).permutation(n)
    return np.sort(perm[n_ho:]), np.sort(perm[:n_ho])
