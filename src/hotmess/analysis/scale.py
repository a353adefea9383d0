"""Summaries from per-question statistics of any engine: the out-of-memory twin of :func:`summarize_samples`.

:func:`summarize_stats` takes the tables of :class:`hotmess.data.engines.EngineStats` (DuckDB, Spark, or any
engine that runs :func:`hotmess.data.engines.stats_queries`) and returns the same :class:`TableSummary` as
:func:`hotmess.analysis.summarize_samples` gives for the samples themselves: per kind, overall and by
model / task / budget, with the same bootstrap intervals (questions in sorted key order, the same seeds).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from hotmess.analysis._questions import KINDS, resolve_estimator
from hotmess.analysis.summary import GROUP_COLUMNS, TableSummary, tests_summary_of
from hotmess.data.engines import GROUP, EngineStats
from hotmess.errors import InputError
from hotmess.metrics.stats import ChoiceStats, decompose_stats
from hotmess.metrics.summary import Summary, summary_of

__all__ = ["choice_stats", "summarize_stats"]

_UNIT = ["model", "budget", "task", "question_id"]


def _sorted(q: pd.DataFrame) -> pd.DataFrame:
    keys = q[_UNIT].astype(str)
    order = np.lexsort([keys[c].to_numpy() for c in reversed(_UNIT)])
    return q.iloc[order].reset_index(drop=True)


def choice_stats(es: EngineStats, questions: pd.DataFrame) -> ChoiceStats:
    """:class:`ChoiceStats` of ``questions`` (rows of ``es.questions``, in their order)."""
    bad = questions[questions["correct_min"] != questions["correct_max"]]
    if not bad.empty:
        r = bad.iloc[0]
        raise InputError(
            f"question {[r['task'], r['question_id']]} has samples with different correct answers",
            hint="each question must have one correct option (or give questions distinct ids)",
        )
    Q = len(questions)
    C = int(questions["n_options"].max())

    def block(frame: pd.DataFrame, prefix: str, dtype: Any) -> np.ndarray:
        cols = [f"{prefix}_{c}" for c in range(C)]
        return np.stack([frame[c].to_numpy(dtype) if c in frame else np.zeros(len(frame), dtype) for c in cols], 1)

    counts = block(questions, "cnt", np.int64)
    hot = block(questions, "hot", np.int64)
    sum_p = np.zeros((Q, C))
    sum_log = np.zeros((Q, C))
    sum_sq = np.zeros(Q)
    n_sharp = np.zeros(Q, dtype=np.int64)
    if not es.probs.empty and int(questions["n_probs"].sum()) > 0:
        keys = list(GROUP)
        aligned = questions[keys].merge(es.probs, on=keys, how="left", sort=False)
        has = aligned["sum_sq"].notna().to_numpy()
        filled = aligned.fillna(0.0)
        sum_p[has] = block(filled, "sum_p", np.float64)[has]
        sum_log[has] = block(filled, "sum_log", np.float64)[has]
        sum_sq[has] = filled["sum_sq"].to_numpy(float)[has]
        n_sharp[has] = filled["n_sharp"].to_numpy(np.int64)[has]
    return ChoiceStats(
        n=questions["n"].to_numpy(np.int64),
        n_invalid=questions["n_invalid"].to_numpy(np.int64),
        n_options=questions["n_options"].to_numpy(np.int64),
        targets=questions["correct_min"].to_numpy(np.int64),
        counts=counts,
        hot=hot,
        n_probs=questions["n_probs"].to_numpy(np.int64),
        sum_p=sum_p,
        sum_log=sum_log,
        sum_sq=sum_sq,
        n_sharp=n_sharp,
        delta=es.delta,
    )


def _choice_summary(
    es: EngineStats,
    q: pd.DataFrame,
    metric: str,
    *,
    estimator: str,
    n_boot: int,
    level: float,
    ci_method: Literal["percentile", "bca"],
    rng: Any,
) -> Summary:
    stats = choice_stats(es, q)
    try:
        d = decompose_stats(stats, metric, delta=es.delta, estimator=estimator)
    except ValueError as exc:
        raise InputError(str(exc), hint="use --engine memory, or another --metric/--estimator") from None
    return summary_of(
        d,
        metric,
        n_samples=stats.n,
        n_invalid=stats.n_invalid,
        hard_accuracy=stats.hard_accuracy(),
        expected_accuracy=stats.expected_accuracy(),
        n_boot=n_boot,
        level=level,
        ci_method=ci_method,
        rng=rng,
        options={"delta": es.delta, "estimator": estimator, "n_boot": n_boot, "ci_method": ci_method},
    )


def _tests_summary(
    es: EngineStats,
    runs: pd.DataFrame,
    *,
    estimator: str,
    n_boot: int,
    level: float,
    ci_method: Literal["percentile", "bca"],
    rng: Any,
) -> Summary:
    bad = runs[runs["t_min"] != runs["t_max"]]
    if not bad.empty:
        r = bad.iloc[0]
        raise InputError(
            f"question {[r['model'], r['budget'], r['task'], r['question_id']]} has runs with different numbers "
            "of tests",
            hint="re-import the log",
        )
    Q = len(runs)
    T = int(runs["t_max"].max())
    index = pd.Series(np.arange(Q), index=pd.MultiIndex.from_frame(runs[list(GROUP)].astype(str)))
    tests = es.tests
    pos = index.reindex(pd.MultiIndex.from_frame(tests[list(GROUP)].astype(str))).to_numpy()
    keep = ~pd.isna(pos)
    qi, j = pos[keep].astype(np.int64), tests["j"].to_numpy(np.int64)[keep]
    s1 = np.zeros((Q, T))
    s2 = np.zeros((Q, T))
    np.add.at(s1, (qi, j), tests["sum_y"].to_numpy(float)[keep])
    np.add.at(s2, (qi, j), tests["sum_y2"].to_numpy(float)[keep])
    R = runs["n_runs"].to_numpy(float)
    n_tests = runs["t_max"].to_numpy(float)
    tm = np.arange(T)[None, :] < n_tests[:, None]
    ybar = s1 / R[:, None]
    cells = R * n_tests
    error = np.where(tm, R[:, None] - 2.0 * s1 + s2, 0.0).sum(axis=1) / cells
    bias = np.where(tm, (1.0 - ybar) ** 2, 0.0).sum(axis=1) / n_tests
    variance = np.where(tm, s2 - s1 * ybar, 0.0).sum(axis=1) / cells
    if estimator == "corrected":
        variance = variance * R / (R - 1.0)
        bias = error - variance
    pq = pd.DataFrame({"n_runs": R.astype(np.int64), "bias": bias, "variance": variance, "error": error}).assign(
        resolved=runs["resolved"].to_numpy(float) / R
    )
    return tests_summary_of(pq, estimator=estimator, n_boot=n_boot, level=level, ci_method=ci_method, rng=rng)


def summarize_stats(
    es: EngineStats,
    metric: str = "kl",
    *,
    by: Sequence[str] | None = None,
    estimator: str | None = None,
    n_boot: int = 1000,
    level: float = 0.95,
    ci_method: Literal["percentile", "bca"] = "percentile",
    rng: np.random.Generator | int | None = 0,
) -> TableSummary:
    """:func:`hotmess.analysis.summarize_samples` from an engine's statistics (same numbers, same intervals).

    Parameters are those of :func:`~hotmess.analysis.summarize_samples`; KL uses the δ the statistics were
    computed with. The corrected KL estimator needs one-hot answers here (probability samples: in memory).
    """
    bad = [c for c in (by or ()) if c not in GROUP_COLUMNS]
    if bad:
        raise InputError(f"cannot group by {', '.join(bad)}", hint=f"choose among {', '.join(GROUP_COLUMNS)}")
    est = resolve_estimator(estimator, metric)
    if es.empty:
        raise InputError(
            "no scorable samples: every row is an error row, or has neither a correct option nor test outcomes",
            hint="check the input (docs/data.md lists the columns each kind needs)",
        )
    tables = {
        k: _sorted(es.runs if k == "test-vector" else es.questions[es.questions["kind"] == k])
        for k in KINDS
        if not (es.runs if k == "test-vector" else es.questions[es.questions["kind"] == k]).empty
    }
    kinds = list(tables)
    rows_by_kind = {k: int(t["n_runs"].sum() if k == "test-vector" else t["n"].sum()) for k, t in tables.items()}
    seen: list[str] = []
    n_unscored = es.n_rows - es.n_error - sum(rows_by_kind.values())
    if n_unscored:
        rows_by_kind["not scored"] = n_unscored
        seen.append(
            f"{n_unscored} row(s) have neither a correct option nor test outcomes and were not scored "
            "(open-ended answers: see `hotmess embed` and docs/open-ended.md)"
        )
    if len(kinds) > 1:
        seen.append(
            "samples of several decomposition kinds were analysed separately, never pooled: "
            + ", ".join(f"{k} {rows_by_kind[k]:,} rows" for k in kinds)
        )
    if by is None:
        allq = pd.concat([t[list(GROUP_COLUMNS)] for t in tables.values()])
        by = [c for c in GROUP_COLUMNS if allq[c].nunique() > 1]
    opts: dict[str, Any] = {"estimator": est, "n_boot": n_boot, "level": level, "ci_method": ci_method}

    def note(msg: str) -> None:
        if msg not in seen:
            seen.append(msg)

    def one(frame: pd.DataFrame, kind: str, seed: Any) -> Summary | None:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            if est == "corrected":
                ncol = "n_runs" if kind == "test-vector" else "n"
                single = frame[ncol] < 2
                if single.any():
                    n_left = int(single.sum())
                    note(f"{n_left} question(s) with one sample were left out: the corrected estimator needs two")
                    frame = frame[~single]
                    if frame.empty:
                        return None
            if kind == "test-vector":
                s = _tests_summary(es, frame, rng=seed, **opts)
            else:
                s = _choice_summary(es, frame, metric, rng=seed, **opts)
        for w in caught:
            note(str(w.message))
        return s

    gen = np.random.default_rng(rng)
    per_kind: list[tuple[str, Summary]] = []
    groups: list[tuple[dict[str, str], Summary]] = []
    for kind in kinds:
        frame = tables[kind]
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
    if es.n_error:
        seen.append(f"{es.n_error} error row(s) (failures that survived retries) were not scored")
    return TableSummary(
        overall=per_kind[0][1],
        groups=groups,
        n_error_rows=es.n_error,
        warnings=seen,
        kinds=per_kind,
        rows_by_kind=rows_by_kind,
    )
