"""Analyses of a samples table: summaries, length buckets, overthinking, budgets, ensembles, scaling.

Each analysis of SPEC §3 is one function that takes a samples table (see :mod:`hotmess.data`) and returns
tidy DataFrames (or a frozen dataclass of them); :mod:`hotmess.analysis.simulate` makes samples whose bias
and variance are known by construction, to check the methods.
"""

from hotmess.analysis._questions import ESTIMATORS, KINDS, LeftOutWarning, sample_kinds
from hotmess.analysis.budgets import budget_effects, budget_order
from hotmess.analysis.changes import CHANGE_KINDS, answer_changes
from hotmess.analysis.difficulty import incoherence_by_difficulty
from hotmess.analysis.ensembles import EnsembleAnalysis, ensemble_analysis, ensemble_probs
from hotmess.analysis.fits import PowerLawFit, fit_power_law, param_counts, parse_param_count
from hotmess.analysis.guardrails import Guardrail, guardrails, verdict
from hotmess.analysis.length import LengthAnalysis, equal_buckets, incoherence_vs_length
from hotmess.analysis.overthinking import HALVES, check_exact_lengths, natural_overthinking, split_at_median
from hotmess.analysis.scaling import ScalingAnalysis, difficulty_from_questions, scaling_analysis
from hotmess.analysis.simulate import design_answers, design_probs, simulate_samples
from hotmess.analysis.structure import DEFAULT_MARKERS, backtracking_markers, invalid_rates, marker_table
from hotmess.analysis.summary import GROUP_COLUMNS, QUESTION_UNIT, TableSummary, summarize_samples
from hotmess.analysis.survey import SURVEY_COLUMNS, SurveyAnalysis, read_survey, survey_analysis

__all__ = [
    "CHANGE_KINDS",
    "DEFAULT_MARKERS",
    "ESTIMATORS",
    "GROUP_COLUMNS",
    "HALVES",
    "KINDS",
    "QUESTION_UNIT",
    "SURVEY_COLUMNS",
    "EnsembleAnalysis",
    "Guardrail",
    "LeftOutWarning",
    "LengthAnalysis",
    "PowerLawFit",
    "ScalingAnalysis",
    "SurveyAnalysis",
    "TableSummary",
    "answer_changes",
    "backtracking_markers",
    "budget_effects",
    "budget_order",
    "check_exact_lengths",
    "design_answers",
    "design_probs",
    "difficulty_from_questions",
    "ensemble_analysis",
    "ensemble_probs",
    "equal_buckets",
    "fit_power_law",
    "guardrails",
    "incoherence_by_difficulty",
    "incoherence_vs_length",
    "invalid_rates",
    "marker_table",
    "natural_overthinking",
    "param_counts",
    "parse_param_count",
    "read_survey",
    "sample_kinds",
    "scaling_analysis",
    "simulate_samples",
    "split_at_median",
    "summarize_samples",
    "survey_analysis",
    "verdict",
]
