"""Measurement core: vectorised decompositions + bootstrap vs. a naive per-question Python loop.

Workload: 10,000 questions × 100 samples × 4 options, random answers with ~5% invalid (uniform).
Per question: KL (δ = 1e-12), Brier and 0/1 decompositions; then the dataset incoherence (KL and Brier) and a
1,000-resample percentile bootstrap CI of the KL incoherence (resampling whole questions).

The naive baseline (tests/metrics/naive.py: plain loops over questions, samples and classes, straight from the
SPEC formulas; the bootstrap as a loop over resamples of question indices) is timed on the first 500 questions
and extrapolated linearly to 10,000 — every step is linear in the number of questions.

Run:  python benchmarks/bench_metrics.py  [--questions 10000] [--naive-questions 500] [--repeats 5]
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
sys.path.insert(0, str(ROOT))  # for tests.metrics.naive

from tests.metrics import naive  # noqa: E402  (the per-question reference implementation)

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
    c0 = time.process_time()
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
    c5 = time.process_time()
    return {
        "cpu": c5 - c0,
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
    c0 = time.process_time()
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
    c1 = time.process_time()
    return {
        "total": t1 - t0,
        "cpu": c1 - c0,
        "inc_kl": inc_kl,
        "inc_brier": inc_br,
        "ci": (lo, hi),
        "kl": kl,
        "br": br,
        "zo": zo,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--questions", type=int, default=10_000)
    ap.add_argument("--naive-questions", type=int, default=500)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    Q, Qn, R = args.questions, args.naive_questions, args.repeats
    scale = Q / Qn

    answers, targets = make_data(Q)
    print(
        f"workload: {Q:,} questions × {N_SAMPLES} samples × {N_OPTIONS} options, {(answers < 0).mean():.1%} invalid; "
        f"KL (δ={DELTA:g}) + Brier + 0/1 per question, incoherence, {N_BOOT:,}-resample bootstrap CI"
    )
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores visible, load average "
        f"{os.getloadavg()[0]:.1f} at start, Python {platform.python_version()}, numpy {np.__version__}"
    )
    print(f"naive baseline: timed on the first {Qn:,} questions and extrapolated linearly (× {scale:g})")

    ours(answers[:200], targets[:200])  # warm-up (imports, allocator)
    fast, slow = [], []
    for _ in range(R):  # interleaved, so both see the same machine load
        fast.append(ours(answers, targets))
        slow.append(naive_pipeline(answers[:Qn], targets[:Qn]))

    def med(runs: list[dict], key: str, factor: float = 1.0) -> float:
        return statistics.median(r[key] for r in runs) * factor

    best = min(fast, key=lambda r: r["total"])
    stages = ", ".join(
        f"{k} {best[k] * 1e3:.0f} ms" for k in ("arrays", "kl", "brier", "zero_one", "incoherence+bootstrap")
    )
    print(
        f"\nhotmess (vectorised), {Q:,} questions: wall median {med(fast, 'total'):.3f} s "
        f"(best {best['total']:.3f} s), CPU median {med(fast, 'cpu'):.3f} s over {R} runs"
    )
    print(f"  stages of the best run: {stages}")
    print(
        f"  incoherence KL {best['inc_kl']:.4f} [95% CI {best['ci'][0]:.4f}, {best['ci'][1]:.4f}], "
        f"Brier {best['inc_brier']:.4f}; mean 0/1 error {best['zo_error']:.4f}"
    )
    print(
        f"naive per-question loop, {Qn:,} questions: wall median {med(slow, 'total'):.3f} s, "
        f"CPU median {med(slow, 'cpu'):.3f} s → extrapolated to {Q:,}: wall {med(slow, 'total', scale):.1f} s, "
        f"CPU {med(slow, 'cpu', scale):.1f} s"
    )

    # the two implementations compute the same numbers on the subset
    sub, ref = ours(answers[:Qn], targets[:Qn]), slow[0]
    diff = max(
        np.max(np.abs(np.array(ref["kl"]).T - [sub["_kl"].bias, sub["_kl"].variance, sub["_kl"].error])),
        np.max(np.abs(np.array(ref["br"]).T - [sub["_br"].bias, sub["_br"].variance, sub["_br"].error])),
        np.max(np.abs(np.array(ref["zo"])[:, :3].T - [sub["_zo"].bias, sub["_zo"].variance, sub["_zo"].error])),
        abs(ref["inc_kl"] - sub["inc_kl"]),
    )
    print(f"  agreement on the subset: max |difference| {diff:.1e}")

    ratios = [n["total"] * scale / f["total"] for f, n in zip(fast, slow, strict=True)]
    cpu_ratios = [n["cpu"] * scale / f["cpu"] for f, n in zip(fast, slow, strict=True)]
    ratio, cpu_ratio = statistics.median(ratios), statistics.median(cpu_ratios)
    print(f"\n| implementation ({Q:,} questions) | wall (median of {R}) | CPU (median of {R}) |")
    print("|---|---|---|")
    naive_wall, naive_cpu = med(slow, "total", scale), med(slow, "cpu", scale)
    print(f"| naive loop (extrapolated from {Qn:,}) | {naive_wall:.1f} s | {naive_cpu:.1f} s |")
    print(f"| hotmess.metrics | {med(fast, 'total'):.3f} s | {med(fast, 'cpu'):.3f} s |")
    print(f"| speed-up (median of paired runs) | {ratio:.0f}× | {cpu_ratio:.0f}× |")
    ok = med(fast, "total") < 2.0 and ratio >= 50
    print(f"\ntarget (< 2 s and ≥ 50× faster, wall clock): {'met' if ok else 'NOT met'}")


if __name__ == "__main__":
    main()
