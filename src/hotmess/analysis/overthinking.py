"""Natural overthinking: split each question's samples at its median length and compare the halves (SPEC §3.2)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from hotmess.analysis._questions import (
    STATS,
    UNIT,
    bootstrap_weights,
    check_by,
    check_metric,
    decompose_frame,
    groups_of,
    interval,
    sample_lengths,
    weighted_stats,
)
from hotmess.data.frames import scored_samples
from hotmess.errors import InputError
from hotmess.metrics import DEFAULT_DELTA

__all__ = ["HALVES", "natural_overthinking", "split_at_median"]

HALVES = ("short", "long", "long − short")
"""Row labels of :func:`natural_overthinking`: below the median, at or above it, and their difference."""


def split_at_median(df: pd.DataFrame, lengths: pd.Series, *, by: Sequence[str] = ("model", "budget")) -> pd.Series:
    """``"short"`` (below the question's median length) or ``"long"`` (at or above) per sample; NaN lengths → NA.

    The median is taken per model, budget and question (and per any further ``by`` column).

    Examples
    --------
    >>> df = pd.DataFrame({"model": "m", "budget": "", "task": "t", "question_id": "q"}, index=range(4))
    >>> split_at_median(df, pd.Series([10.0, 40.0, 20.0, 30.0])).tolist()
    ['short', 'long', 'short', 'long']
    """
    keys = list(dict.fromkeys([*by, *UNIT]))
    med = lengths.groupby([df[k] for k in keys]).transform("median")
    half = pd.Series(np.where(lengths < med, "short", "long"), index=df.index, dtype=object)
    return half.where(lengths.notna())


def natural_overthinking(
    df: pd.DataFrame,
    *,
    metric: str = "kl",
    axis: str = "output_tokens",
    by: Sequence[str] = ("model", "budget"),
    delta: float = DEFAULT_DELTA,
    unbiased: bool = False,
    markers: Sequence[str] | None = None,
    n_boot: int = 1000,
    level: float = 0.95,
    rng: np.random.Generator | int | None = 0,
) -> pd.DataFrame:
    """Decomposition and accuracy of the shorter and the longer half of each question's samples.

    Parameters
    ----------
    df
        Samples in the hotmess schema.
    metric, axis, by, delta, unbiased, markers
        As in :func:`hotmess.analysis.incoherence_vs_length`.
    n_boot, level, rng
        Paired bootstrap over questions: a question's two halves are drawn together, which gives the CI of
        the difference.

    Returns
    -------
    DataFrame
        Three rows per group, ``half`` ∈ ``short``, ``long``, ``long − short``, with ``n_questions``,
        ``n_samples`` (of the half; both halves for the difference), ``length`` (mean), bias, variance, error,
        incoherence, accuracy and their CIs.

    Notes
    -----
    Samples below their question's median length form the short half, samples at or above it the long
    half. Questions where one half is empty (all samples equally long) are left out; ``n_questions`` says how
    many remained.

    Examples
    --------
    >>> from hotmess.analysis.simulate import simulate_samples
    >>> def halves(a, b):  # 20 questions; samples 0-14 get ``a``, samples 15-29 get ``b``
    ...     return np.tile(np.r_[[a] * 15, [b] * 15], (20, 1))
    >>> b, v, lengths = halves(0.6, 0.3), halves(0.3, 0.6), halves(100.0, 300.0)
    >>> res = natural_overthinking(simulate_samples(b, v, lengths=lengths, rng=1), metric="brier", n_boot=0)
    >>> res["half"].tolist()
    ['short', 'long', 'long − short']
    """
    check_metric(metric)
    by = check_by(by)
    scored = scored_samples(df)
    if scored.empty:
        raise InputError("no scorable samples", hint="every row is an error row or has no correct option")
    lengths = sample_lengths(scored, axis, markers=markers)
    half = split_at_median(scored, lengths, by=by)
    scored = scored.assign(_half=half.to_numpy(), _length=lengths.to_numpy())
    scored = scored[scored["_half"].notna()]
    gen = np.random.default_rng(rng)
    rows = []
    for labels, frame in groups_of(scored, by):
        parts = {}
        for name in ("short", "long"):
            sub = frame[frame["_half"] == name]
            if sub.empty:
                break
            q = decompose_frame(sub, metric, delta=delta, unbiased=unbiased)
            ln = sub.groupby(UNIT, sort=False)["_length"].mean().rename("length").reset_index()
            parts[name] = q.merge(ln.astype({k: str for k in UNIT}), on=UNIT)
        if len(parts) < 2:
            continue
        both = parts["short"].merge(parts["long"], on=UNIT, suffixes=("_short", "_long"))
        if both.empty:
            continue
        n = len(both)
        W = np.vstack([np.ones((1, n)), bootstrap_weights(n, n_boot, gen)]) if n_boot > 0 else np.ones((1, n))
        stats = {}
        for name in ("short", "long"):
            cols = {f"{c}_{name}": c for c in ("bias", "variance", "error", "accuracy", "length", "n_samples")}
            sub = both[list(cols)].rename(columns=cols)
            stats[name] = weighted_stats(W, sub, np.ones((n, 1), dtype=bool))
        stats["long − short"] = {k: stats["long"][k] - stats["short"][k] for k in stats["long"]}
        for name in HALVES:
            st = stats[name]
            n_samples = (
                int(both[f"n_samples_{name}"].sum())
                if name in ("short", "long")
                else int(both["n_samples_long"].sum() + both["n_samples_short"].sum())  # what the difference uses
            )
            row = {
                **labels,
                "half": name,
                "n_questions": n,
                "n_samples": n_samples,
                "length": float(st["length"][0, 0]),
            }
            for s in STATS:
                row[s] = float(st[s][0, 0])
                if n_boot > 0:
                    row[f"{s}_low"], row[f"{s}_high"] = interval(st[s][1:, 0], level)
            rows.append(row)
    return pd.DataFrame(rows)
