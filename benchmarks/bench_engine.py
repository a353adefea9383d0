"""Past memory: ``hotmess analyze`` on DuckDB statistics beside the in-memory path, with peak RSS.

Writes a Parquet dataset in the hotmess schema (Q questions × 100 samples, four options, ~5% invalid, one
model, split into files of 1M rows), then runs each pipeline in a fresh subprocess and reports its wall time,
CPU time (all threads) and peak resident memory:

- ``memory``: :func:`hotmess.data.read_samples` per file + :func:`hotmess.analysis.summarize_samples` (KL,
  1,000-resample CI) — the baseline;
- ``duckdb``: :func:`hotmess.data.engines.duckdb_stats` (memory limit 1 GB) + :func:`hotmess.analysis.scale.
  summarize_stats` (KL, 1,000-resample CI).

At sizes where both run, the two incoherences and intervals must agree to 1e-9 (printed). Usage::

    python benchmarks/bench_engine.py [--sizes 1e6,1e7,1e8] [--memory-max 1e7] [--dir DIR]

The in-memory baseline is skipped above ``--memory-max`` samples (10M needs ~4 GB; 100M would not fit in
this machine's 24 GB).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

SAMPLES_PER_Q = 100
ROWS_PER_FILE = 1_000_000

CHILD = r"""
import json, resource, sys, time, warnings
warnings.simplefilter("ignore")
t0 = time.perf_counter()
engine, folder = sys.argv[1], sys.argv[2]
if engine == "memory":
    import pandas as pd
    from pathlib import Path
    from hotmess.analysis import summarize_samples
    from hotmess.data import read_samples
    df = pd.concat([read_samples(f) for f in sorted(Path(folder).glob("*.parquet"))], ignore_index=True)
    res = summarize_samples(df, "kl", n_boot=1000, rng=0)
else:
    from hotmess.analysis.scale import summarize_stats
    from hotmess.data.engines import duckdb_stats
    res = summarize_stats(duckdb_stats([folder], memory_limit="1GB"), "kl", n_boot=1000, rng=0)
o = res.overall
ru = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"wall": time.perf_counter() - t0, "cpu": ru.ru_utime + ru.ru_stime, "rss_gb": ru.ru_maxrss / 1e6,
                  "samples": o.n_samples, "incoherence": o.incoherence,
                  "ci": [o.ci["incoherence"].low, o.ci["incoherence"].high]}))
"""


def write_dataset(folder: Path, n_samples: int, seed: int = 0) -> None:
    """n_samples rows in files of ROWS_PER_FILE, questions of SAMPLES_PER_Q samples each."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    n_q_file = ROWS_PER_FILE // SAMPLES_PER_Q
    for f in range(max(1, n_samples // ROWS_PER_FILE)):
        rows = min(ROWS_PER_FILE, n_samples)
        nq = rows // SAMPLES_PER_Q
        q0 = f * n_q_file
        qid = np.repeat(np.arange(q0, q0 + nq), SAMPLES_PER_Q)
        correct = rng.integers(0, 4, nq).repeat(SAMPLES_PER_Q)
        p_right = rng.beta(2, 2, nq).repeat(SAMPLES_PER_Q)
        right = rng.random(rows) < p_right
        answer = np.where(right, correct, (correct + rng.integers(1, 4, rows)) % 4)
        invalid = rng.random(rows) < 0.05
        answer = np.where(invalid, -1, answer)
        s = np.tile(np.arange(SAMPLES_PER_Q), nq)
        table = pa.table(
            {
                "run_id": pa.array(np.full(rows, "bench")).dictionary_encode(),
                "model": pa.array(np.full(rows, "m")).dictionary_encode(),
                "task": pa.array(np.full(rows, "t")).dictionary_encode(),
                "question_id": pa.array(np.char.add("q", qid.astype(str))),
                "context_id": pa.array(s // 10, pa.int64()),
                "sample_index": pa.array(s % 10, pa.int64()),
                "budget": pa.array(np.full(rows, "")).dictionary_encode(),
                "answer": pa.array(answer, pa.int64()),
                "correct": pa.array(correct, pa.int64()),
                "n_options": pa.array(np.full(rows, 4), pa.int64()),
                "valid": pa.array(~invalid),
                "error": pa.nulls(rows, pa.string()),
                "kind": pa.array(np.full(rows, "multiple-choice")).dictionary_encode(),
            }
        )
        pq.write_table(table, folder / f"part-{f:04d}.parquet")


def run(engine: str, folder: Path) -> dict:
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    out = subprocess.run(
        [sys.executable, "-c", CHILD, engine, str(folder)], capture_output=True, text=True, env=env, check=False
    )
    if out.returncode != 0:
        raise SystemExit(f"{engine} failed: {out.stderr[-2000:]}")
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1e6,1e7,1e8")
    ap.add_argument("--memory-max", type=float, default=1e7)
    ap.add_argument("--dir", type=Path, default=None, help="where to write the datasets (default: a temp folder)")
    args = ap.parse_args()
    base = args.dir or Path(tempfile.mkdtemp(prefix="hotmess-bench-engine-"))
    print(f"{'samples':>12} {'engine':>7} {'wall s':>8} {'CPU s':>8} {'peak RSS GB':>12} {'incoherence':>12}  CI")
    try:
        for size in (int(float(x)) for x in args.sizes.split(",")):
            folder = base / f"n{size}"
            t = time.perf_counter()
            write_dataset(folder, size)
            print(f"# wrote {size:,} samples in {time.perf_counter() - t:.0f} s", flush=True)
            results = {}
            for engine in ("memory", "duckdb"):
                if engine == "memory" and size > args.memory_max:
                    continue
                r = results[engine] = run(engine, folder)
                print(
                    f"{r['samples']:>12,} {engine:>7} {r['wall']:>8.1f} {r['cpu']:>8.1f} {r['rss_gb']:>12.2f} "
                    f"{r['incoherence']:>12.6f}  [{r['ci'][0]:.6f}, {r['ci'][1]:.6f}]",
                    flush=True,
                )
            if len(results) == 2:
                m, d = results["memory"], results["duckdb"]
                same = abs(m["incoherence"] - d["incoherence"]) < 1e-9 and np.allclose(m["ci"], d["ci"], atol=1e-9)
                print(
                    f"# {size:,}: duckdb/memory wall {d['wall'] / m['wall']:.2f}, CPU {d['cpu'] / m['cpu']:.2f}, "
                    f"RSS {d['rss_gb'] / m['rss_gb']:.2f}; same numbers to 1e-9: {same}",
                    flush=True,
                )
            shutil.rmtree(folder, ignore_errors=True)
    finally:
        if args.dir is None:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
