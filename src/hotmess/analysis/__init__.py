"""Analyses of a samples table: summaries, length buckets, overthinking, budgets, ensembles, scaling."""

from hotmess.analysis.summary import GROUP_COLUMNS, QUESTION_UNIT, TableSummary, summarize_samples

__all__ = ["GROUP_COLUMNS", "QUESTION_UNIT", "TableSummary", "summarize_samples"]
