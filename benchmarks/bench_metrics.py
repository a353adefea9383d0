"""Measurement core: vectorised decompositions + bootstrap vs. a naive per-question Python loop.

Workload: 10,000 questions × 100 samples × 4 options, random answers with ~5% invalid (uniform).
Per question: KL (δ = 1e-12), Brier and 0/1 decompositions; then the dataset incoherence (KL and Brier) and a
1,000-resample percentile bootstrap CI of the KL incoherence (resampling whole questions).

The naive baseline (tests/metrics/naive.py: plain loops over questions, samples and classes, straight from the
SPEC formulas; the bootstrap as a loop over resamples of question indices) is timed on the first 500 questions
and extrapolated linearly to 10,000 — every step is linear in the number of questions.

Run:  python benchmarks/bench_metrics.py  [--questions 10000] [--naive-questions 500] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "metrics"))

import naive  # noqa: E402  (the per-question reference implementation)

from hotmess.metrics import (  # noqa: E402
    SampleArrays,
    bootstrap_ratio_ci,
    brier_decomposition,
    kl_decomposition,
    zero_one_decomposition,
)

N_SAMPLES, N_OPTIONS, N_BOOT, DELTA, P_INVALID = 100, 4, 1000, 1e-12, 0.05


def make_data(n_questions: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Answers (Q, S) with −1 for invalid, targets (Q,): each question has its own answer preference."""
    rng = np.random.default_rng(seed)
    pref = rng.dirichlet(np.full(N_OPTIONS, 0.5), size=n_questions)  # some coherent, some messy questions
    cum = np.cumsum(pref, axis=1)
    u = rng.random((n_questions, N_SAMPLES))
    answers = np.minimum((u[..., None] > cum[:, None, :]).sum(axis=-1), N_OPTIONS - 1).astype(np.int64)
    answers[rng.random(answers.shape) < P_INVALID] = -1
    targets = rng.integers(0, N_OPTIONS, n_questions)
    return answers, targets


def ours(answers: np.ndarray, targets: np.ndarray, seed: int = 0) -> dict[str, float]:
    """The whole pipeline with hotmess.metrics; returns stage timings (seconds) and the results."""
    t0 = time.perf_counter()
    arr = SampleArrays.from_answers(answers, targets, n_classes=N_OPTIONS)
    t1 = time.perf_counter()
    kl = kl_decomposition(arr.probs, arr.targets, delta=DELTA)
    t2 = time.perf_counter()
    br = brier_decomposition(arr.probs, arr.targets)
    t3 = time.perf_counter()
    zo = zero_one_decomposition(arr.answers, arr.targets, n_options=N_OPTIONS)
    t4 = time.perf_counter()
    inc_kl, inc_br = kl.incoherence, br.incoherence
    ci = bootstrap_ratio_ci({"incoherence": kl.variance}, {"incoherence": kl.error}, n_boot=N_BOOT, rng=seed)
    t5 = time.perf_counter()
    return {
        "arrays": t1 - t0,
        "kl": t2 - t1,
        "brier": t3 - t2,
        "zero_one": t4 - t3,
        "incoherence+bootstrap": t5 - t4,
        "total": t5 - t0,
        "inc_kl": inc_kl,
        "inc_brier": inc_br,
        "ci": (ci["incoherence"].low, ci["incoherence"].high),
        "zo_error": float(zo.error.mean()),
        "_kl": kl,
        "_br": br,
        "_zo": zo,
    }


