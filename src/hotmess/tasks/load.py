"""One entry point for every task source: :func:`load_task`."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any, Final

from hotmess.errors import ConfigError
from hotmess.tasks._rows import EXTENSIONS, Table, read_table
from hotmess.tasks.generated import GENERATED, generate_task
from hotmess.tasks.loaders import (
    generic_from_table,
    gpqa_columns,
    gpqa_from_table,
    mmlu_columns,
    mmlu_from_table,
    mmlu_headerless,
)
from hotmess.tasks.mwe import mwe_columns, mwe_from_table
from hotmess.tasks.types import FORMATS, Question, Task

__all__ = ["FILE_FORMATS", "load_task"]

_BUILDERS: Final[dict[str, Callable[..., Task]]] = {
    "mwe": mwe_from_table,
    "gpqa": gpqa_from_table,
    "mmlu": mmlu_from_table,
    "generic": generic_from_table,
}
#: Formats of task files accepted by :func:`load_task`'s ``format=``.
FILE_FORMATS: Final = tuple(_BUILDERS)
_GENERIC_KEYS: Final = frozenset({"question", "options", "answer"})
_TASK_KEYS: Final = ("description", "default_format", "reasoning")


def _detect(table: Table, opts: dict[str, Any]) -> str:
    if _GENERIC_KEYS & opts.keys():
        return "generic"
    if mwe_columns(table):
        return "mwe"
    if gpqa_columns(table) is not None:
        return "gpqa"
    if mmlu_columns(table) is not None or mmlu_headerless(table):
        return "mmlu"
    found = ", ".join(repr(c) for c in table.columns)
    raise table.fail(
        None,
        f"cannot tell the task format from the columns ({found}); expected Model-Written-Evals "
        "(question, answer_matching_behavior, answer_not_matching_behavior), GPQA (Question, Correct Answer, "
        "Incorrect Answer 1..n) or MMLU (question, A, B, C, D, answer)",
        hint="rename the columns, or pass format='generic' with question=, options=, answer=",
    )


def _check_opts(what: str, builder: Callable[..., Task], opts: dict[str, Any], extra: str) -> None:
    params = inspect.signature(builder).parameters
    accepted = [p for p, v in params.items() if v.kind is inspect.Parameter.KEYWORD_ONLY]
    unknown = sorted(set(opts) - set(accepted))
    if unknown:
        raise ConfigError(
            f"option(s) {', '.join(unknown)} do not apply to {what}",
            hint=f"{what} accept {', '.join(accepted)}{extra}",
        )


def load_task(spec: str | Path, *, format: str | None = None, **opts: Any) -> Task:
    """Load a task from a file, or generate a built-in one.

    Parameters
    ----------
    spec
        A path to a ``.csv``/``.tsv``/``.jsonl``/``.json``/``.parquet`` file, or ``generated:<name>`` for a
        built-in task (``generated:arithmetic``, ``generated:tracking``).
    format
        ``"mwe"``, ``"gpqa"``, ``"mmlu"`` or ``"generic"``. Default: detected from the columns, in that order
        (``generic`` when ``question=``/``options=``/``answer=`` are given).
    **opts
        Options of the chosen loader (e.g. ``target=`` for MWE, ``seed=`` for GPQA, ``index_base=`` for
        MMLU, the column mapping for generic; :func:`~hotmess.tasks.generate_task`'s for ``generated:``),
        plus, for files:

        - ``name``: task name (default: the file stem);
        - ``exemplars``: a second file, loaded the same way, used as the exemplar pool;
        - ``limit``: keep the first ``limit`` questions;
        - ``description``, ``default_format``, ``reasoning``: stored on the task.

    Raises
    ------
    hotmess.errors.InputError
        A missing or malformed file (naming file, line and fix).
    hotmess.errors.ConfigError
        An unknown format, option or generated task.

    Examples
    --------
    >>> load_task("generated:arithmetic", n_per_level=3, levels=2).name
    'arithmetic'
    >>> task = load_task("examples/tasks/mmlu_sample.csv", limit=2, description="Astronomy questions.")
    >>> len(task.questions), task.description
    (2, 'Astronomy questions.')
    """
    text = str(spec)
    if text.startswith("generated:"):
        if format is not None:
            raise ConfigError("format= does not apply to generated tasks", hint="drop format=")
        _check_opts("generated tasks", generate_task, opts, "")
        return generate_task(text.removeprefix("generated:"), **opts)
    if format is not None and format not in _BUILDERS:
        raise ConfigError(f"unknown task format {format!r}", hint=f"use one of {', '.join(FILE_FORMATS)}")
    exemplars = opts.pop("exemplars", None)
    limit = opts.pop("limit", None)
    task_opts = {k: opts.pop(k) for k in _TASK_KEYS if k in opts}
    if task_opts.get("default_format", "letter") not in FORMATS:
        raise ConfigError(
            f"unknown default_format {task_opts['default_format']!r}", hint=f"use one of {', '.join(FORMATS)}"
        )
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise ConfigError(f"limit must be a positive int, got {limit!r}", hint="pass limit=100")
    p = Path(spec)
    if not p.exists() and p.suffix.lower() not in EXTENSIONS and ":" in text:
        raise ConfigError(
            f"unknown task source {text!r}", hint=f"give a file path or generated:<{'|'.join(GENERATED)}>"
        )
    table = read_table(p)
    fmt = format or _detect(table, opts)
    builder = _BUILDERS[fmt]
    _check_opts(f"{fmt} task files", builder, opts, f", exemplars, limit, {', '.join(_TASK_KEYS)}")
    task = builder(table, **opts)
    pool: tuple[Question, ...] = ()
    if exemplars is not None:
        pool_opts = {k: v for k, v in opts.items() if k != "name"}
        pool = builder(read_table(Path(exemplars)), **pool_opts).questions
    return replace(
        task,
        questions=task.questions[:limit] if limit else task.questions,
        exemplars=pool,
        **task_opts,
    )
