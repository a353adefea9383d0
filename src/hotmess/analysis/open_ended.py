"""Tasks without multiple choice: open-ended answers (embedding variance) and unit-test vectors, vs length.

Open-ended answers have no target, so no bias: a question's variance is the mean squared distance of its
answers' embeddings to their mean (SPEC §1). Test-vector tasks (SWE-bench style) have a full decomposition
(:func:`hotmess.metrics.test_vector_decomposition`). For both, :func:`length_analysis` sorts questions by a
length axis (output tokens, reasoning tokens, or actions for agent runs), cuts them into equal-size buckets,
and fits a power law of variance (open-ended) or incoherence (test vectors) against the buckets' mean length.

A question is one ``(model, budget, task, question_id)``, as in the other analyses.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from hotmess._extras import install_hint
from hotmess.analysis._constants import LENGTH_COLUMNS
from hotmess.analysis.fits import PowerLawFit
from hotmess.analysis.fits import fit_power_law as _fit_power_law
from hotmess.data._columns import is_none_or_nan
from hotmess.data.frames import question_codes, question_means
from hotmess.errors import InputError
from hotmess.metrics import DegenerateWarning, Interval, bootstrap_ratio_ci, embedding_variance
from hotmess.metrics import test_vector_decomposition as _tv_decomposition

__all__ = [
    "LENGTH_COLUMNS",
    "UNIT",
    "LengthAnalysis",
    "PowerLawFit",
    "TestVectorSummary",
    "embedding_variance_by_question",
    "fit_power_law",
    "length_analysis",
    "plot_length_analysis",
    "summarize_test_vectors",
    "test_vectors_by_question",
]

UNIT = ["model", "budget", "task", "question_id"]
"""Columns that identify one question of one model under one budget."""

Outcome = Literal["embedding", "tests"]


def embedding_variance_by_question(df: pd.DataFrame, *, min_samples: int = 2) -> pd.DataFrame:
    """Per-question embedding variance of the samples that have an embedding (error rows excluded).

    Parameters
    ----------
    df
        Samples in the hotmess schema with the ``embedding`` column filled (``hotmess embed``).
    min_samples
        Questions with fewer embedded samples are dropped (one answer has no spread).

    Returns
    -------
    DataFrame
        One row per question: the :data:`UNIT` columns, ``n_samples``, ``variance``, and the mean of each
        of :data:`LENGTH_COLUMNS`.

    Examples
    --------
    >>> df = pd.DataFrame({"model": "m", "budget": "", "task": "t", "question_id": ["a", "a", "b", "b"],
    ...                    "embedding": [[0.0, 0.0], [2.0, 0.0], [1.0, 1.0], [1.0, 1.0]], "error": None,
    ...                    "output_tokens": [10, 20, 5, 5]})
    >>> embedding_variance_by_question(df)[["question_id", "variance", "output_tokens"]].values.tolist()
    [['a', 1.0, 15.0], ['b', 0.0, 5.0]]
    """
    keep = ~is_none_or_nan(df["embedding"])
    if "error" in df:
        keep &= df["error"].isna().to_numpy()
    frame = df[keep]
    if frame.empty:
        raise InputError("no sample has an embedding", hint="run `hotmess embed STORE` first")
    dims = frame["embedding"].map(len)
    if dims.nunique() > 1:
        raise InputError(
            f"embeddings have different sizes ({sorted(dims.unique().tolist())})",
            hint="embed all samples with one embedder (hotmess embed --overwrite)",
        )
    codes, pos, info = question_codes(frame, UNIT)  # questions in sorted order, whatever the order of rows
    Q = len(info)
    S = int(pos.max()) + 1
    D = int(dims.iloc[0])
    emb = np.zeros((Q, S, D))
    mask = np.zeros((Q, S), dtype=bool)
    emb[codes, pos] = np.asarray(frame["embedding"].tolist(), dtype=np.float64)
    mask[codes, pos] = True
    info["n_samples"] = mask.sum(axis=1)
    info["variance"] = embedding_variance(emb, mask=mask)
    for col, vals in question_means(frame, codes, pos, Q, LENGTH_COLUMNS).items():
        info[col] = vals
    return info[info["n_samples"] >= min_samples].reset_index(drop=True)


def test_vectors_by_question(df: pd.DataFrame, *, unbiased: bool = False) -> pd.DataFrame:
    """Per-question test-vector decomposition of the samples with ``test_outcomes`` (error rows excluded).

    ``unbiased`` applies the n/(n−1) correction to each task's variance (needs ≥ 2 runs per task).

    Returns
    -------
    DataFrame
        The :data:`UNIT` columns, ``n_runs``, ``n_tests``, ``bias``, ``variance``, ``error``,
        ``resolved`` (share of runs passing every test) and the mean of each of :data:`LENGTH_COLUMNS`.

    Examples
    --------
    >>> df = pd.DataFrame({"model": "m", "budget": "", "task": "t", "question_id": "q", "error": None,
    ...                    "test_outcomes": [[1, 1], [1, 0]], "actions": [3, 5]})
    >>> test_vectors_by_question(df)[["bias", "variance", "error", "resolved", "actions"]].values.tolist()
    [[0.125, 0.125, 0.25, 0.5, 4.0]]
    """
    keep = ~is_none_or_nan(df["test_outcomes"])
    if "error" in df:
        keep &= df["error"].isna().to_numpy()
    frame = df[keep]
    if frame.empty:
        raise InputError("no sample has test outcomes", hint="import a SWE-bench-style log (hotmess import inspect)")
    codes, pos, info = question_codes(frame, UNIT)  # questions in sorted order, whatever the order of rows
    Q = len(info)
    R = int(pos.max()) + 1
    vectors = frame["test_outcomes"].to_numpy()
    n_tests = np.fromiter((len(v) for v in vectors), dtype=np.int64, count=len(vectors))
    per_q = pd.Series(n_tests).groupby(codes).agg(["min", "max"])
    if (per_q["min"] != per_q["max"]).any():
        bad = info.iloc[int(np.flatnonzero((per_q["min"] != per_q["max"]).to_numpy())[0])]
        raise InputError(f"question {bad.tolist()} has runs with different numbers of tests", hint="re-import the log")
    T = int(n_tests.max())
    y = np.zeros((Q, R, T))
    run_mask = np.zeros((Q, R), dtype=bool)
    run_mask[codes, pos] = True
    test_mask = np.zeros((Q, T), dtype=bool)
    test_mask[codes] = np.arange(T)[None, :] < n_tests[:, None]  # every run of a question has as many tests
    for size in np.unique(n_tests):  # one block per number of tests, not one copy per row
        pick = np.flatnonzero(n_tests == size)
        block = np.array([np.asarray(v, dtype=np.float64) for v in vectors[pick]]).reshape(pick.size, int(size))
        y[codes[pick], pos[pick], : int(size)] = block
    d = _tv_decomposition(y, run_mask=run_mask, test_mask=test_mask, unbiased=unbiased)
    all_pass = (np.where(test_mask[:, None, :], y, 1.0) == 1.0).all(axis=2) & run_mask
    info["n_runs"] = run_mask.sum(axis=1)
    info["n_tests"] = test_mask.sum(axis=1)
    info["bias"], info["variance"], info["error"] = d.bias, d.variance, d.error
    info["resolved"] = all_pass.sum(axis=1) / info["n_runs"].to_numpy()
    for col, vals in question_means(frame, codes, pos, Q, LENGTH_COLUMNS).items():
        info[col] = vals
    return info


test_vectors_by_question.__test__ = False  # type: ignore[attr-defined]  # not a pytest test


@dataclass(frozen=True)
class TestVectorSummary:
    """Dataset-level test-vector numbers: means over questions, incoherence = Σ variance / Σ error."""

    n_questions: int
    n_runs: int
    bias: float
    variance: float
    error: float
    incoherence: float
    resolved: float
    ci: dict[str, Interval]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (NaN → None; CIs as [low, high])."""
        d: dict[str, Any] = {
            k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in self.__dict__.items() if k != "ci"
        }
        d["ci"] = {
            k: [None if math.isnan(i.low) else i.low, None if math.isnan(i.high) else i.high]
            for k, i in self.ci.items()
        }
        return d


