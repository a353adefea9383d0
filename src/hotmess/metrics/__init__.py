"""Bias-variance decompositions of model error (pure numpy; formulas in docs/formulas.md).

Shapes follow one convention: probabilities ``(n_questions, n_samples, n_classes)``, answers
``(n_questions, n_samples)`` with −1 for invalid, targets ``(n_questions,)``, masks ``(n_questions, n_samples)``.
"""

from hotmess.metrics._types import Decomposition, DegenerateWarning, Interval
from hotmess.metrics.arrays import SampleArrays, one_hot
from hotmess.metrics.bootstrap import bootstrap_ratio_ci, resample_weights
from hotmess.metrics.brier import brier_decomposition
from hotmess.metrics.continuous import continuous_decomposition
from hotmess.metrics.estimators import ESTIMATORS, estimator_options
from hotmess.metrics.kl import DEFAULT_DELTA, hard_kl_decomposition, kl_decomposition
from hotmess.metrics.summary import (
    METRICS,
    MIN_RECOMMENDED_SAMPLES,
    FewSamplesWarning,
    Summary,
    decompose,
    summarize,
)
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
