"""Incoherence inside Inspect: a scorer wrapper, an epochs reducer, metrics, and a few-shot context solver.

One line of a task turns Inspect's epochs into the paper's decomposition (see docs/integrations/inspect.md)::

    from inspect_ai import Epochs, Task, task
    from inspect_ai.solver import multiple_choice
    from hotmess.integrations.inspect import decomposition, fewshot_contexts, hotmess_scorer

    @task
    def quiz():
        return Task(
            dataset=...,
            solver=[fewshot_contexts(examples, k=3, contexts=10), multiple_choice()],
            scorer=hotmess_scorer(),                            # choice() plus the answer record
            epochs=Epochs(30, decomposition()),                 # per-question bias / variance / error
        )

``inspect eval quiz.py --epochs 30`` then prints ``incoherence`` (Σ variance / Σ error over questions, with a
bootstrap interval), ``bias``, ``variance``, ``error`` and ``accuracy`` in Inspect's own results, and the log
holds them; ``hotmess import inspect`` on that log gives the same numbers (the importer reads the records).

How it fits together:

- :func:`hotmess_scorer` runs a base scorer (default Inspect's ``choice()``) and adds a *record* of the sample
  to the score's metadata under ``"hotmess"``: the option chosen (mapped back to the original order when the
  options were shuffled), the correct option and the number of options; for ``kind="open-ended"`` the base
  score's correctness (C/I, or a value in [0, 1]); for ``kind="test-vector"`` the per-test results a
  SWE-bench-style scorer reports.
- :func:`decomposition` is an epochs reducer: the records of one sample's epochs → that question's bias,
  variance, error and accuracy (KL by default, or Brier), computed by the code ``hotmess analyze`` runs.
- :func:`incoherence`, :func:`bias`, :func:`variance`, :func:`error` and :func:`accuracy` are metrics over the
  reduced scores (ratio of sums for incoherence, means for the rest).
- :func:`fewshot_contexts` is a solver: epoch e of a sample uses context ``(e − 1) mod contexts``, a few-shot
  set drawn from ``examples`` and an option order, both seeded from (seed, sample id, context), so
  ``contexts × seeds`` epochs follow the paper's protocol and a rerun draws the same contexts.

This module imports ``inspect_ai``; ``import hotmess`` does not import it.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from hotmess._extras import install_hint

try:
    from inspect_ai.dataset import Sample
    from inspect_ai.model import ChatMessageSystem
    from inspect_ai.scorer import (
        Metric,
        SampleScore,
        Score,
        Scorer,
        ScoreReducer,
        Target,
        choice,
        metric,
        score_reducer,
        scorer,
    )
    from inspect_ai.solver import Generate, Solver, TaskState, solver
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError(f"hotmess.integrations.inspect needs Inspect; {install_hint('inspect')}") from exc

from hotmess.importers._tests import parse_test_results
from hotmess.integrations._core import check_record, dataset_stats, question_stats, target_letters
from hotmess.metrics.kl import DEFAULT_DELTA

__all__ = [
    "RECORD_KEY",
    "accuracy",
    "bias",
    "decomposition",
    "error",
    "fewshot_contexts",
    "hotmess_scorer",
    "incoherence",
    "variance",
]

RECORD_KEY = "hotmess"
"""Key of the sample record in a score's metadata (and of the reduced numbers' origin)."""
CONTEXT_KEY = "hotmess_context"
"""Key in the sample store under which :func:`fewshot_contexts` leaves the context id."""
_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
Kind = Literal["multiple-choice", "open-ended", "test-vector"]


# -- reducer -------------------------------------------------------------------------------------------------


@score_reducer(name="hotmess/decomposition")
def decomposition(metric: Literal["kl", "brier"] = "kl", delta: float = DEFAULT_DELTA) -> ScoreReducer:
    """Epochs reducer: one sample's epochs → its question's bias, variance, error and accuracy.

    Parameters
    ----------
    metric
        "kl" (the paper's default) or "brier". Test-vector records always use the test-vector decomposition.
    delta
        KL smoothing δ.

    The reduced score's value is ``{"bias", "variance", "error", "accuracy", "samples", "invalid"}``; its
    metadata keeps the kind and the metric. Scores without a hotmess record (a scorer other than
    :func:`hotmess_scorer`) raise a ValueError that says so.
    """

    def reduce(scores: list[Score]) -> Score:
        records = [_record_of(s) for s in scores if not _unscored(s.value)]
        if not records:
            return Score(value=float("nan"), explanation="no epoch was scored")
        stats = question_stats(records, metric=metric, delta=delta)
        value = {k: stats[k] for k in ("bias", "variance", "error", "accuracy", "samples", "invalid")}
        return Score(
            value=value,
            answer=None,
            explanation=f"{stats['kind']}: {metric if stats['kind'] != 'test-vector' else 'test vectors'} "
            f"decomposition over {stats['samples']} epochs",
            metadata={RECORD_KEY: {"kind": stats["kind"], "metric": metric, "delta": delta}},
        )

    return reduce


def _record_of(score: Score) -> Mapping[str, Any]:
    rec = (score.metadata or {}).get(RECORD_KEY)
    if not isinstance(rec, Mapping):
        raise ValueError(
            "the hotmess decomposition reducer needs scores from hotmess.integrations.inspect.hotmess_scorer "
            "(no 'hotmess' record in the score's metadata)"
        )
    return rec


# -- metrics -------------------------------------------------------------------------------------------------


def _per_question(scores: list[SampleScore]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for s in scores:
        value, meta = s.score.value, (s.score.metadata or {}).get(RECORD_KEY)
        if not isinstance(value, Mapping) or "variance" not in value or not isinstance(meta, Mapping):
            raise ValueError(
                "hotmess metrics need scores reduced by hotmess.integrations.inspect.decomposition(): "
                "pass epochs=Epochs(n, decomposition()) to the Task"
            )
        key = str(s.sample_id)
        if key in out:
            raise ValueError(f"hotmess metrics: sample {key!r} was reduced twice")
        out[key] = {**value, "kind": meta.get("kind")}
    return out


@metric(name="hotmess/incoherence")
def incoherence(n_boot: int = 1000, level: float = 0.95, seed: int = 0) -> Metric:
    """Σ variance / Σ error over questions, with a bootstrap interval over questions (as ``hotmess analyze``).

    Reports ``incoherence``, ``incoherence_low`` and ``incoherence_high`` (``n_boot=0``: no interval).
    """

    def compute(scores: list[SampleScore]) -> dict[str, float | None]:
        stats = dataset_stats(_per_question(scores), n_boot=n_boot, level=level, seed=seed)
        keys = ("incoherence", "incoherence_low", "incoherence_high") if n_boot > 0 else ("incoherence",)
        return {k: stats[k] for k in keys}

    return compute


def _mean_of(name: str) -> Metric:
    # a one-entry mapping: Inspect lists it under the plain name ("bias"), not the registry name ("hotmess/bias")
    def compute(scores: list[SampleScore]) -> dict[str, float]:
        return {name: dataset_stats(_per_question(scores), n_boot=0)[name]}

    return compute


@metric(name="hotmess/bias")
def bias() -> Metric:
    """Mean per-question bias."""
    return _mean_of("bias")


@metric(name="hotmess/variance")
def variance() -> Metric:
    """Mean per-question variance."""
    return _mean_of("variance")


@metric(name="hotmess/error")
def error() -> Metric:
    """Mean per-question error (bias + variance)."""
    return _mean_of("error")


@metric(name="hotmess/accuracy")
def accuracy() -> Metric:
    """Mean per-question share of epochs answered correctly (test vectors: runs passing every test)."""
    return _mean_of("accuracy")


# -- scorer --------------------------------------------------------------------------------------------------


@scorer(metrics=[incoherence(), bias(), variance(), error(), accuracy()], name="hotmess/hotmess_scorer")
def hotmess_scorer(base: Scorer | None = None, *, kind: Kind = "multiple-choice") -> Scorer:
    """Score with ``base`` and record the sample for the decomposition.

    Parameters
    ----------
    base
        The scorer whose value, answer and explanation are kept (default: Inspect's ``choice()``).
    kind
        ``"multiple-choice"``: the record holds the chosen option (from the task state's choices, in the
        original order), the target's option and the number of options; an answer that selects no option or
        several is invalid. ``"open-ended"``: a right/wrong question whose record is the base score's
        correctness (C → right, I → wrong, P or a value in (0, 1) → probability of right, N → invalid).
        ``"test-vector"``: the per-test results of a SWE-bench-style base scorer.
    """
    inner = base if base is not None else choice()
    if kind not in ("multiple-choice", "open-ended", "test-vector"):
        raise ValueError(f"kind: expected multiple-choice, open-ended or test-vector, got {kind!r}")

    async def score(state: TaskState, target: Target) -> Score:
        got = await inner(state, target)
        if got is None:
            raise ValueError("hotmess_scorer: the base scorer returned no score")
        base_score = got if isinstance(got, Score) else Score(value=float("nan"))
        if _unscored(base_score.value):
            return base_score  # Inspect's "not scored": no record; the reducer and the importer skip it
        if kind == "multiple-choice":
            record = _choice_record(state, target)
        elif kind == "open-ended":
            record = _correctness_record(base_score.value)
        else:
            results = parse_test_results(base_score.model_dump())
            if results is None:
                raise ValueError("hotmess_scorer: the base scorer reported no per-test results (FAIL_TO_PASS etc.)")
            record = {"kind": "test-vector", "tests": {**results.fail_to_pass, **results.pass_to_pass}}
        record["context"] = state.store.get(CONTEXT_KEY)
        check_record(record)
        meta = dict(base_score.metadata or {})
        meta[RECORD_KEY] = record
        return base_score.model_copy(update={"metadata": meta})

    return score


def _unscored(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _choice_record(state: TaskState, target: Target) -> dict[str, Any]:
    choices = state.choices
    n = len(choices)
    if n < 2:
        raise ValueError(f"hotmess_scorer: sample {state.sample_id!r} has {n} choices; multiple choice needs ≥ 2")
    letters = target_letters(target.target)
    if len(letters) != 1 or letters[0].upper() not in set(_LETTERS[:n]):
        raise ValueError(
            f"hotmess_scorer: target {target.target!r} of sample {state.sample_id!r} is not one option letter; "
            "use kind='open-ended' for questions with several correct options"
        )
    chosen = [c.original_position for c in choices if c.correct is True]
    return {
        "kind": "multiple-choice",
        "n_options": n,
        "correct": _LETTERS.index(letters[0].upper()),
        "answer": int(chosen[0]) if len(chosen) == 1 else -1,
    }


def _correctness_record(value: Any) -> dict[str, Any]:
    rec: dict[str, Any] = {"kind": "open-ended", "n_options": 2, "correct": 0, "answer": -1}
    p: float | None
    if isinstance(value, bool):
        p = float(value)
    elif isinstance(value, str):
        v = value.strip().upper()
        p = {"C": 1.0, "I": 0.0, "P": 0.5}.get(v)
        if p is None and v != "N":
            try:
                p = float(v)
            except ValueError:
                raise ValueError(f"hotmess_scorer: score value {value!r} is not C/I/P/N or a number") from None
    elif isinstance(value, int | float) and math.isfinite(value):
        p = float(value)
    else:
        raise ValueError(f"hotmess_scorer: score value {value!r} is not a correctness (C/I or a number in [0, 1])")
    if p is None:
        return rec
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"hotmess_scorer: score value {value!r} is not in [0, 1]")
    rec["answer"] = 0 if p >= 0.5 else 1
    if 0.0 < p < 1.0:
        rec["probs"] = [p, 1.0 - p]
    return rec


# -- few-shot contexts ---------------------------------------------------------------------------------------


def context_rng(seed: int, sample_id: str | int, context: int) -> random.Random:
    """The generator of one (sample, context): the same on every machine and run (SHA-256 of the three)."""
    digest = hashlib.sha256(f"{seed}\x1f{sample_id}\x1f{context}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


@solver(name="hotmess/fewshot_contexts")
def fewshot_contexts(
    examples: Sequence[Sample],
    k: int = 3,
    contexts: int = 10,
    shuffle_choices: bool = True,
    seed: int = 0,
) -> Solver:
    """Vary the few-shot context (and the option order) per epoch, as the paper's contexts × seeds protocol.

    Parameters
    ----------
    examples
        Solved examples to draw from (Inspect ``Sample``\\ s with ``input``, ``target`` and, for multiple
        choice, ``choices``); an example with the current sample's id is never shown.
    k
        Examples per context.
    contexts
        Distinct contexts per sample: epoch ``e`` uses context ``(e − 1) mod contexts``, so with
        ``epochs = contexts × seeds`` every context is sampled ``seeds`` times.
    shuffle_choices
        Also shuffle the sample's options per context (the scorer maps answers back to the original order).
    seed
        Seeds every context's draw together with the sample id and the context id.

    The examples go into a system message (so ``multiple_choice()`` still formats the user prompt); the
    context id is left in the sample's store for :func:`hotmess_scorer`.
    """
    pool = list(examples)
    if k < 0 or contexts < 1:
        raise ValueError(f"k must be ≥ 0 and contexts ≥ 1, got k={k}, contexts={contexts}")

    async def solve(state: TaskState, generate: Generate) -> TaskState:
        ctx = (int(state.epoch) - 1) % contexts
        rng = context_rng(seed, state.sample_id, ctx)
        usable = [ex for ex in pool if ex.id is None or str(ex.id) != str(state.sample_id)]
        if len(usable) < k:
            raise ValueError(f"fewshot_contexts: {len(usable)} examples for sample {state.sample_id!r}, need {k}")
        shots = rng.sample(usable, k)
        if shuffle_choices and len(state.choices) > 1:
            state.choices.shuffle(rng)
        if shots:
            blocks = [_example_text(ex, rng if shuffle_choices else None) for ex in shots]
            state.messages.insert(0, ChatMessageSystem(content="Solved examples:\n\n" + "\n\n".join(blocks)))
        state.store.set(CONTEXT_KEY, ctx)
        return state

    return solve


def _example_text(ex: Sample, rng: random.Random | None) -> str:
    question = ex.input if isinstance(ex.input, str) else "\n".join(str(m.text) for m in ex.input)
    target = ex.target if isinstance(ex.target, str) else ", ".join(ex.target)
    if not ex.choices:
        return f"{question}\nANSWER: {target}"
    order = list(range(len(ex.choices)))
    if rng is not None:
        rng.shuffle(order)
    correct = _LETTERS.index(target.strip().upper()[0]) if target.strip() else -1
    lines = [f"{_LETTERS[i]}) {ex.choices[j]}" for i, j in enumerate(order)]
    answer = _LETTERS[order.index(correct)] if 0 <= correct < len(order) else target
    return f"{question}\n" + "\n".join(lines) + f"\nANSWER: {answer}"
