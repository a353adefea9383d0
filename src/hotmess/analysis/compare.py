"""Paired comparisons of groups (models, budgets, runs, sources) on the questions they share.

Two models answering the same questions are paired data: a hard question is hard for both, so the difference of
their incoherence varies much less than either level does. :func:`compare_groups` matches the questions every
group answered with the baseline, decomposes each group's answers to them, and reports the difference and the
ratio of incoherence, bias, variance, error and accuracy with paired bootstrap intervals and p-values (Holm
corrected when several groups are compared with one baseline).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from hotmess.analysis._questions import (
    UNIT,
    boot_weights,
    check_metric,
    decompose_frame,
    interval,
    require_scored,
    resolve_estimator,
    t_interval,
    weighted_stats,
)
from hotmess.analysis.budgets import budget_order
from hotmess.data.io import collapse_duplicate_samples, normalize_samples
from hotmess.data.schema import COLUMNS
from hotmess.errors import InputError
from hotmess.metrics import DEFAULT_DELTA

__all__ = ["QUANTITIES", "CompareResult", "compare_groups", "holm"]

QUANTITIES = ("incoherence", "bias", "variance", "error", "accuracy")
"""What is compared: incoherence is a ratio of sums (Σ variance / Σ error), the others are means over questions."""

_MORE = {
    "incoherence": ("is more incoherent than", "is less incoherent than"),
    "bias": ("has a higher bias than", "has a lower bias than"),
    "variance": ("has a higher variance than", "has a lower variance than"),
    "error": ("has a higher error than", "has a lower error than"),
    "accuracy": ("is more accurate than", "is less accurate than"),
}

P_VALUE_METHOD = (
    "two-sided paired bootstrap t test: difference / bootstrap standard error over the shared questions, referred "
    "to Student's t with n − 1 degrees of freedom (n shared questions); it is the test the interval inverts, so "
    "p < 1 − level exactly when the interval excludes 0"
)
INTERVAL_METHOD = (
    "difference ± Student's t quantile (n − 1 df) × the standard deviation of the paired bootstrap replicates "
    "(shared questions resampled with the same weights in both groups); ratios on the log scale the same way; "
    "group levels are percentile intervals"
)


@dataclass(frozen=True)
class CompareResult:
    """Results of :func:`compare_groups`.

    ``frame`` has one row per (kind, group vs baseline, quantity); ``groups`` one row per (kind, group) with its
    question and sample counts; ``notes`` says what was left out and why, one line each.
    """

    frame: pd.DataFrame
    groups: pd.DataFrame
    by: str
    baseline: str
    metric: str
    estimator: str
    level: float
    n_boot: int
    notes: list[str] = field(default_factory=list)

    def verdicts(self) -> list[str]:
        """The ``verdict`` column: one sentence per comparison and quantity."""
        return [str(v) for v in self.frame["verdict"]]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready results (NaN as None): options, methods, groups, comparisons, notes."""

        def records(t: pd.DataFrame) -> list[dict[str, Any]]:
            rows = t.astype(object).where(pd.notna(t), None).to_dict(orient="records")
            return [{str(k): _plain(v) for k, v in r.items()} for r in rows]

        return {
            "by": self.by,
            "baseline": self.baseline,
            "metric": self.metric,
            "estimator": self.estimator,
            "level": self.level,
            "n_boot": self.n_boot,
            "p_value_method": P_VALUE_METHOD,
            "interval_method": INTERVAL_METHOD,
            "groups": records(self.groups),
            "comparisons": records(self.frame),
            "notes": list(self.notes),
        }


def _plain(v: Any) -> Any:
    if isinstance(v, np.generic):
        v = v.item()
    return None if isinstance(v, float) and not math.isfinite(v) else v


