"""Per-question decomposition tables and their aggregation with bootstrap CIs (private helpers).

Every analysis starts from :func:`question_frame`: one row per question answered by one model under one
budget, with its decomposition kind, bias, variance, error, accuracy and mean length on the chosen axis.
Aggregates over a set of questions use ratios of sums (incoherence = Σ variance / Σ error) with CIs from
resampling whole questions. Samples of different decomposition kinds (multiple choice, open-ended
correctness, unit-test vectors) are never pooled: ``kind`` is always the first grouping column.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from hotmess.analysis.structure import backtracking_markers
from hotmess.data._columns import is_none, is_none_or_nan
from hotmess.data.frames import key_codes, question_codes, question_means, to_arrays
from hotmess.data.schema import SAMPLE_KINDS
from hotmess.errors import InputError
from hotmess.metrics import (
    DEFAULT_DELTA,
    ESTIMATORS,
    DegenerateWarning,
    SampleArrays,
    bootstrap_ratio_ci,
    decompose,
    estimator_options,
    resample_weights,
)
from hotmess.metrics.estimators import resolve_estimator as _resolve

__all__ = [
    "ESTIMATORS",
    "KINDS",
    "LENGTH_AXES",
    "RATIO_METRICS",
    "STATS",
    "UNIT",
    "LeftOutWarning",
    "aggregate",
    "boot_weights",
    "check_metric",
    "decompose_frame",
    "fill_stats",
    "groups_of",
    "question_frame",
    "resolve_estimator",
    "sample_kinds",
    "sample_lengths",
    "scored_frame",
    "t_interval",
    "unit_lengths",
    "weighted_stats",
]

LENGTH_AXES = ("output_tokens", "reasoning_tokens", "actions", "backtracking")
"""Selectable length axes: token counts, action counts, or backtracking markers in the raw output."""

RATIO_METRICS = ("kl", "brier", "hard-kl")
"""Metrics whose incoherence ratio is defined (the 0/1 variance changes sign between questions)."""

KINDS = SAMPLE_KINDS
"""Decomposition kinds, analysed separately: options with one correct (KL/Brier/...), open-ended answers scored
right/wrong (two-option questions marked by the ``kind`` column or the store's question metadata), unit-test
outcome vectors."""

STATS = ("bias", "variance", "error", "incoherence", "accuracy")
KEY = ["task", "question_id"]
UNIT = ["model", "budget", *KEY]
"""A question answered by one model under one budget: the unit every analysis decomposes, whatever ``by`` is."""


class LeftOutWarning(DegenerateWarning):
    """Some questions could not enter an analysis (e.g. one sample under a corrected estimator)."""


def check_metric(metric: str) -> None:
    """Raise unless ``metric`` has an incoherence ratio."""
    if metric not in RATIO_METRICS:
        raise ValueError(f"metric: expected one of {', '.join(RATIO_METRICS)}, got {metric!r}")


def resolve_estimator(estimator: str | None, metric: str, *, unbiased: bool = False, jackknife: bool = False) -> str:
    """The estimator to use (:func:`hotmess.metrics.estimators.resolve_estimator`), refused where undefined.

    ``unbiased`` means the Brier n/(n−1) correction and ``jackknife`` the KL jackknife, as in
    :func:`hotmess.metrics.decompose`; each is ignored for the other metrics.

    Examples
    --------
    >>> resolve_estimator(None, "brier", unbiased=True), resolve_estimator(None, "kl", unbiased=True)
    ('corrected', 'plugin')
    """
    est = _resolve(metric, estimator or "plugin", unbiased=unbiased, jackknife=jackknife)
    estimator_options(metric, est)  # "corrected" is defined for kl and brier only
    return est


def check_by(by: Sequence[str]) -> list[str]:
    """Grouping columns among model/budget/task."""
    out = list(by)
    bad = [c for c in out if c not in ("model", "budget", "task")]
    if bad:
        raise ValueError(f"by: expected columns among model, budget, task, got {bad}")
    return out


def sample_kinds(df: pd.DataFrame) -> pd.Series:
    """Decomposition kind of each row (see :data:`KINDS`); None for rows no decomposition can score.

    The ``kind`` column says it where it is set (importers set it: ``open-ended`` for right/wrong answers, which
    look like two-option questions). Elsewhere it is inferred: a row with ``test_outcomes`` is a test vector, one
    with options and a correct option is multiple choice — or open-ended when ``df.attrs["question_kinds"]``
    (set by :meth:`hotmess.data.RunStore.samples` from the questions table, for stores imported before the
    column existed) marks its question so. A stated kind the row cannot be scored as gives None.

    Examples
    --------
    >>> df = pd.DataFrame({"task": "t", "question_id": ["a", "b", "c", "d"], "n_options": [4, 0, 0, 2],
    ...                    "correct": [1, -1, -1, 0], "test_outcomes": [None, [1, 0], None, None],
    ...                    "kind": [None, None, None, "open-ended"]})
    >>> sample_kinds(df).tolist()
    ['multiple-choice', 'test-vector', None, 'open-ended']
    """
    codes, names = _kind_codes(df)
    return pd.Series(np.asarray(names, dtype=object)[codes], index=df.index, dtype=object)


def _kind_codes(df: pd.DataFrame) -> tuple[NDArray[np.intp], list[Any]]:
    """Each row's kind as an index into ``names`` (0: None, not scorable); see :func:`sample_kinds`."""
    names: list[Any] = [None, *KINDS]
    tests = ~is_none_or_nan(df["test_outcomes"]) if "test_outcomes" in df else np.zeros(len(df), bool)
    choice = ((df["correct"] >= 0) & (df["n_options"] >= 2)).to_numpy(bool)
    codes = np.zeros(len(df), dtype=np.intp)
    codes[choice] = names.index("multiple-choice")
    codes[tests] = names.index("test-vector")
    marked = df.attrs.get("question_kinds") or {}
    open_keys = {(t, q) for t, qs in marked.items() for q, v in qs.items() if v == "open-ended"}
    if open_keys and choice.any():
        keys = pd.Series(list(zip(df["task"].astype(str), df["question_id"].astype(str), strict=True)), index=df.index)
        codes[choice & ~tests & keys.isin(open_keys).to_numpy()] = names.index("open-ended")
    if "kind" in df.columns and not is_none(df["kind"]).all():  # a column of None states nothing (the common case)
        stated = df["kind"].to_numpy(dtype=object)
        has = np.flatnonzero(pd.notna(stated))
        given = stated[has]
        ok = np.where(given == "test-vector", tests[has], choice[has])  # the stated kind needs the row's own fields
        sub, uniques = pd.factorize(given)
        index = []
        for u in uniques:
            if u not in names:
                names.append(u)
            index.append(names.index(u))
        codes[has] = np.where(ok, np.asarray(index, dtype=np.intp)[sub], 0)
    return codes, names


def scored_frame(df: pd.DataFrame) -> pd.DataFrame:
    """Rows that a decomposition scores (no error rows, a known kind), with their kind in ``_kind``."""
    codes, names = _kind_codes(df)
    keep = codes > 0
    if "error" in df:
        keep &= df["error"].isna().to_numpy()
    if not keep.all():
        df, codes = df[keep], codes[keep]
    used = np.flatnonzero(np.bincount(codes, minlength=len(names)))
    lookup = np.zeros(len(names), dtype=np.intp)
    lookup[used] = np.arange(used.size)
    # a categorical: one small code per row (a text column of ten million kinds would take 140 MB)
    kinds = pd.Categorical.from_codes(lookup[codes], categories=pd.Index([names[u] for u in used], dtype=object))
    return df.assign(_kind=pd.Series(kinds, index=df.index))  # no copy of the rows: assign is a lazy copy


def require_scored(df: pd.DataFrame) -> pd.DataFrame:
    """:func:`scored_frame`, raising the one-line error when nothing is left."""
    scored = scored_frame(df)
    if scored.empty:
        raise InputError(
            "no scorable samples: every row is an error row, or has neither a correct option nor test outcomes",
            hint="check the input file (docs/data.md lists the columns each kind needs)",
        )
    return scored


def sample_lengths(df: pd.DataFrame, axis: str, *, markers: Sequence[str] | None = None) -> pd.Series:
    """Per-sample length on ``axis`` (float, NaN where unknown), aligned with ``df``.

    ``backtracking`` counts backtracking markers in ``raw_output`` (see
    :func:`hotmess.analysis.backtracking_markers`).
    """
    if axis not in LENGTH_AXES:
        raise ValueError(f"axis: expected one of {', '.join(LENGTH_AXES)}, got {axis!r}")
    if axis == "backtracking":
        return backtracking_markers(df["raw_output"].fillna(""), markers=markers).astype(float)
    if axis not in df.columns:
        return pd.Series(np.nan, index=df.index)
    return pd.to_numeric(df[axis], errors="coerce").astype(float)


def _single_sample_units(frame: pd.DataFrame) -> pd.Series:
    """True for rows of units with one sample only."""
    codes, n_units = key_codes(frame, UNIT)
    return np.bincount(codes, minlength=n_units)[codes] < 2


def check_hard(arrays: SampleArrays, metric: str) -> None:
    """Refuse the hard views (hard-KL) on probability-vector samples with the one-line error of a bad input."""
    if metric == "hard-kl" and arrays.soft.any():
        raise InputError(
            f"hard-kl needs one-hot answers, but {int(arrays.soft.sum())} samples hold probability vectors",
            hint="use --metric kl or brier for probability samples",
        )


def decompose_frame(
    frame: pd.DataFrame, metric: str, *, delta: float = DEFAULT_DELTA, estimator: str = "plugin"
) -> pd.DataFrame:
    """Per-unit kind, bias, variance, error, accuracy and sample count of scored rows (from :func:`scored_frame`).

    Units are keyed by :data:`UNIT` (model, budget, question): samples of different models or budgets are never
    pooled into one question. Test-vector units use the test-vector decomposition whatever ``metric`` says
    (accuracy = share of runs that pass every test). With ``estimator="corrected"`` units with one sample have
    no variance estimate: they are left out with a :class:`LeftOutWarning`.
    """
    if "_kind" not in frame:
        frame = scored_frame(frame)
    if estimator == "corrected":
        single = _single_sample_units(frame)
        if single.any():
            n_left = key_codes(frame[single], UNIT)[1]
            warnings.warn(
                f"{n_left} question(s) with a single sample were left out: the corrected estimator needs two",
                LeftOutWarning,
                stacklevel=2,
            )
            frame = frame[~single]
    parts = []
    for kind, part in frame.groupby("_kind", sort=False):
        if part.empty:
            continue
        if kind == "test-vector":
            from hotmess.analysis.open_ended import test_vectors_by_question

            tv = test_vectors_by_question(part, unbiased=estimator == "corrected")
            out = tv[UNIT].astype(str)
            out["n_samples"] = tv["n_runs"].to_numpy()
            out["n_invalid"] = 0
            for c in ("bias", "variance", "error"):
                out[c] = tv[c].to_numpy()
            out["accuracy"] = tv["resolved"].to_numpy()
        else:
            arrays, info = to_arrays(part, question_key=UNIT)
            # to_arrays may return the key columns unnamed (pandas versions differ); they come first, in key order.
            info = info.set_axis([*UNIT, *info.columns[len(UNIT) :]], axis=1)
            check_hard(arrays, metric)
            d = decompose(arrays, metric, delta=delta, estimator=estimator)
            out = info[UNIT].copy()
            out["n_samples"] = arrays.n_samples
            out["n_invalid"] = arrays.n_invalid
            out["bias"], out["variance"], out["error"] = d.bias, d.variance, d.error
            out["accuracy"] = arrays.hard_accuracy()
        out.insert(0, "kind", str(kind))
        parts.append(out)
    if not parts:
        raise InputError("no question has two samples", hint="the corrected estimator needs ≥ 2 samples per question")
    order = {k: i for i, k in enumerate(KINDS)}
    return (
        pd.concat(parts, ignore_index=True)
        .sort_values("kind", key=lambda s: s.map(order), kind="stable")
        .reset_index(drop=True)
    )


def question_frame(
    df: pd.DataFrame,
    *,
    metric: str = "kl",
    axis: str = "output_tokens",
    by: Sequence[str] = ("model", "budget"),
    delta: float = DEFAULT_DELTA,
    estimator: str = "plugin",
    markers: Sequence[str] | None = None,
) -> pd.DataFrame:
    """One row per unit (model, budget, question): kind, bias, variance, error, accuracy, samples, mean ``length``.

    Error rows and rows no decomposition scores are dropped first; a question's length is the mean over its
    samples with a known length on ``axis`` (NaN if none). ``by`` only says which units are analysed together:
    a question answered by two models is two units, whatever ``by`` is.
    """
    check_metric(metric)
    check_by(by)
    scored = require_scored(df)
    scored = scored.assign(_length=sample_lengths(scored, axis, markers=markers).to_numpy())
    q = decompose_frame(scored, metric, delta=delta, estimator=estimator)
    return q.merge(unit_lengths(scored), on=UNIT, how="left")


def unit_lengths(scored: pd.DataFrame, column: str = "_length") -> pd.DataFrame:
    """The :data:`UNIT` columns (as text) and ``length``, the mean of ``column`` over each unit's samples.

    Samples are summed in their order within the unit (:func:`hotmess.data.frames.question_codes`), so the mean
    does not depend on the order of the rows.
    """
    codes, pos, keys = question_codes(scored, UNIT)
    return keys.assign(length=question_means(scored, codes, pos, len(keys), columns=(column,))[column])


def groups_of(q: pd.DataFrame, by: Sequence[str]) -> Iterator[tuple[dict[str, str], pd.DataFrame]]:
    """Iterate ``(labels, rows)`` over the groups of a question frame; ``kind`` always leads when present."""
    cols = list(dict.fromkeys(["kind", *by])) if "kind" in q.columns else list(by)
    if not cols:
        yield {}, q
        return
    order = {k: i for i, k in enumerate(KINDS)}
    groups = list(q.groupby(cols, sort=True))
    if "kind" in cols:
        groups.sort(key=lambda kv: order.get(kv[0][0] if isinstance(kv[0], tuple) else kv[0], len(order)))
    for keys, frame in groups:
        labels = keys if isinstance(keys, tuple) else (keys,)
        yield dict(zip(cols, (str(k) for k in labels), strict=True)), frame


def _ratio(num: NDArray[np.float64], den: NDArray[np.float64]) -> float:
    total = float(np.sum(den))
    return float(np.sum(num)) / total if total > 0 and np.isfinite(total) else float("nan")


def aggregate(
    q: pd.DataFrame,
    *,
    n_boot: int = 1000,
    level: float = 0.95,
    rng: np.random.Generator | None = None,
    extra: Sequence[str] = (),
) -> dict[str, Any]:
    """Means of bias/variance/error/accuracy, incoherence (ratio of sums) and CIs over the rows of ``q``.

    Columns named in ``extra`` (e.g. ``length``) are averaged too (NaNs ignored), without CIs.
    """
    gen = np.random.default_rng(rng)
    row: dict[str, Any] = {"n_questions": len(q), "n_samples": int(q["n_samples"].sum())}
    if len(q) == 0:
        return row | {k: float("nan") for k in STATS}
    v, e = q["variance"].to_numpy(float), q["error"].to_numpy(float)
    row["bias"] = float(q["bias"].mean())
    row["variance"] = float(v.mean())
    row["error"] = float(e.mean())
    row["incoherence"] = _ratio(v, e)
    row["accuracy"] = float(q["accuracy"].mean())
    for col in extra:
        row[col] = float(q[col].mean()) if q[col].notna().any() else float("nan")
    if n_boot > 0:
        nums = {k: q[k].to_numpy(float) for k in ("bias", "variance", "error", "accuracy")}
        nums["incoherence"] = v
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DegenerateWarning)
            ci = bootstrap_ratio_ci(nums, {"incoherence": e}, n_boot=n_boot, level=level, rng=gen)
        for k in STATS:
            row[f"{k}_low"], row[f"{k}_high"] = ci[k].low, ci[k].high
    return row


