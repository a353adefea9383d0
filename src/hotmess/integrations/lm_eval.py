"""Incoherence inside lm-evaluation-harness: a ``process_results`` factory and aggregations for a task YAML.

lm-eval samples a generation task ``repeats`` times per document; these functions turn the repeats of each
document into one question's bias, variance and error and aggregate them over documents as the paper does
(see docs/integrations/lm-eval.md). In the task folder, a ``utils.py``::

    from hotmess.integrations.lm_eval import accuracy, bias, error, hotmess_results, incoherence, variance

    process_results = hotmess_results(target="answer")                       # open-ended: exact match
    # process_results = hotmess_results(target="label", choices="choices")   # multiple choice by letter

and in the task YAML (a filter that keeps every repeat, i.e. without ``take_first``)::

    repeats: 30
    process_results: !function utils.process_results
    metric_list:
      - {metric: incoherence, aggregation: !function utils.incoherence, higher_is_better: false}
      - {metric: bias, aggregation: !function utils.bias, higher_is_better: false}
      - {metric: variance, aggregation: !function utils.variance, higher_is_better: false}
      - {metric: error, aggregation: !function utils.error, higher_is_better: false}
      - {metric: hm_accuracy, aggregation: !function utils.accuracy, higher_is_better: true}

Each document's logged metric value holds one record per repeat (see :mod:`hotmess.integrations._core`), so
``hotmess import lm-eval`` on the ``--log_samples`` file reads exactly these samples, and ``hotmess analyze``
gives the same numbers. Few-shot contexts are lm-eval runs with different fewshot seeds
(``--seed 0,1234,1234,K``); import each run and they become contexts of one question (the docs show how).

This module does not import lm-eval: lm-eval imports it through the task's ``utils.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

from hotmess.importers._lm_eval_extract import exact_match
from hotmess.integrations._core import check_record, dataset_stats, question_stats
from hotmess.metrics.kl import DEFAULT_DELTA
from hotmess.tasks.extract import extract_answer

__all__ = [
    "METRICS",
    "RECORDS_KEY",
    "accuracy",
    "bias",
    "error",
    "hotmess_results",
    "incoherence",
    "variance",
]

METRICS: Final[tuple[str, ...]] = ("incoherence", "bias", "variance", "error", "hm_accuracy")
"""Metric names :func:`hotmess_results` returns per document (list them all in the task's ``metric_list``)."""
RECORDS_KEY: Final = "hotmess"
"""Key of the per-repeat records in a document's metric value (what the importer reads)."""

Field = str | Callable[[Mapping[str, Any]], Any]


def _get(doc: Mapping[str, Any], field: Field, what: str) -> Any:
    if callable(field):
        return field(doc)
    if field not in doc:
        raise ValueError(f"hotmess_results: the document has no field {field!r} for the {what} ({sorted(doc)[:8]})")
    return doc[field]


def _responses(results: Sequence[Any]) -> list[str]:
    """The repeats of one document: lm-eval hands ``[req.filtered_resps]``, one list of repeats per request.

    A bare string means the filter kept one repeat (``take_first``, lm-eval's default); tuples are
    log-likelihoods (``output_type: multiple_choice``). Both are refused: they would give variance 0.
    """
    flat: list[Any] = []
    for r in results:
        if isinstance(r, str):
            raise ValueError(
                "hotmess_results: the task's filter keeps one repeat per document (take_first, lm-eval's default "
                "when there is no filter_list); add a filter_list whose filters keep every repeat (e.g. regex "
                "without take_first)"
            )
        if not isinstance(r, list):
            raise ValueError(f"hotmess_results: expected the list of a document's repeats, got {type(r).__name__}")
        flat.extend(r)
    bad = [x for x in flat if not isinstance(x, str)]
    if bad:
        raise ValueError(
            f"hotmess_results: responses must be generated text, got {type(bad[0]).__name__} "
            "(log-likelihood tasks have no repeats to decompose; use output_type: generate_until)"
        )
    return flat


def hotmess_results(
    *,
    target: Field,
    choices: Field | None = None,
    metric: str = "kl",
    ignore_case: bool = True,
    ignore_punctuation: bool = True,
    metrics: Sequence[str] = METRICS,
) -> Callable[[Mapping[str, Any], Sequence[Any]], dict[str, Any]]:
    """A ``process_results(doc, results)`` for lm-eval that records each repeat for the decomposition.

    Parameters
    ----------
    target
        Document field (or function of the document) with the reference answer; for multiple choice the
        correct option's index (or its letter, or its text).
    choices
        Multiple choice: document field (or function) with the option texts. Each repeat's answer is read
        with hotmess's answer extraction (``ANSWER: B``, ``(B)``, an option's text, ...); unreadable or
        ambiguous answers are invalid. Without ``choices`` the task is open-ended: a repeat is right when it
        equals the target (lm-eval's ``exact_match`` with ``ignore_case`` / ``ignore_punctuation``); lm-eval's
        ``[invalid]`` (nothing extracted by the filter) is invalid.
    metric
        "kl" or "brier", used by the aggregations.
    metrics
        Which of :data:`METRICS` to return (each must be listed in the YAML's ``metric_list``).

    Returns
    -------
    callable
        ``process_results(doc, results) -> {metric name: {"hotmess": [record, ...], "metric": ...}}``.
    """
    unknown = [m for m in metrics if m not in METRICS]
    if unknown:
        raise ValueError(f"metrics: unknown {unknown}; choose among {', '.join(METRICS)}")
    if metric not in ("kl", "brier"):
        raise ValueError(f"metric: expected 'kl' or 'brier', got {metric!r}")
    opts = {"ignore_case": ignore_case, "ignore_punctuation": ignore_punctuation}

    def process_results(doc: Mapping[str, Any], results: Sequence[Any]) -> dict[str, Any]:
        texts = _responses(results)
        if not texts:
            raise ValueError("hotmess_results: no responses for the document")
        ref = _get(doc, target, "target")
        if choices is None:
            refs = [str(x) for x in ref] if isinstance(ref, list) else str(ref)
            answers = [-1 if t.strip() == "[invalid]" else 0 if exact_match(t, refs, opts) else 1 for t in texts]
            records = [{"kind": "open-ended", "n_options": 2, "correct": 0, "answer": a} for a in answers]
        else:
            options = [str(o) for o in _get(doc, choices, "choices")]
            correct = _correct_index(ref, options)
            records = [
                {
                    "kind": "multiple-choice",
                    "n_options": len(options),
                    "correct": correct,
                    "answer": extract_answer(t, len(options), options=options).answer,
                }
                for t in texts
            ]
        for r in records:
            check_record(r)
        value = {RECORDS_KEY: records, "metric": metric}
        return {m: value for m in metrics}

    return process_results


def _correct_index(ref: Any, options: list[str]) -> int:
    """An integer target is an index; a text target is an option's text first, then an index or a letter."""
    n = len(options)
    if isinstance(ref, bool):
        ref = int(ref)
    if isinstance(ref, int) and 0 <= ref < n:
        return ref
    s = str(ref).strip()
    if s in [o.strip() for o in options]:
        return [o.strip() for o in options].index(s)
    if s.isdigit() and 0 <= int(s) < n:
        return int(s)
    if len(s) == 1 and s.upper().isalpha() and ord(s.upper()) - 65 < n:
        return ord(s.upper()) - 65
    raise ValueError(f"hotmess_results: target {ref!r} is not an option index, letter or text among {n} options")


def _dataset(items: Sequence[Any], n_boot: int = 0) -> dict[str, float]:
    per_q: dict[str, dict[str, Any]] = {}
    for i, item in enumerate(items):
        if not isinstance(item, Mapping) or RECORDS_KEY not in item:
            raise ValueError("hotmess aggregations need the values of hotmess_results (process_results)")
        metric = str(item.get("metric", "kl"))
        per_q[f"{i:09d}"] = question_stats(item[RECORDS_KEY], metric=metric, delta=DEFAULT_DELTA)
    return dataset_stats(per_q, n_boot=n_boot)


def incoherence(items: Sequence[Any]) -> float:
    """Σ variance / Σ error over documents (the dataset incoherence)."""
    return _dataset(items)["incoherence"]


def bias(items: Sequence[Any]) -> float:
    """Mean per-document bias."""
    return _dataset(items)["bias"]


def variance(items: Sequence[Any]) -> float:
    """Mean per-document variance."""
    return _dataset(items)["variance"]


def error(items: Sequence[Any]) -> float:
    """Mean per-document error (bias + variance)."""
    return _dataset(items)["error"]


def accuracy(items: Sequence[Any]) -> float:
    """Mean per-document share of repeats answered correctly."""
    return _dataset(items)["accuracy"]
