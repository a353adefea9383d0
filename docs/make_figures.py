"""Regenerate the figures of docs/analyses.md from simulated models whose truth is known by construction.

Run from the repository root: ``python docs/make_figures.py`` (writes docs/img/analysis-*.png, ~1 minute).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from hotmess import analysis as an
from hotmess.report import plots

OUT = Path(__file__).parent / "img"
BOOT = 300


def save(name: str, fig: object) -> None:
    (OUT / f"analysis-{name}.png").write_bytes(plots.to_png(fig))
    print("wrote", OUT / f"analysis-{name}.png")


def halves(short: float, long: float, n: int) -> np.ndarray:
    return np.tile(np.r_[[short] * 15, [long] * 15], (n, 1))


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    gen = np.random.default_rng(0)

    # 1. incoherence ∝ length^0.5 (model A) and ∝ length^0.2 (model B)
    parts = []
    for name, alpha in (("sim-A (α=0.5)", 0.5), ("sim-B (α=0.2)", 0.2)):
        lengths = np.exp(gen.uniform(np.log(50), np.log(1600), 150))
        inco = 0.08 * (lengths / 50) ** alpha
        parts.append(an.simulate_samples(1.2 * (1 - inco), 1.2 * inco, lengths=lengths, model=name, rng=gen))
    res = an.incoherence_vs_length(pd.concat(parts), metric="brier", unbiased=True, n_buckets=6, n_boot=BOOT)
    save("length", plots.plot_length(res.buckets, res.fits))

    # 2-3. overthinking within budgets; a larger budget raises incoherence
    low = an.simulate_samples(np.full(80, 0.6), np.full(80, 0.3), lengths=100, budget="low", rng=gen)
    high = an.simulate_samples(
        halves(0.6, 0.3, 80), halves(0.3, 0.6, 80), lengths=halves(300, 900, 80), budget="high", rng=gen
    )
    both = pd.concat([low, high])
    save("overthinking", plots.plot_overthinking(an.natural_overthinking(both, metric="brier", n_boot=BOOT)))
    save("budgets", plots.plot_budgets(an.budget_effects(both, metric="brier", n_boot=BOOT)))

    # 4. ensembles of 320 one-hot answers per question
    many = an.simulate_samples(
        np.full(40, 0.4), np.full(40, 0.6), kind="answers", n_contexts=32, samples_per_context=10, rng=gen
    )
    ens = an.ensemble_analysis(many, n_boot=BOOT)
    save("ensembles", plots.plot_ensembles(ens.table, ens.fits))

    # 5. sizes with bias ∝ N^-0.3, variance ∝ N^-0.1
    level = np.repeat([0, 1, 2], 20)
    b0, v0 = np.array([0.3, 0.6, 0.9])[level], np.array([0.15, 0.25, 0.35])[level]
    fam = pd.concat(
        an.simulate_samples(
            b0 * (n / 1e8) ** -0.3,
            v0 * (n / 1e8) ** -0.1,
            lengths=100 * 2.0**level,
            model=m,
            rng=gen,
            wrong_concentration=0.5,
        )
        for m, n in (("fam-100M", 1e8), ("fam-1B", 1e9), ("fam-10B", 1e10))
    )
    sc = an.scaling_analysis(fam, metric="brier", unbiased=True, n_boot=BOOT)
    save("scaling", plots.plot_scaling(sc.cells, sc.fits))

    # 6. answers that depend on the context more than on the seed
    sticky = pd.concat(
        an.simulate_samples(
            np.full(60, 0.3),
            np.full(60, 0.5),
            kind="answers",
            context_stickiness=rho,
            model=f"stickiness {rho}",
            rng=gen,
        )
        for rho in (0.0, 0.9, 1.0)
    )
    save("answer-changes", plots.plot_answer_changes(an.answer_changes(sticky)))

    # 7. backtracking markers as a length axis; invalid formats
    marks = np.repeat([0, 1, 2, 4, 8], 20)
    inco = 0.15 * (1 + marks) ** 0.4
    bt = an.simulate_samples(
        1.2 * (1 - inco), 1.2 * inco, markers=marks[:, None] + gen.poisson(0.3, (100, 30)), invalid_rate=0.08, rng=gen
    )
    res = an.incoherence_vs_length(bt, axis="backtracking", metric="brier", n_buckets=5, n_boot=BOOT)
    save("backtracking", plots.plot_length(res.buckets, res.fits, axis="backtracking"))
    save("invalid-rates", plots.plot_invalid_rates(an.invalid_rates(pd.concat([bt, sticky]))))

    # 8. survey
    rows = []
    ents = ["model A", "model B", "model C", "model D", "model E"]
    for rater in range(12):
        intel = gen.permutation(5) if rater % 4 == 0 else np.argsort(np.arange(5) + gen.normal(0, 1, 5))
        coh = np.argsort(-np.arange(5) + gen.normal(0, 1.5, 5))
        for i, e in enumerate(ents):
            rows += [
                {"entity": e, "rater": rater, "attribute": "intelligence", "rank": int(intel[i]) + 1},
                {"entity": e, "rater": rater, "attribute": "coherence", "rank": int(coh[i]) + 1},
            ]
    sv = an.survey_analysis(pd.DataFrame(rows))
    save("survey", plots.plot_survey(sv.ranks, sv.correlations))


if __name__ == "__main__":
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        main()
