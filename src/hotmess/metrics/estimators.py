"""Plug-in or bias-corrected estimates of the per-question terms (SPEC §2, "Estimators")."""

from __future__ import annotations

__all__ = ["ESTIMATORS", "METRICS", "estimator_options"]

METRICS: tuple[str, ...] = ("kl", "brier", "zero-one", "hard-kl")
"""Decompositions that :func:`hotmess.metrics.decompose` and :func:`hotmess.metrics.summarize` know."""

ESTIMATORS: tuple[str, ...] = ("plugin", "corrected")
"""``plugin``: the paper's estimates. ``corrected``: KL leave-one-out jackknife variance, Brier n/(n−1)."""

_CORRECTION = {"kl": "jackknife", "brier": "unbiased"}
"""The keyword of each metric's decomposition function that switches on its corrected estimator."""


def check_metric(metric: str) -> None:
    """Raise a ValueError naming ``metric`` unless it is one of :data:`METRICS`."""
    if metric not in METRICS:
        raise ValueError(f"metric: expected one of {', '.join(METRICS)}, got {metric!r}")


def estimator_options(metric: str, estimator: str = "plugin") -> dict[str, bool]:
    """Keyword options that select ``estimator`` in the decomposition function of ``metric``.

    Parameters
    ----------
    metric
        One of :data:`METRICS`.
    estimator
        One of :data:`ESTIMATORS`. ``"corrected"`` is defined for ``kl`` (``jackknife=True`` of
        :func:`hotmess.metrics.kl_decomposition`) and ``brier`` (``unbiased=True`` of
        :func:`hotmess.metrics.brier_decomposition`) only.

    Returns
    -------
    dict
        Keyword arguments for the metric's function (empty for ``zero-one`` and ``hard-kl``).

    Notes
    -----
    Plug-in variance is biased low by O(1/n) and so grows with the number of samples n; comparisons of groups
    with different sample counts need the corrected estimators (or equal-size groups). Both corrections need
    at least 2 samples per question; bias is then ERROR − VARIANCE.

    Examples
    --------
    >>> estimator_options("kl", "corrected"), estimator_options("brier"), estimator_options("hard-kl")
    ({'jackknife': True}, {'unbiased': False}, {})
    """
    check_metric(metric)
    if estimator not in ESTIMATORS:
        raise ValueError(f"estimator: expected one of {', '.join(ESTIMATORS)}, got {estimator!r}")
    key = _CORRECTION.get(metric)
    if key is None:
        if estimator == "corrected":
            raise ValueError(
                f"estimator: 'corrected' is defined for kl and brier only; expected 'plugin' for metric {metric!r}"
            )
        return {}
    return {key: estimator == "corrected"}


def resolve_estimator(metric: str, estimator: str, *, unbiased: bool = False, jackknife: bool = False) -> str:
    """The estimator in effect: the legacy ``unbiased`` (Brier) and ``jackknife`` (KL) flags imply "corrected".

    A flag that belongs to another metric is ignored, as it always was.
    """
    check_metric(metric)
    if estimator not in ESTIMATORS:
        raise ValueError(f"estimator: expected one of {', '.join(ESTIMATORS)}, got {estimator!r}")
    if (metric == "brier" and unbiased) or (metric == "kl" and jackknife):
        return "corrected"
    return estimator
