"""Scaling with model size by task difficulty: power laws of bias and variance in parameter count (SPEC §3.5)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from hotmess.analysis._questions import (
    KEY,
    STATS,
    boot_weights,
    fill_stats,
    question_frame,
    resolve_estimator,
    t_interval,
    weighted_stats,
)
from hotmess.analysis.fits import fit_power_law, param_counts, slopes
from hotmess.analysis.guardrails import verdict
from hotmess.analysis.length import equal_buckets
from hotmess.errors import InputError
from hotmess.metrics import DEFAULT_DELTA

__all__ = ["ScalingAnalysis", "difficulty_from_questions", "scaling_analysis"]


@dataclass(frozen=True)
class ScalingAnalysis:
    """Result of :func:`scaling_analysis`.

    Attributes
    ----------
    cells
        One row per (budget, group, model): ``params`` (N), ``n_questions``, ``length`` (the model's own mean
        length), bias, variance, error, incoherence, accuracy and CIs. ``group`` 0 is the easiest.
    fits
        One row per (budget, group): ``bias_exponent`` α_b and ``variance_exponent`` α_v of bias ∝ N^−α_b and
        variance ∝ N^−α_v, with ``_low``/``_high`` bootstrap CIs and ``_r2``; ``incoherence_slope`` (log-log
        slope of incoherence in N) with CI.
    regression
        One row per (budget, term) of log10(incoherence) = β₀ + β_L·log10(length) + β_N·log10(N) fitted over
        the cells (the paper's log-log form; cells with zero incoherence are left out): ``coef``, ``coef_low``,
        ``coef_high``, ``r2`` (on the log scale), ``n_cells``.

    Every table also has a ``kind`` column: samples of different decomposition kinds are analysed apart.
    params
        The parameter count used for each model.
    reference_model
        The model whose lengths defined the difficulty groups (None when groups came from ``difficulty``).
    """

    cells: pd.DataFrame
    fits: pd.DataFrame
    regression: pd.DataFrame
    params: dict[str, float] = field(default_factory=dict)
    reference_model: str | None = None


def difficulty_from_questions(questions: pd.DataFrame, key: str = "difficulty") -> pd.DataFrame:
    """``task, question_id, difficulty`` from a store's questions table (``metadata[key]``); rows without it dropped.

    Examples
    --------
    >>> qs = pd.DataFrame({"task": "t", "question_id": ["a", "b"], "metadata": [{"difficulty": 2}, {}]})
    >>> difficulty_from_questions(qs).values.tolist()
    [['t', 'a', 2]]
    """
    vals = [m.get(key) if isinstance(m, dict) else None for m in questions["metadata"]]
    out = questions[KEY].astype(str).assign(difficulty=pd.Series(vals, index=questions.index, dtype=object))
    return out[out["difficulty"].notna()].reset_index(drop=True)


def _regression(
    L: NDArray[np.float64], N: NDArray[np.float64], Y: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """OLS of log10 of each row of Y (R, K) on [1, log10 L, log10 N] (rows of L also (R, K)); coefs (R, 3), r2 (R,).

    Only cells where Y and L are positive and finite enter (log-log, as the paper fits).
    """
    R = Y.shape[0]
    coefs = np.full((R, 3), np.nan)
    r2 = np.full(R, np.nan)
    for r in range(R):
        ok = np.isfinite(Y[r]) & (Y[r] > 0) & np.isfinite(L[r]) & (L[r] > 0)
        if ok.sum() < 4:
            continue
        X = np.column_stack([np.ones(ok.sum()), np.log10(L[r, ok]), np.log10(N[ok])])
        y = np.log10(Y[r, ok])
        beta, *_ = np.linalg.lstsq(X, y, rcond=None)
        if np.linalg.matrix_rank(X) < 3:
            continue
        coefs[r] = beta
        sst = float(((y - y.mean()) ** 2).sum())
        r2[r] = 1.0 - float(((y - X @ beta) ** 2).sum()) / sst if sst > 0 else np.nan
    return coefs, r2


def scaling_analysis(
    df: pd.DataFrame,
    *,
    params: Mapping[str, float] | None = None,
    reference_model: str | None = None,
    n_groups: int = 3,
    difficulty: pd.DataFrame | None = None,
    metric: str = "kl",
    axis: str = "output_tokens",
    delta: float = DEFAULT_DELTA,
    estimator: str | None = None,
    unbiased: bool = False,
    markers: Sequence[str] | None = None,
    n_boot: int = 1000,
    level: float = 0.95,
    rng: np.random.Generator | int | None = 0,
) -> ScalingAnalysis:
    """Bias, variance, incoherence per model size and difficulty group; power-law exponents in N.

    Parameters
    ----------
    df
        Samples of several sizes of one family on the same questions.
    params
        Model → parameter count N; models not in it are parsed from their names (``qwen3-8b``, ``135M``).
        Models with neither are left out.
    reference_model
        Model whose mean lengths define the difficulty groups; default the largest.
    n_groups
        Equal-size difficulty groups of questions sorted by the reference model's mean length.
    difficulty
        Alternatively, a table ``task, question_id, difficulty`` (e.g. from
        :func:`difficulty_from_questions`): one group per difficulty level, in sorted order.
    metric, axis, delta, estimator, unbiased, markers
        As in :func:`hotmess.analysis.incoherence_vs_length`.
    n_boot, level, rng
        Bootstrap over questions, paired across models: a resampled question brings every model's answers.

    Returns
    -------
    ScalingAnalysis

    Raises
    ------
    hotmess.errors.InputError
        Fewer than two models with a known parameter count answered common questions.

    Notes
    -----
    Only questions answered by every sized model (under a budget) are used, so all sizes see the same
    questions. Exponents are least-squares slopes on log-log axes of the group means over models
    (``α = −slope``). Variance falling slower than bias (α_v < α_b) means incoherence grows with scale.
    """
    gen = np.random.default_rng(rng)
    est = resolve_estimator(estimator, metric, unbiased=unbiased)
    q = question_frame(
        df, metric=metric, axis=axis, by=("model", "budget"), delta=delta, estimator=est, markers=markers
    )
    sizes = param_counts(sorted(q["model"].unique()), params)
    q = q[q["model"].isin(list(sizes))]
    if len(sizes) < 2:
        raise InputError(
            f"scaling needs at least two models with known parameter counts, found {len(sizes)}",
            hint="name models like qwen3-8b / smollm2-135m or pass a mapping (--params MODEL=N)",
        )
    ref = reference_model or max(sizes, key=lambda m: sizes[m])
    if ref not in sizes:
        raise InputError(f"reference model {ref!r} has no parameter count or no samples", hint="check the name")
    cell_rows, fit_rows, reg_rows = [], [], []
    for (kind, budget), qb in q.groupby(["kind", "budget"], sort=True):
        models = sorted(set(qb["model"]), key=lambda m: sizes[m])
        if len(models) < 2:
            continue
        wide = {m: qb[qb["model"] == m].set_index(KEY) for m in models}
        common = wide[models[0]].index
        for m in models[1:]:
            common = common.intersection(wide[m].index)
        if len(common) == 0:
            continue
        common = common.sort_values()
        if difficulty is not None:
            lab = difficulty.astype({"task": str, "question_id": str}).set_index(KEY)["difficulty"]
            lab = lab.reindex(common)
            levels = sorted(lab.dropna().unique().tolist())
            group = np.array([levels.index(v) if pd.notna(v) else -1 for v in lab])
            names = [str(v) for v in levels]
        else:
            if ref not in wide:
                continue
            group = equal_buckets(wide[ref].loc[common, "length"].to_numpy(), n_groups)
            names = [str(g) for g in range(int(group.max()) + 1)]
        Qc = len(common)
        W = boot_weights(Qc, n_boot, gen)
        G = len(names)
        members = group[:, None] == np.arange(G)[None, :]
        N = np.array([sizes[m] for m in models])
        stats = {m: weighted_stats(W, wide[m].loc[common].reset_index(), members) for m in models}
        for gi, name in enumerate(names):
            for m in models:
                st = stats[m]
                row = {"kind": kind, "budget": budget, "group": gi, "group_label": name, "model": m}
                row |= {"params": sizes[m], "n_questions": int(members[:, gi].sum())}
                row["length"] = float(st["length"][0, gi])
                cell_rows.append(fill_stats(row, st, gi, level, STATS))
            frow: dict[str, object] = {"kind": kind, "budget": budget, "group": gi, "group_label": name}
            frow["n_models"] = len(models)
            n_group = int(members[:, gi].sum())  # questions behind the fit: the t interval's degrees of freedom + 1
            for s, sign, col in (("bias", -1, "bias_exponent"), ("variance", -1, "variance_exponent")):
                Y = np.column_stack([stats[m][s][:, gi] for m in models])  # (1 + B, M)
                fit = fit_power_law(N, Y[0])
                sl = sign * slopes(np.broadcast_to(N, Y.shape).copy(), Y)
                frow[col], frow[f"{col}_r2"] = float(sl[0]), fit.r2
                if n_boot > 0:
                    frow[f"{col}_low"], frow[f"{col}_high"] = t_interval(float(sl[0]), sl[1:], level, n_group)
            Y = np.column_stack([stats[m]["incoherence"][:, gi] for m in models])
            sl = slopes(np.broadcast_to(N, Y.shape).copy(), Y)
            frow["incoherence_slope"] = float(sl[0])
            if n_boot > 0:
                lo_hi = t_interval(float(sl[0]), sl[1:], level, n_group)
                frow["incoherence_slope_low"], frow["incoherence_slope_high"] = lo_hi
                frow["verdict"] = verdict(float(sl[0]), *lo_hi, what="incoherence changing with size")
            fit_rows.append(frow)
        # Regression over the (model, group) cells of this budget.
        Lc = np.concatenate([stats[m]["length"] for m in models], axis=1)  # (1 + B, M·G)
        Yc = np.concatenate([stats[m]["incoherence"] for m in models], axis=1)
        Nc = np.repeat(N, G)
        coefs, r2 = _regression(Lc, Nc, Yc)
        for j, term in enumerate(("intercept", "log10_length", "log10_params")):
            row = {"kind": kind, "budget": budget, "term": term, "coef": float(coefs[0, j]), "r2": float(r2[0])}
            row["n_cells"] = int((np.isfinite(Yc[0]) & (Yc[0] > 0) & np.isfinite(Lc[0]) & (Lc[0] > 0)).sum())
            if n_boot > 0:
                row["coef_low"], row["coef_high"] = t_interval(float(coefs[0, j]), coefs[1:, j], level, Qc)
            reg_rows.append(row)
    if not cell_rows:
        raise InputError(
            "no questions were answered by two or more sized models under the same budget",
            hint="sample every model on the same task and budget",
        )
    return ScalingAnalysis(
        cells=pd.DataFrame(cell_rows),
        fits=pd.DataFrame(fit_rows),
        regression=pd.DataFrame(reg_rows),
        params=sizes,
        reference_model=None if difficulty is not None else ref,
    )
