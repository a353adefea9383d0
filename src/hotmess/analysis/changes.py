"""Answer changes: does a question's answer change under reseeding, a new context, or both? (SPEC §3.6)"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from hotmess.analysis._questions import UNIT, check_by, scored_frame
from hotmess.analysis.structure import _wilson
from hotmess.errors import InputError

__all__ = ["CHANGE_KINDS", "answer_changes"]

CHANGE_KINDS = ("reseeding", "context", "both")
"""``reseeding``: same context, another sample; ``context``: the contexts' majority answers; ``both``: any two."""


def answer_changes(
    df: pd.DataFrame,
    *,
    by: Sequence[str] = ("model", "budget"),
    context_answer: str = "majority",
    sample_index: int = 0,
    invalid: str = "distinct",
    level: float = 0.95,
    rng: np.random.Generator | int | None = 0,
) -> pd.DataFrame:
    """Share of questions with at least one different answer under each kind of test-time randomness.

    Parameters
    ----------
    df
        Samples in the hotmess schema (``context_id`` and ``sample_index`` set).
    by
        Columns that define a group.
    context_answer
        For ``context``: compare each context's ``"majority"`` answer across contexts (the paper's form; a tie
        between answers is broken at random with ``rng``, so ties favour neither agreement nor change), or the
        answer with ``sample_index`` (``"sample"``).
    sample_index
        The sample compared when ``context_answer="sample"``.
    invalid
        ``"distinct"``: an invalid answer is one more answer value (a format failure is a change);
        ``"ignore"``: invalid samples are left out.
    level
        Level of the Wilson interval on each share.
    rng
        Seed or generator for breaking ties between a context's most frequent answers.

    Returns
    -------
    DataFrame
        One row per decomposition ``kind``, group and ``change`` (see :data:`CHANGE_KINDS`) with
        ``n_questions`` (questions where the comparison is possible: a context with two samples, two contexts,
        or two samples), ``n_changed``, ``share`` and ``share_low``/``share_high``, and ``mean_distinct``
        (mean number of distinct answers compared).

    Examples
    --------
    >>> df = pd.DataFrame({"model": "m", "budget": "", "task": "t", "question_id": "q", "n_options": 4,
    ...                    "correct": 0, "error": None, "context_id": [0, 0, 1, 1],
    ...                    "sample_index": [0, 1, 0, 1], "answer": [1, 1, 2, 2], "valid": True})
    >>> answer_changes(df)[["change", "share"]].values.tolist()
    [['reseeding', 0.0], ['context', 1.0], ['both', 1.0]]
    """
    by = check_by(by)
    if invalid not in ("distinct", "ignore"):
        raise ValueError(f"invalid: expected 'distinct' or 'ignore', got {invalid!r}")
    if context_answer not in ("majority", "sample"):
        raise ValueError(f"context_answer: expected 'majority' or 'sample', got {context_answer!r}")
    s = scored_frame(df)
    if invalid == "ignore":
        s = s[s["valid"].astype(bool) | (s["_kind"] == "test-vector")]
    if s.empty:
        raise InputError("no scorable samples", hint="every row is an error row or has no correct option")
    # The answer compared: the option (−1 invalid), or for a test vector the whole outcome vector.
    tests = (s["_kind"] == "test-vector").to_numpy()
    ans = np.where(s["valid"].astype(bool), s["answer"], -1).astype(object)
    if tests.any():
        ans[tests] = [str(tuple(v)) for v in s.loc[tests, "test_outcomes"]]
    s = s.assign(_ans=[str(a) for a in ans], kind=s["_kind"])
    qkey = list(dict.fromkeys(["kind", *by, *UNIT]))  # a question of one model under one budget, never pooled
    # Reseeding: per (question, context) with ≥2 samples, do the answers differ?
    per_ctx = s.groupby([*qkey, "context_id"], sort=False)["_ans"].agg(["nunique", "size"])
    per_ctx = per_ctx[per_ctx["size"] >= 2]
    reseed = per_ctx.groupby(level=qkey, sort=False)["nunique"].agg(
        changed=lambda x: bool((x > 1).any()), distinct="mean"
    )
    # Context: each context's majority answer (or one sample index) across contexts (≥2 contexts).
    if context_answer == "majority":
        gen = np.random.default_rng(rng)
        ctx_key = [*qkey, "context_id"]
        counts = s.groupby([*ctx_key, "_ans"], sort=True).size().rename("_n").reset_index()
        counts["_tie"] = gen.random(len(counts))
        counts = counts.sort_values(["_n", "_tie"], ascending=[False, True], kind="stable")
        one = counts.drop_duplicates(ctx_key, keep="first")  # the most frequent answer, ties at random
    else:
        one = s[s["sample_index"] == sample_index]
    ctx = one.groupby(qkey, sort=False)["_ans"].agg(["nunique", "size"])
    ctx = ctx[ctx["size"] >= 2].rename(columns={"nunique": "distinct"})
    ctx["changed"] = ctx["distinct"] > 1
    # Both: any two samples of the question.
    allq = s.groupby(qkey, sort=False)["_ans"].agg(["nunique", "size"])
    allq = allq[allq["size"] >= 2].rename(columns={"nunique": "distinct"})
    allq["changed"] = allq["distinct"] > 1
    rows = []
    cols = ["kind", *by]
    groups = s[cols].drop_duplicates().sort_values(cols).itertuples(index=False, name=None)
    for labels in groups:
        lab = dict(zip(cols, (str(x) for x in labels), strict=True))
        for change, tab in (("reseeding", reseed), ("context", ctx), ("both", allq)):
            part = tab
            for col, val in lab.items():
                part = part[part.index.get_level_values(col).astype(str) == val]
            n = len(part)
            k = int(part["changed"].sum()) if n else 0
            lo, hi = _wilson(np.array([float(k)]), np.array([float(n)]), level)
            rows.append(
                {
                    **lab,
                    "change": change,
                    "n_questions": n,
                    "n_changed": k,
                    "share": k / n if n else float("nan"),
                    "share_low": float(lo[0]) if n else float("nan"),
                    "share_high": float(hi[0]) if n else float("nan"),
                    "mean_distinct": float(part["distinct"].mean()) if n else float("nan"),
                }
            )
    return pd.DataFrame(rows)
