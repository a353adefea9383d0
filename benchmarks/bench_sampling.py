"""Sampling throughput: the hotmess runner beside a plain loop over the official ``openai`` client.

Both talk to the same stub OpenAI-compatible server (instant responses, its own process) in one run:

1. **Throughput** — ``sample_task`` with the run store on, vs. ``AsyncOpenAI`` in a bare ``asyncio`` loop with the
   same concurrency and ``n`` that stores nothing. Target: ≥ 500 samples/s.
2. **Own overhead per sample** — the runner with an in-process provider that answers instantly (no network):
   prompt building, answer extraction, bookkeeping and SQLite writes. Target: ≤ 2 ms per sample.
3. **Memory** — peak RSS while the runner writes 100k samples, sampled at intervals. Target: flat.
4. ``--local`` — SmolLM2 on CPU: batched generation vs one sample at a time (tokens/s). Target: ≥ 4×.

Usage: ``python benchmarks/bench_sampling.py [--samples 20000] [--memory-samples 100000] [--local]``
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # for tests.support.stub_server

from tests.support.stub_server import StubOpenAIServer  # noqa: E402

from hotmess.data import RunStore  # noqa: E402
from hotmess.models import Completion, GenerateRequest, Provider, resolve_model  # noqa: E402
from hotmess.sampling import RunConfig, sample_task  # noqa: E402
from hotmess.tasks import build_prompt, load_task  # noqa: E402

CONCURRENCY = 32
N_PER_REQUEST = 3


def _config(url: str, n_contexts: int, spc: int = N_PER_REQUEST) -> RunConfig:
    return RunConfig(
        model="openai:bench",
        task="generated:arithmetic",
        n_contexts=n_contexts,
        samples_per_context=spc,
        concurrency=CONCURRENCY,
        model_options={"base_url": url},
        k_shot=3,
    )


async def ours(url: str, n_contexts: int, store_path: Path) -> tuple[int, float]:
    cfg = _config(url, n_contexts)
    task = load_task(cfg.task)
    prov = resolve_model(cfg.model, **cfg.model_options)
    t0 = time.perf_counter()
    with RunStore(store_path) as store:
        stats = await sample_task(prov, task, store, cfg, progress=False)
    dt = time.perf_counter() - t0
    await prov.aclose()
    return stats.written, dt


async def baseline(url: str, n_contexts: int) -> tuple[int, float]:
    """The plain loop a user would write with the official SDK: same prompts, concurrency and n; no store."""
    from openai import AsyncOpenAI

    task = load_task("generated:arithmetic")
    client = AsyncOpenAI(base_url=url, api_key="sk-bench", max_retries=0)
    sem = asyncio.Semaphore(CONCURRENCY)
    texts: list[str] = []

    async def one(q, ctx):  # type: ignore[no-untyped-def]
        p = build_prompt(task, q, context_id=ctx, seed=0, k=3)
        async with sem:
            r = await client.chat.completions.create(
                model="bench",
                messages=list(p.messages),
                n=N_PER_REQUEST,
                temperature=1.0,
                max_tokens=512,
                seed=ctx,
            )
        texts.extend(c.message.content or "" for c in r.choices)

    t0 = time.perf_counter()
    await asyncio.gather(*(one(q, c) for q in task.questions for c in range(n_contexts)))
    dt = time.perf_counter() - t0
    await client.close()
    return len(texts), dt


class Instant(Provider):
    """Answers at once, in process: what remains is hotmess's own work per sample."""

    name = "instant"
    supports_n = True
    max_concurrency = CONCURRENCY

    async def generate(self, request: GenerateRequest) -> list[Completion]:
        return [
            Completion(text="Let me think step by step. The answer is (B).", output_tokens=12) for _ in range(request.n)
        ]


