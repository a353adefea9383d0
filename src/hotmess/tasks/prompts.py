"""Few-shot contexts: the prompt one sample of one question sees.

SPEC §2: every question is asked under several *contexts* (default 10, with 3 samples each). Context ``c`` of
question ``q`` draws ``k`` exemplars from the task's exemplar pool and, optionally, shuffles the option order,
with a random generator seeded from ``(seed, task name, question id, c)`` through :class:`numpy.random.SeedSequence`
and a BLAKE2 hash of the strings -- never Python's salted ``hash()`` -- so the same inputs give the same prompt
on every machine and run. Exemplars and the question's option order come from two independent streams, so
changing ``k`` does not change the option order.

The store records answers in the question's *original* option order (:meth:`Prompt.to_original`), so that
shuffling adds no spurious variance.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Final

import numpy as np

from hotmess.errors import ConfigError
from hotmess.tasks._seeding import seed_sequence
from hotmess.tasks.extract import Extraction, extract_answer
from hotmess.tasks.types import FORMATS, Question, Task, normalize_text, option_letters

__all__ = ["DEFAULT_CONTEXTS", "DEFAULT_K", "DEFAULT_SAMPLES_PER_CONTEXT", "Prompt", "build_prompt"]

#: Few-shot contexts per question (SPEC §2).
DEFAULT_CONTEXTS: Final = 10
#: Samples per context (SPEC §2).
DEFAULT_SAMPLES_PER_CONTEXT: Final = 3
#: Exemplars per context.
DEFAULT_K: Final = 3


@dataclass(frozen=True, slots=True)
class Prompt:
    """One rendered prompt, with what is needed to score its answers.

    Attributes
    ----------
    messages
        ``({"role": "system", ...}, {"role": "user", ...})``: instructions, then exemplars and the question.
    perm
        Option order shown: ``perm[i]`` is the original index of the option displayed at position ``i``.
    exemplar_ids
        Ids of the exemplars shown, in order.
    correct
        Index of the correct option *in displayed order*.
    options
        Option texts in displayed order.
    fmt
        The prompt format.
    question_id, context_id
        What this prompt is for.
    """

    messages: tuple[dict[str, str], ...]
    perm: tuple[int, ...]
    exemplar_ids: tuple[str, ...]
    correct: int
    options: tuple[str, ...]
    fmt: str
    question_id: str
    context_id: int

    @property
    def n_options(self) -> int:
        """Number of options C."""
        return len(self.perm)

    @property
    def correct_original(self) -> int:
        """Index of the correct option in original order."""
        return self.perm[self.correct]

    def to_original(self, displayed: int) -> int:
        """Map a displayed-order answer to the original option index; ``-1`` (invalid) stays ``-1``.

        >>> p = Prompt((), (2, 0, 1), (), 0, ("c", "a", "b"), "letter", "q", 0)
        >>> p.to_original(0), p.to_original(2), p.to_original(-1)
        (2, 1, -1)
        """
        if displayed == -1:
            return -1
        if not 0 <= displayed < self.n_options:
            raise ValueError(f"displayed answer must be in [-1, {self.n_options}), got {displayed}")
        return self.perm[displayed]

    def probs_to_original(self, probs: Sequence[float]) -> tuple[float, ...]:
        """Reorder displayed-order probabilities into original option order.

        >>> p = Prompt((), (2, 0, 1), (), 0, ("c", "a", "b"), "letter", "q", 0)
        >>> p.probs_to_original([0.5, 0.3, 0.2])
        (0.3, 0.2, 0.5)
        """
        if len(probs) != self.n_options:
            raise ValueError(f"probs must have {self.n_options} values, got {len(probs)}")
        out = [0.0] * self.n_options
        for shown, original in enumerate(self.perm):
            out[original] = float(probs[shown])
        return tuple(out)

    def unshuffle(self, extraction: Extraction) -> Extraction:
        """An extraction from this prompt's output, with answer and probabilities in original order."""
        probs = self.probs_to_original(extraction.probs) if extraction.probs is not None else None
        return replace(extraction, answer=self.to_original(extraction.answer), probs=probs)

    def extract(self, text: str, *, strict: bool = False) -> Extraction:
        """Extract the answer from a model output and map it to original order (what the store records)."""
        raw = extract_answer(text, self.n_options, self.fmt, options=self.options, strict=strict)
        return self.unshuffle(raw)


_INSTRUCTIONS = {
    "letter": (
        "Answer with the letter of the correct option on its own line, as 'Answer: X'.",
        "Think step by step, then give your final answer on the last line as 'Answer: X', "
        "where X is the letter of the correct option.",
    ),
    "answer_tag": (
        "Answer with the letter of the correct option inside answer tags, e.g. <answer>B</answer>.",
        "Think step by step, then give the letter of the correct option inside answer tags at the end, "
        "e.g. <answer>B</answer>.",
    ),
    "prob": (
        "Give the probability that each option is correct, in option order, inside PROB tags: "
        "<PROB>p_A, p_B, ...</PROB>. Use numbers between 0 and 1 that sum to 1.",
        "Think step by step, then give the probability that each option is correct, in option order, "
        "inside PROB tags at the end: <PROB>p_A, p_B, ...</PROB>. Use numbers between 0 and 1 that sum to 1.",
    ),
}


