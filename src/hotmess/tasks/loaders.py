"""Loaders for multiple-choice files: GPQA-style, MMLU-style and generic column mappings.

Every loader reads the whole file, validates every row and returns a :class:`~hotmess.tasks.Task` -- or
raises one :class:`hotmess.errors.InputError` naming the file, the line or row, and the fix. Nothing partially
loaded is ever returned. Column names match case-insensitively, with runs of spaces and punctuation treated
alike (``"Incorrect Answer 1"`` = ``incorrect_answer_1``). Question ids come from an id column when there is
one, else they are ``"<file stem>-<0-based row>"``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hotmess.errors import ConfigError
from hotmess.tasks._build import (
    ANSWER_TYPES,
    canonical_order,
    cell_str,
    make_question,
    make_task,
    parse_answer,
    text_cell,
)
from hotmess.tasks._rows import Record, Table, find_column, is_blank, norm_col, read_table
from hotmess.tasks.types import Task

__all__ = ["load_generic", "load_gpqa", "load_mmlu"]

QUESTION_COLUMNS = ("question", "problem", "prompt", "question_text", "input", "stem")
ID_COLUMNS = ("id", "question_id", "record_id", "qid", "uid")
GPQA_CORRECT = ("correct_answer", "correct", "right_answer", "correct_option", "answer")
_GPQA_INCORRECT = re.compile(r"^(?:incorrect|wrong|false)_?(?:answer|option|choice)?_?(\d+)$|^distractor_?(\d+)$")
GPQA_META = {
    "difficulty": ("writer_s_difficulty_estimate", "difficulty", "level"),
    "domain": ("high_level_domain", "domain", "subject", "category"),
    "subdomain": ("subdomain",),
    "explanation": ("explanation", "rationale"),
}
MMLU_ANSWER = ("answer", "target", "label", "correct", "answer_idx", "answer_index", "correct_answer")
MMLU_LIST = ("choices", "options", "answers")
MMLU_META = {
    "subject": ("subject", "category", "domain"),
    "difficulty": ("difficulty", "level"),
    "explanation": ("explanation", "rationale"),
}


def _missing(table: Table, what: str, expected: Sequence[str], hint: str) -> Exception:
    found = ", ".join(repr(c) for c in table.columns) or "none"
    return table.fail(
        None,
        f"no column for {what}: expected one of {', '.join(expected)}; found columns {found}",
        hint=hint,
    )


def _meta(rec: Record, table: Table, spec: dict[str, tuple[str, ...]]) -> dict[str, Any]:
    out: dict[str, Any] = {"source": table.path.name}
    for key, names in spec.items():
        col = find_column(table.columns, names)
        if col is not None and not is_blank(rec.cells.get(col)):
            out[key] = rec.cells[col]
    return out


def _qid(table: Table, rec: Record, id_col: str | None) -> str:
    if id_col is None:
        return f"{table.path.stem}-{rec.index}"
    return text_cell(table, rec, id_col, "id")


# ------------------------------------------------------------------------------------------------- GPQA


def gpqa_columns(table: Table) -> tuple[str, str, list[str]] | None:
    """(question, correct, incorrect...) columns when the table looks GPQA-style, else ``None``."""
    numbered = []
    for c in table.columns:
        if m := _GPQA_INCORRECT.match(norm_col(c)):
            numbered.append((int(m.group(1) or m.group(2)), c))
    q = find_column(table.columns, QUESTION_COLUMNS)
    correct = find_column(table.columns, GPQA_CORRECT)
    if q is None or correct is None or not numbered:
        return None
    return q, correct, [c for _, c in sorted(numbered)]


def gpqa_from_table(table: Table, *, name: str | None = None, seed: int = 0) -> Task:
    """Build a GPQA-style task from a read table (see :func:`load_gpqa`)."""
    cols = gpqa_columns(table)
    if cols is None:
        q = find_column(table.columns, QUESTION_COLUMNS)
        c = find_column(table.columns, GPQA_CORRECT)
        if q is None:
            raise _missing(table, "the question", QUESTION_COLUMNS, "rename the question column")
        if c is None:
            raise _missing(table, "the correct answer", GPQA_CORRECT, "rename the correct-answer column")
        raise _missing(
            table,
            "the incorrect answers",
            ("Incorrect Answer 1", "Incorrect Answer 2", "..."),
            "name the distractor columns 'Incorrect Answer <n>'",
        )
    q_col, c_col, wrong_cols = cols
    id_col = find_column(table.columns, ID_COLUMNS)
    pairs = []
    for rec in table.records:
        qid = _qid(table, rec, id_col)
        right = text_cell(table, rec, c_col, "correct answer")
        wrong = [w for c in wrong_cols if (w := cell_str(rec.cells.get(c)))]
        source = [right, *wrong]  # correct first, as in the file
        order = canonical_order(seed, qid, len(source))
        meta = _meta(rec, table, GPQA_META) | {"source_order": order}
        question = make_question(
            table,
            rec,
            qid=qid,
            text=text_cell(table, rec, q_col, "question"),
            options=[source[i] for i in order],
            correct=order.index(0),
            metadata=meta,
        )
        pairs.append((rec, question))
    return make_task(table, pairs, name)


def load_gpqa(path: str | Path, *, name: str | None = None, seed: int = 0) -> Task:
    """Load a GPQA-style CSV/JSONL/Parquet: a question, one correct and several incorrect answers.

    Columns (case-insensitive): ``Question``; ``Correct Answer``; ``Incorrect Answer 1``, ``2``, ... (also
    ``wrong_answer_<n>``, ``distractor_<n>``); optional ``Record ID``, ``Writer's Difficulty Estimate``
    (-> ``metadata["difficulty"]``), ``High-level domain``, ``Subdomain``, ``Explanation``. Blank incorrect
    answers are dropped (a row needs at least one). The file lists the correct answer first, so the options are
    put in a fixed pseudo-random order per question (from ``seed`` and the id), recorded as
    ``metadata["source_order"]`` (``source_order[i]`` = file position of option ``i``, 0 = the correct one);
    prompts shuffle further per few-shot context.

    Examples
    --------
    >>> task = load_gpqa("examples/tasks/gpqa_sample.csv")
    >>> q = task.questions[0]
    >>> q.options[q.correct]
    'Carbon dioxide'
    """
    return gpqa_from_table(read_table(path), name=name, seed=seed)


# ------------------------------------------------------------------------------------------------- MMLU


def _letter_columns(columns: Sequence[str]) -> list[str]:
    """Option columns named A, B, C... (or option_a, choice_a ...), contiguous from A."""
    by_letter: dict[str, str] = {}
    for c in columns:
        n = norm_col(c)
        m = re.fullmatch(r"(?:option_|choice_|opt_)?([a-z])", n)
        if m and m.group(1) not in by_letter:
            by_letter[m.group(1)] = c
    out = []
    for i in range(26):
        letter = chr(ord("a") + i)
        if letter not in by_letter:
            break
        out.append(by_letter[letter])
    return out


def _list_cell(table: Table, rec: Record, col: str) -> list[str]:
    value = rec.cells.get(col)
    if isinstance(value, str) and value.strip().startswith("["):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            raise table.fail(
                rec, f"column {col!r} is not a JSON list", hint='write options as ["a", "b", ...]'
            ) from None
    if isinstance(value, dict) and isinstance(value.get("text"), list):
        value = value["text"]  # ARC-style {"text": [...], "label": [...]}
    if not isinstance(value, list | tuple):
        raise table.fail(
            rec,
            f"column {col!r} should hold a list of options, got {type(value).__name__}",
            hint='write options as a list, e.g. ["a", "b", "c"], or map several option columns',
        )
    return [cell_str(v) for v in value]


def _trim_options(table: Table, rec: Record, options: list[str]) -> list[str]:
    while options and not options[-1]:
        options.pop()
    if any(not o for o in options):
        gap = next(i for i, o in enumerate(options) if not o)
        raise table.fail(rec, f"option {chr(ord('A') + gap)} is empty", hint="fill it in, or move later options up")
    return options


def mmlu_columns(table: Table) -> tuple[str, list[str] | str, str] | None:
    """(question, option columns or list column, answer) when the table looks MMLU-style, else ``None``."""
    q = find_column(table.columns, QUESTION_COLUMNS)
    a = find_column(table.columns, MMLU_ANSWER)
    letters = _letter_columns(table.columns)
    opts: list[str] | str | None = letters if len(letters) >= 2 else find_column(table.columns, MMLU_LIST)
    if q is None or a is None or not opts:
        return None
    return q, opts, a


def mmlu_headerless(table: Table) -> bool:
    """Whether a CSV's first row is data: the original MMLU files have no header (question, A.., answer)."""
    cols = table.columns
    return (
        table.path.suffix.lower() in (".csv", ".tsv")
        and len(cols) >= 4
        and mmlu_columns(table) is None
        and re.fullmatch(r"[A-Za-z]", cols[-1].strip()) is not None
    )