def boot_weights(n: int, n_boot: int, rng: np.random.Generator) -> NDArray[np.float64]:
    """``(1 + n_boot, n)`` question weights: row 0 is the point estimate (all ones), then bootstrap counts.

    Every analysis that resamples questions uses these rows, so the point estimate and its replicates come out
    of one :func:`weighted_stats` call, and two things measured on the same questions (two halves, two models)
    share the draws (a paired bootstrap).

    Examples
    --------
    >>> W = boot_weights(4, 3, np.random.default_rng(0))
    >>> W.shape, W[0].tolist(), W.sum(axis=1).tolist()
    ((4, 4), [1.0, 1.0, 1.0, 1.0], [4.0, 4.0, 4.0, 4.0])
    """
    ones = np.ones((1, n))
    return np.vstack([ones, resample_weights(n, n_boot, rng)]) if n_boot > 0 else ones


def weighted_stats(
    W: NDArray[np.float64], q: pd.DataFrame, members: NDArray[np.bool_] | None = None
) -> dict[str, NDArray[np.float64]]:
    """Per-cell stats under question weights: ``W`` (B, Q) (see :func:`boot_weights`), ``members`` (Q, K) masks.

    Returns name → (B, K) arrays for bias, variance, error, incoherence (ratio of weighted sums), accuracy and
    length (weighted mean of the finite lengths). ``members`` defaults to one cell holding every question.
    """
    Mk = np.ones((len(q), 1)) if members is None else members.astype(np.float64)
    n = W @ Mk  # (B, K)
    out: dict[str, NDArray[np.float64]] = {}
    with np.errstate(divide="ignore", invalid="ignore"):
        for k in ("bias", "variance", "error", "accuracy"):
            out[k] = (W * q[k].to_numpy(float)) @ Mk / n
        out["incoherence"] = out["variance"] / out["error"]
        if "length" in q.columns:
            L = q["length"].to_numpy(float)
            ok = np.isfinite(L)
            out["length"] = ((W * np.where(ok, L, 0.0)) @ Mk) / ((W * ok) @ Mk)
    return out


