"""The one tidy table every sample lands in.

One row is one sample: one answer of one model to one question under one draw of test-time randomness
(a few-shot context and a sampling seed). Sampling writes these rows, importers write these rows, and every
analysis reads them. The same columns are used in the SQLite run store and in Parquet/CSV/JSONL exports.

Columns
-------
=================  ==========  ==================================================================================
name               type        meaning
=================  ==========  ==================================================================================
run_id             str         the run that produced the sample ("" for hand-written files)
model              str         model name (as given to the backend, or as found in a log)
task               str         task name
question_id        str         question identifier, unique within a task
context_id         int         few-shot context (test-time randomness, part 1); 0 when there is one
sample_index       int         index of the sample within its context (part 2)
budget             str         reasoning-budget label ("" = default budget)
seed               int|null    the sampling seed sent to the model, when there was one
n_options          int         number of answer options C (0 for open-ended / test-vector rows)
correct            int         0-based index of the correct option; -1 when there is none
answer             int         0-based extracted answer; -1 = invalid (unparseable, or an error row)
probs              list|null   per-option probabilities, used instead of ``answer`` when present
valid              bool        whether an answer (or a probability vector) was extracted
raw_output         str         the model's raw text (kept for invalid answers too)
output_tokens      int|null    tokens the model generated, reasoning text included (see ``length_source``)
reasoning_tokens   int|null    hidden reasoning tokens, when the API reports them
length_source      str|null    how ``output_tokens`` was obtained: one of :data:`LENGTH_SOURCES`; null = unknown
kind               str|null    decomposition kind, one of :data:`SAMPLE_KINDS`; null = inferred from the row
finish_reason      str|null    why generation stopped (``"stop"``, ``"length"``, ...) as the backend reported it
actions            int|null    number of actions / messages (agentic runs)
test_outcomes      list|null   per-unit-test outcomes in {0, 1} (test-vector decomposition)
embedding          list|null   answer embedding (open-ended variance)
error              str|null    a failure that survived retries; such rows are never scored
created_at         float       unix time the row was written
=================  ==========  ==================================================================================

The primary key is ``(run_id, model, task, question_id, context_id, sample_index, budget)``: samples are
written exactly once per key, and repeated samples are never collapsed into one. Without ``run_id`` the key
names a sample's *slot* (:data:`SLOT_COLUMNS`); two runs whose samples fill the same slot with the same
non-null ``seed`` hold the same sample twice, and analyses count it once
(:func:`hotmess.data.collapse_duplicate_samples`).

``n_options`` is at most :data:`MAX_N_OPTIONS`: the decompositions hold one probability per option and sample.

``length_source`` says how far a sample's ``output_tokens`` can be trusted on its own (SPEC §2, reasoning length):
``"api"`` is the API's count for this one sample, ``"tokenizer"`` a count with the model's tokenizer (reasoning
text included), ``"estimated"`` one API total for a request that returned several samples, split over them in
proportion to their text (answer and reasoning) length — right on average over a request, not per sample. Analyses
that compare samples *within* a question refuse estimated lengths. Null means unknown (hand-written or imported
files that do not say).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

__all__ = [
    "CHOICE_COLUMNS",
    "COLUMNS",
    "KEY_COLUMNS",
    "LENGTH_SOURCES",
    "LIST_COLUMNS",
    "MAX_N_OPTIONS",
    "SAMPLE_KINDS",
    "SLOT_COLUMNS",
    "Sample",
]

KEY_COLUMNS: Final = ("run_id", "model", "task", "question_id", "context_id", "sample_index", "budget")
"""Columns that identify a sample; the store's primary key."""

SLOT_COLUMNS: Final = KEY_COLUMNS[1:]
"""Where a sample sits in an experiment, whatever run drew it: the key without ``run_id``."""

MAX_N_OPTIONS: Final = 1000
"""Most answer options a question may have (analyses allocate questions × samples × options values)."""

SAMPLE_KINDS: Final = ("multiple-choice", "open-ended", "test-vector")
"""Values of the ``kind`` column (besides null = inferred from the row: test outcomes → test vector, a correct
option → multiple choice): which decomposition a sample belongs to. Analyses never pool two kinds."""

LENGTH_SOURCES: Final = ("api", "tokenizer", "estimated")
"""Values of the ``length_source`` column (besides null = unknown): how ``output_tokens`` was obtained."""

CHOICE_COLUMNS: Final[dict[str, tuple[str, ...]]] = {"length_source": LENGTH_SOURCES, "kind": SAMPLE_KINDS}
"""Text columns whose value, when set, must be one of a fixed set (validated by Sample, the readers and the store)."""

#: Column name -> logical type ("str", "int", "float", "bool", "list").
COLUMNS: Final[dict[str, str]] = {
    "run_id": "str",
    "model": "str",
    "task": "str",
    "question_id": "str",
    "context_id": "int",
    "sample_index": "int",
    "budget": "str",
    "seed": "int",
    "kind": "str",
    "n_options": "int",
    "correct": "int",
    "answer": "int",
    "probs": "list",
    "valid": "bool",
    "raw_output": "str",
    "output_tokens": "int",
    "reasoning_tokens": "int",
    "length_source": "str",
    "finish_reason": "str",
    "actions": "int",
    "test_outcomes": "list",
    "embedding": "list",
    "error": "str",
    "created_at": "float",
}

LIST_COLUMNS: Final = tuple(k for k, v in COLUMNS.items() if v == "list")


@dataclass(frozen=True, slots=True)
class Sample:
    """One sample, as written by the sampler and the importers.

    Examples
    --------
    >>> s = Sample(model="m", task="t", question_id="q1", context_id=0, sample_index=2,
    ...            n_options=4, correct=1, answer=1, valid=True)
    >>> s.key()
    ('', 'm', 't', 'q1', 0, 2, '')
    """

    model: str
    task: str
    question_id: str
    context_id: int
    sample_index: int
    n_options: int
    correct: int
    answer: int = -1
    valid: bool = False
    run_id: str = ""
    budget: str = ""
    seed: int | None = None
    probs: tuple[float, ...] | None = None
    raw_output: str = ""
    output_tokens: int | None = None
    reasoning_tokens: int | None = None
    kind: str | None = None
    length_source: str | None = None
    finish_reason: str | None = None
    actions: int | None = None
    test_outcomes: tuple[int, ...] | None = None
    embedding: tuple[float, ...] | None = None
    error: str | None = None
    created_at: float = field(default=0.0)

    def __post_init__(self) -> None:
        for name, allowed in CHOICE_COLUMNS.items():
            value = getattr(self, name)
            if value is not None and value not in allowed:
                raise ValueError(f"{name}: expected one of {', '.join(allowed)} or None, got {value!r}")

    def key(self) -> tuple[str, str, str, str, int, int, str]:
        """The sample's primary key (see :data:`KEY_COLUMNS`)."""
        return (
            self.run_id,
            self.model,
            self.task,
            self.question_id,
            self.context_id,
            self.sample_index,
            self.budget,
        )

    def to_row(self) -> dict[str, Any]:
        """The sample as a plain dict with exactly the columns of :data:`COLUMNS`."""
        return {name: getattr(self, name) for name in COLUMNS}
