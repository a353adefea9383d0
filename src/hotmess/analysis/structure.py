"""Reasoning structure: backtracking markers in raw outputs, and invalid-format rates."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

import numpy as np
import pandas as pd

from hotmess.analysis._constants import DEFAULT_MARKERS

__all__ = ["DEFAULT_MARKERS", "backtracking_markers", "invalid_rates", "marker_table"]

_WORD = re.compile(r"\w+")


@lru_cache(maxsize=32)
def _pattern(markers: tuple[str, ...]) -> re.Pattern[str]:
    words = [m for m in markers if m.strip()]
    if not words:  # an empty alternative would match between any two characters and count nonsense
        raise ValueError(f"markers: expected at least one non-empty word, got {list(markers)}")
    alt = "|".join(re.escape(m) for m in sorted(words, key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:{alt})(?!\w)", re.IGNORECASE)


def backtracking_markers(
    texts: pd.Series | Sequence[str], *, markers: Sequence[str] | None = None, normalize: bool = False
) -> pd.Series:
    """Backtracking markers per text: how often "Wait", "Hmm", "Actually", "Alternatively" occur.

    Parameters
    ----------
    texts
        Raw model outputs.
    markers
        Words or phrases to count (whole-word, case-insensitive); default :data:`DEFAULT_MARKERS`. Empty
        entries are ignored; a ``ValueError`` is raised when none is left.
    normalize
        Return the share of words that are markers instead of the count (0 for an empty text).

    Returns
    -------
    Series
        Counts (int) or shares (float), aligned with ``texts``.

    Examples
    --------
    >>> backtracking_markers(["Wait, no. Hmm... actually 3.", "awaiting: 2", ""]).tolist()
    [3, 0, 0]
    >>> backtracking_markers(["wait one two three"], normalize=True).tolist()
    [0.25]
    """
    s = texts if isinstance(texts, pd.Series) else pd.Series(list(texts), dtype=object)
    s = s.fillna("").astype(str)
    pat = _pattern(tuple(markers) if markers is not None else DEFAULT_MARKERS)
    counts = s.map(lambda t: len(pat.findall(t))).astype(np.int64)
    if not normalize:
        return counts
    words = s.map(lambda t: len(_WORD.findall(t))).astype(float)
    return (counts / words.where(words > 0)).fillna(0.0)


def marker_table(
    df: pd.DataFrame, *, markers: Sequence[str] | None = None, by: Sequence[str] = ("model", "budget")
) -> pd.DataFrame:
    """Mean backtracking markers per sample and per word, and the share of samples with any, per group.

    Examples
    --------
    >>> df = pd.DataFrame({"model": "m", "budget": "", "raw_output": ["Wait. A", "B", "Hmm, wait: C"],
    ...                    "error": None})
    >>> marker_table(df)[["markers_per_sample", "share_with_markers"]].round(3).values.tolist()
    [[1.0, 0.667]]
    """
    live = df[df["error"].isna()] if "error" in df.columns else df
    counts = backtracking_markers(live["raw_output"], markers=markers)
    shares = backtracking_markers(live["raw_output"], markers=markers, normalize=True)
    frame = live[list(by)].assign(_n=counts.to_numpy(), _share=shares.to_numpy())
    g = frame.groupby(list(by), sort=True)
    out = pd.DataFrame(
        {
            "n_samples": g.size(),
            "markers_per_sample": g["_n"].mean(),
            "marker_share": g["_share"].mean(),
            "share_with_markers": g["_n"].apply(lambda x: float((x > 0).mean())),
        }
    )
    return out.reset_index()


def _wilson(k: np.ndarray, n: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    from scipy.stats import norm  # scipy.stats takes a second to import: only when an interval is asked for

    z = float(norm.ppf(0.5 + level / 2.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        p = k / n
        den = 1.0 + z * z / n
        mid = (p + z * z / (2 * n)) / den
        half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return np.clip(mid - half, 0.0, 1.0), np.clip(mid + half, 0.0, 1.0)


def invalid_rates(df: pd.DataFrame, *, by: Sequence[str] = ("model", "budget"), level: float = 0.95) -> pd.DataFrame:
    """Invalid-format rate (no extractable answer) per group, with a Wilson interval; error rows apart.

    Error rows (failures that survived retries) are not samples of the model's behaviour: they are counted in
    ``n_error_rows`` and excluded from the rate. Test-vector runs have no answer format to be invalid and are left
    out (rows with ``test_outcomes``).

    Examples
    --------
    >>> df = pd.DataFrame({"model": "m", "budget": "", "valid": [True, False, True, False],
    ...                    "error": [None, None, None, "timeout"]})
    >>> r = invalid_rates(df)
    >>> r[["n_samples", "n_invalid", "n_error_rows"]].values.tolist(), round(float(r["invalid_rate"][0]), 3)
    ([[3, 1, 1]], 0.333)
    """
    if "test_outcomes" in df.columns:
        df = df[df["test_outcomes"].map(lambda v: v is None or (isinstance(v, float) and np.isnan(v)))]
    err = df["error"].notna() if "error" in df.columns else pd.Series(False, index=df.index)
    frame = df[list(by)].assign(_err=err.to_numpy(), _inv=(~df["valid"].astype(bool) & ~err).to_numpy())
    g = frame.groupby(list(by), sort=True)
    out = pd.DataFrame(
        {"n_samples": g.size() - g["_err"].sum(), "n_invalid": g["_inv"].sum(), "n_error_rows": g["_err"].sum()}
    ).reset_index()
    n = out["n_samples"].to_numpy(float)
    k = out["n_invalid"].to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["invalid_rate"] = np.where(n > 0, k / n, np.nan)
    lo, hi = _wilson(k, n, level)
    out["invalid_rate_low"], out["invalid_rate_high"] = lo, hi
    for c in ("n_samples", "n_invalid", "n_error_rows"):
        out[c] = out[c].astype(np.int64)
    return out