TestVectorSummary.__test__ = False  # type: ignore[attr-defined]


def summarize_test_vectors(
    per_question: pd.DataFrame,
    *,
    n_boot: int = 1000,
    level: float = 0.95,
    rng: np.random.Generator | int | None = 0,
) -> TestVectorSummary:
    """Bias, variance, error (means over questions) and incoherence with a bootstrap CI over questions.

    Examples
    --------
    >>> pq = pd.DataFrame({"n_runs": [2, 2], "bias": [0.125, 0.0], "variance": [0.125, 0.25],
    ...                    "error": [0.25, 0.25], "resolved": [0.5, 0.5]})
    >>> s = summarize_test_vectors(pq, n_boot=0)
    >>> s.incoherence, s.error
    (0.75, 0.25)
    """
    if per_question.empty:
        raise InputError("no questions to summarise", hint="import test-vector samples first")
    var, err = per_question["variance"].to_numpy(float), per_question["error"].to_numpy(float)
    total = float(err.sum())
    if total > 0:
        incoherence = float(var.sum()) / total
    else:
        warnings.warn("total error is zero: incoherence is undefined (NaN)", DegenerateWarning, stacklevel=2)
        incoherence = float("nan")
    ci: dict[str, Interval] = {}
    if n_boot > 0 and len(per_question) > 1:
        ci = bootstrap_ratio_ci(
            {"incoherence": var, "resolved": per_question["resolved"].to_numpy(float)},
            {"incoherence": err},
            n_boot=n_boot,
            level=level,
            rng=rng,
        )
    return TestVectorSummary(
        n_questions=len(per_question),
        n_runs=int(per_question["n_runs"].sum()),
        bias=float(per_question["bias"].mean()),
        variance=float(var.mean()),
        error=float(err.mean()),
        incoherence=incoherence,
        resolved=float(per_question["resolved"].mean()),
        ci=ci,
    )