def mmlu_from_table(table: Table, *, name: str | None = None, index_base: int = 0) -> Task:
    """Build an MMLU-style task from a read table (see :func:`load_mmlu`)."""
    if mmlu_headerless(table):
        raw = read_table(table.path, header=False)
        n = len(raw.columns)
        renamed = ["question", *(chr(ord("A") + i) for i in range(n - 2)), "answer"]
        records = tuple(Record(r.index, r.where, {renamed[int(k)]: v for k, v in r.cells.items()}) for r in raw.records)
        table = Table(raw.path, tuple(renamed), records)
    cols = mmlu_columns(table)
    if cols is None:
        hint = "name the columns question, A, B, C, D, answer (or choices + answer)"
        if find_column(table.columns, QUESTION_COLUMNS) is None:
            raise _missing(table, "the question", QUESTION_COLUMNS, hint)
        if find_column(table.columns, MMLU_ANSWER) is None:
            raise _missing(table, "the answer", MMLU_ANSWER, hint)
        raise _missing(table, "the options", ("A, B, C, D", *MMLU_LIST), hint)
    q_col, opt_cols, a_col = cols
    id_col = find_column(table.columns, ID_COLUMNS)
    pairs = []
    for rec in table.records:
        if isinstance(opt_cols, str):
            options = _list_cell(table, rec, opt_cols)
        else:
            options = [cell_str(rec.cells.get(c)) for c in opt_cols]
        options = _trim_options(table, rec, options)
        correct = parse_answer(
            table, rec, rec.cells.get(a_col), options, answer_type="letter_or_index", index_base=index_base
        )
        question = make_question(
            table,
            rec,
            qid=_qid(table, rec, id_col),
            text=text_cell(table, rec, q_col, "question"),
            options=options,
            correct=correct,
            metadata=_meta(rec, table, MMLU_META),
        )
        pairs.append((rec, question))
    return make_task(table, pairs, name)


