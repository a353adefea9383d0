"""Run every analysis of SPEC §3 on a samples table and collect tables, figures and notes into a :class:`Report`.

A section whose data is absent (one model → no scaling; one budget → no budget comparison; no survey file) is
kept with the reason it was skipped, so the report says what it could not show and why.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hotmess import analysis as an
from hotmess.data import collapse_duplicate_samples, run_protocols
from hotmess.errors import HotmessError, InputError
from hotmess.metrics import DEFAULT_DELTA
from hotmess.report import notes as method_notes
from hotmess.report import plots as plot

__all__ = ["Banner", "Report", "ReportOptions", "Section", "build_report", "load_inputs"]


@dataclass(frozen=True)
class ReportOptions:
    """Options of :func:`build_report` (saved in the report)."""

    metric: str = "kl"
    """Decomposition: kl, brier or hard-kl."""
    axis: str = "output_tokens"
    """Length axis: output_tokens, reasoning_tokens, actions or backtracking."""
    n_buckets: int = 5
    """Equal-size length buckets."""
    reference_model: str | None = None
    """Model whose lengths bucket everyone's questions (None: each model its own; scaling: the largest)."""
    params: dict[str, float] = field(default_factory=dict)
    """Model → parameter count (others are parsed from names like qwen3-8b)."""
    by: tuple[str, ...] | None = None
    """Grouping of the overview, length, overthinking and ensembling sections among model, budget, task
    (None: the overview groups by what varies, the others by model and budget)."""
    n_groups: int = 3
    """Difficulty groups of the scaling analysis."""
    difficulty: str = "length"
    """Scaling groups from the reference model's ``length`` or from question ``metadata`` (difficulty level)."""
    n_boot: int = 1000
    """Bootstrap resamples over questions (0: no CIs)."""
    level: float = 0.95
    """Confidence level."""
    seed: int = 0
    """Seed of the bootstraps and of the ensemble draws."""
    delta: float = DEFAULT_DELTA
    """KL smoothing δ."""
    estimator: str = "plugin"
    """``plugin`` (the paper's) or ``corrected`` (KL jackknife, Brier and test-vector n/(n−1) variance)."""
    allow_estimated_lengths: bool = False
    """Split samples into short/long halves even where per-sample token counts are estimates."""
    markers: tuple[str, ...] = an.DEFAULT_MARKERS
    """Backtracking marker words."""
    n_examples: int = 3
    """Example raw outputs per model."""
    plots: bool = True
    """Draw the figures (needs matplotlib)."""


@dataclass(frozen=True)
class Section:
    """One part of the report: tables, PNG figures, method notes, and notes on the data."""

    key: str
    title: str
    method: str
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    figures: dict[str, bytes] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    skipped: str | None = None


@dataclass(frozen=True)
class Banner:
    """A guardrail: something in the data that limits what the report can conclude (shown first, in words).

    ``level`` is ``"warning"`` (a conclusion may be wrong) or ``"info"``; ``affects`` names the sections whose
    findings it weakens; ``value`` is the measured number behind it (e.g. the invalid rate).
    """

    key: str
    level: str
    message: str
    affects: tuple[str, ...] = ()
    value: float | None = None


@dataclass(frozen=True)
class Report:
    """Everything the HTML report shows; :meth:`tables` flattens the tables for JSON/Parquet export."""

    source: str
    options: ReportOptions
    sections: list[Section]
    runs: pd.DataFrame | None = None
    examples: pd.DataFrame | None = None
    warnings: list[str] = field(default_factory=list)
    banners: list[Banner] = field(default_factory=list)
    """Guardrails computed from the data, shown at the top of the report."""
    samples: pd.DataFrame | None = None
    """Every sample the report analysed (for the sample browser)."""
    questions: pd.DataFrame | None = None
    """The store's questions (text, options, correct option, metadata), when the input was a store."""

    def tables(self) -> dict[str, pd.DataFrame]:
        """``<section>__<table>`` → table, plus ``runs`` and ``examples`` when present."""
        out = {f"{s.key}__{name}": t for s in self.sections for name, t in s.tables.items()}
        if self.runs is not None and not self.runs.empty:
            out["runs"] = self.runs
        if self.examples is not None and not self.examples.empty:
            out["examples"] = self.examples
        return out

    def manifest(self) -> dict[str, Any]:
        """JSON-ready description: source, options, sections with notes and skip reasons, warnings."""
        return {
            "source": self.source,
            "options": asdict(self.options),
            "sections": [
                {"key": s.key, "title": s.title, "skipped": s.skipped, "notes": s.notes, "tables": list(s.tables)}
                for s in self.sections
            ],
            "warnings": self.warnings,
        }