def fit_power_law(x: Sequence[float] | np.ndarray, y: Sequence[float] | np.ndarray) -> PowerLawFit:
    """:func:`hotmess.analysis.fit_power_law`, warning when the fit is undefined.

    Fewer than two usable points (or no spread in x) give a NaN fit with a :class:`DegenerateWarning`.

    Examples
    --------
    >>> f = fit_power_law([1, 2, 4], [3.0, 6.0, 12.0])
    >>> round(f.exponent, 6), round(f.prefactor, 6), round(f.r2, 6)
    (1.0, 3.0, 1.0)
    """
    xa, ya = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if xa.shape != ya.shape or xa.ndim != 1:
        raise ValueError(f"x, y: expected two 1-d arrays of one length, got shapes {xa.shape} and {ya.shape}")
    fit = _fit_power_law(xa, ya)
    if math.isnan(fit.exponent):
        warnings.warn(
            f"power-law fit needs ≥ 2 points with positive, distinct x and positive y (got {fit.n_points})",
            DegenerateWarning,
            stacklevel=2,
        )
    return fit


@dataclass(frozen=True)
class LengthAnalysis:
    """Questions in equal-size length buckets, with the fitted power law (see :func:`length_analysis`)."""

    outcome: str
    length: str
    value: str
    buckets: pd.DataFrame
    fit: PowerLawFit
    n_questions: int
    n_without_length: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready results."""
        rows = self.buckets.replace({np.nan: None}).to_dict("records")
        return {
            "outcome": self.outcome,
            "length": self.length,
            "value": self.value,
            "n_questions": self.n_questions,
            "n_without_length": self.n_without_length,
            "fit": self.fit.to_dict(),
            "buckets": rows,
        }


def length_analysis(
    per_question: pd.DataFrame,
    *,
    outcome: Outcome = "embedding",
    length: str = "output_tokens",
    n_buckets: int = 5,
) -> LengthAnalysis:
    """Variance (or incoherence) against length: equal-size buckets of questions and a power-law fit.

    Parameters
    ----------
    per_question
        From :func:`embedding_variance_by_question` (``outcome="embedding"``) or
        :func:`test_vectors_by_question` (``outcome="tests"``).
    length
        One of :data:`LENGTH_COLUMNS`; questions without it are left out (and counted).
    n_buckets
        Number of buckets; questions are sorted by length and split as evenly as possible.

    Returns
    -------
    LengthAnalysis
        ``buckets`` has ``bucket``, ``n_questions``, ``length_mean``, ``length_low``, ``length_high`` and, for
        embeddings, ``variance`` (mean over questions); for tests ``bias``, ``variance``, ``error``,
        ``incoherence`` (Σ variance / Σ error) and ``resolved``. The fit is of ``variance`` (embeddings) or
        ``incoherence`` (tests) against ``length_mean``.

    Examples
    --------
    >>> pq = pd.DataFrame({"variance": [0.1, 0.2, 0.4, 0.8], "output_tokens": [10.0, 20.0, 40.0, 80.0]})
    >>> res = length_analysis(pq, n_buckets=4)
    >>> round(res.fit.exponent, 6), res.buckets["n_questions"].tolist()
    (1.0, [1, 1, 1, 1])
    """
    if length not in LENGTH_COLUMNS:
        raise InputError(f"unknown length axis {length!r}", hint=f"use one of {', '.join(LENGTH_COLUMNS)}")
    if outcome not in ("embedding", "tests"):
        raise ValueError(f"outcome: expected 'embedding' or 'tests', got {outcome!r}")
    if length not in per_question:
        raise InputError(f"no {length} column", hint="pass per-question results with length columns")
    has = per_question[length].notna().to_numpy()
    pq = per_question[has]
    if n_buckets < 1:
        raise InputError(f"--buckets must be ≥ 1, got {n_buckets}", hint="e.g. --buckets 5")
    if len(pq) < n_buckets:
        raise InputError(
            f"{len(pq)} question(s) with a known {length} cannot fill {n_buckets} buckets",
            hint="use fewer buckets (--buckets), or another length axis (--length)",
        )
    order = np.argsort(pq[length].to_numpy(dtype=float), kind="stable")
    rows = []
    for b, idx in enumerate(np.array_split(order, n_buckets)):
        part = pq.iloc[idx]
        lens = part[length].to_numpy(dtype=float)
        row: dict[str, Any] = {
            "bucket": b,
            "n_questions": len(part),
            "length_mean": float(lens.mean()),
            "length_low": float(lens.min()),
            "length_high": float(lens.max()),
        }
        if outcome == "embedding":
            row["variance"] = float(part["variance"].mean())
        else:
            err = float(part["error"].sum())
            row.update(
                bias=float(part["bias"].mean()),
                variance=float(part["variance"].mean()),
                error=float(part["error"].mean()),
                incoherence=float(part["variance"].sum()) / err if err > 0 else float("nan"),
                resolved=float(part["resolved"].mean()),
            )
        rows.append(row)
    buckets = pd.DataFrame(rows)
    value = "variance" if outcome == "embedding" else "incoherence"
    fit = fit_power_law(buckets["length_mean"].to_numpy(), buckets[value].to_numpy())
    return LengthAnalysis(
        outcome=outcome,
        length=length,
        value=value,
        buckets=buckets,
        fit=fit,
        n_questions=len(pq),
        n_without_length=int((~has).sum()),
    )


def plot_length_analysis(results: dict[str, LengthAnalysis], path: str | Path) -> Path:
    """Plot bucket value vs mean length on log-log axes, one series (and fitted line) per label.

    Parameters
    ----------
    results
        Label (e.g. the model) → :class:`LengthAnalysis` (all of one outcome and length axis).
    path
        Image file to write (``.png``, ``.svg``, ``.pdf``); needs matplotlib (``hotmess[plot]``).
    """
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from matplotlib.ticker import LogLocator, NullFormatter, ScalarFormatter
    except ImportError:
        raise InputError("plotting needs matplotlib", hint=install_hint("plot")) from None
    if not results:
        raise InputError("nothing to plot", hint="no group had enough questions")
    first = next(iter(results.values()))
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(6, 4.2))
    for label, res in results.items():
        b = res.buckets
        pts = ax.loglog(b["length_mean"], b[res.value], "o", label=label)
        f = res.fit
        if not math.isnan(f.exponent):
            xs = np.geomspace(float(b["length_mean"].min()), float(b["length_mean"].max()), 50)
            ax.loglog(
                xs,
                f.prefactor * xs**f.exponent,
                "-",
                color=pts[0].get_color(),
                alpha=0.7,
                label=f"{label}: α = {f.exponent:.2f}, R² = {f.r2:.2f}",
            )
    ax.set_xlabel(f"mean {first.length.replace('_', ' ')} (bucket)")
    ax.set_ylabel("embedding variance" if first.outcome == "embedding" else "incoherence (test vectors)")
    ax.set_title(f"{first.value} vs {first.length.replace('_', ' ')}")
    for axis in (ax.xaxis, ax.yaxis):  # plain numbers, no crowded minor labels on narrow ranges
        axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        axis.set_major_formatter(ScalarFormatter())
        axis.set_minor_formatter(NullFormatter())
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out
