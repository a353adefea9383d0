"""Bias, variance, error, incoherence and accuracy of a samples table, overall and per group."""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from hotmess.analysis._constants import GROUP_COLUMNS
from hotmess.analysis._questions import KINDS, check_hard, require_scored, resolve_estimator
from hotmess.data.frames import to_arrays
from hotmess.data.io import collapse_duplicate_samples, normalize_samples
from hotmess.data.schema import COLUMNS
from hotmess.errors import InputError
from hotmess.metrics import (
    DEFAULT_DELTA,
    MIN_RECOMMENDED_SAMPLES,
    DegenerateWarning,
    FewSamplesWarning,
    Interval,
    Summary,
    bootstrap_ratio_ci,
    summarize,
)

__all__ = ["GROUP_COLUMNS", "QUESTION_UNIT", "TableSummary", "summarize_samples"]

_FEW = re.compile(r"some questions have only (\d+) samples")
"""The start of :class:`hotmess.metrics.FewSamplesWarning`'s message."""

QUESTION_UNIT = ["model", "budget", "task", "question_id"]
"""A question answered by one model under one budget is one unit of the decomposition."""


@dataclass(frozen=True)
class TableSummary:
    """Results of :func:`summarize_samples`: one overall summary per decomposition kind, and one per group.

    ``kinds`` lists ``(kind, summary)`` for every decomposition kind present (see
    :data:`hotmess.analysis.KINDS`), never pooled; ``overall`` is the first of them (the only one in a store of
    one kind). When several kinds are present each group's labels start with its ``kind``.
    """

    overall: Summary
    groups: list[tuple[dict[str, str], Summary]] = field(default_factory=list)
    n_error_rows: int = 0
    warnings: list[str] = field(default_factory=list)
    kinds: list[tuple[str, Summary]] = field(default_factory=list)
    rows_by_kind: dict[str, int] = field(default_factory=dict)
    """Scored rows per decomposition kind, plus ``"not scored"`` for rows no decomposition applies to."""

    def __post_init__(self) -> None:
        # one few-samples note, with the smallest count, however many groups raised it with their own count
        few = [(i, int(m.group(1))) for i, w in enumerate(self.warnings) if (m := _FEW.match(w))]
        if len(few) > 1:
            first, smallest = few[0][0], min(n for _, n in few)
            merged = _FEW.sub(f"some questions have only {smallest} samples", self.warnings[first], count=1)
            drop = {i for i, _ in few}
            self.warnings[:] = [
                merged if i == first else w for i, w in enumerate(self.warnings) if i == first or i not in drop
            ]

    @property
    def mixed(self) -> bool:
        """Whether samples of several decomposition kinds were analysed (separately)."""
        return len(self.kinds) > 1

    def overalls(self) -> list[tuple[dict[str, str], Summary]]:
        """``(labels, summary)`` of each kind's overall summary (labels empty for a single kind)."""
        if not self.kinds:
            return [({}, self.overall)]
        return [({"kind": k} if self.mixed else {}, s) for k, s in self.kinds]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready results: ``overall`` (first kind), ``kinds``, ``groups`` (with labels), warnings."""
        return {
            "metric": self.overall.metric,
            "overall": self.overall.to_dict(),
            "kinds": [{"kind": k, "n_rows": self.rows_by_kind.get(k, 0), **s.to_dict()} for k, s in self.kinds],
            "rows_by_kind": self.rows_by_kind,
            "groups": [{**labels, **s.to_dict()} for labels, s in self.groups],
            "n_error_rows": self.n_error_rows,
            "warnings": self.warnings,
        }

    def to_frame(self) -> pd.DataFrame:
        """One row per summary (the overall row of each kind first) with CI bounds as ``<name>_low/_high``."""
        rows = []
        overall = [({**lab, "_overall": "1"}, s) for lab, s in self.overalls()]
        for labels, s in [*overall, *self.groups]:
            labels = dict(labels)
            is_overall = labels.pop("_overall", None) is not None
            d = s.to_dict()
            ci = d.pop("ci")
            d.pop("options")
            if is_overall:
                name = "overall" + (f" · {labels['kind']}" if "kind" in labels else "")
            else:
                name = "/".join(labels.values())
            row = {"group": name, **labels, **d}
            for k, (lo, hi) in ci.items():
                row[f"{k}_low"], row[f"{k}_high"] = lo, hi
            rows.append(row)
        return pd.DataFrame(rows)


def _tests_summary(
    frame: pd.DataFrame,
    *,
    estimator: str,
    n_boot: int,
    level: float,
    ci_method: Literal["percentile", "bca"],
    rng: Any,
) -> Summary:
    """The :class:`~hotmess.metrics.Summary` of test-vector samples (accuracy = share of runs passing every test)."""
    from hotmess.analysis.open_ended import test_vectors_by_question

    pq = test_vectors_by_question(frame, unbiased=estimator == "corrected")
    return tests_summary_of(pq, estimator=estimator, n_boot=n_boot, level=level, ci_method=ci_method, rng=rng)


def tests_summary_of(
    pq: pd.DataFrame,
    *,
    estimator: str,
    n_boot: int,
    level: float,
    ci_method: Literal["percentile", "bca"],
    rng: Any,
) -> Summary:
    """The test-vector :class:`~hotmess.metrics.Summary` of per-task rows (``n_runs``, ``bias``, ``variance``,
    ``error``, ``resolved``), from samples or from an engine's statistics alike."""
    n = pq["n_runs"].to_numpy()
    if int(n.min()) < MIN_RECOMMENDED_SAMPLES:
        warnings.warn(
            f"some tasks have only {int(n.min())} runs; estimates stabilise around {MIN_RECOMMENDED_SAMPLES}",
            FewSamplesWarning,
            stacklevel=2,
        )
    v, e = pq["variance"].to_numpy(float), pq["error"].to_numpy(float)
    total = float(e.sum())
    inco = float(v.sum()) / total if total > 0 else float("nan")
    ci: dict[str, Interval] = {}
    if n_boot > 0:
        nums = {k: pq[k].to_numpy(float) for k in ("bias", "variance", "error")}
        nums |= {"accuracy": pq["resolved"].to_numpy(float), "incoherence": v}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DegenerateWarning)
            ci = bootstrap_ratio_ci(
                nums,
                {"incoherence": e},
                n_boot=n_boot,
                level=level,
                method=ci_method,
                rng=rng,
            )
    return Summary(
        metric="test-vector",
        n_questions=len(pq),
        n_samples=int(n.sum()),
        n_invalid=0,
        bias=float(pq["bias"].mean()),
        variance=float(v.mean()),
        error=float(e.mean()),
        incoherence=inco,
        accuracy=float(pq["resolved"].mean()),
        expected_accuracy=float("nan"),
        min_samples=int(n.min()),
        ci=ci,
        options={"estimator": estimator, "n_boot": n_boot, "ci_method": ci_method},
    )


