"""Ingest: read a samples file, normalise it, decompose it (KL + Brier) with a 1,000-resample CI — before and after.

Workload: question × sample tables of 1M samples (10,000 questions × 100) and 10M samples (100,000 × 100), answers
A–D with a per-question preference and 5% unparseable answers ("??", "", "maybe"), in Parquet and CSV (the file a
user writes by hand: ``question_id``, ``answer``, ``correct``). Each pipeline runs in its own subprocess, so its peak
RSS (``os.wait4``) is its own:

* **before** — the normalisation and ``to_arrays`` of hotmess before this change (``parse_option`` per row; copied
  verbatim below, in the BASELINE section), then the same metrics;
* **after** — ``hotmess.data.read_samples`` and ``hotmess.data.to_arrays`` as they are now;

both then run ``hotmess.metrics.summarize(arrays, "kl", n_boot=1000)`` and ``decompose(arrays, "brier")``.
CPU and wall time cover the pipeline only (imports excluded); "process CPU" is the subprocess's whole CPU time.
A third row per file, **analyze**, is the command line end to end: ``hotmess analyze FILE --json`` (imports,
guardrails and printing included).

Run:  python benchmarks/bench_ingest.py  [--sizes 1m,10m] [--formats parquet,csv] [--skip-before]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hotmess.data.schema import CHOICE_COLUMNS, COLUMNS, MAX_N_OPTIONS
from hotmess.errors import InputError
from hotmess.metrics.arrays import SampleArrays

SIZES = {"1m": 10_000, "10m": 100_000}  # questions; 100 samples each
N_SAMPLES, LETTERS, P_INVALID = 100, np.array(list("ABCD")), 0.05
INVALID = np.array(["??", "", "maybe"], dtype=object)


# ======================================================================================================================
# BASELINE — hotmess before this change (commit fcac3c8): src/hotmess/data/io.py (normalisation) and
# src/hotmess/data/frames.py (to_arrays), copied verbatim except for the old_ prefix. Do not "fix" this code: it is
# what the new path is measured against.
# ======================================================================================================================

QUESTION_KEY = ["task", "question_id"]
_LETTER = re.compile(r"^\(?\s*([A-Za-z])\s*\)?[.:]?$")
_PROB_TOL = 0.01


def old_read_table(path: Path) -> pd.DataFrame:
    """The Parquet and CSV branches of the old ``_read_table`` (unchanged since)."""
    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    return pd.read_csv(
        path,
        dtype={c: str for c in ("question_id", "answer", "correct", "model", "task", "budget", "run_id")}
        | {c: str for c in ("length_source", "kind", "finish_reason")},
        keep_default_na=False,
        na_values=[""],
    )


def old_parse_option(value: Any) -> int | None:
    """An option letter or 0-based index as an int; None when empty or unparseable.

    Examples
    --------
    >>> [old_parse_option(v) for v in ["B", "(c)", 2, "3", 1.0, "", None, "maybe", -1]]
    [1, 2, 2, 3, 1, None, None, None, None]
    """
    if value is None or value is pd.NA:
        return None
    if isinstance(value, bool):
        return None
    if isinstance(value, int | np.integer):
        return int(value) if value >= 0 else None
    if isinstance(value, float | np.floating):
        if math.isnan(value) or value < 0 or not float(value).is_integer():
            return None
        return int(value)
    text = str(value).strip()
    if not text:
        return None
    if text.lstrip("+").isdigit():
        return int(text)
    m = _LETTER.match(text)
    if m:
        return ord(m.group(1).upper()) - ord("A")
    return None


def _parse_list(value: Any, column: str, row: int, path: str) -> list[float] | None:
    if value is None or value is pd.NA:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, list | tuple | np.ndarray):
        items = list(value)
    else:
        text = str(value).strip()
        if not text:
            return None
        try:
            items = json.loads(text) if text.startswith("[") else [float(x) for x in text.split(",")]
        except (ValueError, json.JSONDecodeError):
            raise InputError(
                f"{path}: row {row}: column '{column}' is not a list of numbers: {text[:60]!r}",
                hint='write it as a JSON list such as "[0.2, 0.8]"',
            ) from None
    try:
        return [float("nan") if x is None else float(x) for x in items]
    except (TypeError, ValueError):
        raise InputError(
            f"{path}: row {row}: column '{column}' holds a non-number: {items!r}"[:200],
            hint='write it as a JSON list such as "[0.2, 0.8]"',
        ) from None


def old_normalize_samples(raw: pd.DataFrame, *, source: str = "<table>") -> pd.DataFrame:
    """Turn a user table into the full schema (see the module docstring for the rules)."""
    if raw.empty:
        raise InputError(f"{source} holds no samples", hint="the file must have one row per sample")
    raw = raw.rename(columns={c: str(c).strip().lower() for c in raw.columns}).reset_index(drop=True)
    missing = [c for c in ("question_id", "correct") if c not in raw.columns]
    if "answer" not in raw.columns and "probs" not in raw.columns:
        missing.append("answer (or probs)")
    if missing:
        raise InputError(
            f"{source}: missing column(s) {', '.join(missing)}; found {', '.join(map(str, raw.columns))}",
            hint="a samples file needs question_id, answer and correct (see docs/data.md)",
        )
    n = len(raw)
    df = pd.DataFrame(index=range(n))
    for name in ("run_id", "model", "task", "budget"):
        df[name] = raw[name].astype(object).fillna("").astype(str).to_numpy() if name in raw.columns else ""
    qid = raw["question_id"]
    if qid.isna().any():
        row = int(np.flatnonzero(qid.isna().to_numpy())[0]) + 1
        raise InputError(f"{source}: row {row}: question_id is empty", hint="every sample needs a question_id")
    df["question_id"] = qid.astype(str).str.strip().to_numpy()

    correct = [old_parse_option(v) for v in raw["correct"]]
    no_choice = _no_choice_rows(raw) | raw["correct"].astype(str).str.strip().isin(["-1", "-1.0"]).to_numpy()
    correct = [-1 if c is None and no_choice[i] else c for i, c in enumerate(correct)]
    bad = [i for i, c in enumerate(correct) if c is None]
    if bad:
        i = bad[0]
        raise InputError(
            f"{source}: row {i + 1}: correct answer {raw['correct'].iloc[i]!r} is not an option letter or index",
            hint="write the correct option as a letter (A, B, ...) or a 0-based index",
        )
    df["correct"] = np.asarray(correct, dtype=np.int64)
    if "answer" in raw.columns:
        ans = [old_parse_option(v) for v in raw["answer"]]
        df["answer"] = np.asarray([-1 if a is None else a for a in ans], dtype=np.int64)
    else:
        df["answer"] = -1
    if "probs" in raw.columns:
        df["probs"] = [_parse_list(v, "probs", i + 1, source) for i, v in enumerate(raw["probs"])]
    else:
        df["probs"] = None
    for name in ("test_outcomes", "embedding"):
        df[name] = (
            [_parse_list(v, name, i + 1, source) for i, v in enumerate(raw[name])] if name in raw.columns else None
        )
    df["error"] = (
        raw["error"].where(raw["error"].notna() & (raw["error"].astype(str) != ""), None)
        if "error" in raw.columns
        else None
    )
    df["raw_output"] = (
        raw["raw_output"].astype(object).fillna("").astype(str).to_numpy() if "raw_output" in raw.columns else ""
    )
    for name in ("seed", "output_tokens", "reasoning_tokens", "actions"):
        if name in raw.columns:
            vals = pd.to_numeric(raw[name], errors="coerce")
            if (vals.dropna() < 0).any():
                raise InputError(f"{source}: column '{name}' has negative values", hint="counts must be ≥ 0")
            df[name] = vals.round().astype("Int64").array
        else:
            df[name] = pd.array([pd.NA] * n, dtype="Int64")
    df["created_at"] = pd.to_numeric(raw["created_at"], errors="coerce").fillna(0.0) if "created_at" in raw else 0.0
    for name, values in (
        ("finish_reason", _optional_text(raw["finish_reason"]) if "finish_reason" in raw.columns else None),
        *((c, _choice_column(raw, c, source) if c in raw.columns else None) for c in CHOICE_COLUMNS),
    ):  # object columns holding None where unknown (a str column would turn None into NaN)
        df[name] = pd.Series(values if values is not None else [None] * n, index=df.index, dtype=object)

    _fill_n_options(df, raw, source)
    _check_probs(df, source)
    has_probs = df["probs"].map(lambda v: v is not None)
    if has_probs.any():
        df.loc[has_probs, "answer"] = [int(np.argmax(v)) for v in df.loc[has_probs, "probs"]]
    if "valid" in raw.columns:
        df["valid"] = raw["valid"].map(_truthy).to_numpy() & ((df["answer"] >= 0) | has_probs)
    else:
        df["valid"] = (df["answer"] >= 0) | has_probs
    df.loc[df["error"].notna(), "valid"] = False
    df.loc[~df["valid"], "answer"] = -1

    for name in ("context_id", "sample_index"):
        if name in raw.columns:
            vals = pd.to_numeric(raw[name], errors="coerce")
            if vals.isna().any():
                raise InputError(
                    f"{source}: column '{name}' must be an integer in every row",
                    hint="fill it, or drop the column to number samples automatically",
                )
            df[name] = vals.astype(np.int64).to_numpy()
    if "sample_index" not in raw.columns:
        keys = ["run_id", "model", "task", "budget", "question_id"] + (["context_id"] if "context_id" in raw else [])
        df["sample_index"] = df.groupby(keys, sort=False).cumcount().to_numpy()
    if "context_id" not in raw.columns:
        df["context_id"] = 0
    dup = df.duplicated(subset=["run_id", "model", "task", "question_id", "context_id", "sample_index", "budget"])
    if dup.any():
        row = int(np.flatnonzero(dup.to_numpy())[0]) + 1
        raise InputError(
            f"{source}: row {row} repeats the key of an earlier sample (same question, context and sample index)",
            hint="give each sample its own sample_index, or drop the column",
        )
    return df[list(COLUMNS)]


def _optional_text(col: pd.Series) -> list[str | None]:
    """Text values with empty cells (None, NaN, "") as None."""
    out: list[str | None] = []
    for v in col:
        text = "" if v is None or v is pd.NA or _isnan(v) else str(v).strip()
        out.append(text or None)
    return out


def _choice_column(raw: pd.DataFrame, name: str, source: str) -> list[str | None]:
    """A column of :data:`CHOICE_COLUMNS` checked against its values (case-insensitive; empty = unknown)."""
    allowed = CHOICE_COLUMNS[name]
    values = [None if v is None else v.lower() for v in _optional_text(raw[name])]
    for i, v in enumerate(values):
        if v is not None and v not in allowed:
            raise InputError(
                f"{source}: row {i + 1}: {name} {raw[name].iloc[i]!r} is not one of {', '.join(allowed)}",
                hint=f"write {', '.join(allowed)}, or leave it empty (see docs/data.md)",
            )
    return values


def _no_choice_rows(raw: pd.DataFrame) -> np.ndarray:
    """Rows that are test-vector or open-ended samples (no correct option needed)."""
    flag = np.zeros(len(raw), dtype=bool)
    for name in ("test_outcomes", "embedding"):
        if name in raw.columns:
            flag |= raw[name].map(lambda v: v is not None and not _isnan(v) and str(v) != "").to_numpy()
    return flag


def _truthy(v: Any) -> bool:
    if isinstance(v, str):
        return v.strip().lower() in ("1", "true", "t", "yes", "y")
    try:
        return bool(v) and not (isinstance(v, float) and math.isnan(v))
    except (TypeError, ValueError):
        return False


def _fill_n_options(df: pd.DataFrame, raw: pd.DataFrame, source: str) -> None:
    plen = df["probs"].map(lambda v: len(v) if v is not None else 0)
    seen = np.maximum(np.maximum(df["answer"].to_numpy(), df["correct"].to_numpy()) + 1, plen.to_numpy())
    inferred = pd.Series(seen).groupby(df["task"]).transform("max").clip(lower=2)
    given = pd.to_numeric(raw["n_options"], errors="coerce") if "n_options" in raw.columns else None
    k = inferred if given is None else given.fillna(inferred)
    choice = df["correct"].to_numpy() >= 0
    huge = choice & ~(k.to_numpy() <= MAX_N_OPTIONS)  # also catches inf
    if huge.any():
        i = int(np.flatnonzero(huge)[0])
        if given is not None and pd.notna(given.iloc[i]):
            raise InputError(
                f"{source}: row {i + 1}: n_options {given.iloc[i]:g} is more than the {MAX_N_OPTIONS:,} options "
                "a question may have",
                hint=f"fix the n_options column (at most {MAX_N_OPTIONS:,})",
            )
        task = df["task"].to_numpy() == df["task"].iloc[i]
        j = int(np.flatnonzero(task)[np.argmax(seen[task])])  # the row naming the largest option
        raise InputError(
            f"{source}: row {j + 1}: option index {int(seen[j]) - 1:,} implies n_options {int(seen[j]):,}, more "
            f"than the {MAX_N_OPTIONS:,} options a question may have",
            hint="fix that answer, correct option or probs, or give an n_options column",
        )
    df["n_options"] = np.where(choice, k.to_numpy().astype(np.int64), 0)
    over = choice & (df["correct"].to_numpy() >= df["n_options"].to_numpy())
    if over.any():
        i = int(np.flatnonzero(over)[0])
        raise InputError(
            f"{source}: row {i + 1}: correct option {df['correct'].iloc[i]} is beyond n_options "
            f"{df['n_options'].iloc[i]}",
            hint="fix n_options or the correct answer",
        )
    wild = df["answer"].to_numpy() >= df["n_options"].to_numpy()
    df.loc[wild, "answer"] = -1  # an answer naming a non-existent option is invalid, like any unparseable one
    if (choice & (df["n_options"].to_numpy() < 2)).any():
        raise InputError(f"{source}: n_options must be at least 2", hint="fix the n_options column")


def _check_probs(df: pd.DataFrame, source: str) -> None:
    out: list[list[float] | None] = []
    for i, (v, k) in enumerate(zip(df["probs"], df["n_options"], strict=True)):
        if v is None:
            out.append(None)
            continue
        a = np.asarray(v, dtype=np.float64)
        if a.size != k:
            raise InputError(
                f"{source}: row {i + 1}: probs has {a.size} values but the question has {k} options",
                hint="give one probability per option",
            )
        if not np.all(np.isfinite(a)) or np.any(a < 0):
            raise InputError(
                f"{source}: row {i + 1}: probs must be finite and non-negative, got {v}",
                hint="leave probs empty for an invalid sample",
            )
        s = float(a.sum())
        if abs(s - 1.0) > _PROB_TOL:
            raise InputError(
                f"{source}: row {i + 1}: probs sum to {s:.4g}, not 1",
                hint="normalise each probability vector to sum to 1",
            )
        out.append(list(a / s))
    df["probs"] = out


def _isnan(x: Any) -> bool:
    return isinstance(x, float) and math.isnan(x)


def old_scored_samples(df: pd.DataFrame) -> pd.DataFrame:
    """Multiple-choice samples that count: not error rows (failures are never scored as wrong)."""
    keep = df["error"].isna() & (df["correct"] >= 0) & (df["n_options"] >= 2)
    return df[keep]


def old_to_arrays(df: pd.DataFrame, *, question_key: list[str] | None = None) -> tuple[SampleArrays, pd.DataFrame]:
    """Dense arrays of the scored samples in ``df`` plus one row of per-question info.

    Questions are identified by ``question_key`` (default ``task, question_id``); samples of one question are
    laid along the sample axis in table order, ragged counts masked.

    Returns
    -------
    arrays : SampleArrays
    questions : DataFrame
        One row per question, aligned with the arrays: the key columns, ``n_samples``, and the mean of
        ``output_tokens``, ``reasoning_tokens`` and ``actions`` over the question's samples (NaN when absent).

    Examples
    --------
    >>> df = pd.DataFrame({"task": "t", "question_id": ["a", "a", "b"], "answer": [0, 1, 1],
    ...                    "correct": [0, 0, 1], "n_options": 2, "valid": True, "probs": None,
    ...                    "error": None, "output_tokens": [10, 20, 5]})
    >>> arr, q = to_arrays(df)
    >>> arr.mask.tolist(), q["output_tokens"].tolist()
    ([[True, True], [True, False]], [15.0, 5.0])
    """
    key = question_key or QUESTION_KEY
    df = old_scored_samples(df)
    if df.empty:
        raise InputError(
            "no scorable multiple-choice samples (all rows are errors or lack a correct option)",
            hint="check the input, or use the test-vector / embedding analyses for such rows",
        )
    codes, uniques = pd.MultiIndex.from_frame(df[key].astype(str)).factorize()
    Q = len(uniques)
    pos = pd.Series(codes).groupby(codes).cumcount().to_numpy()
    S = int(pos.max()) + 1
    k_rows = df["n_options"].to_numpy(dtype=np.int64)
    C = int(k_rows.max())
    n_options = np.zeros(Q, dtype=np.int64)
    np.maximum.at(n_options, codes, k_rows)
    targets = np.full(Q, -1, dtype=np.int64)
    c_rows = df["correct"].to_numpy(dtype=np.int64)
    targets[codes] = c_rows
    conflict = targets[codes] != c_rows
    if conflict.any():
        i = int(np.flatnonzero(conflict)[0])
        raise InputError(
            f"question {df[key].iloc[i].tolist()} has samples with different correct answers",
            hint="each question must have one correct option (or give questions distinct ids)",
        )
    mask = np.zeros((Q, S), dtype=bool)
    mask[codes, pos] = True
    valid = np.zeros((Q, S), dtype=bool)
    valid[codes, pos] = df["valid"].to_numpy(dtype=bool)
    has_probs = df["probs"].map(lambda v: v is not None).to_numpy() & df["valid"].to_numpy(dtype=bool)
    if has_probs.any():
        probs = np.zeros((Q, S, C))
        answers = np.where(df["valid"].to_numpy(dtype=bool), df["answer"].to_numpy(dtype=np.int64), -1)
        hot = np.flatnonzero(~has_probs)
        ans_hot = answers[hot]
        hit = ans_hot >= 0
        probs[codes[hot][hit], pos[hot][hit], ans_hot[hit]] = 1.0
        rows = np.flatnonzero(has_probs)
        vectors = df["probs"].to_numpy()[rows]
        sizes = np.fromiter((len(v) for v in vectors), dtype=np.int64, count=rows.size)
        for size in np.unique(sizes):  # one block copy per vector length, not one per row
            pick = sizes == size
            block = np.asarray(np.stack([np.asarray(v, dtype=np.float64) for v in vectors[pick]]))
            probs[codes[rows[pick]], pos[rows[pick]], :size] = block
        arrays = SampleArrays.from_probs(probs, targets, n_options=n_options, mask=mask, valid=valid)
    else:
        answers = np.full((Q, S), -1, dtype=np.int64)
        answers[codes, pos] = np.where(df["valid"].to_numpy(dtype=bool), df["answer"].to_numpy(np.int64), -1)
        arrays = SampleArrays.from_answers(answers, targets, n_classes=C, n_options=n_options, mask=mask)
    info = uniques.to_frame(index=False, name=list(key))  # factorize drops the level names
    info["n_samples"] = mask.sum(axis=1)
    for col in ("output_tokens", "reasoning_tokens", "actions"):
        if col in df.columns:
            vals = pd.to_numeric(df[col], errors="coerce").astype(float)
            info[col] = vals.groupby(codes).mean().reindex(range(Q)).to_numpy()
        else:
            info[col] = np.nan
    return arrays, info


# ======================================================================================================================
# END OF BASELINE
# ======================================================================================================================


def make_table(n_questions: int, seed: int = 0) -> pd.DataFrame:
    """``question_id, answer, correct``: answers A–D with a per-question preference, 5% unparseable."""
    rng = np.random.default_rng(seed)
    correct = rng.integers(0, 4, n_questions)
    pref = rng.dirichlet(np.full(4, 0.5), size=n_questions)
    pref[np.arange(n_questions), correct] += 1.0  # right more often than not
    cum = np.cumsum(pref / pref.sum(axis=1, keepdims=True), axis=1)
    u = rng.random((n_questions, N_SAMPLES))
    answer = LETTERS[np.minimum((u[..., None] > cum[:, None, :]).sum(axis=-1), 3)].astype(object)
    bad = rng.random(answer.shape) < P_INVALID
    answer[bad] = INVALID[rng.integers(0, INVALID.size, int(bad.sum()))]
    qid = np.array([f"q{i}" for i in range(n_questions)], dtype=object)
    return pd.DataFrame(
        {
            "question_id": np.repeat(qid, N_SAMPLES),
            "answer": answer.ravel(),
            "correct": np.repeat(LETTERS[correct], N_SAMPLES),
        }
    )


def child(impl: str, path: str) -> None:
    """One measured pipeline (in a subprocess); prints its timings and results as JSON."""
    from hotmess.data import read_samples, to_arrays
    from hotmess.metrics import decompose, summarize

    c0, w0 = time.process_time(), time.perf_counter()
    if impl == "before":
        df = old_normalize_samples(old_read_table(Path(path)), source=path)
        c1 = time.process_time()
        arrays, _ = old_to_arrays(df)
    else:
        df = read_samples(path)
        c1 = time.process_time()
        arrays, _ = to_arrays(df)
    c2 = time.process_time()
    kl = summarize(arrays, "kl", n_boot=1000, rng=0)
    brier = decompose(arrays, "brier")
    c3, w3 = time.process_time(), time.perf_counter()
    ci = kl.ci["incoherence"]
    out = {"cpu": c3 - c0, "wall": w3 - w0, "read": c1 - c0, "arrays": c2 - c1, "metrics": c3 - c2}
    out |= {"incoherence": kl.incoherence, "ci": [ci.low, ci.high], "brier_error": float(brier.error.mean())}
    print(json.dumps(out))


def measure(cmd: list[str]) -> tuple[dict[str, Any], float, float]:
    """Run ``cmd``; its JSON line (if any), its process CPU seconds and its peak RSS in GB (from wait4)."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None
    text = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed with exit code {proc.returncode}")
    lines = [line for line in text.splitlines() if line.startswith("{")]
    data = json.loads(lines[-1]) if lines and "cpu" in lines[-1] else {}
    return data, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1e6  # ru_maxrss: kB on Linux


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1m,10m", help="comma-separated among 1m, 10m")
    ap.add_argument("--formats", default="parquet,csv", help="comma-separated among parquet, csv")
    ap.add_argument("--skip-before", action="store_true", help="only the new path (the baseline takes minutes)")
    ap.add_argument("--child", nargs=2, metavar=("IMPL", "PATH"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(*args.child)
        return
    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    formats = [f.strip() for f in args.formats.split(",") if f.strip()]
    hotmess = str(Path(sys.executable).with_name("hotmess"))
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; "
        f"Python {platform.python_version()}, numpy {np.__version__}, pandas {pd.__version__}"
    )
    rows = []
    with tempfile.TemporaryDirectory(prefix="hotmess-bench-ingest-") as tmp:
        for size in sizes:
            table = make_table(SIZES[size])
            for fmt in formats:
                path = Path(tmp) / f"samples_{size}.{fmt}"
                if fmt == "parquet":
                    table.to_parquet(path, index=False)
                else:
                    table.to_csv(path, index=False)
                label = f"{len(table) // 1_000_000}M {fmt}"
                result: dict[str, tuple[dict[str, Any], float, float]] = {}
                for impl in ("before", "after")[1 if args.skip_before else 0 :]:
                    result[impl] = measure([sys.executable, __file__, "--child", impl, str(path)])
                result["analyze"] = measure([hotmess, "analyze", str(path), "--json"])
                rows.append((label, result))
                after = result["after"][0]
                print(
                    f"{label}: after — read+normalise {after['read']:.2f} s, arrays {after['arrays']:.2f} s, "
                    f"KL+Brier+CI {after['metrics']:.2f} s CPU; incoherence {after['incoherence']:.4f} "
                    f"[{after['ci'][0]:.4f}, {after['ci'][1]:.4f}]",
                    flush=True,
                )
                if "before" in result:
                    before = result["before"][0]
                    rel = abs(before["incoherence"] - after["incoherence"]) / abs(after["incoherence"])
                    print(f"  before and after agree: incoherence to {rel:.1e} (relative)", flush=True)
    print()
    print("| file | pipeline | CPU | wall | process CPU | peak RSS | CPU before / after |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for label, result in rows:
        for impl, (data, proc_cpu, rss) in result.items():
            cpu = f"{data['cpu']:.2f} s" if data else "—"
            wall = f"{data['wall']:.2f} s" if data else "—"
            ratio = ""
            if impl == "after" and "before" in result:
                ratio = f"**{result['before'][0]['cpu'] / data['cpu']:.1f}×**"
            print(f"| {label} | {impl} | {cpu} | {wall} | {proc_cpu:.2f} s | {rss:.2f} GB | {ratio} |")


if __name__ == "__main__":
    main()
