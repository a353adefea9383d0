"""From per-question decompositions to dataset numbers: means, incoherence (ratio of sums), CIs."""

from __future__ import annotations

import math
import warnings
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from hotmess.metrics._types import Decomposition, DegenerateWarning, Interval, incoherence_of
from hotmess.metrics.arrays import SampleArrays
from hotmess.metrics.bootstrap import bootstrap_ratio_ci
from hotmess.metrics.brier import brier_decomposition
from hotmess.metrics.estimators import ESTIMATORS, METRICS, estimator_options, resolve_estimator
from hotmess.metrics.kl import DEFAULT_DELTA, hard_kl_decomposition, kl_decomposition
from hotmess.metrics.stats import ChoiceStats, decompose_stats
from hotmess.metrics.zero_one import ZeroOneDecomposition, zero_one_decomposition

__all__ = [
    "ESTIMATORS",
    "METRICS",
    "MIN_RECOMMENDED_SAMPLES",
    "FewSamplesWarning",
    "Summary",
    "decompose",
    "summarize",
    "summary_of",
]

Metric = Literal["kl", "brier", "zero-one", "hard-kl"]

MIN_RECOMMENDED_SAMPLES = 30
"""Estimates stabilise around 30 samples per question (SPEC §2); fewer are allowed with a warning."""


class FewSamplesWarning(DegenerateWarning):
    """Some questions have fewer samples than :data:`MIN_RECOMMENDED_SAMPLES`."""


def decompose(
    arrays: SampleArrays,
    metric: str = "kl",
    *,
    delta: float = DEFAULT_DELTA,
    estimator: str = "plugin",
    unbiased: bool = False,
    jackknife: bool = False,
) -> Decomposition | ZeroOneDecomposition:
    """Per-question decomposition of ``arrays`` under ``metric`` ("kl", "brier", "zero-one", "hard-kl").

    Parameters
    ----------
    arrays
        The samples.
    metric
        One of :data:`METRICS`.
    delta
        KL smoothing δ.
    estimator
        "plugin" (default) or "corrected" (KL jackknife variance, Brier n/(n−1); kl and brier only; needs at
        least 2 samples per question). See :func:`hotmess.metrics.estimator_options`.
    unbiased, jackknife
        Older spellings of ``estimator="corrected"`` for brier and kl respectively; ignored for other metrics.

    Raises
    ------
    ValueError
        Unknown metric or estimator; "corrected" for zero-one or hard-kl, or with a question of 1 sample;
        hard-kl on samples that hold probability vectors (it is defined for one-hot answers only).

    Examples
    --------
    >>> arr = SampleArrays.from_answers([[0, 1], [1, 1]], [0, 0])
    >>> decompose(arr, "hard-kl").error.tolist()
    [0.5, 1.0]
    >>> decompose(arr, "brier", estimator="corrected").variance.tolist()
    [1.0, 0.0]
    """
    est = resolve_estimator(metric, estimator, unbiased=unbiased, jackknife=jackknife)
    options = estimator_options(metric, est)
    if est == "corrected":
        n = arrays.n_samples
        if int(n.min()) < 2:
            raise ValueError(
                f"estimator: 'corrected' needs at least 2 samples per question; {int((n < 2).sum())} of {len(n)} "
                "question(s) have only 1 sample (drop them or use estimator='plugin')"
            )
    if arrays.hard and metric in METRICS:  # extracted answers: from option counts, no (Q, S, C) array
        return decompose_stats(ChoiceStats.of_answers(arrays, delta), metric, delta=delta, estimator=est)
    common: dict[str, Any] = {"mask": arrays.mask, "n_options": arrays.n_options}
    if metric == "kl":
        return kl_decomposition(arrays.probs, arrays.targets, delta=delta, **options, **common)
    if metric == "brier":
        return brier_decomposition(arrays.probs, arrays.targets, **options, **common)
    if metric == "zero-one":
        return zero_one_decomposition(arrays.answers, arrays.targets, probs=arrays.probs, **common)
    n_soft = int(arrays.soft.sum())
    if n_soft:
        raise ValueError(
            f"arrays: hard-kl needs one-hot answers; {n_soft} samples hold probability vectors — use kl or brier"
        )
    return hard_kl_decomposition(arrays.answers, arrays.targets, **common)