async def overhead(n_contexts: int, store_path: Path) -> tuple[int, float]:
    cfg = RunConfig(
        model="instant",
        task="generated:arithmetic",
        n_contexts=n_contexts,
        samples_per_context=N_PER_REQUEST,
        concurrency=CONCURRENCY,
    )
    t0 = time.perf_counter()
    with RunStore(store_path) as store:
        stats = await sample_task(Instant(), load_task(cfg.task), store, cfg, progress=False)
    return stats.written, time.perf_counter() - t0


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def memory_profile(total: int, store_path: Path) -> list[tuple[int, float]]:
    """RSS after every tenth of a ``total``-sample run (instant provider, 10 samples per context)."""
    task = load_task("generated:arithmetic")
    n_contexts = max(1, total // (len(task.questions) * 10))
    cfg = RunConfig(
        model="instant",
        task="generated:arithmetic",
        n_contexts=n_contexts,
        samples_per_context=10,
        concurrency=CONCURRENCY,
    )
    points: list[tuple[int, float]] = []
    stop = threading.Event()

    def watch(store: RunStore) -> None:
        with RunStore(store_path) as reader:
            while not stop.is_set():
                points.append((len(reader), rss_mb()))
                time.sleep(0.5)

    with RunStore(store_path) as store:
        t = threading.Thread(target=watch, args=(store,), daemon=True)
        t.start()
        stats = asyncio.run(sample_task(Instant(), task, store, cfg, progress=False))
        stop.set()
        t.join()
    points.append((stats.written, rss_mb()))
    return points


def local_batching(n: int, max_tokens: int) -> None:
    from hotmess.models import LocalProvider, smollm2_path

    prompt = ({"role": "user", "content": "Count from one to twenty in words, separated by commas."},)

    async def timed(batch: int) -> tuple[int, float]:
        prov = LocalProvider(smollm2_path(), max_batch_size=batch)
        prov.load()
        req = [GenerateRequest(messages=prompt, n=1, seeds=(i,), max_tokens=max_tokens) for i in range(n)]
        t0 = time.perf_counter()
        outs = await asyncio.gather(*(prov.generate(r) for r in req))
        dt = time.perf_counter() - t0
        await prov.aclose()
        return sum(o[0].output_tokens or 0 for o in outs), dt

    one_tok, one_dt = asyncio.run(timed(1))
    bat_tok, bat_dt = asyncio.run(timed(n))
    r1, rb = one_tok / one_dt, bat_tok / bat_dt
    print(
        f"local SmolLM2, {n} samples × ≤{max_tokens} tokens: one at a time {r1:.1f} tok/s, "
        f"batched ×{n} {rb:.1f} tok/s → {rb / r1:.1f}× (target ≥ 4×)"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--samples", type=int, default=15_000, help="samples in the throughput comparison")
    ap.add_argument("--memory-samples", type=int, default=100_000)
    ap.add_argument("--local", action="store_true", help="also measure SmolLM2 batched vs one at a time")
    ap.add_argument("--local-n", type=int, default=16)
    ap.add_argument("--local-tokens", type=int, default=48)
    args = ap.parse_args()
    os.environ.setdefault("OPENAI_API_KEY", "sk-bench")
    n_questions = len(load_task("generated:arithmetic").questions)
    n_contexts = max(1, args.samples // (n_questions * N_PER_REQUEST))
    tmp = Path(tempfile.mkdtemp(prefix="hotmess-bench-"))
    print(f"machine: {os.cpu_count()} cores · {n_questions} questions × {n_contexts} contexts × {N_PER_REQUEST}")
    with StubOpenAIServer(subprocess=True) as stub:
        asyncio.run(baseline(stub.url, 1))  # warm up both paths
        n_b, t_b = asyncio.run(baseline(stub.url, n_contexts))
        n_o, t_o = asyncio.run(ours(stub.url, n_contexts, tmp / "ours.sqlite"))
    print(f"baseline (AsyncOpenAI loop, no store): {n_b} samples in {t_b:.2f}s = {n_b / t_b:.0f} samples/s")
    print(
        f"hotmess runner (store on, retries, extraction): {n_o} samples in {t_o:.2f}s = {n_o / t_o:.0f} samples/s"
        f" → {t_b / n_b / (t_o / n_o):.2f}× the baseline's rate (target ≥ 500 samples/s)"
    )
    n_i, t_i = asyncio.run(overhead(n_contexts, tmp / "instant.sqlite"))
    print(
        f"own overhead (instant in-process provider): {1000 * t_i / n_i:.3f} ms/sample over {n_i} samples "
        f"(target ≤ 2 ms)"
    )
    pts = memory_profile(args.memory_samples, tmp / "memory.sqlite")
    first = next((m for n, m in pts if n >= args.memory_samples // 10), pts[0][1])
    print(
        f"memory over {pts[-1][0]} samples: RSS {first:.0f} MB at 10% → {pts[-1][1]:.0f} MB at the end "
        f"(growth {pts[-1][1] - first:+.0f} MB); samples/RSS points: "
        + ", ".join(f"{n // 1000}k:{m:.0f}" for n, m in pts[:: max(1, len(pts) // 8)])
    )
    if args.local:
        local_batching(args.local_n, args.local_tokens)


if __name__ == "__main__":
    main()
