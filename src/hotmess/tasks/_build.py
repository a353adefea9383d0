"""Turning validated cells into questions, shared by every file loader (private)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from hotmess.tasks._rows import Record, Table, is_blank
from hotmess.tasks._seeding import seed_sequence
from hotmess.tasks.types import MAX_OPTIONS, Question, Task, option_letters

__all__ = ["canonical_order", "cell_str", "make_question", "make_task", "parse_answer", "text_cell"]

_LETTER = re.compile(r"^\s*[(\[]?\s*([A-Za-z])\s*[)\]]?\s*[.:]?\s*$")
_INDEX = re.compile(r"^\s*[+-]?\d+\s*$")
ANSWER_TYPES = ("auto", "letter", "index", "text", "letter_or_index")


def cell_str(value: Any) -> str:
    """A cell as stripped text ("" when blank); integral floats lose their ".0" (numeric columns)."""
    if is_blank(value):
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def text_cell(table: Table, rec: Record, column: str, what: str) -> str:
    """The cell as stripped text; blank raises."""
    value = cell_str(rec.cells.get(column))
    if not value:
        raise table.fail(rec, f"empty {what} (column {column!r})", hint=f"fill in the {what} or drop the row")
    return value


def _letter_range(n: int) -> str:
    return f"A-{chr(ord('A') + n - 1)}"


def parse_answer(
    table: Table,
    rec: Record,
    value: Any,
    options: Sequence[str],
    *,
    answer_type: str = "auto",
    index_base: int = 0,
) -> int:
    """The 0-based correct index from an answer cell: a letter, an integer index, or an option's text.

    ``auto`` tries all three and accepts the value when every reading that fits gives the same option;
    ``letter_or_index`` is ``auto`` without the text reading. Integers count from ``index_base``.
    """
    n = len(options)
    if is_blank(value):
        raise table.fail(rec, "empty answer", hint="give the correct option as a letter or index")
    readings: dict[str, int] = {}
    problems: list[str] = []
    want = {answer_type} if answer_type in ("letter", "index", "text") else {"letter", "index", "text"}
    if answer_type == "letter_or_index":
        want.discard("text")
    is_int = isinstance(value, int | np.integer) and not isinstance(value, bool)
    is_float_int = isinstance(value, float) and value.is_integer()
    text = str(int(value)) if is_float_int else str(value).strip()
    if "letter" in want and isinstance(value, str) and (m := _LETTER.match(value)):
        idx = ord(m.group(1).upper()) - ord("A")
        if idx < n:
            readings["letter"] = idx
        else:
            problems.append(f"unknown answer letter {m.group(1)!r} (options {_letter_range(n)})")
    if "index" in want and (is_int or is_float_int or (isinstance(value, str) and _INDEX.match(value))):
        idx = int(text) - index_base
        if 0 <= idx < n:
            readings["index"] = idx
        else:
            problems.append(f"answer index {text} outside {index_base}-{n - 1 + index_base}")
    if "text" in want and isinstance(value, str):
        hits = [i for i, o in enumerate(options) if o.strip() == text]
        if len(hits) == 1:
            readings["text"] = hits[0]
    found = set(readings.values())
    if len(found) == 1:
        return found.pop()
    if len(found) > 1:
        detail = ", ".join(f"as {k}: {option_letters(n)[v]}" for k, v in readings.items())
        raise table.fail(
            rec,
            f"ambiguous answer {text!r} ({detail})",
            hint="pass answer_type='letter', 'index' or 'text'",
        )
    if problems:
        raise table.fail(rec, "; ".join(problems), hint="fix the answer, or check the number of options")
    accepted = " or ".join(sorted(want))
    raise table.fail(
        rec,
        f"answer {text!r} is not among the options (expected {accepted}; options {_letter_range(n)})",
        hint="give the correct option as a letter, a 0-based index, or its exact text",
    )


def make_question(
    table: Table,
    rec: Record,
    *,
    qid: str,
    text: str,
    options: Sequence[str],
    correct: int,
    metadata: Mapping[str, Any],
) -> Question:
    """A :class:`Question`, every problem raised as an :class:`InputError` naming the record."""
    if not text.strip():
        raise table.fail(rec, "empty question text", hint="fill in the question or drop the row")
    if len(options) < 2:
        raise table.fail(rec, f"only {len(options)} option(s); a question needs at least 2", hint="add options")
    if len(options) > MAX_OPTIONS:
        raise table.fail(rec, f"{len(options)} options; at most {MAX_OPTIONS} are supported", hint="trim")
    dups = [i for i, o in enumerate(options) if i != correct and o.strip() == options[correct].strip()]
    if dups:
        letters = option_letters(len(options))
        raise table.fail(
            rec,
            f"the correct option {letters[correct]} has the same text as option {letters[dups[0]]}",
            hint="make the options distinct so that the answer is unambiguous",
        )
    text = text.replace("\r\n", "\n").strip()  # Windows line ends inside quoted cells
    return Question(qid, text, tuple(o.strip() for o in options), correct, dict(metadata))


def make_task(table: Table, pairs: Iterable[tuple[Record, Question]], name: str | None) -> Task:
    """A task from built questions, checking ids are unique (naming both records when not)."""
    first: dict[str, Record] = {}
    questions = []
    for rec, q in pairs:
        if q.id in first:
            raise table.fail(
                rec,
                f"duplicate question id {q.id!r} (first at {first[q.id].where})",
                hint="make ids unique, or drop the id column to number the rows",
            )
        first[q.id] = rec
        questions.append(q)
    return Task(name or table.path.stem, tuple(questions))


def canonical_order(seed: int, key: str, n: int) -> tuple[int, ...]:
    """A fixed pseudo-random order of ``n`` options for one question (stable across runs and machines).

    Used where a file lists the correct answer first (GPQA) or in a meaningful order (MWE answers), so that
    unshuffled prompts do not always show the correct answer at the same position.
    """
    rng = np.random.default_rng(seed_sequence(seed, "canonical-order", key))
    return tuple(int(i) for i in rng.permutation(n))
