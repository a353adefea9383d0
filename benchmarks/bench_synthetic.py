"""Synthetic optimizer: training throughput, KV-cache rollout speed-up, and a paper-preset GPU estimate.

Claims measured (one run, printed side by side):

1. Training throughput (input tokens/s and achieved GFLOP/s) of the models of the ``cpu-small`` ladder and of
   the smallest ``paper`` model on the paper's sequence format (d = 4, p = 4, 55 input tokens).
2. Rollout with the KV cache against re-encoding the whole prefix for every decoded token, same model, same
   starts, same (greedy) outputs: times and ratio (target ≥ 3×).
3. An *estimate* (not a measurement) of the ``paper`` preset on one H100, from FLOP counts and an assumed
   model-FLOP utilisation, with the measured CPU numbers for scale.

Run: ``python benchmarks/bench_synthetic.py [--threads 1] [--quick]``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from hotmess.synthetic import (
    GPT,
    FloatTokenizer,
    GPTConfig,
    ModelSize,
    get_preset,
    rollout_model,
)
from hotmess.synthetic.model import configure_optimizer

H100_BF16_DENSE_TFLOPS = 989.0  # NVIDIA H100 SXM spec sheet, dense bf16


def _model(size: ModelSize, block_size: int) -> GPT:
    cfg = GPTConfig(block_size=block_size, n_layer=size.n_layer, n_head=size.n_head, n_embd=size.n_embd)
    return GPT(cfg, generator=torch.Generator().manual_seed(0))


def train_throughput(size: ModelSize, block_size: int, batch: int, steps: int) -> tuple[int, float, float]:
    """(n_params, tokens/s, GFLOP/s) of full training steps (forward, backward, AdamW) on random tokens."""
    m = _model(size, block_size).train()
    opt = configure_optimizer(m, lr=1e-3, weight_decay=0.1)
    g = torch.Generator().manual_seed(1)
    x = torch.randint(0, 12, (batch, block_size), generator=g)
    y = torch.randint(0, 12, (batch, block_size), generator=g)

    def step() -> None:
        _, loss = m(x, y)
        assert loss is not None
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)

    for _ in range(3):
        step()
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    dt = time.perf_counter() - t0
    tps = steps * batch * block_size / dt
    return m.n_params, tps, tps * m.config.flops_per_token() / 1e9


def rollout_speed(size: ModelSize, d: int, p: int, n_starts: int, n_steps: int) -> tuple[float, float, bool]:
    """Seconds with and without the KV cache, and whether both gave identical rollouts."""
    tok = FloatTokenizer(p)
    m = _model(size, 2 * d * tok.tokens_per_float - 1).eval()
    starts = np.random.default_rng(0).uniform(-1, 1, size=(n_starts, d))
    rollout_model(m, tok, starts[:8], 1)  # warm-up
    t0 = time.perf_counter()
    fast = rollout_model(m, tok, starts, n_steps, use_cache=True)
    t_cache = time.perf_counter() - t0
    t0 = time.perf_counter()
    slow = rollout_model(m, tok, starts, n_steps, use_cache=False)
    t_full = time.perf_counter() - t0
    return t_cache, t_full, bool(np.array_equal(fast, slow))


def paper_estimate(cpu_gflops: float) -> None:
    """Print the FLOP-based H100 estimate of the paper preset (labelled ESTIMATE: nothing here ran on a GPU)."""
    c = get_preset("paper")
    block = 2 * c.problem.dim * (c.data.precision + 3) - 1
    tokens = c.train.steps * c.train.batch_size * block
    print(
        f"\n3. paper preset: {len(c.sizes)} sizes × {c.train.steps} steps × {c.train.batch_size} seq × {block} tokens"
        f" = {tokens / 1e9:.2f} G tokens per size"
    )
    flops = []
    print(f"{'size':>10} {'params':>9} {'FLOP/token':>11} {'train PFLOP':>12}")
    for s in c.sizes:
        m = _model(s, block)
        flops.append(m.config.flops_per_token() * tokens)
        print(f"{s.name:>10} {m.n_params:>9,d} {m.config.flops_per_token():>11.3g} {flops[-1] / 1e15:>12.1f}")
    print(f"total training: {sum(flops) / 1e15:.0f} PFLOP")
    n_u = c.problem.dim * (c.data.precision + 3)
    calls = c.rollout.n_steps * (n_u + 1)  # sequential forward calls per size (prefill + one per u token)
    for label, mfu, floor_ms, call_ms in [
        ("optimistic", 0.30, 2.0, 0.4),
        ("middle", 0.15, 3.0, 0.7),
        ("pessimistic", 0.05, 5.0, 1.2),
    ]:
        # small models are launch-bound: a step never takes less than the floor, whatever its FLOPs
        train_s = sum(max(f / (mfu * H100_BF16_DENSE_TFLOPS * 1e12), c.train.steps * floor_ms / 1e3) for f in flops)
        roll_s = len(c.sizes) * calls * call_ms / 1e3
        print(
            f"  ESTIMATE one H100, {label:>11} ({mfu:.0%} MFU, >= {floor_ms:.0f} ms/step, {call_ms} ms/decode call): "
            f"train {train_s / 3600:.1f} h + rollouts {roll_s / 60:.0f} min = {(train_s + roll_s) / 3600:.1f} h"
        )
    print(f"  (this CPU at {cpu_gflops:.1f} GFLOP/s would need {sum(flops) / (cpu_gflops * 1e9) / 86400:.0f} days)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    ap.add_argument("--quick", action="store_true", help="fewer steps (noisier numbers)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    steps = 5 if args.quick else 20
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s), CPU\n")
    small = get_preset("cpu-small")
    block_small = 2 * small.problem.dim * (small.data.precision + 3) - 1
    print("1. training throughput (batch 128)")
    print(f"{'size':>10} {'params':>9} {'seq':>4} {'tokens/s':>10} {'GFLOP/s':>8}")
    gflops = []
    for size, block in [*((s, block_small) for s in small.sizes), (get_preset("paper").sizes[0], 55)]:
        n, tps, gf = train_throughput(size, block, 128, steps)
        gflops.append(gf)
        print(f"{size.name:>10} {n:>9,d} {block:>4} {tps:>10,.0f} {gf:>8.2f}")
    print("\n2. rollout: KV cache vs re-encoding the prefix for every token (greedy, identical outputs)")
    print(
        f"{'size':>10} {'d':>2} {'p':>2} {'starts':>6} {'steps':>5} {'cache s':>8} {'re-encode s':>11} "
        f"{'ratio':>6} same"
    )
    n_steps = 4 if args.quick else 8
    for size, d, p, k in [
        (ModelSize(2, 48, 4), 2, 2, 256),
        (ModelSize(2, 48, 4), 4, 4, 256),
        (ModelSize(4, 96, 4), 4, 4, 128),
    ]:
        tc, tf, same = rollout_speed(size, d, p, k, n_steps)
        print(f"{size.name:>10} {d:>2} {p:>2} {k:>6} {n_steps:>5} {tc:>8.2f} {tf:>11.2f} {tf / tc:>6.1f} {same}")
    paper_estimate(max(gflops))


if __name__ == "__main__":
    main()