def load_mmlu(path: str | Path, *, name: str | None = None, index_base: int = 0) -> Task:
    """Load MMLU-style rows: a question, option columns ``A, B, C, D`` (or a list column), an answer.

    The answer is a letter (``"B"``, ``"b"``, ``"(B)"``) or an integer index counted from ``index_base``
    (0 by default, as in the Hugging Face MMLU files). Option columns may be ``A..Z``, ``option_a`` or
    ``choice_a``, contiguous from A; trailing blank options are dropped, so rows may have fewer options. A list
    column ``choices``/``options`` (JSON list in CSV) is used when there are no letter columns. The original
    headerless MMLU CSVs (question, A, B, C, D, answer) are recognised. CSV, TSV, JSONL, JSON and Parquet.

    Examples
    --------
    >>> task = load_mmlu("examples/tasks/mmlu_sample.csv")
    >>> len(task.questions), task.questions[0].options[task.questions[0].correct]
    (6, 'Mars')
    """
    return mmlu_from_table(read_table(path), name=name, index_base=index_base)


# ---------------------------------------------------------------------------------------------- generic


def _column(table: Table, wanted: str, role: str) -> str:
    if wanted in table.columns:
        return wanted
    col = find_column(table.columns, (wanted,))
    if col is None:
        raise _missing(table, role, (repr(wanted),), f"pass the right column name for {role}")
    return col


