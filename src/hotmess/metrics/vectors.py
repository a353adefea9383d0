"""Decompositions without multiple choice: unit-test outcome vectors and open-ended embeddings."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from hotmess.metrics._types import Decomposition
from hotmess.metrics._validate import check_mask

__all__ = ["apply_limit_hits", "embedding_variance", "test_vector_decomposition"]


def test_vector_decomposition(
    outcomes: ArrayLike,
    *,
    run_mask: ArrayLike | None = None,
    test_mask: ArrayLike | None = None,
    unbiased: bool = False,
) -> Decomposition:
    """Bias-variance decomposition of unit-test outcomes (SWE-bench style; the target is "all pass").

    Parameters
    ----------
    outcomes
        ``(n_tasks, n_runs, n_tests)`` outcomes in [0, 1] (1 = test passes).
    run_mask
        ``(n_tasks, n_runs)`` bool, True where a run exists.
    test_mask
        ``(n_tasks, n_tests)`` bool, True where a test exists (tasks have different numbers of tests).
    unbiased
        Multiply each task's plug-in variance by ``n_runs/(n_runs − 1)`` (needs ≥ 2 runs per task); bias then
        becomes ERROR − VARIANCE. This is the "corrected" estimator of :data:`hotmess.metrics.ESTIMATORS`.

    Returns
    -------
    Decomposition
        Arrays of shape ``(n_tasks,)``.

    Notes
    -----
    With ȳ_j the mean over runs of test j: ERROR = mean_rj (1 − y_rj)², BIAS = mean_j (1 − ȳ_j)²,
    VARIANCE = mean_rj (y_rj − ȳ_j)²; ERROR = BIAS + VARIANCE. Runs that hit a limit should first be set to
    "tests unchanged" with :func:`apply_limit_hits`. The plug-in variance is biased low by (R−1)/R for R runs;
    ``unbiased=True`` removes that factor.

    Examples
    --------
    Two runs, two tests: test 0 always passes, test 1 passes once.

    >>> d = test_vector_decomposition([[[1, 1], [1, 0]]])
    >>> float(d.bias[0]), float(d.variance[0]), float(d.error[0])
    (0.125, 0.125, 0.25)
    >>> d = test_vector_decomposition([[[1, 1], [1, 0]]], unbiased=True)
    >>> float(d.bias[0]), float(d.variance[0]), float(d.error[0])
    (0.0, 0.25, 0.25)
    """
    y = np.asarray(outcomes, dtype=np.float64)
    if y.ndim != 3 or 0 in y.shape:
        raise ValueError(f"outcomes: expected a non-empty array (n_tasks, n_runs, n_tests), got shape {y.shape}")
    Q, R, T = y.shape
    rm = check_mask(run_mask, (Q, R))
    if unbiased and np.any(rm.sum(axis=1) < 2):
        n_bad = int((rm.sum(axis=1) < 2).sum())
        raise ValueError(
            f"run_mask: unbiased=True needs at least 2 runs per task; {n_bad} of {Q} task(s) have only 1 run"
        )
    if test_mask is None:
        tm = np.ones((Q, T), dtype=bool)
    else:
        tm = np.asarray(test_mask, dtype=bool)
        if tm.shape != (Q, T):
            raise ValueError(f"test_mask: expected shape {(Q, T)}, got {tm.shape}")
    if np.any(tm.sum(axis=1) == 0):
        raise ValueError("test_mask: every task needs at least one test")
    live = rm[:, :, None] & tm[:, None, :]
    if np.any(~np.isfinite(y[live])) or np.any((y[live] < 0) | (y[live] > 1)):
        raise ValueError("outcomes: expected values in [0, 1] for every existing run and test")
    y = np.where(live, y, 0.0)
    n_runs = rm.sum(axis=1).astype(np.float64)
    n_tests = tm.sum(axis=1).astype(np.float64)
    ybar = y.sum(axis=1) / n_runs[:, None]  # (Q, T)
    cells = n_runs * n_tests
    error = np.where(live, (1.0 - y) ** 2, 0.0).sum(axis=(1, 2)) / cells
    bias = np.where(tm, (1.0 - ybar) ** 2, 0.0).sum(axis=1) / n_tests
    variance = np.where(live, (y - ybar[:, None, :]) ** 2, 0.0).sum(axis=(1, 2)) / cells
    if unbiased:
        variance = variance * n_runs / (n_runs - 1.0)
        bias = error - variance
    return Decomposition(bias=bias, variance=variance, error=error)


def apply_limit_hits(outcomes: ArrayLike, limit_hit: ArrayLike, baseline: ArrayLike) -> NDArray[np.float64]:
    """Set the tests of runs that hit a limit to "unchanged": the baseline (pre-patch) outcome.

    Parameters
    ----------
    outcomes
        ``(n_tasks, n_runs, n_tests)`` outcomes.
    limit_hit
        ``(n_tasks, n_runs)`` bool, True for runs stopped by a token/time/step limit.
    baseline
        ``(n_tasks, n_tests)`` outcomes before any change: PASS_TO_PASS tests 1, FAIL_TO_PASS tests 0.

    Examples
    --------
    >>> apply_limit_hits([[[0, 1], [1, 1]]], [[True, False]], [[1, 0]]).tolist()
    [[[1.0, 0.0], [1.0, 1.0]]]
    """
    y = np.asarray(outcomes, dtype=np.float64)
    hit = np.asarray(limit_hit, dtype=bool)
    base = np.asarray(baseline, dtype=np.float64)
    if y.ndim != 3 or hit.shape != y.shape[:2] or base.shape != (y.shape[0], y.shape[2]):
        raise ValueError(
            f"expected outcomes (Q, R, T), limit_hit (Q, R), baseline (Q, T); got {y.shape}, {hit.shape}, {base.shape}"
        )
    return np.where(hit[:, :, None], base[:, None, :], y)


def embedding_variance(embeddings: ArrayLike, *, mask: ArrayLike | None = None) -> NDArray[np.float64]:
    """Variance of open-ended answers: mean squared distance of the embeddings to their mean.

    Parameters
    ----------
    embeddings
        ``(n_questions, n_samples, dim)`` answer embeddings.
    mask
        ``(n_questions, n_samples)`` bool, True where a sample exists.

    Returns
    -------
    ndarray of shape ``(n_questions,)``

    Notes
    -----
    There is no target, hence no bias: VARIANCE = mean_s ‖e_s − ē‖².

    Examples
    --------
    >>> embedding_variance([[[0.0, 0.0], [2.0, 0.0]]]).tolist()
    [1.0]
    """
    e = np.asarray(embeddings, dtype=np.float64)
    if e.ndim != 3 or 0 in e.shape:
        raise ValueError(f"embeddings: expected a non-empty array (n_questions, n_samples, dim), got {e.shape}")
    m = check_mask(mask, e.shape[:2])
    if not np.all(np.isfinite(e[m])):
        raise ValueError("embeddings: found NaN or infinite values")
    n = m.sum(axis=1).astype(np.float64)
    em = np.where(m[..., None], e, 0.0)
    mean = em.sum(axis=1) / n[:, None]
    sq = ((e - mean[:, None, :]) ** 2).sum(axis=-1)
    return np.where(m, sq, 0.0).sum(axis=1) / n


test_vector_decomposition.__test__ = False  # type: ignore[attr-defined]  # not a pytest test
