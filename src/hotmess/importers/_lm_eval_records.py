"""lm-eval documents scored by :func:`hotmess.integrations.lm_eval.hotmess_results`: the records are the samples.

Such a task logs, under each of its metric names, ``{"hotmess": [record per repeat], "metric": ...}``; the
importer then takes every repeat's kind, option chosen, correct option and number of options from there, so
``hotmess analyze`` on the imported file sees exactly what the lm-eval aggregation saw.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hotmess.errors import InputError
from hotmess.integrations._core import check_record

__all__ = ["doc_records", "record_rows"]

_METRICS = ("incoherence", "bias", "variance", "error", "hm_accuracy")
_KEY = "hotmess"


def doc_records(rec: Mapping[str, Any]) -> list[Any] | None:
    """The per-repeat records a document's logged metric values carry, or None."""
    for name in (*_METRICS, *rec.get("metrics", ())):
        v = rec.get(name)
        if isinstance(v, Mapping) and isinstance(v.get(_KEY), list):
            return list(v[_KEY])
    return None


def record_rows(
    where: str, rec: Mapping[str, Any], records: list[Any], base: Mapping[str, Any], seed: int | None
) -> tuple[str, list[dict[str, Any]], dict[str, Any]]:
    """Kind, one row per repeat, and the question row of a document scored with records."""
    resps = rec.get("resps")
    texts: list[Any] = []
    if isinstance(resps, list):
        for r in resps:
            texts.extend(r if isinstance(r, list) else [r])
    if len(records) == 1 and len(texts) > 1:
        raise InputError(
            f"{where}: one hotmess record for {len(texts)} repeats: the task's filter kept only the first repeat",
            hint="give the task a filter_list without take_first, then re-run lm-eval",
        )
    if len(texts) != len(records):
        raise InputError(
            f"{where}: {len(records)} hotmess record(s) for {len(texts)} response(s)",
            hint="the samples file was edited or truncated; re-run lm-eval with --log_samples",
        )
    rows: list[dict[str, Any]] = []
    kinds: set[str] = set()
    for r, (raw, text) in enumerate(zip(records, texts, strict=True)):
        try:
            got = check_record(raw)
        except ValueError as exc:
            raise InputError(f"{where}: repeat {r}: {exc}", hint="re-run lm-eval with hotmess_results") from None
        if got["kind"] == "test-vector":
            raise InputError(f"{where}: test-vector records are not read from lm-eval files", hint="use Inspect")
        kinds.add(got["kind"])
        rows.append(
            {
                **base,
                "question_id": str(rec["doc_id"]),
                "sample_index": r,
                "seed": seed,
                "kind": got["kind"],
                "n_options": got["n_options"],
                "correct": got["correct"],
                "answer": got["answer"],
                "valid": got["answer"] >= 0,
                "probs": got["probs"],
                "raw_output": str(text),
            }
        )
    if len(kinds) != 1:
        raise InputError(f"{where}: records of several kinds {sorted(kinds)}", hint="one kind per task")
    kind = kinds.pop()
    doc = rec.get("doc")
    choices = doc.get("choices") if isinstance(doc, Mapping) else None
    options = [str(c) for c in choices] if kind == "multiple-choice" and isinstance(choices, list) else []
    if kind == "open-ended":
        options = ["correct", "incorrect"]
    q = {
        "options": options,
        "correct": rows[0]["correct"],
        "metadata": {"kind": kind, "source": "lm-eval", "target": rec.get("target"), "doc_hash": rec.get("doc_hash")},
    }
    return kind, rows, q
