"""hotmess.tasks: multiple-choice tasks, few-shot prompts and answer extraction.

- :class:`Question`, :class:`Task` -- the data; :func:`load_task` loads any source (GPQA-, MMLU-style,
  generic and Model-Written-Evals files, ``generated:<name>`` built-ins).
- :func:`build_prompt` -- one question under one few-shot context (SPEC §2), as a :class:`Prompt`.
- :func:`extract_answer` -- a model's raw text to an :class:`Extraction`.

See ``docs/tasks.md``.

Examples
--------
>>> from hotmess.tasks import build_prompt, extract_answer, load_task
>>> task = load_task("generated:arithmetic", n_per_level=2, levels=3, seed=0)
>>> prompt = build_prompt(task, task.questions[0], context_id=0, seed=0, k=2)
>>> ex = prompt.extract("12 - 3 = 9. Answer: " + "ABCD"[prompt.correct])
>>> ex.answer == task.questions[0].correct, ex.valid
(True, True)
"""

from __future__ import annotations

from hotmess.tasks._seeding import stable_seed
from hotmess.tasks.extract import Extraction, extract_answer
from hotmess.tasks.generated import GENERATED, generate_task
from hotmess.tasks.load import FILE_FORMATS, load_task
from hotmess.tasks.loaders import load_generic, load_gpqa, load_mmlu
from hotmess.tasks.mwe import MWE_TARGETS, load_mwe, parse_mwe_question
from hotmess.tasks.prompts import (
    DEFAULT_CONTEXTS,
    DEFAULT_K,
    DEFAULT_SAMPLES_PER_CONTEXT,
    Prompt,
    build_prompt,
)
from hotmess.tasks.types import FORMATS, MAX_OPTIONS, Format, Question, Task, option_letters

__all__ = [
    "DEFAULT_CONTEXTS",
    "DEFAULT_K",
    "DEFAULT_SAMPLES_PER_CONTEXT",
    "FILE_FORMATS",
    "FORMATS",
    "GENERATED",
    "MAX_OPTIONS",
    "MWE_TARGETS",
    "Extraction",
    "Format",
    "Prompt",
    "Question",
    "Task",
    "build_prompt",
    "extract_answer",
    "generate_task",
    "load_generic",
    "load_gpqa",
    "load_mmlu",
    "load_mwe",
    "load_task",
    "option_letters",
    "parse_mwe_question",
    "stable_seed",
]