def fill_stats(
    row: dict[str, Any],
    stats: dict[str, NDArray[np.float64]],
    k: int,
    level: float,
    names: Sequence[str] = STATS,
    *,
    method: str = "percentile",
    n: int | None = None,
) -> dict[str, Any]:
    """Put cell ``k``'s point value (row 0) and CI (from rows 1…) of each stat into ``row``; returns it.

    ``method="percentile"`` takes quantiles of the replicates; ``method="t"`` (used for differences between
    paired groups) is the point value ± Student's t quantile with ``n − 1`` degrees of freedom (``n``
    questions) times the replicates' standard deviation. On null data the percentile interval of a difference
    over 30 questions covers 0 too rarely (87.5% at 95%, tests/analysis/test_null_calibration.py); the t interval
    does not.
    """
    for s in names:
        col = stats[s][:, k]
        row[s] = float(col[0])
        if col.size > 1:
            if method == "t":
                row[f"{s}_low"], row[f"{s}_high"] = t_interval(float(col[0]), col[1:], level, n or col.size)
            else:
                row[f"{s}_low"], row[f"{s}_high"] = interval(col[1:], level)
    return row


def t_interval(point: float, replicates: NDArray[np.float64], level: float, n: int) -> tuple[float, float]:
    """``point ± t_{n−1} · sd(replicates)``: a bootstrap-standard-error interval (NaNs when undefined).

    Examples
    --------
    >>> lo, hi = t_interval(0.0, np.array([-1.0, 1.0, -1.0, 1.0]), 0.95, 31)
    >>> round(hi, 3), lo == -hi
    (2.358, True)
    """
    from scipy.stats import t as student_t

    v = replicates[np.isfinite(replicates)]
    if v.size < 2 or n < 2 or not np.isfinite(point):
        return float("nan"), float("nan")
    half = float(student_t.ppf(0.5 + level / 2.0, n - 1)) * float(v.std(ddof=1))
    return point - half, point + half


def interval(values: NDArray[np.float64], level: float) -> tuple[float, float]:
    """Percentile interval of the finite entries of ``values`` (NaNs when none)."""
    v = values[np.isfinite(values)]
    if v.size == 0:
        return float("nan"), float("nan")
    a = (1.0 - level) / 2.0
    lo, hi = np.quantile(v, [a, 1.0 - a])
    return float(lo), float(hi)
