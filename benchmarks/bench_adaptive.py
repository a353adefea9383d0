"""Adaptive sampling (``hotmess run --target-ci``) beside the fixed 10 contexts × 3 samples protocol.

Claim (issue 15): reach the same bootstrap half-width of the dataset incoherence as the fixed protocol with at most
50% of its samples, and stay honest (unbiased; the interval covers the truth at its nominal rate).

1. **Simulated populations.** Each replicate draws N questions (``--agree`` of them all-agree, right 70% of the
   time; the rest with Dirichlet(``--alpha``) answer shares over 4 options), runs the fixed protocol (30 samples,
   corrected KL, bootstrap over questions) and then the adaptive planner with the fixed run's half-width as its
   target. Both bootstraps use the same seed, so they resample the same questions and the half-widths differ by
   the within-question noise only. Printed: the sample ratio (adaptive / fixed), how often the target was
   reached, the bias of the adaptive estimate and of the plug-in estimate at the reached sample counts (the naive
   estimate, without the importance weights), and the coverage of the 95% interval of the population truth.
2. **Stub server.** ``hotmess run`` against the stub OpenAI-compatible server with 60% all-agree questions: the fixed
   10 × 3 run, then ``--target-ci`` at its half-width; the ratio of stored samples.

Usage: ``python benchmarks/bench_adaptive.py [--replicates 200] [--questions 200] [--agree 0.6] [--alpha 0.5]``
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # for tests.support.stub_server

from tests.support.stub_server import StubOpenAIServer  # noqa: E402

from hotmess.metrics import bootstrap_ratio_ci, kl_decomposition  # noqa: E402
from hotmess.sampling.adaptive import AdaptiveDesign, AdaptivePlanner  # noqa: E402

C, DELTA, N_BOOT = 4, 1e-12, 1000


def population(rng: np.random.Generator, n: int, agree: float, alpha: float) -> np.ndarray:
    shares = rng.dirichlet(np.full(C, alpha), size=n)
    ag = rng.random(n) < agree
    pick = np.where(rng.random(n) < 0.7, 0, rng.integers(1, C, size=n))
    shares[ag] = np.eye(C)[pick[ag]]
    return shares


def true_terms(shares: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lf1, lf0 = np.log((1 + DELTA) / (1 + C * DELTA)), np.log(DELTA / (1 + C * DELTA))
    g = shares * lf1 + (1 - shares) * lf0
    mx = g.max(axis=1)
    return -(mx + np.log(np.exp(g - mx[:, None]).sum(axis=1))), -g[:, 0]


def half_width(var: np.ndarray, err: np.ndarray, seed: int) -> tuple[float, float, float]:
    ci = bootstrap_ratio_ci({"i": var}, {"i": err}, n_boot=N_BOOT, rng=np.random.default_rng(seed))["i"]
    return (ci.high - ci.low) / 2, ci.low, ci.high


def simulate(args: argparse.Namespace) -> None:
    v, e = true_terms(population(np.random.default_rng(0), 400_000, args.agree, args.alpha))
    truth = float(v.sum() / e.sum())
    n = args.questions
    rows = []
    t0 = time.perf_counter()
    for rep in range(args.replicates):
        rng = np.random.default_rng(1000 + rep)
        shares = population(rng, n, args.agree, args.alpha)
        design = AdaptiveDesign(first_contexts=2, samples_per_context=2, max_contexts=args.max_contexts, seed=rep)
        top = max(30, design.max_contexts * design.samples_per_context)
        draws = (rng.random((n, top, 1)) > shares.cumsum(axis=1)[:, None, :]).sum(axis=2)
        answers = np.eye(C)[np.minimum(draws, C - 1)]
        fixed = kl_decomposition(answers[:, :30], np.zeros(n, int), delta=DELTA, jackknife=True)
        f_inc = float(fixed.variance.sum() / fixed.error.sum())
        f_hw, f_lo, f_hi = half_width(fixed.variance, fixed.error, rep)
        planner = AdaptivePlanner(design, [f"q{i}" for i in range(n)])
        while plan := planner.plan():
            probs = {q: answers[int(q[1:]), : hi * 2] for q, (_, hi) in plan.items()}
            report = planner.observe(probs, np.zeros(n, int), n_boot=N_BOOT)
            if report.half_width <= f_hw:
                break
        reached = np.array([planner.levels[lv] * 2 for lv in planner.level])
        mask = np.arange(top)[None, :] < reached[:, None]
        naive = kl_decomposition(answers, np.zeros(n, int), mask=mask, delta=DELTA)
        naive_c = kl_decomposition(answers, np.zeros(n, int), mask=mask, delta=DELTA, jackknife=True)
        rows.append(
            (
                report.samples / (30 * n),
                report.half_width <= f_hw,
                report.incoherence,
                float(naive.variance.sum() / naive.error.sum()),
                float(naive_c.variance.sum() / naive_c.error.sum()),
                f_inc,
                report.low <= truth <= report.high,
                f_lo <= truth <= f_hi,
                report.half_width,
                f_hw,
            )
        )
    a = np.array(rows, dtype=float)
    se = a.std(axis=0, ddof=1) / np.sqrt(len(a))
    print(
        f"simulated: {args.replicates} replicates × {n} questions ({args.agree:.0%} all-agree, rest Dirichlet"
        f"({args.alpha:g})), adaptive first round 2x2, at most {args.max_contexts} contexts × 2 "
        f"[{time.perf_counter() - t0:.1f} s]"
    )
    print(f"  truth (population incoherence)      {truth:.4f}")
    print(f"  half-width   fixed 10×3 {a[:, 9].mean():.4f}   adaptive {a[:, 8].mean():.4f}")
    print(f"  target reached                      {a[:, 1].mean():.0%} of replicates")
    print(f"  samples, adaptive / fixed 10×3       {a[:, 0].mean():.3f}  (± {se[0]:.3f})")
    for name, col in (("fixed 10×3 (corrected)", 5), ("adaptive (weighted)", 2)):
        print(f"  bias {name:<31} {a[:, col].mean() - truth:+.4f} ± {se[col]:.4f}")
    for name, col in (("plug-in at reached n", 3), ("corrected at reached n", 4)):
        print(f"  bias {name:<31} {a[:, col].mean() - truth:+.4f} ± {se[col]:.4f}  (no weights)")
    print(f"  coverage of 95% interval  fixed {a[:, 7].mean():.0%}   adaptive {a[:, 6].mean():.0%}")


def _stub_distribution(agree: float):  # type: ignore[no-untyped-def]
    """Per question (the prompt's last 300 characters): all-agree with probability ``agree``, else Dirichlet."""

    def dist(prompt: str) -> list[float]:
        h = int.from_bytes(hashlib.blake2b(prompt[-300:].encode(), digest_size=8).digest(), "big")
        rng = np.random.default_rng(h)
        if rng.random() < agree:
            return np.eye(4)[rng.integers(4)].tolist()
        return rng.dirichlet(np.full(4, 0.5)).tolist()

    return dist


def stub_run(args: argparse.Namespace) -> None:
    from hotmess.cli.main import main
    from hotmess.data import read_samples
    from hotmess.sampling.adaptive_run import N_BOOT as RUN_BOOT
    from hotmess.tasks import load_task

    os.environ.setdefault("OPENAI_API_KEY", "sk-bench-adaptive")
    with tempfile.TemporaryDirectory() as d, StubOpenAIServer(distribution=_stub_distribution(args.agree)) as stub:
        base = ["run", "--model", "openai:stub", "--base-url", stub.url, "--task", "generated:tracking"]
        base += ["--no-shuffle", "--no-progress", "--concurrency", "16"]
        fixed, adaptive = Path(d) / "fixed.sqlite", Path(d) / "adaptive.sqlite"
        t0 = time.perf_counter()
        assert main([*base, "--store", str(fixed), "--contexts", "10", "--samples", "3"]) in (0, None)
        df = read_samples(fixed)
        order = [q.id for q in load_task("generated:tracking").questions]
        arr = np.zeros((len(order), 30, 4))
        for i, q in enumerate(order):
            rows = df[df["question_id"] == q].sort_values(["context_id", "sample_index"])
            arr[i, np.arange(len(rows)), rows["answer"].to_numpy()] = 1.0
        targets = [int(df[df["question_id"] == q]["correct"].iloc[0]) for q in order]
        dec = kl_decomposition(arr, targets, delta=DELTA, jackknife=True)
        ci = bootstrap_ratio_ci({"i": dec.variance}, {"i": dec.error}, n_boot=RUN_BOOT, rng=np.random.default_rng(0))[
            "i"
        ]
        hw = (ci.high - ci.low) / 2
        extra = ["--contexts", str(args.max_contexts), "--target-ci", f"{hw:.6f}", "--first-round", "2x2"]
        assert main([*base, "--store", str(adaptive), *extra]) in (0, None)
        n_ad, n_fixed = len(read_samples(adaptive)), len(df)
        print(
            f"stub server: {len(order)} questions ({args.agree:.0%} all-agree), fixed 10×3 {n_fixed} samples, "
            f"half-width {hw:.4f}; adaptive --target-ci {hw:.4f}: {n_ad} samples → ratio {n_ad / n_fixed:.3f} "
            f"[{time.perf_counter() - t0:.1f} s]"
        )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--replicates", type=int, default=200)
    p.add_argument("--questions", type=int, default=200)
    p.add_argument("--agree", type=float, default=0.6)
    p.add_argument("--alpha", type=float, default=0.5)
    p.add_argument("--max-contexts", type=int, default=15)
    p.add_argument("--no-stub", action="store_true")
    args = p.parse_args()
    simulate(args)
    if not args.no_stub:
        stub_run(args)


if __name__ == "__main__":
    main()