def load_inputs(
    path: str | Path | Sequence[str | Path], *, run_id: str | None = None
) -> tuple[pd.DataFrame, pd.DataFrame | None, pd.DataFrame | None]:
    """Samples, runs and questions of a store (or of several stores and files, one dataset).

    For samples files, runs and questions are None; with several inputs, those of the stores among them.
    A sample key present in two inputs is refused (:func:`hotmess.data.sources.read_many`).
    """
    from hotmess.data import STORE_SUFFIXES, RunStore
    from hotmess.data.sources import read_many

    paths = [Path(path)] if isinstance(path, str | Path) else [Path(p) for p in path]
    df = read_many(paths, run_id=run_id)
    stores = [p for p in paths if p.suffix.lower() in STORE_SUFFIXES]
    if not stores:
        return df, None, None
    runs_parts, question_parts = [], []
    for p in stores:
        with RunStore(p, create=False) as store:
            runs_parts.append(store.runs())
            question_parts.append(store.questions())
    runs = pd.concat(runs_parts, ignore_index=True).drop_duplicates("run_id")
    questions = pd.concat(question_parts, ignore_index=True)
    questions = questions.drop_duplicates([c for c in ("task", "question_id") if c in questions.columns])
    if run_id is not None:
        runs = runs[runs["run_id"] == run_id]
    return df, runs, questions


def _fig(opts: ReportOptions, make: Callable[[], Any]) -> bytes | None:
    if not opts.plots:
        return None
    from hotmess.report.plots import to_png

    return to_png(make())


_LABELS = ("kind", "model", "budget", "metric", "group_label")


def _verdicts(fits: pd.DataFrame, name: str, col: str) -> list[str]:
    """One sentence per fitted row: the estimate, its interval, and the verdict in words."""
    out = []
    for _, r in fits.iterrows():
        who = " / ".join(str(r[c]) for c in _LABELS if c in r.index and str(r[c]) not in ("", "nan"))
        v = r.get("verdict", "")
        if not isinstance(v, str) or not v:
            continue
        est = r.get(col)
        head = f"{who}: {name} = {est:.3g}" if isinstance(est, float) and np.isfinite(est) else f"{who}: {name}"
        out.append(f"{head} — {v}")
    return out


_ESSENTIAL = ("group", "n_questions", "incoherence", "accuracy", "invalid_rate", "bias", "variance", "error")


def _essentials_first(t: pd.DataFrame) -> pd.DataFrame:
    """The columns a reader needs first (incoherence and accuracy with their intervals), the rest after."""
    first = [c for e in _ESSENTIAL for c in (e, f"{e}_low", f"{e}_high") if c in t.columns]
    return t[first + [c for c in t.columns if c not in first]]


