"""Bias-variance decompositions of model error (pure numpy; formulas in docs/formulas.md).

Shapes follow one convention: probabilities ``(n_questions, n_samples, n_classes)``, answers
``(n_questions, n_samples)`` with −1 for invalid, targets ``(n_questions,)``, masks ``(n_questions, n_samples)``.

Importing this package does not import numpy: the functions and classes load with their module on first use
(PEP 562), so that ``hotmess --help`` starts fast. The constants load at once.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from hotmess.metrics._constants import DEFAULT_DELTA
from hotmess.metrics.estimators import ESTIMATORS, METRICS, estimator_options

if TYPE_CHECKING:
    from hotmess.metrics._types import Decomposition, DegenerateWarning, Interval
    from hotmess.metrics.arrays import SampleArrays, one_hot
    from hotmess.metrics.bootstrap import bootstrap_ratio_ci, resample_weights
    from hotmess.metrics.brier import brier_decomposition
    from hotmess.metrics.continuous import continuous_decomposition
    from hotmess.metrics.kl import hard_kl_decomposition, kl_decomposition
    from hotmess.metrics.summary import MIN_RECOMMENDED_SAMPLES, FewSamplesWarning, Summary, decompose, summarize
    from hotmess.metrics.vectors import apply_limit_hits, embedding_variance, test_vector_decomposition
    from hotmess.metrics.zero_one import ZeroOneDecomposition, zero_one_decomposition

__all__ = [
    "DEFAULT_DELTA",
    "ESTIMATORS",
    "METRICS",
    "MIN_RECOMMENDED_SAMPLES",
    "Decomposition",
    "DegenerateWarning",
    "FewSamplesWarning",
    "Interval",
    "SampleArrays",
    "Summary",
    "ZeroOneDecomposition",
    "apply_limit_hits",
    "bootstrap_ratio_ci",
    "brier_decomposition",
    "continuous_decomposition",
    "decompose",
    "embedding_variance",
    "estimator_options",
    "hard_kl_decomposition",
    "kl_decomposition",
    "one_hot",
    "resample_weights",
    "summarize",
    "test_vector_decomposition",
    "zero_one_decomposition",
]

_LAZY: dict[str, str] = {
    "Decomposition": "_types",
    "DegenerateWarning": "_types",
    "Interval": "_types",
    "SampleArrays": "arrays",
    "one_hot": "arrays",
    "bootstrap_ratio_ci": "bootstrap",
    "resample_weights": "bootstrap",
    "brier_decomposition": "brier",
    "continuous_decomposition": "continuous",
    "hard_kl_decomposition": "kl",
    "kl_decomposition": "kl",
    "MIN_RECOMMENDED_SAMPLES": "summary",
    "FewSamplesWarning": "summary",
    "Summary": "summary",
    "decompose": "summary",
    "summarize": "summary",
    "apply_limit_hits": "vectors",
    "embedding_variance": "vectors",
    "test_vector_decomposition": "vectors",
    "ZeroOneDecomposition": "zero_one",
    "zero_one_decomposition": "zero_one",
}
"""Public name → the submodule that defines it, imported on first access."""


if not TYPE_CHECKING:  # type checkers see the imports above instead, so a misspelt name stays an error

    def __getattr__(name: str) -> Any:
        """Import the submodule of a public name on first access (PEP 562) and keep the name here."""
        module = _LAZY.get(name)
        if module is None:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
        globals()[name] = value
        return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