def holm(p: Sequence[float] | NDArray[np.float64]) -> NDArray[np.float64]:
    """Holm's step-down adjusted p-values (family-wise error control); NaNs stay NaN and are not counted.

    Examples
    --------
    >>> holm([0.01, 0.04, 0.03]).round(3).tolist()
    [0.03, 0.06, 0.06]
    """
    p = np.asarray(p, dtype=np.float64)
    out = np.full(p.shape, np.nan)
    ok = np.flatnonzero(np.isfinite(p))
    m = ok.size
    order = ok[np.argsort(p[ok], kind="stable")]
    adjusted = np.maximum.accumulate((m - np.arange(m)) * p[order]) if m else p[order]
    out[order] = np.minimum(adjusted, 1.0)
    return out


def _p_value(point: float, replicates: NDArray[np.float64], n: int) -> float:
    """Two-sided p of ``point / sd(replicates)`` under Student's t with ``n − 1`` df (NaN when undefined)."""
    from scipy.stats import t as student_t

    v = replicates[np.isfinite(replicates)]
    if v.size < 2 or n < 2 or not math.isfinite(point):
        return float("nan")
    se = float(v.std(ddof=1))
    if se == 0.0:
        return 1.0 if point == 0.0 else 0.0
    return float(2.0 * student_t.sf(abs(point) / se, n - 1))


def _num(x: float, sign: str = "") -> str:
    """Three decimals, or three significant digits for very small or large numbers (as the tables show them)."""
    return f"{x:{sign}.3f}" if x == 0 or 1e-3 <= abs(x) < 1e4 else f"{x:{sign}.3g}"


def _fmt_p(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.3g}"  # 0.0503, not "0.050": never seems below 0.05


def _verdict(r: dict[str, Any], by: str, level: float, *, mixed: bool = False) -> str:
    """The comparison of one quantity in words, from its numbers (prefixed by the kind when kinds are mixed)."""
    if mixed:
        return f"{r['kind']}: " + _verdict(r, by, level)
    g, b, q = f"{by} {r['group']}", f"{by} {r['baseline']}", r["quantity"]
    d, lo, hi, p = r["difference"], r["diff_low"], r["diff_high"], r["p_holm"]
    if not math.isfinite(d):
        return f"{g} vs {b}: {q} not estimated"
    if not (math.isfinite(lo) and math.isfinite(hi) and math.isfinite(p)):
        return f"{g} vs {b}: {q} difference {_num(d, '+')}, not tested (no interval)"
    nums = f"{_num(d, '+')} [{_num(lo)}, {_num(hi)}], {_fmt_p(p)}" + (" (Holm)" if r["n_comparisons"] > 1 else "")
    if r["detected"]:
        return f"{g} {_MORE[q][0 if d > 0 else 1]} {b}: {nums}"
    return f"{g} vs {b}: no {q} difference detected at {100 * level:g}%: {nums}"


def _group_order(labels: Sequence[str], by: str) -> list[str]:
    return budget_order(labels) if by == "budget" else sorted(labels)


