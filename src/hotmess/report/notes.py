"""Method notes shown under each section of the report (plain text; the HTML renderer escapes it)."""

from __future__ import annotations

__all__ = ["INTRO", "METHODS"]

INTRO = (
    "Each question was answered many times under test-time randomness (few-shot contexts and sampling seeds). "
    "Per question, the error splits into bias (consistently wrong: the same wrong answer every time) and "
    "variance (inconsistently wrong). Incoherence is the share of the error that is variance, computed over a "
    "set of questions as Σ variance / Σ error. Intervals resample whole questions: percentile intervals for "
    "levels; for differences and fitted slopes or exponents, the bootstrap standard error times Student's t "
    "(checked to cover a planted zero at the nominal rate). Multiple-choice, open-ended and test-vector samples "
    "are analysed apart, never pooled."
)

METHODS: dict[str, str] = {
    "overview": (
        "Bias, variance, error, incoherence and accuracy over all questions, and per model / budget / task where "
        "those vary. KL: normalized geometric mean prediction, smoothing δ; Brier: arithmetic mean prediction."
    ),
    "length": (
        "A question's length is the mean over its samples on the chosen axis. Questions are sorted by length and "
        "cut into equal-size buckets (per model, or by a reference model's lengths). Per bucket: bias, variance, "
        "error, incoherence (Σ variance / Σ error) and accuracy. A power law incoherence ∝ length^α is fitted by "
        "least squares on log-log axes over the buckets; R² is on the log scale; the interval on α comes from "
        "resampling questions (each keeps its bucket) and refitting."
    ),
    "overthinking": (
        "Each question's samples are cut at the median length into two halves of equal size (samples of equal "
        "length are ordered at random; with an odd count the middle sample is left out), so the plug-in variance "
        "of the two halves is comparable. Each half is decomposed on its own; the long − short row is the paired "
        "difference, with the bootstrap standard error over questions (both halves of a question resampled "
        "together) times Student's t quantile. Questions whose samples all have one length are left out; "
        "per-sample token counts that are only estimates are refused."
    ),
    "budgets": (
        "The same questions under several reasoning budgets (only questions answered under every budget of a "
        "model). Budgets are ordered default < minimal < low < medium < high < numeric caps. The overthinking "
        "columns give the long − short difference within each budget, for comparison with the effect of a larger "
        "budget."
    ),
    "ensembles": (
        "Each question's samples are shuffled and cut into non-overlapping ensembles of E samples (E = 1, 2, 4, …, "
        "as far as the samples allow); an ensemble's prediction is the mean of its members' probability vectors. "
        "The same number of ensembles is used for every E, so plug-in variances are comparable. For independent "
        "samples the variance falls ∝ 1/E (slope −1 on log-log axes) while the Brier bias stays flat."
    ),
    "scaling": (
        "Several sizes of one family on the same questions (only questions every sized model answered). "
        "Questions are grouped into equal-size difficulty groups by the reference model's mean length (default: "
        "the largest model), or by the questions' difficulty metadata. Per group, bias ∝ N^−α_b and variance ∝ "
        "N^−α_v are fitted on log-log axes; intervals resample questions with all models' answers together. "
        "Variance falling slower than bias (α_v < α_b) means incoherence grows with scale. The regression fits "
        "log10(incoherence) = β₀ + β_L log10(length) + β_N log10(N) over the (model, group) cells. Parameter counts "
        "come from a user mapping or from names such as qwen3-8b or 135M."
    ),
    "difficulty": (
        "Questions grouped by their difficulty level (the store's question metadata 'difficulty', else 'level'). "
        "Per level: bias, variance, error, incoherence (Σ variance / Σ error) and accuracy with intervals from "
        "resampling questions; the trend is the least-squares slope of incoherence over the ordered levels, with "
        "the bootstrap standard error times Student's t and a verdict in words."
    ),
    "answer_changes": (
        "Share of questions with at least one different answer: under reseeding (two samples of the same "
        "context), under a change of context (each context's majority answer), and under both (any two samples). An "
        "invalid answer counts as one more answer value. Intervals are Wilson score intervals."
    ),
    "structure": (
        "Invalid-format rate: samples with no parseable answer (error rows — failures that survived retries — "
        "are counted apart and never scored). Backtracking markers: whole-word, case-insensitive counts of words "
        "such as 'Wait', 'Hmm', 'Actually', 'Alternatively' in each raw output, used as an alternative length "
        "axis."
    ),
    "compare": (
        "Each group is compared with the baseline on the questions both answered (matched on task and question, and "
        "on model or budget where those are not the groups); questions only one of them answered are left out, "
        "with a note. Differences are group − baseline: incoherence as Σ variance / Σ error of each group on the "
        "shared questions, bias, variance, error and accuracy as means. Intervals: the difference ± Student's t "
        "quantile (n − 1 degrees of freedom, n shared questions) × its paired bootstrap standard error (the same "
        "resampled questions for both groups); ratios the same way on the log scale. The p-value is the two-sided "
        "t test of difference / bootstrap standard error, so it is below 1 − level exactly when the interval "
        "excludes 0; with more than two groups it is Holm-corrected over the comparisons of each quantity, and a "
        "difference is called detected when the corrected p is below 1 − level."
    ),
    "survey": (
        "Raters rank entities by attributes (e.g. intelligence and coherence). Per entity and attribute: mean rank "
        "and its standard error over raters; Spearman correlation between attributes over the entities' mean "
        "ranks."
    ),
}