def _robustness(df: pd.DataFrame, o: ReportOptions) -> pd.DataFrame:
    """The headline under each choice the reader might make: KL (several δ) and Brier, side by side."""
    rows = []
    for metric, delta in (("kl", DEFAULT_DELTA), ("kl", 1e-6), ("kl", 1e-3), ("kl", 1e-2), ("brier", DEFAULT_DELTA)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = an.summarize_samples(df, metric, by=[], delta=delta, n_boot=o.n_boot, level=o.level, rng=o.seed)
        for kind, s in res.kinds:
            ci = s.ci.get("incoherence")
            label = "brier" if metric == "brier" else f"kl, δ = {delta:g}"
            if kind == "test-vector" and metric != "brier":
                continue  # one decomposition for test vectors: listed once, on the brier row
            rows.append(
                {
                    "kind": kind,
                    "metric": "test-vector" if kind == "test-vector" else label,
                    "incoherence": s.incoherence,
                    "incoherence_low": ci.low if ci else float("nan"),
                    "incoherence_high": ci.high if ci else float("nan"),
                    "bias": s.bias,
                    "variance": s.variance,
                }
            )
    return pd.DataFrame(rows)


def _with_attrs(part: pd.DataFrame, whole: pd.DataFrame) -> pd.DataFrame:
    part = part.copy()
    part.attrs.update(whole.attrs)
    return part


def _section(
    key: str,
    title: str,
    body: Callable[[], tuple[dict[str, pd.DataFrame], dict[str, bytes | None], list[str]]],
    *,
    method: str | None = None,
) -> Section:
    method = method_notes.METHODS.get(method or key, "")
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            tables, figures, notes = body()
    except (HotmessError, ValueError) as exc:
        return Section(key, title, method, skipped=str(exc))
    # what the analysis left out (one-sample questions, a comparison it could not make) is said in the section
    left = [str(w.message) for w in caught if issubclass(w.category, an.LeftOutWarning)]
    notes = [*notes, *dict.fromkeys(m for m in left if m not in notes)]
    return Section(key, title, method, tables, {k: v for k, v in figures.items() if v is not None}, notes)


def _examples(df: pd.DataFrame, n: int) -> pd.DataFrame:
    """Up to ``n`` raw outputs per model: a right, a wrong and an invalid one first."""
    live = df[df["error"].isna()]
    rows = []
    for _model, g in live.groupby("model", sort=True):
        picks = []
        for kind, sel in (
            ("correct", g["valid"].astype(bool) & (g["answer"] == g["correct"])),
            ("wrong", g["valid"].astype(bool) & (g["answer"] != g["correct"])),
            ("invalid", ~g["valid"].astype(bool)),
        ):
            if sel.any():
                picks.append((kind, g[sel].iloc[0]))
        for kind, r in picks[:n]:
            rows.append(
                {
                    "model": r["model"],
                    "budget": r["budget"],
                    "task": r["task"],
                    "question_id": r["question_id"],
                    "kind": kind,
                    "answer": int(r["answer"]),
                    "correct": int(r["correct"]),
                    "output_tokens": r["output_tokens"],
                    "raw_output": str(r["raw_output"])[:4000],
                }
            )
    return pd.DataFrame(rows)


def build_report(
    df: pd.DataFrame,
    *,
    options: ReportOptions | None = None,
    runs: pd.DataFrame | None = None,
    questions: pd.DataFrame | None = None,
    survey: pd.DataFrame | None = None,
    source: str = "<samples>",
) -> Report:
    """Run every analysis on ``df`` and collect the report (sections without data are skipped with a reason).

    Parameters
    ----------
    df
        Samples in the hotmess schema (see :func:`hotmess.data.read_samples`).
    options
        :class:`ReportOptions`.
    runs, questions
        The store's runs (configs shown in the report) and questions (difficulty metadata), when available.
    survey
        Rank data for the survey section (columns entity, rater, attribute, rank).
    source
        Where the samples came from (shown in the report).
    """
    o = options or ReportOptions()
    with warnings.catch_warnings(record=True) as caught:  # shown in the overview, not as a Python warning
        warnings.simplefilter("always")
        protocols = run_protocols(runs) if runs is not None and not runs.empty else df.attrs.get("run_protocols")
        df = collapse_duplicate_samples(df, protocols=protocols)
        if protocols is not None:  # the sections' own summaries must not collapse across protocols either
            df.attrs["run_protocols"] = protocols
    data_notes = [str(w.message) for w in caught]
    rng = np.random.default_rng(o.seed)
    common: dict[str, Any] = {"metric": o.metric, "delta": o.delta, "estimator": o.estimator}
    grouping: dict[str, Any] = {"by": o.by} if o.by is not None else {}
    boot: dict[str, Any] = {"n_boot": o.n_boot, "level": o.level}
    sections: list[Section] = []
    Body = tuple[dict[str, pd.DataFrame], dict[str, bytes | None], list[str]]

    def overview() -> Body:
        by = list(o.by) if o.by is not None else None
        res = an.summarize_samples(df, o.metric, by=by, delta=o.delta, estimator=o.estimator, rng=rng, **boot)
        return (
            {"summary": _essentials_first(res.to_frame()), "robustness": _robustness(df, o)},
            {},
            [
                *data_notes,
                *res.warnings,
            ],
        )

    def compare() -> Body:
        from hotmess.report.compare import compare_body

        by = next((c for c in ("model", "budget") if df[c].nunique() > 1), None)
        if by is None:
            raise InputError(
                "one model and one budget: nothing to compare",
                hint="sample several models or budgets on the same questions (or use hotmess compare --by)",
            )
        res = an.compare_groups(
            df, by=by, metric=o.metric, estimator=o.estimator, delta=o.delta, n_boot=o.n_boot, level=o.level, rng=o.seed
        )
        return compare_body(res, plots=o.plots)

    def length(d: pd.DataFrame) -> Body:
        res = an.incoherence_vs_length(
            d,
            axis=o.axis,
            n_buckets=o.n_buckets,
            reference_model=o.reference_model,
            markers=o.markers,
            rng=rng,
            **grouping,
            **common,
            **boot,
        )
        fig = _fig(o, lambda: plot.plot_length(res.buckets, res.fits, axis=o.axis))
        notes = [f"length axis: {o.axis}"]
        if o.reference_model:
            notes.append(f"buckets by the lengths of {o.reference_model}")
        notes += _verdicts(res.fits, "α", "alpha")
        return {"buckets": res.buckets, "fits": res.fits}, {"incoherence_vs_length": fig}, notes

    def overthinking(d: pd.DataFrame) -> Body:
        t = an.natural_overthinking(
            d,
            axis=o.axis,
            markers=o.markers,
            allow_estimated_lengths=o.allow_estimated_lengths,
            rng=rng,
            **grouping,
            **common,
            **boot,
        )
        notes = ["each question's samples are cut at the median into two equal halves (ties at random)"]
        notes += _verdicts(t[t["half"] == "long − short"], "long − short incoherence", "incoherence")
        if o.allow_estimated_lengths and "length_source" in d and (d["length_source"] == "estimated").any():
            notes.append("some per-sample lengths are estimates (one API total split over several choices)")
        return {"halves": t}, {"overthinking": _fig(o, lambda: plot.plot_overthinking(t))}, notes

    def budgets(d: pd.DataFrame) -> Body:
        if d.groupby("model")["budget"].nunique().max() < 2:
            raise InputError("every model was sampled under one budget only", hint="sample with several --budget")
        t = an.budget_effects(
            d,
            axis=o.axis,
            markers=o.markers,
            allow_estimated_lengths=o.allow_estimated_lengths,
            rng=rng,
            **common,
            **boot,
        )
        if t.empty:
            raise InputError("no question was sampled under two budgets", hint="sample the same questions per budget")
        t = t[t.groupby("model")["budget"].transform("nunique") > 1]
        return {"budgets": t}, {"budgets": _fig(o, lambda: plot.plot_budgets(t))}, []

    def ensembles(d: pd.DataFrame) -> Body:
        if (an.sample_kinds(d) == "test-vector").all():
            raise InputError("ensembling averages answer probabilities; test-vector runs have none", hint="")
        res = an.ensemble_analysis(d, delta=o.delta, estimator=o.estimator, rng=rng, **grouping, **boot)
        if res.table.empty or res.table["size"].nunique() < 2:
            raise InputError("too few samples per question for two ensemble sizes", hint="at least 4 per question")
        fig = _fig(o, lambda: plot.plot_ensembles(res.table, res.fits))
        notes = _verdicts(res.fits, "variance slope", "variance_slope")
        return {"ensembles": res.table, "fits": res.fits}, {"ensembles": fig}, notes

    def scaling(d: pd.DataFrame) -> Body:
        models = sorted(d["model"].unique())
        if len(models) < 2:
            raise InputError("one model only", hint="sample several sizes of one family on the same questions")
        diff = None
        if o.difficulty == "metadata":
            if questions is None or questions.empty:
                raise InputError("no question metadata for difficulty groups", hint="use a run store")
            diff = an.difficulty_from_questions(questions)
        res = an.scaling_analysis(
            d,
            params=o.params,
            reference_model=o.reference_model,
            n_groups=o.n_groups,
            difficulty=diff,
            axis=o.axis,
            markers=o.markers,
            rng=rng,
            **common,
            **boot,
        )
        notes = [f"parameter counts: {', '.join(f'{m} = {n:.3g}' for m, n in res.params.items())}"]
        left = [m for m in models if m not in res.params]
        if left:
            notes.append(f"left out (no parameter count): {', '.join(left)}")
        if res.reference_model:
            notes.append(f"difficulty groups by the mean {o.axis} of {res.reference_model}")
        fig = _fig(o, lambda: plot.plot_scaling(res.cells, res.fits))
        notes += _verdicts(res.fits, "incoherence slope in log N", "incoherence_slope")
        tables = {"cells": res.cells, "fits": res.fits, "regression": res.regression}
        return tables, {"scaling": fig}, notes

    def difficulty(d: pd.DataFrame) -> Body:
        if questions is None or questions.empty:
            raise InputError("no question metadata (a samples file)", hint="report on a run store")
        levels = pd.DataFrame()
        for key in ("difficulty", "level"):
            levels = an.difficulty_from_questions(questions, key)
            if not levels.empty:
                break
        if levels.empty:
            raise InputError("the questions have no 'difficulty' or 'level' metadata", hint="use a task with levels")
        table, trend = an.incoherence_by_difficulty(d, levels, rng=rng, **common, **boot)
        notes = _verdicts(trend, "incoherence slope per difficulty level", "slope")
        fig = _fig(o, lambda: plot.plot_difficulty(table))
        return {"levels": table, "trend": trend}, {"difficulty": fig}, notes

    def changes(d: pd.DataFrame) -> Body:
        t = an.answer_changes(d, level=o.level)
        notes = ["context: each context's majority answer is compared across contexts"]
        return {"answer_changes": t}, {"answer_changes": _fig(o, lambda: plot.plot_answer_changes(t))}, notes

    def structure(d: pd.DataFrame) -> Body:
        if (an.sample_kinds(d) == "test-vector").all():
            raise InputError("test-vector runs have no answer format that could be invalid", hint="")
        inv = an.invalid_rates(d, level=o.level)
        mk = an.marker_table(d, markers=o.markers)
        tables = {"invalid_rates": inv, "markers": mk}
        figures: dict[str, bytes | None] = {"invalid_rates": _fig(o, lambda: plot.plot_invalid_rates(inv))}
        notes = [f"backtracking markers: {', '.join(o.markers)}"]
        if o.axis != "backtracking" and float(mk["markers_per_sample"].max()) > 0:
            res = an.incoherence_vs_length(
                d, axis="backtracking", n_buckets=o.n_buckets, markers=o.markers, rng=rng, **common, **boot
            )
            tables |= {"backtracking_buckets": res.buckets, "backtracking_fits": res.fits}
            figures["backtracking"] = _fig(o, lambda: plot.plot_length(res.buckets, res.fits, axis="backtracking"))
        elif o.axis != "backtracking":
            notes.append("no backtracking markers in any raw output: no marker axis")
        return tables, figures, notes

    def survey_section() -> Body:
        if survey is None:
            raise InputError("no survey data given", hint="pass --survey FILE with entity, rater, attribute, rank")
        res = an.survey_analysis(survey)
        fig = _fig(o, lambda: plot.plot_survey(res.ranks, res.correlations))
        return {"ranks": res.ranks, "correlations": res.correlations}, {"survey": fig}, []

    sections.append(_section("overview", "Overview", overview))
    sections.append(_section("compare", "Paired comparisons", compare))
    # One set of sections per decomposition kind: multiple-choice, open-ended and test-vector samples are never
    # pooled into one number or one figure.
    kinds = an.sample_kinds(df)
    present: list[str | None] = [k for k in an.KINDS if (kinds == k).any()] or [None]
    per_kind: tuple[tuple[str, str, Callable[[pd.DataFrame], Body]], ...] = (
        ("length", "Incoherence vs reasoning length", length),
        ("overthinking", "Natural overthinking", overthinking),
        ("budgets", "Reasoning budgets", budgets),
        ("ensembles", "Ensembling", ensembles),
        ("scaling", "Scaling with model size by difficulty", scaling),
        ("difficulty", "Incoherence by task difficulty", difficulty),
        ("answer_changes", "Answer changes", changes),
        ("structure", "Reasoning structure and invalid formats", structure),
    )
    for kind in present:
        part = df if kind is None or len(present) == 1 else _with_attrs(df[(kinds == kind).to_numpy()], df)
        for key, title, body in per_kind:
            if len(present) > 1:
                sections.append(_section(f"{key}__{kind}", f"{title} — {kind}", partial(body, part), method=key))
            else:
                sections.append(_section(key, title, partial(body, part)))
    sections.append(_section("survey", "Survey: intelligence vs coherence rankings", survey_section))
    banners = [Banner(g.key, g.level, g.message, g.affects, g.value) for g in an.guardrails(df, n_buckets=o.n_buckets)]
    runs_table = None
    if runs is not None and not runs.empty:
        runs_table = runs.copy()
        runs_table["config"] = [_config_text(c) for c in runs_table["config"]]
    return Report(
        source=source,
        options=o,
        sections=sections,
        runs=runs_table,
        examples=_examples(df, o.n_examples),
        warnings=data_notes,
        samples=df,
        questions=questions,
        banners=banners,
    )


def _config_text(config: Mapping[str, Any] | Sequence[Any] | str) -> str:
    import json

    return config if isinstance(config, str) else json.dumps(config, indent=2, sort_keys=True, default=str)