def _decompose_group(part: pd.DataFrame, metric: str, delta: float, est: str, notes: list[str]) -> pd.DataFrame:
    """Per-unit decomposition of one group's samples (duplicates across runs counted once, as in ``analyze``)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if "run_id" in part and part["run_id"].nunique() > 1:  # one run: nothing to collapse
            part = collapse_duplicate_samples(part)
        q = decompose_frame(part, metric, delta=delta, estimator=est)
    for w in caught:  # what hotmess says about the data becomes a note; anything else stays a warning
        if w.category.__module__.startswith("hotmess"):
            if str(w.message) not in notes:
                notes.append(str(w.message))
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return q


def _compare_pair(
    qg: pd.DataFrame, qb: pd.DataFrame, key: list[str], gen: np.random.Generator, n_boot: int, level: float
) -> tuple[dict[str, dict[str, float]], dict[str, int]]:
    """Every quantity's levels, difference and ratio for one group against the baseline on their shared units."""
    cols = ("bias", "variance", "error", "accuracy")
    use = [*key, *cols, "n_samples"]
    both = qg[use].merge(qb[use], on=key, suffixes=("_g", "_b")).sort_values(key, kind="stable")
    n = len(both)
    counts = {"n_shared": n, "n_only_group": len(qg) - n, "n_only_baseline": len(qb) - n}
    counts["n_samples_differ"] = int((both["n_samples_g"] != both["n_samples_b"]).sum())
    if n == 0:
        return {q: {} for q in QUANTITIES}, counts
    W = boot_weights(n, n_boot, gen)  # the same resampled questions for both groups: a paired bootstrap
    sg = weighted_stats(W, both[[f"{c}_g" for c in cols]].set_axis(list(cols), axis=1))
    sb = weighted_stats(W, both[[f"{c}_b" for c in cols]].set_axis(list(cols), axis=1))
    out: dict[str, dict[str, float]] = {}
    for q in QUANTITIES:
        g, b = sg[q][:, 0], sb[q][:, 0]
        d = g - b
        if abs(d[0]) <= 1e-12 * max(abs(g[0]), abs(b[0])):  # equal up to rounding (two sums of the same terms)
            d[0] = 0.0
        with np.errstate(divide="ignore", invalid="ignore"):
            log_ratio = np.log(g / b)
        row = {"value_group": float(g[0]), "value_baseline": float(b[0]), "difference": float(d[0])}
        row["ratio"] = float(g[0] / b[0]) if b[0] != 0 else float("nan")
        row["group_low"], row["group_high"] = interval(g[1:], level)
        row["baseline_low"], row["baseline_high"] = interval(b[1:], level)
        row["diff_low"], row["diff_high"] = t_interval(float(d[0]), d[1:], level, n)
        row["diff_se"] = float(np.std(d[1:], ddof=1)) if n_boot > 1 else float("nan")
        lo, hi = t_interval(float(log_ratio[0]), log_ratio[1:], level, n)
        row["ratio_low"], row["ratio_high"] = math.exp(lo), math.exp(hi)  # NaN stays NaN
        row["p_value"] = _p_value(float(d[0]), d[1:], n)
        out[q] = row
    return out, counts


