"""Survey: raters rank entities by attributes (intelligence, coherence); mean ranks, correlation (SPEC §3.7)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from hotmess.errors import InputError

__all__ = ["SURVEY_COLUMNS", "SurveyAnalysis", "read_survey", "survey_analysis"]

SURVEY_COLUMNS = ("entity", "rater", "attribute", "rank")
"""One row per (entity, rater, attribute): the rank the rater gave the entity on that attribute."""


@dataclass(frozen=True)
class SurveyAnalysis:
    """Result of :func:`survey_analysis`.

    Attributes
    ----------
    ranks
        One row per (attribute, entity): ``mean_rank``, ``sem`` (standard error over raters), ``n_raters``.
    correlations
        One row per pair of attributes: Spearman ``rho`` of the entities' mean ranks, ``p_value``,
        ``n_entities``.
    """

    ranks: pd.DataFrame
    correlations: pd.DataFrame


def read_survey(path: str | Path) -> pd.DataFrame:
    """Read rank data (CSV, JSONL or Parquet) with the columns of :data:`SURVEY_COLUMNS`."""
    p = Path(path)
    if not p.exists():
        raise InputError(f"{p} does not exist", hint="check the survey path")
    suffix = p.suffix.lower()
    if suffix == ".csv":
        df = pd.read_csv(p)
    elif suffix in (".jsonl", ".ndjson"):
        df = pd.read_json(p, lines=True)
    elif suffix in (".parquet", ".pq"):
        df = pd.read_parquet(p)
    else:
        raise InputError(f"{p}: unsupported survey file type '{suffix}'", hint="use .csv, .jsonl or .parquet")
    return df


def survey_analysis(df: pd.DataFrame) -> SurveyAnalysis:
    """Mean rank with standard error per entity and attribute; Spearman correlation between attributes.

    Parameters
    ----------
    df
        Columns ``entity``, ``rater``, ``attribute``, ``rank`` (lower = more, or any consistent order).

    Returns
    -------
    SurveyAnalysis

    Examples
    --------
    >>> df = pd.DataFrame({"entity": list("abcabc"), "rater": [1, 1, 1, 2, 2, 2],
    ...                    "attribute": "intelligence", "rank": [1, 2, 3, 1, 3, 2]})
    >>> df = pd.concat([df, df.assign(attribute="coherence", rank=[3, 2, 1, 3, 1, 2])])
    >>> res = survey_analysis(df)
    >>> res.ranks.query("attribute == 'intelligence'")["mean_rank"].tolist()
    [1.0, 2.5, 2.5]
    >>> float(res.correlations["rho"][0])
    -1.0
    """
    df = df.rename(columns={c: str(c).strip().lower() for c in df.columns})
    missing = [c for c in SURVEY_COLUMNS if c not in df.columns]
    if missing:
        raise InputError(
            f"survey data lacks column(s) {', '.join(missing)}", hint=f"give {', '.join(SURVEY_COLUMNS)} per row"
        )
    df = df.assign(rank=pd.to_numeric(df["rank"], errors="coerce"))
    if df["rank"].isna().any():
        raise InputError("survey data has non-numeric ranks", hint="ranks must be numbers")
    df = df.astype({"entity": str, "attribute": str})
    dup = df.duplicated(subset=["entity", "rater", "attribute"])
    if dup.any():
        i = int(np.flatnonzero(dup.to_numpy())[0])
        raise InputError(
            f"survey row {i + 1}: rater {df['rater'].iloc[i]!r} ranks {df['entity'].iloc[i]!r} on "
            f"{df['attribute'].iloc[i]!r} twice",
            hint="give one rank per rater, entity and attribute (duplicates would shrink the standard errors)",
        )
    from scipy.stats import spearmanr  # scipy.stats takes a second to import: not with hotmess itself

    g = df.groupby(["attribute", "entity"], sort=True)["rank"]
    ranks = pd.DataFrame({"mean_rank": g.mean(), "sem": g.sem(ddof=1), "n_raters": g.size()}).reset_index()
    wide = ranks.pivot(index="entity", columns="attribute", values="mean_rank")
    rows = []
    for a, b in itertools.combinations(sorted(wide.columns), 2):
        pair = wide[[a, b]].dropna()
        if len(pair) >= 3 and pair[a].nunique() > 1 and pair[b].nunique() > 1:
            res = spearmanr(pair[a], pair[b])
            rho, p = float(res.statistic), float(res.pvalue)
        else:
            rho, p = float("nan"), float("nan")
        rows.append({"attribute_a": a, "attribute_b": b, "rho": rho, "p_value": p, "n_entities": len(pair)})
    corr = pd.DataFrame(rows, columns=["attribute_a", "attribute_b", "rho", "p_value", "n_entities"])
    ranks["sem"] = ranks["sem"].astype(float).where(ranks["n_raters"] > 1, np.nan)
    return SurveyAnalysis(ranks=ranks, correlations=corr)
