"""Bias, variance, error, incoherence and accuracy of a samples table, overall and per group."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from hotmess.data.frames import scored_samples, to_arrays
from hotmess.data.io import collapse_duplicate_samples, normalize_samples
from hotmess.data.schema import COLUMNS
from hotmess.errors import InputError
from hotmess.metrics import DEFAULT_DELTA, Summary, summarize

__all__ = ["GROUP_COLUMNS", "QUESTION_UNIT", "TableSummary", "summarize_samples"]

GROUP_COLUMNS = ("model", "task", "budget")
"""Columns results can be grouped by."""

QUESTION_UNIT = ["model", "budget", "task", "question_id"]
"""A question answered by one model under one budget is one unit of the decomposition."""


@dataclass(frozen=True)
class TableSummary:
    """Results of :func:`summarize_samples`: the overall summary and one per group."""

    overall: Summary
    groups: list[tuple[dict[str, str], Summary]] = field(default_factory=list)
    n_error_rows: int = 0
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready results: ``overall``, ``groups`` (each with its group labels), options, warnings."""
        return {
            "metric": self.overall.metric,
            "overall": self.overall.to_dict(),
            "groups": [{**labels, **s.to_dict()} for labels, s in self.groups],
            "n_error_rows": self.n_error_rows,
            "warnings": self.warnings,
        }

    def to_frame(self) -> pd.DataFrame:
        """One row per summary (``group == "overall"`` first) with CI bounds as ``<name>_low/_high``."""
        rows = []
        for labels, s in [({}, self.overall), *self.groups]:
            d = s.to_dict()
            ci = d.pop("ci")
            d.pop("options")
            row = {"group": "overall" if not labels else "/".join(labels.values()), **labels, **d}
            for k, (lo, hi) in ci.items():
                row[f"{k}_low"], row[f"{k}_high"] = lo, hi
            rows.append(row)
        return pd.DataFrame(rows)


def summarize_samples(
    df: pd.DataFrame,
    metric: str = "kl",
    *,
    by: Sequence[str] | None = None,
    delta: float = DEFAULT_DELTA,
    unbiased: bool = False,
    jackknife: bool = False,
    n_boot: int = 1000,
    level: float = 0.95,
    ci_method: Literal["percentile", "bca"] = "percentile",
    rng: np.random.Generator | int | None = 0,
) -> TableSummary:
    """Summaries of a samples table (see :mod:`hotmess.data`), overall and grouped.

    Parameters
    ----------
    df
        Samples in the hotmess schema (as returned by :func:`hotmess.data.read_samples`), or a plain table
        such as a samples CSV read with ``pd.read_csv`` (normalised like :func:`hotmess.data.read_samples`
        does). Samples that several runs hold (same slot and seed) are counted once, with a
        :class:`~hotmess.errors.DuplicateSamplesWarning` that is also listed in the result's ``warnings``.
    metric
        "kl", "brier", "zero-one" or "hard-kl".
    by
        Grouping columns among model, task, budget. Default: every one of them that takes more than one
        value in ``df``.
    delta, unbiased, jackknife
        Options of the decompositions (see :mod:`hotmess.metrics`).
    n_boot, level, ci_method, rng
        Bootstrap over questions (``n_boot=0``: no CIs). The default seed 0 makes results reproducible.

    Examples
    --------
    >>> df = pd.DataFrame({"question_id": ["q1"] * 4 + ["q2"] * 4, "answer": list("AABA" "CCCC"),
    ...                    "correct": list("AAAA" "CCCC")})
    >>> res = summarize_samples(df, "brier", n_boot=0)
    >>> round(res.overall.incoherence, 6), res.overall.n_questions
    (0.75, 2)
    """
    bad = [c for c in (by or ()) if c not in GROUP_COLUMNS]
    if bad:
        raise InputError(f"cannot group by {', '.join(bad)}", hint=f"choose among {', '.join(GROUP_COLUMNS)}")
    if not isinstance(df, pd.DataFrame):
        raise InputError(f"expected a samples table (a DataFrame), got {type(df).__name__}", hint="see docs/data.md")
    if any(c not in df.columns for c in COLUMNS):
        df = normalize_samples(df, source="the samples table")
    seen: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        df = collapse_duplicate_samples(df)
    for w in caught:
        seen.append(str(w.message))
        warnings.warn(w.message, stacklevel=2)
    n_error = int(df["error"].notna().sum())
    scored = scored_samples(df)
    if scored.empty:
        raise InputError(
            "no scorable samples: every row is an error row or has no correct option", hint="check the input file"
        )
    if by is None:
        by = [c for c in GROUP_COLUMNS if scored[c].nunique() > 1]
    opts: dict[str, Any] = {
        "delta": delta,
        "unbiased": unbiased,
        "jackknife": jackknife,
        "n_boot": n_boot,
        "level": level,
        "ci_method": ci_method,
    }

    def one(frame: pd.DataFrame, seed: Any) -> Summary:
        arrays, _ = to_arrays(frame, question_key=QUESTION_UNIT)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            s = summarize(arrays, metric, rng=seed, **opts)
        for w in caught:
            msg = str(w.message)
            if msg not in seen:
                seen.append(msg)
        return s

    gen = np.random.default_rng(rng)
    overall = one(scored, gen)
    groups: list[tuple[dict[str, str], Summary]] = []
    if by:
        for keys, frame in scored.groupby(list(by), sort=True):
            labels = dict(zip(by, keys if isinstance(keys, tuple) else (keys,), strict=True))
            groups.append(({k: str(v) for k, v in labels.items()}, one(frame, gen)))
    if n_error:
        seen.append(f"{n_error} error row(s) (failures that survived retries) were not scored")
    return TableSummary(overall=overall, groups=groups, n_error_rows=n_error, warnings=seen)
