"""Adaptive sampling: spend samples on the questions that carry the uncertainty of the dataset incoherence.

The planner is pure numpy and knows nothing of models or stores: it takes the samples drawn so far and says
which questions get more contexts in the next round, what the estimate and its interval are, and whether to
stop. :func:`hotmess.sampling.adaptive_run.sample_adaptive` drives it round by round against a provider and a
run store.

Design (docs/sampling.md, "Adaptive sampling")
----------------------------------------------
* **A ladder of levels.** Every question climbs the same ladder of context counts
  ``k₀ = first_contexts, 2k₀, 4k₀, …`` capped at ``max_contexts`` (each context has ``samples_per_context``
  samples). Round 0 samples level 0 for every question; round j ≥ 1 may lift a question from level j−1 to j.
* **Randomised, importance-weighted upgrades.** In round j, each question still on the ladder is lifted with a
  probability π_qj ∈ [``min_prob``, 1] computed from the data of rounds < j alone, and the draw uses a uniform
  fixed in advance by the seed (:func:`_uniform`). A question not lifted leaves the ladder for good. π_qj grows
  with the question's share of the estimate's sampling noise (Neyman-style): the expected squared change of its
  linearised contribution ``V_q − R·E_q`` when lifted, from a leave-one-sample-out jackknife, at least the
  rule-of-succession floor ``(unit·(1 − R))² · q(1 − q)`` with ``q = (n − n_mode + 1)/(n + 2)`` (so that a question
  whose few samples all agree keeps a chance, shrinking as its agreeing samples pile up). Questions whose noise
  is at least ``ref_fraction`` × the root-mean-square noise of the questions on the ladder are lifted for sure.
* **Honest estimates.** A question's estimate telescopes over the levels it reached, each step divided by the
  probability of having reached it: ``θ̂ = θ(k₀) + Σ_j [θ(k_j) − θ(k_{j−1})] / Π_{i≤j} π_qi`` with θ the *corrected*
  per-question estimate (KL jackknife variance; the error is a mean and needs none). Because the lifts are
  random with known, predictable probabilities, ``E[θ̂] = E[θ(k_top)]``: the estimate is unbiased for what a fixed
  run at the top level would give, however the data steered the allocation. Plug-in estimates at the reached
  counts are biased low (the plug-in variance grows with n, and n now differs between questions), and a rule
  that stops a question on its own outcomes without weights can bias even corrected ones (lucky near-agreeing
  questions keep a variance of 0, unlucky ones are pulled back towards their truth). benchmarks/bench_adaptive.py
  measures both; tests/sampling/test_adaptive_simulation.py checks bias and coverage of what is reported.
* **Interval and stop.** The dataset incoherence ``Σ V̂ / Σ Ê`` gets the usual bootstrap over questions
  (:func:`hotmess.metrics.bootstrap_ratio_ci`, percentile, the same resamples every round); the run stops once its
  half-width is at most the target, or when no question is left on the ladder, or at ``max_rounds``.

Everything is a function of the stored samples and the seed, so replaying the rounds from a store gives the same
plans: a killed run resumes to the same final store.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from hotmess.metrics._constants import DEFAULT_DELTA
from hotmess.sampling.config import ADAPTIVE_DESIGN_VERSION

__all__ = ["AdaptiveDesign", "AdaptivePlanner", "RoundReport", "ladder"]

DESIGN_VERSION = ADAPTIVE_DESIGN_VERSION
"""Bumped when the planning rule changes, so that a stored adaptive run is never resumed under another rule."""


@dataclass(frozen=True)
class AdaptiveDesign:
    """The allocation rule of an adaptive run (what decides which samples it draws)."""

    first_contexts: int = 2
    """Contexts of every question in round 0 (level 0 of the ladder)."""
    samples_per_context: int = 2
    """Samples per context, in every round."""
    max_contexts: int = 10
    """Most contexts one question can get (the top of the ladder)."""
    min_prob: float = 0.1
    """Smallest probability of lifting a question that is still on the ladder (weights stay ≤ 1/min_prob per
    round)."""
    ref_fraction: float = 0.5
    """Questions whose noise share is at least this × the root-mean-square share are lifted for sure."""
    delta: float = DEFAULT_DELTA
    """KL smoothing δ of the estimates."""
    seed: int = 0
    """Seed of the lift draws and of the bootstrap."""

    def __post_init__(self) -> None:
        if self.first_contexts < 1 or self.samples_per_context < 1:
            raise ValueError("first_contexts and samples_per_context: expected integers ≥ 1")
        if self.samples_per_context * self.first_contexts < 2:
            raise ValueError("the first round needs at least 2 samples per question (e.g. 1x2 or 2x1)")
        if self.max_contexts < self.first_contexts:
            raise ValueError(
                f"max_contexts: expected ≥ first_contexts ({self.first_contexts}), got {self.max_contexts}"
            )
        if not 0.0 < self.min_prob <= 1.0:
            raise ValueError(f"min_prob: expected a number in (0, 1], got {self.min_prob!r}")
        if not self.ref_fraction > 0:
            raise ValueError(f"ref_fraction: expected a positive number, got {self.ref_fraction!r}")


def ladder(design: AdaptiveDesign) -> tuple[int, ...]:
    """Context counts of the levels: ``k₀, 2k₀, 4k₀, …`` up to ``max_contexts``.

    Examples
    --------
    >>> ladder(AdaptiveDesign(first_contexts=2, max_contexts=10))
    (2, 4, 8, 10)
    """
    out = [design.first_contexts]
    while out[-1] < design.max_contexts:
        out.append(min(2 * out[-1], design.max_contexts))
    return tuple(out)


def _uniform(seed: int, round_: int, question_id: str) -> float:
    """The lift draw of one question in one round: fixed by the seed before any data is seen."""
    text = f"adaptive\x1f{seed}\x1f{round_}\x1f{question_id}"
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big") / 2.0**64


@dataclass(frozen=True)
class RoundReport:
    """Where the estimate stands after a round."""

    round: int
    """0-based round."""
    samples: int
    """Samples of the run so far."""
    questions_sampled: int
    """Questions that got samples in this round."""
    incoherence: float
    """``Σ V̂ / Σ Ê`` over questions (importance-weighted corrected estimates)."""
    low: float
    high: float
    level: float
    """The bootstrap interval and its confidence level."""
    on_ladder: int
    """Questions that can still be lifted."""

    @property
    def half_width(self) -> float:
        """Half the interval's width (NaN when undefined)."""
        return (self.high - self.low) / 2.0


