"""The adaptive planner (hotmess.sampling.adaptive): hand cases of its plans, weights and estimates."""

from __future__ import annotations

import numpy as np
import pytest

from hotmess.metrics import kl_decomposition
from hotmess.sampling.adaptive import AdaptiveDesign, AdaptivePlanner, ladder

EYE = np.eye(4)


def _answers(*letters: int) -> np.ndarray:
    return EYE[list(letters)]


def test_ladder_doubles_up_to_the_cap() -> None:
    assert ladder(AdaptiveDesign(first_contexts=2, max_contexts=15)) == (2, 4, 8, 15)
    assert ladder(AdaptiveDesign(first_contexts=3, max_contexts=3)) == (3,)
    with pytest.raises(ValueError, match="max_contexts"):
        AdaptiveDesign(first_contexts=4, max_contexts=2)
    with pytest.raises(ValueError, match="min_prob"):
        AdaptiveDesign(min_prob=0.0)


def test_first_round_is_every_question_at_level_zero() -> None:
    pl = AdaptivePlanner(AdaptiveDesign(first_contexts=2, samples_per_context=2, max_contexts=8), ["a", "b", "c"])
    assert pl.plan() == {"a": (0, 2), "b": (0, 2), "c": (0, 2)}


def _observed(n_agree: int = 6, seed: int = 0, ref: float = 2.0) -> AdaptivePlanner:
    """Round 0 observed: ``n_agree`` questions whose 4 samples all agree, one split 2/2, one split 3/1."""
    ids = [f"agree{i}" for i in range(n_agree)] + ["split", "mostly"]
    pl = AdaptivePlanner(
        AdaptiveDesign(
            first_contexts=2, samples_per_context=2, max_contexts=8, seed=seed, min_prob=0.1, ref_fraction=ref
        ),
        ids,
    )
    probs = {f"agree{i}": _answers(0, 0, 0, 0) if i % 2 else _answers(1, 1, 1, 1) for i in range(n_agree)}
    probs["split"] = _answers(0, 1, 0, 1)
    probs["mostly"] = _answers(0, 0, 0, 2)
    pl.observe(probs, targets=[0] * len(ids), n_options=[4] * len(ids), n_boot=0)
    return pl


def test_all_agree_questions_get_little_the_most_uncertain_most() -> None:
    pl = _observed()
    pi = pl.probs_next
    agree, split, mostly = pi[:6], pi[6], pi[7]
    assert min(split, mostly) > 1.2 * agree.max()  # questions that disagreed come first
    assert np.all(agree >= 0.1) and np.all(agree == agree[0])  # all-agree: a smaller (but not zero) chance
    assert all(v == (2, 4) for v in pl.plan().values())  # the next level: contexts 2 and 3
    # with the default ref_fraction 0.5, four agreeing samples are not yet enough to be left out
    assert np.all(_observed(ref=0.5).probs_next == 1.0)


def test_all_agree_everywhere_lifts_every_question() -> None:
    pl2 = AdaptivePlanner(AdaptiveDesign(first_contexts=2, samples_per_context=2, max_contexts=8), ["x", "y"])
    pl2.observe({"x": _answers(0, 0, 0, 0), "y": _answers(1, 1, 1, 1)}, targets=[0, 0], n_boot=0)
    # nothing disagrees: the rule of succession gives both the same share, so both are lifted for sure
    assert pl2.probs_next.tolist() == [1.0, 1.0]


def test_questions_not_lifted_leave_the_ladder_and_lifted_ones_carry_weights() -> None:
    pl = _observed(n_agree=30, seed=3)
    lifted = pl.pending.copy()
    assert lifted.any() and not lifted.all()
    can = ~np.isnan(pl.probs_next)
    assert np.all(pl.alive[can & ~lifted] == False)  # noqa: E712
    np.testing.assert_allclose(pl.reach[lifted], pl.probs_next[lifted])


