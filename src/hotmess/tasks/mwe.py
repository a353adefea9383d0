"""Model-Written Evaluations (Perez et al., 2022) JSONL files.

One object per line: ``question`` (the options are embedded in its text after a ``Choices:`` line, as
``(A) ...``, ``(B) ...``, sometimes followed by ``Answer:``), ``answer_matching_behavior`` and
``answer_not_matching_behavior`` (``" (A)"``). The loader parses the options out of the text, so that
prompts render and shuffle them like any other task. Which answer counts as *correct* is the user's choice,
because it differs by file: ``target="matching"`` or ``target="not_matching"``.

Files without a ``Choices:`` block (the persona files: answers ``" Yes"``/``" No"``) get the two answer
texts as options, in a fixed pseudo-random order per question.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from hotmess.errors import ConfigError
from hotmess.tasks._build import canonical_order, make_question, make_task
from hotmess.tasks._rows import Record, Table, read_table
from hotmess.tasks.types import Question, Task

__all__ = ["MWE_TARGETS", "load_mwe", "parse_mwe_question"]

MWE_TARGETS = ("matching", "not_matching")
_FIELDS = {"matching": "answer_matching_behavior", "not_matching": "answer_not_matching_behavior"}
_CHOICES = re.compile(r"(?:^|\n)[ \t]*Choices:[ \t]*(?:\n|$)")
_OPTION = re.compile(r"^[ \t]*\(([A-Z])\)[ \t]*(.*)$")
_ANSWER_LINE = re.compile(r"^[ \t]*Answer:[ \t]*$")
_LABEL = re.compile(r"^\s*\(?\s*([A-Z])\s*\)?\s*$")


def parse_mwe_question(text: str) -> tuple[str, tuple[str, ...]] | None:
    """Split an MWE question into its stem and options; ``None`` when it has no ``Choices:`` block.

    Raises ``ValueError`` when the block is malformed (options out of order, no options).

    Examples
    --------
    >>> parse_mwe_question("Shall we?\\n\\nChoices:\\n (A) Yes\\n (B) No\\n\\nAnswer:")
    ('Shall we?', ('Yes', 'No'))
    """
    blocks = list(_CHOICES.finditer(text))
    if not blocks:
        return None
    head = blocks[-1]
    stem, tail = text[: head.start()].strip(), text[head.end() :]
    options: list[str] = []
    letters: list[str] = []
    for line in tail.split("\n"):
        if m := _OPTION.match(line):
            letters.append(m.group(1))
            options.append(m.group(2).strip())
        elif _ANSWER_LINE.match(line):
            break
        elif line.strip():
            if not options:
                raise ValueError(f"text before the first option: {line.strip()[:40]!r}")
            options[-1] = f"{options[-1]}\n{line.strip()}"
    expected = [chr(ord("A") + i) for i in range(len(letters))]
    if letters != expected:
        raise ValueError(f"options labelled {', '.join(letters) or 'nothing'} (expected A, B, ...)")
    return stem, tuple(options)


def _label(value: Any, field: str) -> str:
    if isinstance(value, list):
        if len(value) != 1:
            raise ValueError(f"{field} lists {len(value)} answers; one is needed to be the correct one")
        value = value[0]
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{field} is {value!r}; expected a label such as ' (A)'")
    return value


def _question(table: Table, rec: Record, target: str, seed: int) -> Question:
    qid = f"{table.path.stem}-{rec.index}"
    text = rec.cells.get("question")
    if not isinstance(text, str) or not text.strip():
        raise table.fail(rec, "empty question", hint="every line needs a non-empty 'question'")
    other = "not_matching" if target == "matching" else "matching"
    try:
        parsed = parse_mwe_question(text)
        answer = _label(rec.cells.get(_FIELDS[target]), _FIELDS[target])
        other_value = rec.cells.get(_FIELDS[other])
        other_labels = [
            _label(v, _FIELDS[other]) for v in (other_value if isinstance(other_value, list) else [other_value])
        ]
    except ValueError as err:
        raise table.fail(rec, str(err), hint="fix the line, or drop it") from None
    meta: dict[str, Any] = {"source": table.path.name, "target": target}
    if parsed is not None:
        stem, options = parsed
        idx = {}
        for label in (answer, *other_labels):
            m = _LABEL.match(label)
            if m is None or ord(m.group(1)) - ord("A") >= len(options):
                raise table.fail(
                    rec,
                    f"answer {label.strip()!r} is not one of the options (A-{chr(ord('A') + len(options) - 1)})",
                    hint="answers must be option labels such as ' (A)'",
                )
            idx[label] = ord(m.group(1)) - ord("A")
        correct = idx[answer]
        meta[other] = [idx[o] for o in other_labels] if len(other_labels) > 1 else idx[other_labels[0]]
        meta[target] = correct
        question = make_question(table, rec, qid=qid, text=stem, options=options, correct=correct, metadata=meta)
        if any(idx[o] == correct for o in other_labels):
            raise table.fail(
                rec,
                f"{_FIELDS[target]} and {_FIELDS[other]} name the same option {answer.strip()}",
                hint="fix the answers, or drop the line",
            )
        return question
    texts = [answer.strip(), *(o.strip() for o in other_labels)]
    order = canonical_order(seed, qid, len(texts))
    options = tuple(texts[i] for i in order)
    stem = re.sub(r"\n[ \t]*Answer:[ \t]*$", "", text.rstrip()).strip()
    meta[target] = order.index(0)
    others = [order.index(i) for i in range(1, len(texts))]
    meta[other] = others if len(others) > 1 else others[0]
    return make_question(table, rec, qid=qid, text=stem, options=options, correct=order.index(0), metadata=meta)


def mwe_columns(table: Table) -> bool:
    """Whether the table has the MWE fields."""
    return all(f in table.columns for f in ("question", *_FIELDS.values()))


def mwe_from_table(table: Table, *, target: str | None = None, name: str | None = None, seed: int = 0) -> Task:
    """Build an MWE task from a read table (see :func:`load_mwe`)."""
    if target not in MWE_TARGETS:
        raise ConfigError(
            f"target must be 'matching' or 'not_matching' for a Model-Written-Evals file, got {target!r}",
            hint="pick the answer that counts as correct (aligned) for this file: with hotmess run, "
            "--task-option target=matching or --task-option target=not_matching",
        )
    missing = [f for f in ("question", *_FIELDS.values()) if f not in table.columns]
    if missing:
        found = ", ".join(repr(c) for c in table.columns)
        raise table.fail(
            None,
            f"missing field(s) {', '.join(missing)}; found {found}",
            hint="a Model-Written-Evals line has question, answer_matching_behavior, answer_not_matching_behavior",
        )
    pairs = [(rec, _question(table, rec, target, seed)) for rec in table.records]
    # the target is part of the default name: the two targets make different correct options for one question
    return make_task(table, pairs, name or f"{table.path.stem}:{target}")


def load_mwe(path: str | Path, *, target: str | None = None, name: str | None = None, seed: int = 0) -> Task:
    """Load a Model-Written-Evals JSONL file.

    Parameters
    ----------
    target
        Which answer is the correct one: ``"matching"`` (``answer_matching_behavior``) or ``"not_matching"``.
        Required: which of them is the aligned behaviour differs by file.
    seed
        Fixes the option order of files without a ``Choices:`` block.

    Notes
    -----
    The task is named ``"<file stem>:<target>"`` unless ``name`` is given, so runs of both targets can share
    a store. Question ids are ``"<file stem>-<0-based line>"``. ``metadata`` records ``target`` and the option index
    of both behaviours (``metadata["matching"]``, ``metadata["not_matching"]``; a list when a file gives
    several non-matching answers), so analyses can report either.

    Examples
    --------
    >>> task = load_mwe("examples/tasks/mwe_sample.jsonl", target="not_matching")
    >>> q = task.questions[0]
    >>> q.options, q.correct, q.metadata["matching"]
    (('No', 'Yes'), 0, 1)
    """
    return mwe_from_table(read_table(path), target=target, name=name, seed=seed)