@dataclass(frozen=True)
class Summary:
    """Dataset-level results of one decomposition.

    ``bias``, ``variance`` and ``error`` are means over questions of the per-question values, so
    ``incoherence = variance / error`` (= Σ variance / Σ error). For the 0/1 metric incoherence is NaN by
    design: its variance term changes sign between questions.
    """

    metric: str
    n_questions: int
    n_samples: int
    n_invalid: int
    bias: float
    variance: float
    error: float
    incoherence: float
    accuracy: float
    expected_accuracy: float
    min_samples: int
    ci: dict[str, Interval] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def invalid_rate(self) -> float:
        """Share of samples with no extractable answer."""
        return self.n_invalid / self.n_samples if self.n_samples else float("nan")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (NaN → None); CIs as ``{"name": [low, high]}`` plus ``ci_level``."""
        d = asdict(self)
        d.pop("ci")
        d["invalid_rate"] = self.invalid_rate
        d = {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in d.items()}
        level = next(iter(self.ci.values())).level if self.ci else None
        d["ci"] = {
            k: [None if math.isnan(v.low) else v.low, None if math.isnan(v.high) else v.high]
            for k, v in self.ci.items()
        }
        d["ci_level"] = level
        return d


def summarize(
    arrays: SampleArrays,
    metric: str = "kl",
    *,
    delta: float = DEFAULT_DELTA,
    estimator: str = "plugin",
    unbiased: bool = False,
    jackknife: bool = False,
    n_boot: int = 1000,
    level: float = 0.95,
    ci_method: Literal["percentile", "bca"] = "percentile",
    rng: np.random.Generator | int | None = None,
) -> Summary:
    """Decompose, aggregate over questions and bootstrap CIs (``n_boot=0`` skips them).

    ``metric``, ``delta``, ``estimator``, ``unbiased`` and ``jackknife`` are passed to :func:`decompose`; the
    estimator in effect is recorded in ``options["estimator"]``.

    Warns :class:`FewSamplesWarning` when a question has fewer than 30 samples, and
    :class:`DegenerateWarning` (incoherence NaN) when the total error is zero.

    Examples
    --------
    >>> arr = SampleArrays.from_answers([[0, 1, 1], [1, 1, 1]], [1, 1])
    >>> import warnings; warnings.simplefilter("ignore")
    >>> s = summarize(arr, "brier", n_boot=0)
    >>> round(s.variance / s.error, 6) == round(s.incoherence, 6), round(s.accuracy, 4)
    (True, 0.8333)
    """
    est = resolve_estimator(metric, estimator, unbiased=unbiased, jackknife=jackknife)
    estimator_options(metric, est)  # refuse an undefined combination before any warning
    d = decompose(arrays, metric, delta=delta, estimator=est)
    return summary_of(
        d,
        metric,
        n_samples=arrays.n_samples,
        n_invalid=arrays.n_invalid,
        hard_accuracy=arrays.hard_accuracy(),
        expected_accuracy=arrays.expected_accuracy(),
        n_boot=n_boot,
        level=level,
        ci_method=ci_method,
        rng=rng,
        options={
            "delta": delta,
            "estimator": est,
            "unbiased": unbiased,
            "jackknife": jackknife,
            "n_boot": n_boot,
            "ci_method": ci_method,
        },
    )


def summary_of(
    d: Decomposition | ZeroOneDecomposition,
    metric: str,
    *,
    n_samples: NDArray[np.int64],
    n_invalid: NDArray[np.int64],
    hard_accuracy: NDArray[np.float64],
    expected_accuracy: NDArray[np.float64],
    n_boot: int = 1000,
    level: float = 0.95,
    ci_method: Literal["percentile", "bca"] = "percentile",
    rng: np.random.Generator | int | None = None,
    options: dict[str, Any] | None = None,
) -> Summary:
    """The :class:`Summary` of a per-question decomposition: means, incoherence, bootstrap CIs, warnings.

    Shared by :func:`summarize` (from samples) and :func:`hotmess.analysis.scale.summarize_stats` (from an
    engine's per-question statistics), so both give the same numbers and intervals for the same questions.
    """
    n = n_samples
    if int(n.min()) < MIN_RECOMMENDED_SAMPLES:
        warnings.warn(
            f"some questions have only {int(n.min())} samples; estimates stabilise around "
            f"{MIN_RECOMMENDED_SAMPLES} per question",
            FewSamplesWarning,
            stacklevel=3,
        )
    ratio = not isinstance(d, ZeroOneDecomposition)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DegenerateWarning)
        inco = incoherence_of(d.variance, d.error) if ratio else float("nan")
    if ratio and math.isnan(inco):
        warnings.warn("total error is zero: incoherence is undefined (NaN)", DegenerateWarning, stacklevel=3)
    ci: dict[str, Interval] = {}
    if n_boot > 0:
        nums = {"bias": d.bias, "variance": d.variance, "error": d.error, "accuracy": hard_accuracy}
        dens = {}
        if ratio:
            nums["incoherence"] = d.variance
            dens["incoherence"] = d.error
        ci = bootstrap_ratio_ci(nums, dens, n_boot=n_boot, level=level, method=ci_method, rng=rng)
    return Summary(
        metric=metric,
        n_questions=len(n),
        n_samples=int(n.sum()),
        n_invalid=int(n_invalid.sum()),
        bias=float(d.bias.mean()),
        variance=float(d.variance.mean()),
        error=float(d.error.mean()),
        incoherence=inco,
        accuracy=float(hard_accuracy.mean()),
        expected_accuracy=float(expected_accuracy.mean()),
        min_samples=int(n.min()),
        ci=ci,
        options=dict(options or {}),
    )
