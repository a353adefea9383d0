"""Questions and tasks: the multiple-choice data every prompt is built from.

A :class:`Question` has its options in a fixed *original* order and the 0-based index of the correct one.
A :class:`Task` is a named set of questions plus an optional pool of *exemplars*, questions used only as
few-shot examples and never asked. Both are frozen; loaders validate everything before building them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Final, Literal

__all__ = [
    "FORMATS",
    "MAX_OPTIONS",
    "Format",
    "Question",
    "Task",
    "option_letters",
]

Format = Literal["letter", "prob", "answer_tag"]
#: The prompt/answer formats: a letter, ``<PROB>p_A, p_B, ...</PROB>`` probabilities, ``<answer>X</answer>``.
FORMATS: Final[tuple[str, ...]] = ("letter", "prob", "answer_tag")
#: Options are labelled A..Z, so a question has at most 26.
MAX_OPTIONS: Final = 26


def option_letters(n_options: int) -> tuple[str, ...]:
    """The labels of ``n_options`` options: ``A, B, ...``.

    Examples
    --------
    >>> option_letters(4)
    ('A', 'B', 'C', 'D')
    """
    if not 2 <= n_options <= MAX_OPTIONS:
        raise ValueError(f"n_options must be in [2, {MAX_OPTIONS}], got {n_options}")
    return tuple(chr(ord("A") + i) for i in range(n_options))


@lru_cache(maxsize=1 << 16)
def normalize_text(text: str) -> str:
    """Text compared for "same question": whitespace collapsed, case folded."""
    return " ".join(text.split()).casefold()


@dataclass(frozen=True, slots=True)
class Question:
    """One multiple-choice question.

    Attributes
    ----------
    id
        Identifier, unique within its task (and its exemplar pool).
    text
        The question stem, without the options.
    options
        Option texts in their original order (at least 2, at most 26).
    correct
        0-based index of the correct option in ``options``.
    metadata
        Free-form extras: ``difficulty``/``level`` (generated tasks), ``source``, ``explanation`` (a worked
        solution, shown in few-shot exemplars when prompts ask for reasoning), and loader-specific keys.

    Examples
    --------
    >>> q = Question("q1", "2 + 2 = ?", ("3", "4", "5"), correct=1)
    >>> q.n_options, q.options[q.correct]
    (3, '4')
    """

    id: str
    text: str
    options: tuple[str, ...]
    correct: int
    metadata: Mapping[str, Any] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not self.id:
            raise ValueError(f"Question.id must be a non-empty str, got {self.id!r}")
        if not isinstance(self.options, tuple) or not all(isinstance(o, str) for o in self.options):
            raise ValueError(f"Question.options must be a tuple of str, got {self.options!r}")
        if not 2 <= len(self.options) <= MAX_OPTIONS:
            raise ValueError(f"Question {self.id!r} needs 2 to {MAX_OPTIONS} options, got {len(self.options)}")
        if isinstance(self.correct, bool) or not isinstance(self.correct, int):
            raise ValueError(f"Question.correct must be an int, got {self.correct!r}")
        if not 0 <= self.correct < len(self.options):
            raise ValueError(f"Question {self.id!r}: correct={self.correct} outside [0, {len(self.options)})")

    @property
    def n_options(self) -> int:
        """Number of options C."""
        return len(self.options)


@dataclass(frozen=True, slots=True)
class Task:
    """A named set of questions, with the exemplar pool their few-shot contexts draw from.

    Attributes
    ----------
    name
        Task name, recorded with every sample.
    questions
        The questions asked, ids unique.
    exemplars
        Questions used only as few-shot exemplars, ids unique. When empty, contexts draw exemplars from the
        *other* questions of the task (leave-one-out); see :func:`hotmess.tasks.build_prompt`.
    default_format
        Prompt format used when none is given: ``"letter"``, ``"prob"`` or ``"answer_tag"``.
    description
        One line put at the top of the instructions, e.g. "Questions about multi-step arithmetic."
    reasoning
        Whether prompts ask the model to think step by step before its final answer by default.

    Examples
    --------
    >>> q = Question("q1", "2 + 2 = ?", ("3", "4"), correct=1)
    >>> Task("toy", (q,)).pool[0].id
    'q1'
    """

    name: str
    questions: tuple[Question, ...]
    exemplars: tuple[Question, ...] = ()
    default_format: str = "letter"
    description: str = ""
    reasoning: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"Task.name must be a non-empty str, got {self.name!r}")
        if self.default_format not in FORMATS:
            raise ValueError(f"Task.default_format must be one of {FORMATS}, got {self.default_format!r}")
        for label, items in (("questions", self.questions), ("exemplars", self.exemplars)):
            if not isinstance(items, tuple) or not all(isinstance(q, Question) for q in items):
                raise ValueError(f"Task.{label} must be a tuple of Question")
            dup = _first_duplicate(q.id for q in items)
            if dup is not None:
                raise ValueError(f"Task {self.name!r}: duplicate id {dup!r} in {label}")
        if not self.questions:
            raise ValueError(f"Task {self.name!r} has no questions")

    @property
    def pool(self) -> tuple[Question, ...]:
        """Where few-shot exemplars come from: :attr:`exemplars`, else the questions themselves."""
        return self.exemplars or self.questions

    def question(self, question_id: str) -> Question:
        """The question with id ``question_id`` (``KeyError`` if absent)."""
        for q in self.questions:
            if q.id == question_id:
                return q
        raise KeyError(question_id)


def _first_duplicate(ids: Sequence[str] | Any) -> str | None:
    seen: set[str] = set()
    for i in ids:
        if i in seen:
            return str(i)
        seen.add(i)
    return None