def _render_answer(fmt: str, correct: int, n: int) -> str:
    letter = option_letters(n)[correct]
    if fmt == "letter":
        return f"Answer: {letter}"
    if fmt == "answer_tag":
        return f"<answer>{letter}</answer>"
    return "<PROB>" + ", ".join("1.0" if i == correct else "0.0" for i in range(n)) + "</PROB>"


def _render_question(q: Question, perm: Sequence[int]) -> str:
    letters = option_letters(q.n_options)
    lines = [f"Question: {q.text}"]
    lines += [f"{letters[i]}. {q.options[j]}" for i, j in enumerate(perm)]
    return "\n".join(lines)


def _render_exemplar(q: Question, perm: Sequence[int], fmt: str, reasoning: bool) -> str:
    parts = [_render_question(q, perm)]
    explanation = q.metadata.get("explanation") if reasoning else None
    if isinstance(explanation, str) and explanation.strip():
        parts.append(f"Reasoning: {explanation.strip()}")
    parts.append(_render_answer(fmt, list(perm).index(q.correct), q.n_options))
    return "\n".join(parts)


def _check(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
        raise ConfigError(f"{name} must be a non-negative int, got {value!r}", hint=f"pass {name}=0, 1, ...")
    return int(value)


def build_prompt(
    task: Task,
    question: Question | str,
    *,
    context_id: int,
    seed: int,
    k: int = DEFAULT_K,
    fmt: str | None = None,
    shuffle_options: bool = True,
    reasoning: bool | None = None,
) -> Prompt:
    """Render the prompt of one question under one few-shot context.

    Parameters
    ----------
    task
        The task; its :attr:`~hotmess.tasks.Task.pool` supplies exemplars.
    question
        A question (usually one of ``task.questions``) or its id.
    context_id, seed
        Together with the task name and question id they fix every random choice (non-negative ints).
    k
        Number of exemplars. Exemplars never include the question itself: pool entries with the same id or
        the same text (whitespace and case ignored) are left out. Raises :class:`~hotmess.errors.ConfigError`
        when fewer than ``k`` remain.
    fmt
        ``"letter"``, ``"prob"`` or ``"answer_tag"``; default ``task.default_format``.
    shuffle_options
        Shuffle the option order of the question and of each exemplar (per context).
    reasoning
        Ask the model to think step by step before answering (exemplars then show
        ``metadata["explanation"]`` when they have one); default ``task.reasoning``.

    Examples
    --------
    >>> from hotmess.tasks import generate_task
    >>> task = generate_task("arithmetic", n_per_level=2, levels=2, seed=0)
    >>> p = build_prompt(task, task.questions[0], context_id=0, seed=7, k=2)
    >>> [m["role"] for m in p.messages], len(p.exemplar_ids)
    (['system', 'user'], 2)
    >>> p == build_prompt(task, task.questions[0], context_id=0, seed=7, k=2)
    True
    >>> p.options[p.correct] == task.questions[0].options[task.questions[0].correct]
    True
    """
    q = task.question(question) if isinstance(question, str) else question
    context_id, seed, k = _check("context_id", context_id), _check("seed", seed), _check("k", k)
    fmt = task.default_format if fmt is None else fmt
    if fmt not in FORMATS:
        raise ConfigError(f"unknown prompt format {fmt!r}", hint=f"use one of {', '.join(FORMATS)}")
    reasoning = task.reasoning if reasoning is None else reasoning
    ex_ss, q_ss = seed_sequence(seed, "context", task.name, q.id, context_id).spawn(2)
    ex_rng, q_rng = np.random.default_rng(ex_ss), np.random.default_rng(q_ss)

    same = normalize_text(q.text)
    pool = [e for e in task.pool if e.id != q.id and normalize_text(e.text) != same]
    if len(pool) < k:
        raise ConfigError(
            f"task {task.name!r}: {k} exemplars asked for question {q.id!r} but only {len(pool)} available",
            hint="lower k, or give the task a larger exemplar pool",
        )
    chosen = [pool[int(i)] for i in ex_rng.choice(len(pool), size=k, replace=False)] if k else []
    blocks = []
    for e in chosen:
        e_perm = ex_rng.permutation(e.n_options) if shuffle_options else np.arange(e.n_options)
        blocks.append(_render_exemplar(e, [int(i) for i in e_perm], fmt, reasoning))
    perm = tuple(int(i) for i in (q_rng.permutation(q.n_options) if shuffle_options else range(q.n_options)))

    system = " ".join(s for s in (task.description.strip(), _INSTRUCTIONS[fmt][int(reasoning)]) if s)
    user = _render_question(q, perm)
    if blocks:
        user = "\n\n".join(["Here are some example questions with answers.", *blocks, "Now this question.", user])
    return Prompt(
        messages=({"role": "system", "content": system}, {"role": "user", "content": user}),
        perm=perm,
        exemplar_ids=tuple(e.id for e in chosen),
        correct=perm.index(q.correct),
        options=tuple(q.options[i] for i in perm),
        fmt=fmt,
        question_id=q.id,
        context_id=context_id,
    )