def generic_from_table(
    table: Table,
    *,
    question: str = "question",
    options: str | Sequence[str] = "options",
    answer: str = "answer",
    id: str | None = None,
    metadata: Sequence[str] = (),
    answer_type: str = "auto",
    index_base: int = 0,
    name: str | None = None,
) -> Task:
    """Build a task from a read table and a column mapping (see :func:`load_generic`)."""
    if answer_type not in ANSWER_TYPES:
        raise ConfigError(f"unknown answer_type {answer_type!r}", hint=f"use one of {', '.join(ANSWER_TYPES)}")
    q_col = _column(table, question, "the question")
    a_col = _column(table, answer, "the answer")
    opt_cols: str | list[str]
    if isinstance(options, str):
        opt_cols = _column(table, options, "the options")
    else:
        opt_cols = [_column(table, c, f"option {c!r}") for c in options]
    id_col = _column(table, id, "the id") if id is not None else None
    meta_cols = {c: _column(table, c, f"metadata {c!r}") for c in metadata}
    pairs = []
    for rec in table.records:
        if isinstance(opt_cols, str):
            opts = _list_cell(table, rec, opt_cols)
        else:
            opts = [cell_str(rec.cells.get(c)) for c in opt_cols]
        opts = _trim_options(table, rec, opts)
        correct = parse_answer(table, rec, rec.cells.get(a_col), opts, answer_type=answer_type, index_base=index_base)
        meta = {"source": table.path.name} | {
            k: rec.cells[c] for k, c in meta_cols.items() if not is_blank(rec.cells.get(c))
        }
        q = make_question(
            table,
            rec,
            qid=_qid(table, rec, id_col),
            text=text_cell(table, rec, q_col, "question"),
            options=opts,
            correct=correct,
            metadata=meta,
        )
        pairs.append((rec, q))
    return make_task(table, pairs, name)


def load_generic(
    path: str | Path,
    *,
    question: str = "question",
    options: str | Sequence[str] = "options",
    answer: str = "answer",
    id: str | None = None,
    metadata: Sequence[str] = (),
    answer_type: str = "auto",
    index_base: int = 0,
    name: str | None = None,
) -> Task:
    """Load any CSV/TSV/JSONL/JSON/Parquet file given which columns hold what.

    Parameters
    ----------
    question
        Column of the question text.
    options
        One column holding a list of options (JSON list in CSV cells), or several columns, one per option
        (trailing blanks dropped).
    answer
        Column of the correct answer: a letter, an integer index (from ``index_base``) or the option's text.
    id
        Column of question ids; ``None`` numbers the rows (``"<stem>-<row>"``).
    metadata
        Columns copied into ``Question.metadata`` under their own names.
    answer_type
        ``"auto"`` accepts a letter, index or option text when every reading that fits agrees (a value such
        as ``"1"`` among options ``"0", "1"`` is ambiguous and raises); ``"letter"``, ``"index"`` or ``"text"``
        force one reading; ``"letter_or_index"`` excludes the text reading.
    index_base
        What integer answers count from (0 or 1).

    Examples
    --------
    >>> task = load_generic("examples/tasks/generic_sample.jsonl", question="prompt", options="choices",
    ...                     answer="label", metadata=["level"])
    >>> q = task.questions[0]
    >>> q.options[q.correct], q.metadata["level"]
    ('12', 1)
    """
    return generic_from_table(
        read_table(path),
        question=question,
        options=options,
        answer=answer,
        id=id,
        metadata=metadata,
        answer_type=answer_type,
        index_base=index_base,
        name=name,
    )
