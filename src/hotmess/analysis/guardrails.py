"""Guardrails: what in the data limits the conclusions, computed from the data and said in words.

A headline incoherence means little when the model is guessing, when a third of its answers could not be parsed
(scored as uniform, which is pure "variance"), or when long samples are simply the ones cut off at the token cap.
:func:`guardrails` measures each of these on a samples table and returns one :class:`Guardrail` per problem found,
naming the report sections whose findings it weakens. :func:`verdict` turns an estimate and its interval into the
sentence a reader needs next to a fit or a difference.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from hotmess.analysis._questions import UNIT, scored_frame
from hotmess.data.frames import key_codes
from hotmess.metrics import MIN_RECOMMENDED_SAMPLES

__all__ = ["Guardrail", "guardrails", "verdict"]

INVALID_RATE = 0.10
"""Invalid answers above this share get a warning (they are scored as uniform: variance by construction)."""

TRUNCATED_RATE = 0.05
"""Samples stopped by the token cap above this share get a warning."""

MIN_PER_BUCKET = 5
"""Questions per length bucket below which the power-law fit rests on noise."""

MIN_ENSEMBLES = 5
"""Ensembles per size below which the ensemble variances are too noisy to fit."""


@dataclass(frozen=True)
class Guardrail:
    """One limit of the data: ``key``, ``level`` ("warning" or "info"), ``message``, ``affects`` (section keys)."""

    key: str
    level: str
    message: str
    affects: tuple[str, ...] = ()
    value: float | None = None


def verdict(point: Any, low: Any, high: Any, *, null: float = 0.0, what: str = "an effect") -> str:
    """A fit or difference in words: does its interval exclude ``null``?

    Examples
    --------
    >>> verdict(0.41, -0.21, 1.29, what="a trend")
    'no evidence of a trend: the interval [-0.21, 1.29] includes 0'
    >>> verdict(0.3, 0.1, 0.5)
    'supported: the interval [0.1, 0.5] excludes 0'
    >>> verdict(float("nan"), float("nan"), float("nan"))
    'not estimated'
    """
    point, low, high = (float("nan") if v is None else float(v) for v in (point, low, high))
    if not all(math.isfinite(x) for x in (point, low, high)):
        return "not estimated" if not math.isfinite(point) else f"no interval: {point:.3g} without uncertainty"
    if low > null or high < null:
        return f"supported: the interval [{low:.3g}, {high:.3g}] excludes {null:g}"
    return f"no evidence of {what}: the interval [{low:.3g}, {high:.3g}] includes {null:g}"


def _share(mask: pd.Series) -> float:
    return float(mask.mean()) if len(mask) else float("nan")


def guardrails(df: pd.DataFrame, *, n_buckets: int = 5) -> list[Guardrail]:
    """The problems of a samples table that limit what its analyses can conclude (empty when none is found).

    Parameters
    ----------
    df
        Samples in the hotmess schema.
    n_buckets
        Length buckets the report uses (for the per-bucket check).

    Returns
    -------
    list of Guardrail
        In order: chance accuracy, invalid answers, truncation (or its absence from the data), few samples per
        question, few questions per bucket, few ensembles per size.

    Examples
    --------
    >>> from hotmess.analysis.simulate import simulate_samples
    >>> df = simulate_samples(np.full(8, 0.5), np.full(8, 0.5), kind="answers", invalid_rate=0.3, rng=0)
    >>> [g.key for g in guardrails(df)]
    ['invalid', 'few_per_bucket']
    """
    out: list[Guardrail] = []
    scored = scored_frame(df)
    tests = (scored["_kind"] == "test-vector").to_numpy()
    choice = scored[~tests] if tests.any() else scored
    if not choice.empty:
        valid = choice["valid"].astype(bool)
        hit = (valid & (choice["answer"] == choice["correct"])).to_numpy()
        unit, n_units = key_codes(choice, UNIT)
        acc = pd.Series(np.bincount(unit, weights=hit, minlength=n_units) / np.bincount(unit, minlength=n_units))
        most = np.zeros(n_units, dtype=np.int64)
        np.maximum.at(most, unit, choice["n_options"].to_numpy(dtype=np.int64))
        chance = 1.0 / np.maximum(most, 2)
        a, c = float(acc.mean()), float(chance.mean())
        se = float(acc.std(ddof=1) / np.sqrt(len(acc))) if len(acc) > 1 else float("nan")
        if math.isfinite(se) and a <= c + 2 * se:
            out.append(
                Guardrail(
                    "chance",
                    "warning",
                    f"Accuracy {a:.3f} is at or below chance ({c:.3f} for these options, ±{2 * se:.3f}): the model "
                    "is guessing. Its bias and variance describe its guesses, not a skill, and a high incoherence "
                    "here says little about how it fails when it can do the task.",
                    ("overview", "length", "overthinking", "budgets", "scaling"),
                    a,
                )
            )
        inv = _share(~valid)
        if inv > INVALID_RATE:
            out.append(
                Guardrail(
                    "invalid",
                    "warning",
                    f"{inv:.0%} of answers could not be parsed. An invalid answer is scored as uniform over the "
                    "options, which is variance by construction: incoherence is inflated, and where invalid answers "
                    "are the long ones the length and overthinking sections track parse failures, not reasoning.",
                    ("overview", "length", "overthinking", "budgets", "ensembles", "structure"),
                    inv,
                )
            )
    known = df[df["error"].isna()] if "error" in df else df
    if "finish_reason" in known.columns and known["finish_reason"].notna().any():
        stop = known[known["finish_reason"].notna()]
        cut = _share(stop["finish_reason"].astype(str) == "length")
        if cut > TRUNCATED_RATE:
            out.append(
                Guardrail(
                    "truncation",
                    "warning",
                    f'{cut:.0%} of samples hit the token cap (finish reason "length"): their answers are cut off, '
                    "often invalid, and they are the longest samples — the length and overthinking sections confound "
                    "reasoning length with truncation. Raise the token cap or force an answer after it.",
                    ("length", "overthinking", "budgets", "structure"),
                    cut,
                )
            )
    else:
        out.append(
            Guardrail(
                "truncation",
                "info",
                "The data has no finish reasons, so whether samples were cut off at the token cap cannot be checked; "
                "long samples may be truncated ones.",
                ("length", "overthinking"),
            )
        )
    if not scored.empty:
        unit, n_units = key_codes(scored, UNIT) if tests.any() or choice.empty else (unit, n_units)
        n = pd.Series(np.bincount(unit, minlength=n_units))
        med = float(n.median())
        if med < MIN_RECOMMENDED_SAMPLES:
            out.append(
                Guardrail(
                    "few_samples",
                    "warning" if med < 10 else "info",
                    f"Questions have {med:g} samples (median); estimates stabilise around {MIN_RECOMMENDED_SAMPLES}. "
                    f"The plug-in variance is biased low by a factor (n−1)/n ({(med - 1) / med:.2f} here); comparisons "
                    "of groups of different sizes need --estimator corrected.",
                    ("overview", "length", "overthinking", "ensembles"),
                    med,
                )
            )
        cell, _ = key_codes(scored, UNIT[:2])  # (model, budget)
        cell_of_unit = np.zeros(n_units, dtype=np.int64)
        cell_of_unit[unit] = cell
        per_cell = np.bincount(cell_of_unit)
        per_bucket = per_cell[per_cell > 0].min() / max(n_buckets, 1)  # questions per (model, budget)
        if per_bucket < MIN_PER_BUCKET:
            out.append(
                Guardrail(
                    "few_per_bucket",
                    "warning",
                    f"With {n_buckets} length buckets a bucket holds about {per_bucket:.0f} question(s): the power "
                    "law is fitted through a few noisy points; read α with its interval, or use fewer --buckets.",
                    ("length", "scaling"),
                    float(per_bucket),
                )
            )
        n_ens = min(10, max(2, int(n.min()) // 4))
        if n_ens < MIN_ENSEMBLES:
            out.append(
                Guardrail(
                    "few_ensembles",
                    "warning",
                    f"Ensembling compares {n_ens} ensembles per size (samples per question: {int(n.min())}); "
                    "variances across so few ensembles are very noisy.",
                    ("ensembles",),
                    float(n_ens),
                )
            )
    return out