def compare_groups(
    df: pd.DataFrame,
    by: str = "model",
    metric: str = "kl",
    *,
    estimator: str | None = None,
    baseline: str | None = None,
    n_boot: int = 2000,
    level: float = 0.95,
    rng: np.random.Generator | int | None = 0,
    delta: float = DEFAULT_DELTA,
) -> CompareResult:
    """Compare every group of ``by`` with a baseline group on the questions both answered (paired).

    Parameters
    ----------
    df
        Samples in the hotmess schema.
    by
        The column whose values are the groups: ``model``, ``budget``, ``task``, ``run_id``, or any column that
        is constant within a question answered by one model under one budget (e.g. a ``source`` column naming
        the store each sample came from).
    metric
        ``"kl"``, ``"brier"`` or ``"hard-kl"`` (the 0/1 view has no incoherence ratio). Test-vector samples use
        the test-vector decomposition; decomposition kinds are compared separately (a ``kind`` column).
    estimator
        ``"plugin"`` (default) or ``"corrected"``; groups with different numbers of samples per question
        should use ``"corrected"`` (the plug-in variance grows with the sample count — a note says so).
    baseline
        The group every other group is compared with (default: the first in sorted order; for budgets the
        smallest, see :func:`hotmess.analysis.budget_order`).
    n_boot, level, rng
        Paired bootstrap over shared questions (``n_boot=0``: point estimates only, no intervals or p-values).
    delta
        KL smoothing δ.

    Returns
    -------
    CompareResult
        ``frame``: one row per kind, group (≠ baseline) and quantity with ``n_shared``, ``n_only_group``,
        ``n_only_baseline``, ``value_group`` and ``value_baseline`` (with ``group_low/high``,
        ``baseline_low/high``), ``difference`` (group − baseline) with ``diff_low/high`` and ``diff_se``,
        ``ratio`` (group / baseline) with ``ratio_low/high``, ``p_value``, ``p_holm``, ``n_comparisons``,
        ``detected`` and ``verdict``.

    Notes
    -----
    A unit is a question answered by one model under one budget (:data:`UNIT`). Each group's units are matched
    with the baseline's on the unit key without ``by`` (for ``by="model"``: kind, budget, task, question id), so
    a pair is the same question asked of both groups under the same other conditions. Units present in only one
    of the two are counted and left out, with a note. On the ``n`` shared units, with bootstrap weights ``w``
    drawn once and applied to both groups,

    ``Δ_incoherence = Σ w v_g / Σ w e_g − Σ w v_b / Σ w e_b``,  ``Δ_bias = Σ w (b_g − b_b) / Σ w``, …

    The interval is ``Δ ± t_{n−1, (1+level)/2} · sd(Δ*)`` (the convention of every difference in
    :mod:`hotmess.analysis`, which keeps null coverage at the nominal rate with 15–30 questions where percentile
    intervals do not); ``ratio`` uses the same on ``log(g / b)``. The p-value is ``2 P(T_{n−1} > |Δ| / sd(Δ*))``:
    it rejects at ``1 − level`` exactly when the interval excludes 0. With more than two groups, Holm's step-down
    correction is applied over the comparisons of each quantity (``p_holm``; equal to ``p_value`` for two
    groups) and ``detected`` means ``p_holm < 1 − level``.

    Examples
    --------
    >>> from hotmess.analysis.simulate import simulate_samples
    >>> a = simulate_samples(np.full(20, 0.6), np.full(20, 0.2), model="a", rng=0)
    >>> b = simulate_samples(np.full(20, 0.6), np.full(20, 0.6), model="b", rng=1)
    >>> res = compare_groups(pd.concat([a, b]), metric="brier", n_boot=200)
    >>> row = res.frame.set_index("quantity").loc["variance"]
    >>> row["group"], row["baseline"], bool(row["detected"]), int(row["n_shared"])
    ('b', 'a', True, 20)
    """
    check_metric(metric)
    est = resolve_estimator(estimator, metric)
    if not 0.0 < level < 1.0:
        raise ValueError(f"level: expected a number in (0, 1), got {level!r}")
    if n_boot < 0:
        raise ValueError(f"n_boot: expected an integer ≥ 0, got {n_boot!r}")
    if not isinstance(df, pd.DataFrame):
        raise InputError(f"expected a samples table (a DataFrame), got {type(df).__name__}", hint="see docs/data.md")
    if by == "task":  # a question id names a question within its task: q1 of task A is not q1 of task B
        raise InputError(
            "cannot compare by task: tasks hold different questions, so there is nothing to pair",
            hint="compare models or budgets within a task; hotmess analyze --by task gives each task its own interval",
        )
    if by not in df.columns:
        cols = [c for c in ("model", "budget", "run_id", "source") if c in df.columns]
        raise InputError(f"cannot compare by {by!r}: no such column", hint=f"choose among {', '.join(cols)}")
    if any(c not in df.columns for c in COLUMNS):
        df = normalize_samples(df, source="the samples table")
    gen = np.random.default_rng(rng)
    scored = require_scored(df)
    labels = scored[by].astype(str)
    order = _group_order(labels.unique().tolist(), by)
    if len(order) < 2:
        raise InputError(
            f"nothing to compare: every sample has {by} = {order[0]!r}",
            hint="compare by another column (model, budget, task, run_id) or pass several sources",
        )
    if baseline is None:
        baseline = order[0]
    elif str(baseline) not in order:
        raise InputError(f"no {by} named {baseline!r}", hint=f"choose among {', '.join(order)}")
    baseline = str(baseline)
    notes: list[str] = []
    parts = []
    for g in order:
        part = scored[(labels == g).to_numpy()]
        part.attrs.update(df.attrs)
        try:
            parts.append(_decompose_group(part, metric, delta, est, notes).assign(group=g))
        except InputError as exc:  # say which group could not be decomposed
            raise InputError(f"{by} {g}: {exc.message}", hint=exc.hint) from None
    q = pd.concat(parts, ignore_index=True)
    frame, groups = _compare_decomposed(
        q, by, order, baseline, est=est, n_boot=n_boot, level=level, rng=gen, notes=notes
    )
    return CompareResult(
        frame=frame,
        groups=groups,
        by=by,
        baseline=baseline,
        metric=metric,
        estimator=est,
        level=level,
        n_boot=n_boot,
        notes=notes,
    )