def naive_pipeline(answers: np.ndarray, targets: np.ndarray, seed: int = 0) -> dict[str, float]:
    """The same work, one question and one sample at a time in plain Python."""
    rows = answers.tolist()
    tgt = targets.tolist()
    t0 = time.perf_counter()
    vectors = [[naive.one_hot_vector(a, N_OPTIONS) for a in q] for q in rows]
    kl = [naive.kl_question(v, t, DELTA) for v, t in zip(vectors, tgt, strict=True)]
    br = [naive.brier_question(v, t) for v, t in zip(vectors, tgt, strict=True)]
    zo = [naive.zero_one_question(a, t, N_OPTIONS) for a, t in zip(rows, tgt, strict=True)]
    var = [x[1] for x in kl]
    err = [x[2] for x in kl]
    inc_kl = sum(var) / sum(err)
    inc_br = sum(x[1] for x in br) / sum(x[2] for x in br)
    r = random.Random(seed)
    n = len(rows)
    stats = []
    for _ in range(N_BOOT):
        idx = [r.randrange(n) for _ in range(n)]
        stats.append(sum(var[i] for i in idx) / sum(err[i] for i in idx))
    stats.sort()
    lo, hi = stats[int(0.025 * (N_BOOT - 1))], stats[int(0.975 * (N_BOOT - 1))]
    t1 = time.perf_counter()
    return {"total": t1 - t0, "inc_kl": inc_kl, "inc_brier": inc_br, "ci": (lo, hi), "kl": kl, "br": br, "zo": zo}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--questions", type=int, default=10_000)
    ap.add_argument("--naive-questions", type=int, default=500)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    Q, Qn = args.questions, args.naive_questions

    answers, targets = make_data(Q)
    print(f"workload: {Q:,} questions × {N_SAMPLES} samples × {N_OPTIONS} options, "
          f"{(answers < 0).mean():.1%} invalid; KL (δ={DELTA:g}) + Brier + 0/1 per question, incoherence, "
          f"{N_BOOT:,}-resample bootstrap CI")
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores visible, "
          f"Python {platform.python_version()}, numpy {np.__version__}")

    ours(answers[:200], targets[:200])  # warm-up (imports, allocator)
    runs = [ours(answers, targets) for _ in range(args.repeats)]
    best = min(runs, key=lambda r: r["total"])
    med = statistics.median(r["total"] for r in runs)
    stages = ", ".join(f"{k} {best[k] * 1e3:.0f} ms" for k in ("arrays", "kl", "brier", "zero_one",
                                                               "incoherence+bootstrap"))
    print(f"\nhotmess (vectorised): median {med:.3f} s over {args.repeats} runs (best {best['total']:.3f} s)")
    print(f"  stages of best run: {stages}")
    print(f"  incoherence KL {best['inc_kl']:.4f} [95% CI {best['ci'][0]:.4f}, {best['ci'][1]:.4f}], "
          f"Brier {best['inc_brier']:.4f}; mean 0/1 error {best['zo_error']:.4f}")

    slow = naive_pipeline(answers[:Qn], targets[:Qn])
    extrapolated = slow["total"] * Q / Qn
    print(f"\nnaive per-question Python loop: {slow['total']:.3f} s on the first {Qn:,} questions, "
          f"extrapolated linearly to {Q:,} questions: {extrapolated:.1f} s")

    # the two implementations compute the same numbers on the subset
    sub = ours(answers[:Qn], targets[:Qn])
    diff = max(
        np.max(np.abs(np.array(slow["kl"]).T - [sub["_kl"].bias, sub["_kl"].variance, sub["_kl"].error])),
        np.max(np.abs(np.array(slow["br"]).T - [sub["_br"].bias, sub["_br"].variance, sub["_br"].error])),
        np.max(np.abs(np.array(slow["zo"])[:, :3].T - [sub["_zo"].bias, sub["_zo"].variance, sub["_zo"].error])),
        abs(slow["inc_kl"] - sub["inc_kl"]),
    )
    print(f"  agreement on the subset: max |difference| {diff:.1e}")

    ratio = extrapolated / med
    print("\n| implementation | time for 10k questions | ratio |")
    print("|---|---|---|")
    print(f"| naive loop (extrapolated from {Qn}) | {extrapolated:.1f} s | 1× |")
    print(f"| hotmess.metrics (median of {args.repeats}) | {med:.3f} s | {ratio:.0f}× faster |")
    target_ok = med < 2.0 and ratio >= 50
    print(f"\ntarget (< 2 s and ≥ 50× faster): {'met' if target_ok else 'NOT met'}")


if __name__ == "__main__":
    main()