def test_plans_are_a_function_of_data_and_seed() -> None:
    a, b = _observed(n_agree=30, seed=5), _observed(n_agree=30, seed=5)
    assert a.plan() == b.plan()
    c = _observed(n_agree=30, seed=6)
    assert a.plan() != c.plan()  # the lift draws depend on the seed (30 coin flips at p < 1)


def test_estimate_telescopes_to_the_corrected_estimate_when_lifts_are_sure() -> None:
    design = AdaptiveDesign(first_contexts=1, samples_per_context=2, max_contexts=2, min_prob=1.0)
    pl = AdaptivePlanner(design, ["q1", "q2"])
    first = {"q1": _answers(0, 1), "q2": _answers(0, 0)}
    pl.observe(first, targets=[0, 0], n_boot=0)
    assert pl.plan() == {"q1": (1, 2), "q2": (1, 2)}
    full = {"q1": _answers(0, 1, 0, 2), "q2": _answers(0, 0, 3, 0)}
    rep = pl.observe(full, targets=[0, 0], n_boot=200)
    d = kl_decomposition(np.stack([full["q1"], full["q2"]]), [0, 0], jackknife=True)
    var, err = pl.estimates()
    np.testing.assert_allclose(var, d.variance)
    np.testing.assert_allclose(err, d.error)
    assert rep.incoherence == pytest.approx(float(d.variance.sum() / d.error.sum()))
    assert rep.low <= rep.incoherence <= rep.high
    assert pl.finished and pl.plan() == {}


def test_weighted_step_divides_the_change_by_the_reach_probability() -> None:
    design = AdaptiveDesign(first_contexts=1, samples_per_context=2, max_contexts=2)
    pl = AdaptivePlanner(design, ["q"])
    pl.observe({"q": _answers(0, 1)}, targets=[0], n_boot=0)
    pl.reach[:] = 0.25  # as if it had been lifted with π = 1/4
    before = pl.estimates()[0][0]
    d0 = kl_decomposition(_answers(0, 1)[None], [0], jackknife=True).variance[0]
    d1 = kl_decomposition(_answers(0, 1, 0, 0)[None], [0], jackknife=True).variance[0]
    pl.observe({"q": _answers(0, 1, 0, 0)}, targets=[0], n_boot=0)
    assert pl.estimates()[0][0] == pytest.approx(before + 4 * (d1 - d0))


def test_observe_refuses_missing_questions_and_bad_targets() -> None:
    pl = AdaptivePlanner(AdaptiveDesign(first_contexts=1, samples_per_context=2, max_contexts=2), ["a", "b"])
    with pytest.raises(ValueError, match="planned question"):
        pl.observe({"a": _answers(0, 0)}, targets=[0, 0])
    with pytest.raises(ValueError, match="targets"):
        pl.observe({"a": _answers(0, 0), "b": _answers(0, 0)}, targets=[0])


def test_run_identity_fixed_runs_unchanged_adaptive_by_design_not_target() -> None:
    from hotmess.sampling import RunConfig
    from hotmess.sampling.config import identity_of

    fixed = RunConfig("openai:m", "t.csv")
    old = {k: v for k, v in fixed.to_dict().items() if k not in ("target_ci", "first_contexts", "max_rounds")}
    assert identity_of(old) == fixed.identity() and "adaptive" not in fixed.identity()  # old stores resume
    a = RunConfig("openai:m", "t.csv", target_ci=0.05, samples_per_context=2)
    b = RunConfig("openai:m", "t.csv", target_ci=0.01, max_rounds=3, samples_per_context=2)
    c = RunConfig("openai:m", "t.csv", target_ci=0.05, first_contexts=3, samples_per_context=2)
    assert a.run_id() == b.run_id() != c.run_id()  # the target only decides when to stop
    assert a.run_id() != RunConfig("openai:m", "t.csv", samples_per_context=2).run_id()
