"""Constants of the analyses that need neither numpy nor pandas.

The ``hotmess`` command reads them when it registers its options (defaults, help text), so they live apart from
the table code; the public modules re-export them (``GROUP_COLUMNS`` from :mod:`hotmess.analysis.summary`,
``DEFAULT_MARKERS`` from :mod:`hotmess.analysis.structure`, ``LENGTH_COLUMNS`` from
:mod:`hotmess.analysis.open_ended`).
"""

from __future__ import annotations

__all__ = ["DEFAULT_MARKERS", "GROUP_COLUMNS", "LENGTH_COLUMNS"]

GROUP_COLUMNS = ("model", "task", "budget")
"""Columns results can be grouped by."""

DEFAULT_MARKERS: tuple[str, ...] = ("wait", "hmm", "actually", "alternatively")
"""Words that mark backtracking or second thoughts in a reasoning trace (matched as whole words, any case)."""

LENGTH_COLUMNS = ("output_tokens", "reasoning_tokens", "actions")
"""Length axes an open-ended or test-vector question can be sorted by (the mean over its samples)."""
