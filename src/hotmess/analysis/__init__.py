"""Analyses of a samples table: summaries, length buckets, overthinking, budgets, ensembles, scaling.

Each analysis of SPEC §3 is one function that takes a samples table (see :mod:`hotmess.data`) and returns
tidy DataFrames (or a frozen dataclass of them); :mod:`hotmess.analysis.simulate` makes samples whose bias
and variance are known by construction, to check the methods.

Importing this package does not import numpy or pandas: the functions and classes load with their module on
first use (PEP 562), so that ``hotmess --help`` starts fast. The constants the command line needs load at once.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

from hotmess.analysis._constants import DEFAULT_MARKERS, GROUP_COLUMNS
from hotmess.metrics.estimators import ESTIMATORS

if TYPE_CHECKING:
    from hotmess.analysis._questions import KINDS, LeftOutWarning, sample_kinds
    from hotmess.analysis.budgets import budget_effects, budget_order
    from hotmess.analysis.changes import CHANGE_KINDS, answer_changes
    from hotmess.analysis.compare import CompareResult, compare_groups
    from hotmess.analysis.difficulty import incoherence_by_difficulty
    from hotmess.analysis.ensembles import EnsembleAnalysis, ensemble_analysis, ensemble_probs
    from hotmess.analysis.fits import PowerLawFit, fit_power_law, param_counts, parse_param_count
    from hotmess.analysis.guardrails import Guardrail, guardrails, verdict
    from hotmess.analysis.length import LengthAnalysis, equal_buckets, incoherence_vs_length
    from hotmess.analysis.overthinking import HALVES, check_exact_lengths, natural_overthinking, split_at_median
    from hotmess.analysis.scaling import ScalingAnalysis, difficulty_from_questions, scaling_analysis
    from hotmess.analysis.simulate import design_answers, design_probs, simulate_samples
    from hotmess.analysis.structure import backtracking_markers, invalid_rates, marker_table
    from hotmess.analysis.summary import QUESTION_UNIT, TableSummary, summarize_samples
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
    "CompareResult",
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
    "compare_groups",
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

_LAZY: dict[str, str] = {
    "KINDS": "_questions",
    "LeftOutWarning": "_questions",
    "sample_kinds": "_questions",
    "budget_effects": "budgets",
    "budget_order": "budgets",
    "CHANGE_KINDS": "changes",
    "answer_changes": "changes",
    "CompareResult": "compare",
    "compare_groups": "compare",
    "incoherence_by_difficulty": "difficulty",
    "EnsembleAnalysis": "ensembles",
    "ensemble_analysis": "ensembles",
    "ensemble_probs": "ensembles",
    "PowerLawFit": "fits",
    "fit_power_law": "fits",
    "param_counts": "fits",
    "parse_param_count": "fits",
    "Guardrail": "guardrails",
    "guardrails": "guardrails",
    "verdict": "guardrails",
    "LengthAnalysis": "length",
    "equal_buckets": "length",
    "incoherence_vs_length": "length",
    "HALVES": "overthinking",
    "check_exact_lengths": "overthinking",
    "natural_overthinking": "overthinking",
    "split_at_median": "overthinking",
    "ScalingAnalysis": "scaling",
    "difficulty_from_questions": "scaling",
    "scaling_analysis": "scaling",
    "design_answers": "simulate",
    "design_probs": "simulate",
    "simulate_samples": "simulate",
    "backtracking_markers": "structure",
    "invalid_rates": "structure",
    "marker_table": "structure",
    "QUESTION_UNIT": "summary",
    "TableSummary": "summary",
    "summarize_samples": "summary",
    "SURVEY_COLUMNS": "survey",
    "SurveyAnalysis": "survey",
    "read_survey": "survey",
    "survey_analysis": "survey",
}
"""Public name → the submodule that defines it, imported on first access."""


if not TYPE_CHECKING:  # type checkers see the imports above instead, so a misspelt name stays an error

    def __getattr__(name: str) -> Any:
        """Import the submodule of a public name on first access (PEP 562) and keep the name here."""
        module = _LAZY.get(name)
        if module is None:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
        globals()[name] = value
        return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


class _Package(types.ModuleType):
    """This package, keeping :func:`guardrails` the function when its submodule of the same name is imported.

    Importing a submodule binds it as an attribute of its package: the submodule ``guardrails`` (first imported
    by whatever needs :func:`verdict`) would replace the function of the same name.
    """

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _LAZY and isinstance(value, types.ModuleType):
            return  # the public name keeps its value; the submodule stays in sys.modules
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