def _compare_decomposed(
    q: pd.DataFrame,
    by: str,
    order: Sequence[str],
    baseline: str,
    *,
    est: str,
    n_boot: int,
    level: float,
    rng: np.random.Generator,
    notes: list[str],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The comparison frame and group counts from per-unit decompositions ``q`` (a ``group`` column per row).

    Units are matched on ``kind`` and the :data:`UNIT` columns other than ``by``; notes are appended to ``notes``.
    """
    key = ["kind", *[c for c in UNIT if c != by]]
    rows: list[dict[str, Any]] = []
    group_rows: list[dict[str, Any]] = []
    for kind, qk in q.groupby("kind", sort=False):
        qs = {g: qk[qk["group"] == g] for g in order}
        group_rows += [
            {"kind": kind, "group": g, "n_questions": len(part), "n_samples": int(part["n_samples"].sum())}
            for g, part in qs.items()
            if len(part)
        ]
        if not len(qs[baseline]):
            notes.append(f"{kind}: the baseline {by} {baseline} has no {kind} samples; not compared")
            continue
        for g in order:
            if g == baseline or not len(qs[g]):
                continue
            what = f"{kind}: {by} {g} vs {baseline}"
            stats, counts = _compare_pair(qs[g], qs[baseline], key, rng, n_boot, level)
            if counts["n_only_group"] or counts["n_only_baseline"]:
                notes.append(
                    f"{what}: compared on {counts['n_shared']} shared questions; left out "
                    f"{counts['n_only_group']} only in {g} and {counts['n_only_baseline']} only in {baseline}"
                )
            if counts["n_shared"] == 0:
                continue
            differ = counts.pop("n_samples_differ")
            if differ and est == "plugin":
                notes.append(
                    f"{what}: {differ} of {counts['n_shared']} shared questions have different sample counts; the "
                    "plug-in variance grows with the number of samples, so compare with the corrected estimator "
                    "(--estimator corrected)"
                )
            for name in QUANTITIES:
                labels = {"by": by, "kind": kind, "group": g, "baseline": baseline, "quantity": name}
                rows.append(labels | counts | stats[name])
    if not rows:
        raise InputError(
            f"no {by} shares a question with the baseline {baseline}",
            hint=f"questions are matched on {', '.join(key[1:])}; compare groups that answered the same questions",
        )
    frame = pd.DataFrame(rows)
    family = frame.groupby(["kind", "quantity"], sort=False)
    frame["n_comparisons"] = family["group"].transform("size").astype(int)
    frame["p_holm"] = family["p_value"].transform(lambda p: holm(p.to_numpy()))
    frame["detected"] = frame["p_holm"] < 1.0 - level
    mixed = frame["kind"].nunique() > 1
    frame["verdict"] = [_verdict(r, by, level, mixed=mixed) for r in frame.to_dict(orient="records")]
    if (frame["n_shared"] < 10).any():
        notes.append("fewer than 10 shared questions in some comparison: the intervals rest on very few questions")
    return frame[_COLUMNS], pd.DataFrame(group_rows)


_COLUMNS = [
    "by",
    "kind",
    "group",
    "baseline",
    "quantity",
    "n_shared",
    "n_only_group",
    "n_only_baseline",
    "value_group",
    "group_low",
    "group_high",
    "value_baseline",
    "baseline_low",
    "baseline_high",
    "difference",
    "diff_low",
    "diff_high",
    "diff_se",
    "ratio",
    "ratio_low",
    "ratio_high",
    "p_value",
    "p_holm",
    "n_comparisons",
    "detected",
    "verdict",
]