@dataclass
class AdaptivePlanner:
    """The state of an adaptive run: which questions reached which level, and their weighted estimates.

    Parameters
    ----------
    design
        The allocation rule.
    question_ids
        The questions, in a fixed order (a list of distinct ids).

    Examples
    --------
    >>> pl = AdaptivePlanner(AdaptiveDesign(first_contexts=1, samples_per_context=2, max_contexts=2), ["a", "b"])
    >>> pl.plan()  # round 0: every question, context 0
    {'a': (0, 1), 'b': (0, 1)}
    >>> eye = np.eye(2)
    >>> rep = pl.observe({"a": eye[[0, 0]], "b": eye[[0, 1]]}, targets=[0, 0], n_boot=0)
    >>> pl.plan()  # round 1: the question that disagreed is lifted for sure, the other had a 10% chance
    {'b': (1, 2)}
    """

    design: AdaptiveDesign
    question_ids: list[str]
    round: int = 0
    """The next round to plan."""
    level: NDArray[np.int64] = field(init=False)
    """Level each question reached (−1: not sampled yet)."""
    alive: NDArray[np.bool_] = field(init=False)
    """Still on the ladder (can be lifted)."""
    reach: NDArray[np.float64] = field(init=False)
    """Probability of having reached the current level, Π π."""
    pending: NDArray[np.bool_] = field(init=False)
    """Lifted in the plan being sampled."""
    var_hat: NDArray[np.float64] = field(init=False)
    err_hat: NDArray[np.float64] = field(init=False)
    var_last: NDArray[np.float64] = field(init=False)
    err_last: NDArray[np.float64] = field(init=False)
    noise: NDArray[np.float64] = field(init=False)
    """Per-sample variance of each question's linearised contribution (for the lift probabilities)."""
    proxy: NDArray[np.float64] = field(init=False)
    """Rule-of-succession Bernoulli variance of disagreeing with the question's mode."""
    n: NDArray[np.int64] = field(init=False)
    """Samples (valid or not) each question has."""
    probs_next: NDArray[np.float64] = field(init=False)
    """Lift probabilities of the plan being sampled (NaN where not drawn)."""

    def __post_init__(self) -> None:
        self.question_ids = [str(q) for q in self.question_ids]
        if len(set(self.question_ids)) != len(self.question_ids):
            raise ValueError("question_ids: expected distinct ids")
        Q = len(self.question_ids)
        self.levels = ladder(self.design)
        self.level = np.full(Q, -1, dtype=np.int64)
        self.alive = np.ones(Q, dtype=bool)
        self.reach = np.ones(Q)
        self.pending = np.ones(Q, dtype=bool)
        self.var_hat, self.err_hat = np.zeros(Q), np.zeros(Q)
        self.var_last, self.err_last = np.zeros(Q), np.zeros(Q)
        self.noise = np.zeros(Q)
        self.proxy = np.zeros(Q)
        self.n = np.zeros(Q, dtype=np.int64)
        self.probs_next = np.ones(Q)

    # -- planning --------------------------------------------------------------------------------------------
    def plan(self) -> dict[str, tuple[int, int]]:
        """``{question_id: (first_context, end_context)}`` of the round to sample now (empty: nothing to do)."""
        out: dict[str, tuple[int, int]] = {}
        for i in np.flatnonzero(self.pending):
            lo = 0 if self.level[i] < 0 else self.levels[self.level[i]]
            out[self.question_ids[i]] = (lo, self.levels[self.level[i] + 1])
        return out

    def observe(
        self,
        probs: dict[str, NDArray[np.float64]],
        targets: Sequence[int] | NDArray[np.int64],
        *,
        n_options: Sequence[int] | NDArray[np.int64] | None = None,
        n_boot: int = 1000,
        level: float = 0.95,
    ) -> RoundReport:
        """Take the samples of the planned questions, update the estimates, and plan the next round.

        Parameters
        ----------
        probs
            ``{question_id: (n, C)}`` probability vectors of *all* samples of each question planned in this
            round (levels below included, in context order; invalid answers uniform). Questions not planned are
            ignored.
        targets
            Correct option of every question, in :attr:`question_ids` order.
        n_options
            Options of every question (default: the width of its vectors).
        n_boot, level
            The bootstrap over questions (``n_boot=0``: no interval).
        """
        Q = len(self.question_ids)
        t = np.asarray(targets, dtype=np.int64)
        if t.shape != (Q,):
            raise ValueError(f"targets: expected shape ({Q},), got {t.shape}")
        idx = np.flatnonzero(self.pending)
        missing = [self.question_ids[i] for i in idx if self.question_ids[i] not in probs]
        if missing:
            raise ValueError(f"probs: no samples for planned question(s) {', '.join(missing[:3])}")
        if idx.size:
            mats = [np.asarray(probs[self.question_ids[i]], dtype=np.float64) for i in idx]
            C = max(m.shape[1] for m in mats)
            S = max(m.shape[0] for m in mats)
            if min(m.shape[0] for m in mats) < 2:
                raise ValueError("probs: expected at least 2 samples per question")
            p = np.zeros((idx.size, S, C))
            mask = np.zeros((idx.size, S), dtype=bool)
            for r, m in enumerate(mats):
                p[r, : m.shape[0], : m.shape[1]] = m
                mask[r, : m.shape[0]] = True
            k = np.full(idx.size, C) if n_options is None else np.asarray(n_options, dtype=np.int64)[idx]
            done = self.level >= 0
            den = float(self.err_hat[done].sum())
            ratio = float(self.var_hat[done].sum()) / den if den > 0 else None
            var, err, jack, proxy = _kl_terms(p, t[idx], mask, k, self.design.delta, ratio)
            weight = 1.0 / self.reach[idx]
            first = self.level[idx] < 0
            self.var_hat[idx] = np.where(first, var, self.var_hat[idx] + weight * (var - self.var_last[idx]))
            self.err_hat[idx] = np.where(first, err, self.err_hat[idx] + weight * (err - self.err_last[idx]))
            self.var_last[idx], self.err_last[idx] = var, err
            self.noise[idx] = jack
            self.proxy[idx] = proxy
            self.n[idx] = mask.sum(axis=1)
            self.level[idx] += 1
        report = self._report(idx.size, n_boot, level)
        self._next()
        return report

    def _report(self, sampled: int, n_boot: int, level: float) -> RoundReport:
        done = self.level >= 0
        num, den = self.var_hat[done], self.err_hat[done]
        inc = float(num.sum() / den.sum()) if den.sum() > 0 else math.nan
        lo = hi = math.nan
        if n_boot > 0 and np.isfinite(inc):
            import warnings

            from hotmess.metrics import DegenerateWarning, bootstrap_ratio_ci

            rng = np.random.default_rng(self.design.seed)  # the same resamples every round
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DegenerateWarning)
                ci = bootstrap_ratio_ci({"i": num}, {"i": den}, n_boot=n_boot, level=level, rng=rng)["i"]
            lo, hi = ci.low, ci.high
        return RoundReport(
            round=self.round,
            samples=int(self.n.sum()),
            questions_sampled=sampled,
            incoherence=inc,
            low=lo,
            high=hi,
            level=level,
            on_ladder=int((self.alive & (self.level < len(self.levels) - 1)).sum()),
        )

    def lift_probabilities(self) -> NDArray[np.float64]:
        """π of lifting each question one level now (0 where it cannot be lifted).

        The expected squared change of question q's contribution ``V_q − R·E_q`` when it goes from n to n + m
        samples is ``σ²_q · m / (n (n + m))`` with σ²_q its per-sample variance (leave-one-sample-out jackknife,
        at least ``(unit·(1 − R))² q(1 − q)``, ``unit`` being the largest per-question error and
        ``q = (n − n_mode + 1)/(n + 2)`` the rule-of-succession chance of an answer other than the mode).
        π_q = clip(√that / (``ref_fraction`` · RMS over the questions still on the ladder), ``min_prob``, 1).
        """
        d = self.design
        can = self.alive & (self.level >= 0) & (self.level < len(self.levels) - 1)
        out = np.zeros(len(self.question_ids))
        if not can.any():
            return out
        n = self.n[can].astype(np.float64)
        m = np.array([self.levels[lv + 1] - self.levels[lv] for lv in self.level[can]], dtype=np.float64)
        m *= d.samples_per_context
        done = self.level >= 0
        unit = float(np.max(self.err_last[done], initial=0.0)) or 1.0
        den = float(self.err_hat[done].sum())
        r = min(max(float(self.var_hat[done].sum()) / den, 0.0), 1.0) if den > 0 else 0.5
        sigma2 = np.maximum(self.noise[can], (unit * (1.0 - r)) ** 2 * self.proxy[can])
        score = np.sqrt(sigma2 * m / (n * (n + m)))
        ref = d.ref_fraction * float(np.sqrt(np.mean(score**2)))
        out[can] = np.clip(score / ref, d.min_prob, 1.0)
        return out

    def _next(self) -> None:
        """Draw the lifts of the next round (questions not lifted leave the ladder)."""
        self.round += 1
        pi = self.lift_probabilities()
        can = pi > 0
        u = np.array([_uniform(self.design.seed, self.round, q) for q in self.question_ids])
        lifted = can & (u < pi)
        self.alive[can & ~lifted] = False  # one chance per level: the weights 1/Π π stay exact
        self.reach[lifted] *= pi[lifted]
        self.pending = lifted
        self.probs_next = np.where(can, pi, np.nan)

    @property
    def finished(self) -> bool:
        """Whether no question is left to sample."""
        return not self.pending.any()

    def estimates(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Per-question importance-weighted ``(variance, error)`` (NaN where a question has no samples yet)."""
        done = self.level >= 0
        return np.where(done, self.var_hat, np.nan), np.where(done, self.err_hat, np.nan)


def _kl_terms(
    p: NDArray[np.float64],
    t: NDArray[np.int64],
    m: NDArray[np.bool_],
    k: NDArray[np.int64],
    delta: float,
    ratio: float | None,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Corrected KL (variance, error) per question, the per-sample jackknife variance of ``V − R·E``, the Bernoulli
    proxy ``q(1 − q)`` of disagreeing with the mode (``q = (n − n_mode + 1)/(n + 2)``).

    R is ``ratio`` (the current dataset estimate), or these questions' own ratio when there is none yet.
    """
    from hotmess.metrics import kl_decomposition

    dec = kl_decomposition(p, t, mask=m, n_options=k, delta=delta, jackknife=True)
    var, err = np.asarray(dec.variance), np.asarray(dec.error)
    n = m.sum(axis=1).astype(np.float64)
    C = p.shape[2]
    cm = np.arange(C)[None, :] < k[:, None]
    logf = np.log(np.maximum(p, 0.0) + delta)
    logf[~m] = 0.0
    sum_g = logf.sum(axis=1)
    log_norm = np.log1p(k * delta)
    g_loo = (sum_g[:, None, :] - logf) / (n[:, None, None] - 1.0) - log_norm[:, None, None]  # (Q, S, C)
    gm = np.where(cm[:, None, :], g_loo, -np.inf)
    mx = gm.max(axis=-1, keepdims=True)
    v_loo = -(mx[..., 0] + np.log(np.exp(gm - mx).sum(axis=-1)))
    e_loo = -np.take_along_axis(g_loo, t[:, None, None].repeat(g_loo.shape[1], 1), axis=2)[..., 0]
    total_err = float(err.sum())
    r = ratio if ratio is not None else (float(var.sum()) / total_err if total_err > 0 else 0.5)
    u = np.where(m, v_loo - r * e_loo, 0.0)
    mean = u.sum(axis=1) / n
    ss = np.where(m, (u - mean[:, None]) ** 2, 0.0).sum(axis=1)
    jack = (n - 1.0) * ss  # n × the jackknife variance of the estimate
    # the rule of succession on the answers that differ from the mode (a 50/50 split is a flat point of the
    # variance, where the jackknife sees little; all-agree samples show no noise at all): a Bernoulli proxy
    others = n - np.where(m[..., None], p, 0.0).sum(axis=1).max(axis=1)
    q = (others + 1.0) / (n + 2.0)
    return var, err, jack, q * (1.0 - q)
