"""Natural overthinking: split each question's samples into a shorter and a longer half and compare (SPEC §3.2)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from hotmess.analysis._questions import (
    STATS,
    UNIT,
    boot_weights,
    check_by,
    check_metric,
    decompose_frame,
    fill_stats,
    groups_of,
    require_scored,
    resolve_estimator,
    sample_lengths,
    unit_lengths,
    weighted_stats,
)
from hotmess.analysis.guardrails import verdict
from hotmess.data.frames import question_codes
from hotmess.errors import InputError
from hotmess.metrics import DEFAULT_DELTA

__all__ = ["HALVES", "check_exact_lengths", "natural_overthinking", "split_at_median"]

HALVES = ("short", "long", "long − short")
"""Row labels of :func:`natural_overthinking`: the shorter half, the longer half, and their difference."""

_TOKEN_AXES = ("output_tokens", "reasoning_tokens")


def split_at_median(
    df: pd.DataFrame,
    lengths: pd.Series,
    *,
    by: Sequence[str] = ("model", "budget"),
    rng: np.random.Generator | int | None = 0,
) -> pd.Series:
    """``"short"`` or ``"long"`` per sample: each question's samples cut at the median into two equal halves.

    Per question (and per model, budget and any further ``by`` column) the ``n`` samples with a known length
    are ranked by length; the ``⌊n/2⌋`` shortest form the short half and the ``⌊n/2⌋`` longest the long half.
    Samples of equal length are ordered at random (``rng``), so a tie at the median never makes one half
    bigger than the other; with odd ``n`` the middle sample is left out (NA), as are NaN lengths and questions
    whose samples all have one length (nothing to contrast). The random draws follow the samples' own order
    (question, then run, context and sample index), not the rows', so a shuffled table splits the same way.

    Examples
    --------
    >>> df = pd.DataFrame({"model": "m", "budget": "", "task": "t", "question_id": "q"}, index=range(5))
    >>> split_at_median(df, pd.Series([10.0, 40.0, 20.0, 30.0, 25.0])).tolist()
    ['short', 'long', 'short', 'long', nan]
    """
    gen = np.random.default_rng(rng)
    keys = list(dict.fromkeys([*by, *UNIT]))
    L = lengths.to_numpy(dtype=float)
    ok = np.isfinite(L)
    code, pos, _ = question_codes(df, keys)
    # Tie-breakers are drawn in the samples' own order (question, run, context, sample index), not the rows',
    # so the same samples split the same way whatever the order of the rows.
    start = np.r_[0, np.cumsum(np.bincount(code))[:-1]]
    tie = gen.random(len(df))[start[code] + pos]
    order = np.lexsort((tie, L, code))  # by question, then length, ties at random
    order = order[ok[order]]
    if order.size == 0:  # no sample has a length on this axis
        return pd.Series(np.nan, index=df.index, dtype=object)
    c = code[order]
    start = np.r_[0, np.flatnonzero(np.diff(c)) + 1]
    size = np.diff(np.r_[start, c.size])
    rank = np.arange(c.size) - np.repeat(start, size)
    n = np.repeat(size, size)
    Ls = L[order]
    flat = np.repeat(Ls[start] == Ls[start + size - 1], size)  # every length equal: nothing to contrast
    half = np.full(len(df), None, dtype=object)
    half[order[(rank < n // 2) & ~flat]] = "short"
    half[order[(rank >= n - n // 2) & ~flat]] = "long"
    return pd.Series(half, index=df.index, dtype=object).where(pd.notna(half), np.nan)


def check_exact_lengths(scored: pd.DataFrame, axis: str, *, allow_estimated: bool = False) -> None:
    """Refuse per-sample lengths that are estimates (``length_source == "estimated"``) on a token axis.

    One API total split over several choices says nothing reliable about which sample was longer, so an analysis
    that splits samples within a question must not use it (SPEC §2). ``allow_estimated`` forces it.
    """
    if allow_estimated or axis not in _TOKEN_AXES or "length_source" not in scored.columns:
        return
    n = int((scored["length_source"] == "estimated").sum())
    if n:
        raise InputError(
            f"{n} of {len(scored)} samples have estimated per-sample lengths (one API token total split over "
            "several choices), so they cannot be split into short and long halves",
            hint="sample one completion per request (hotmess run --option n_mode=parallel) or with a backend that "
            "has a tokenizer; or force it with --allow-estimated-lengths",
        )


def natural_overthinking(
    df: pd.DataFrame,
    *,
    metric: str = "kl",
    axis: str = "output_tokens",
    by: Sequence[str] = ("model", "budget"),
    delta: float = DEFAULT_DELTA,
    estimator: str | None = None,
    unbiased: bool = False,
    markers: Sequence[str] | None = None,
    allow_estimated_lengths: bool = False,
    n_boot: int = 1000,
    level: float = 0.95,
    rng: np.random.Generator | int | None = 0,
) -> pd.DataFrame:
    """Decomposition and accuracy of the shorter and the longer half of each question's samples.

    Parameters
    ----------
    df
        Samples in the hotmess schema: multiple-choice, open-ended correctness or test-vector rows (the
        paper's SWE-bench split uses ``axis="actions"`` or a token axis on test vectors).
    metric, axis, by, delta, markers
        As in :func:`hotmess.analysis.incoherence_vs_length`.
    estimator
        ``"plugin"`` (default) or ``"corrected"`` (KL jackknife, Brier / test-vector n/(n−1)); ``unbiased=True``
        is the older spelling of ``"corrected"``. The halves have equal sizes, so both compare fairly.
    allow_estimated_lengths
        Split on token counts even where they are estimates (see :func:`check_exact_lengths`).
    n_boot, level, rng
        Paired bootstrap over questions: a question's two halves are drawn together. The halves get percentile
        intervals; the difference gets the paired bootstrap standard error times Student's t quantile (n − 1
        degrees of freedom, n questions), which keeps its coverage on null data at the nominal rate. ``rng``
        also breaks ties in length.

    Returns
    -------
    DataFrame
        Three rows per group (``kind`` first, then ``by``), ``half`` ∈ ``short``, ``long``, ``long − short``,
        with ``n_questions``, ``n_samples`` (of the half; both halves for the difference), ``length`` (mean),
        bias, variance, error, incoherence, accuracy and their CIs, and ``verdict`` (the difference's incoherence
        interval in words, on the ``long − short`` row).

    Notes
    -----
    Each question's samples are cut at the median into two halves of equal size (:func:`split_at_median`).
    Equal sizes matter: the plug-in variance of a group grows with its number of samples (by (n−1)/n for
    Brier), so halves of unequal size show a "difference" on data where answers do not depend on length.
    Questions with fewer than two samples of known length (four under the corrected estimator) are left out;
    ``n_questions`` says how many remained.

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
    est = resolve_estimator(estimator, metric, unbiased=unbiased)
    gen = np.random.default_rng(rng)
    scored = require_scored(df)
    check_exact_lengths(scored, axis, allow_estimated=allow_estimated_lengths)
    lengths = sample_lengths(scored, axis, markers=markers)
    half = split_at_median(scored, lengths, by=by, rng=gen)
    scored = scored.assign(_half=half.to_numpy(), _length=lengths.to_numpy())
    scored = scored[scored["_half"].notna()]
    if scored.empty:
        raise InputError(
            f"no question has two samples of different lengths on the axis {axis!r}", hint="choose another --axis"
        )
    parts = {}
    for name in ("short", "long"):
        sub = scored[scored["_half"] == name]
        q = decompose_frame(sub, metric, delta=delta, estimator=est)
        parts[name] = q.merge(unit_lengths(sub), on=UNIT)
    both = parts["short"].merge(parts["long"], on=["kind", *UNIT], suffixes=("_short", "_long"))
    rows = []
    for labels, frame in groups_of(both, by):
        n = len(frame)
        W = boot_weights(n, n_boot, gen)
        stats = {}
        for name in ("short", "long"):
            cols = {f"{c}_{name}": c for c in ("bias", "variance", "error", "accuracy", "length", "n_samples")}
            stats[name] = weighted_stats(W, frame[list(cols)].rename(columns=cols))
        stats["long − short"] = {k: stats["long"][k] - stats["short"][k] for k in stats["long"]}
        counts = {name: int(frame[f"n_samples_{name}"].sum()) for name in ("short", "long")}
        counts["long − short"] = counts["short"] + counts["long"]  # what the difference uses
        for name in HALVES:
            st = stats[name]
            row = {**labels, "half": name, "n_questions": n, "n_samples": counts[name]}
            row["length"] = float(st["length"][0, 0])
            method = "t" if name == "long − short" else "percentile"
            row = fill_stats(row, st, 0, level, STATS, method=method, n=n)
            if name == "long − short" and n_boot > 0:
                lo, hi = row["incoherence_low"], row["incoherence_high"]
                row["verdict"] = verdict(row["incoherence"], lo, hi, what="a difference")
            else:
                row["verdict"] = ""
            rows.append(row)
    return pd.DataFrame(rows)