def summarize_samples(
    df: pd.DataFrame,
    metric: str = "kl",
    *,
    by: Sequence[str] | None = None,
    delta: float = DEFAULT_DELTA,
    estimator: str | None = None,
    unbiased: bool = False,
    jackknife: bool = False,
    n_boot: int = 1000,
    level: float = 0.95,
    ci_method: Literal["percentile", "bca"] = "percentile",
    rng: np.random.Generator | int | None = 0,
) -> TableSummary:
    """Summaries of a samples table (see :mod:`hotmess.data`), overall and grouped, per decomposition kind.

    Parameters
    ----------
    df
        Samples in the hotmess schema (as returned by :func:`hotmess.data.read_samples`), or a plain table
        such as a samples CSV read with ``pd.read_csv`` (normalised like :func:`hotmess.data.read_samples`
        does). Samples that several runs hold (same slot and seed) are counted once, with a
        :class:`~hotmess.errors.DuplicateSamplesWarning` that is also listed in the result's ``warnings``.
    metric
        "kl", "brier", "zero-one" or "hard-kl" for multiple-choice and open-ended rows; test-vector rows always
        use the test-vector decomposition. Kinds are summarised separately, never pooled.
    by
        Grouping columns among model, task, budget. Default: every one of them that takes more than one
        value in ``df``.
    delta
        KL smoothing δ.
    estimator
        ``"plugin"`` (default, the paper's) or ``"corrected"`` (KL jackknife, Brier and test-vector n/(n−1)
        variance); questions with one sample are then left out with a note. ``unbiased`` (Brier) and
        ``jackknife`` (KL) are the older spellings of ``"corrected"``.
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
    est = resolve_estimator(estimator, metric, unbiased=unbiased, jackknife=jackknife)
    if any(c not in df.columns for c in COLUMNS):
        df = normalize_samples(df, source="the samples table")
    seen: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        df = collapse_duplicate_samples(df)
    for w in caught:
        seen.append(str(w.message))
        warnings.warn(w.message, stacklevel=2)
    adaptive = [r for r in df.attrs.get("adaptive_runs") or () if r in set(df["run_id"].unique())]
    if adaptive:
        seen.append(
            f"run(s) {', '.join(adaptive)} were sampled adaptively (hotmess run --target-ci): questions got unequal "
            "numbers of samples chosen from their own answers; "
            + (
                "the plug-in estimator is biased low there — use --estimator corrected"
                if est == "plugin"
                else "the corrected estimator applies; the run's own estimate also weights each question by the "
                "probability of its extra rounds (docs/sampling.md)"
            )
        )
    n_error = int(df["error"].notna().sum())
    live = df[df["error"].isna()]
    scored = require_scored(df)
    counts = scored["_kind"].value_counts()
    kinds = [k for k in KINDS if k in counts.index]
    rows_by_kind = {k: int(counts[k]) for k in kinds}
    n_unscored = len(live) - len(scored)
    if n_unscored:
        rows_by_kind["not scored"] = n_unscored
        seen.append(
            f"{n_unscored} row(s) have neither a correct option nor test outcomes and were not scored "
            "(open-ended answers: see `hotmess embed` and docs/open-ended.md)"
        )
    if len(kinds) > 1:
        seen.append(
            "samples of several decomposition kinds were analysed separately, never pooled: "
            + ", ".join(f"{k} {n:,} rows" for k, n in rows_by_kind.items() if k in kinds)
        )
    if by is None:
        by = [c for c in GROUP_COLUMNS if scored[c].nunique() > 1]
    opts: dict[str, Any] = {"delta": delta, "estimator": est, "n_boot": n_boot, "level": level, "ci_method": ci_method}

    def note(msg: str) -> None:
        if msg not in seen:
            seen.append(msg)

    def one(frame: pd.DataFrame, kind: str, seed: Any) -> Summary | None:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            if est == "corrected":
                single = frame.groupby(QUESTION_UNIT, sort=False)["question_id"].transform("size") < 2
                if single.any():
                    n_left = frame[single].groupby(QUESTION_UNIT).ngroups
                    note(f"{n_left} question(s) with one sample were left out: the corrected estimator needs two")
                    frame = frame[~single]
                    if frame.empty:
                        return None
            if kind == "test-vector":
                s = _tests_summary(frame, estimator=est, n_boot=n_boot, level=level, ci_method=ci_method, rng=seed)
            else:
                arrays, _ = to_arrays(frame, question_key=QUESTION_UNIT)
                check_hard(arrays, metric)
                s = summarize(arrays, metric, rng=seed, **opts)
        for w in caught:
            note(str(w.message))
        return s

    gen = np.random.default_rng(rng)
    per_kind: list[tuple[str, Summary]] = []
    groups: list[tuple[dict[str, str], Summary]] = []
    for kind in kinds:
        frame = scored if len(kinds) == 1 else scored[scored["_kind"] == kind]
        overall = one(frame, kind, gen)
        if overall is None:
            note(f"{kind}: no question has two samples, which the corrected estimator needs; not summarised")
            continue
        per_kind.append((kind, overall))
        if by:
            for keys, part in frame.groupby(list(by), sort=True):
                labels = dict(zip(by, keys if isinstance(keys, tuple) else (keys,), strict=True))
                labels = {k: str(v) for k, v in labels.items()}
                s = one(part, kind, gen)
                if s is None:
                    note(f"{'/'.join(labels.values())}: every question has one sample; left out (corrected estimator)")
                    continue
                groups.append(({"kind": kind, **labels} if len(kinds) > 1 else labels, s))
    if not per_kind:
        raise InputError("no question has two samples", hint="the corrected estimator needs ≥ 2 samples per question")
    if n_error:
        seen.append(f"{n_error} error row(s) (failures that survived retries) were not scored")
    return TableSummary(
        overall=per_kind[0][1],
        groups=groups,
        n_error_rows=n_error,
        warnings=seen,
        kinds=per_kind,
        rows_by_kind=rows_by_kind,
    )
