"""Reading and writing sample tables: the run store, Parquet, CSV and JSONL.

:func:`read_samples` accepts the full schema (:mod:`hotmess.data.schema`) *and* the simplest file a user
can write by hand — one row per sample with ``question_id``, ``answer`` and ``correct`` — and returns a
table with every schema column, normalised:

* ``answer`` / ``correct``: an option letter (``A``, ``b``, ``(C)``) or a 0-based index; an empty or
  unparseable ``answer`` is an invalid sample (−1); an unparseable ``correct`` is an error.
* ``n_options``: if absent, the largest option seen (in answers, targets or probability vectors) per task.
* ``probs``: a list, a JSON list ``"[0.2, 0.8]"`` or ``"0.2, 0.8"``; used instead of ``answer`` where present.
* ``context_id`` / ``sample_index``: if absent, every sample of a question gets its own index.
* ``valid``: if absent, true where an answer or probability vector was given and ``error`` is empty.
* ``length_source``: one of :data:`~hotmess.data.schema.LENGTH_SOURCES` (any case) or empty; if absent, null
  (unknown). ``finish_reason``: any text or empty; if absent, null.
"""

from __future__ import annotations

import json
import math
import re
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hotmess.data._paths import prepare_output
from hotmess.data.schema import CHOICE_COLUMNS, COLUMNS, LIST_COLUMNS, MAX_N_OPTIONS, SLOT_COLUMNS
from hotmess.data.store import RunStore, run_protocols
from hotmess.errors import DuplicateSamplesWarning, InputError

__all__ = [
    "STORE_SUFFIXES",
    "collapse_duplicate_samples",
    "normalize_samples",
    "parse_option",
    "read_samples",
    "run_protocols",
    "write_samples",
]

STORE_SUFFIXES = (".sqlite", ".sqlite3", ".db")
_TABLE_SUFFIXES = (".parquet", ".pq", ".csv", ".jsonl", ".ndjson", ".json")
_LETTER = re.compile(r"^\(?\s*([A-Za-z])\s*\)?[.:]?$")
_PROB_TOL = 0.01


def parse_option(value: Any) -> int | None:
    """An option letter or 0-based index as an int; None when empty or unparseable.

    Examples
    --------
    >>> [parse_option(v) for v in ["B", "(c)", 2, "3", 1.0, "", None, "maybe", -1]]
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


def _read_table(path: Path) -> pd.DataFrame:
    suffix = path.suffix.lower()
    try:
        if suffix in (".parquet", ".pq"):
            return pd.read_parquet(path)
        if suffix == ".csv":
            return pd.read_csv(
                path,
                dtype={
                    "question_id": str,
                    "answer": str,
                    "correct": str,
                    "model": str,
                    "task": str,
                    "budget": str,
                    "run_id": str,
                    "length_source": str,
                    "kind": str,
                    "finish_reason": str,
                },
                keep_default_na=False,
                na_values=[""],
            )
        if suffix in (".jsonl", ".ndjson"):
            return pd.read_json(path, lines=True, dtype=False)
        if suffix == ".json":
            return pd.read_json(path, dtype=False)
    except (ValueError, OSError, UnicodeDecodeError) as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        raise InputError(
            f"{path} could not be parsed as {suffix[1:]}: {str(exc).splitlines()[0][:160]}",
            hint="check the file is complete and in the format its extension says",
        ) from None
    except Exception as exc:  # pyarrow raises its own types for corrupt Parquet
        raise InputError(
            f"{path} could not be parsed as {suffix[1:]}: {type(exc).__name__}: {str(exc)[:160]}",
            hint="check the file is complete and in the format its extension says",
        ) from None
    raise InputError(
        f"{path}: unsupported file type '{suffix}'",
        hint=f"use a run store ({', '.join(STORE_SUFFIXES)}) or a samples file ({', '.join(_TABLE_SUFFIXES)})",
    )


def read_samples(path: str | Path, *, run_id: str | None = None) -> pd.DataFrame:
    """Read samples from a run store or a Parquet/CSV/JSONL file, normalised to the full schema.

    Raises
    ------
    hotmess.errors.InputError
        Missing file, unsupported type, unparseable file, missing columns or bad values — with the row.
    """
    p = Path(path)
    if not p.exists():
        raise InputError(f"{p} does not exist", hint="check the path")
    if p.is_dir():
        raise InputError(f"{p} is a directory", hint="pass a run store or a samples file inside it")
    if p.suffix.lower() in STORE_SUFFIXES:
        with RunStore(p, create=False) as store:
            df = store.samples(run_id=run_id)  # carries the runs' protocols in df.attrs
        if df.empty:
            raise InputError(
                f"{p} holds no samples" + (f" for run {run_id!r}" if run_id else ""),
                hint="run `hotmess run` first, or check --run",
            )
        return df
    raw = _read_table(p)
    df = normalize_samples(raw, source=str(p))
    if run_id is not None:
        df = df[df["run_id"] == run_id].reset_index(drop=True)
        if df.empty:
            raise InputError(f"{p} holds no samples for run {run_id!r}", hint="check --run")
    return df


def normalize_samples(raw: pd.DataFrame, *, source: str = "<table>") -> pd.DataFrame:
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

    correct = [parse_option(v) for v in raw["correct"]]
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
        ans = [parse_option(v) for v in raw["answer"]]
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


def collapse_duplicate_samples(df: pd.DataFrame, *, protocols: dict[str, str] | None = None) -> pd.DataFrame:
    """Count once the samples that several runs of one protocol hold: same slot and seed, different ``run_id``.

    A run resumed under a new id (by an older hotmess, whose run ids also hashed transport options such as a
    timeout or a base URL) draws the same samples again: same model, task, question, context, sample index and budget
    (:data:`~hotmess.data.schema.SLOT_COLUMNS`) and the same ``seed``. Of such rows one is kept — a non-error
    row first, then the earliest ``created_at``, then the run that started first — and the others are left
    out, with a :class:`~hotmess.errors.DuplicateSamplesWarning` naming how many and which runs. Rows without
    a seed (imported data) and rows of one slot with different seeds (different samples) are all kept.

    ``protocols`` (run id → :func:`run_protocols` key; default ``df.attrs["run_protocols"]``, which
    :func:`read_samples` sets for a run store) limits this to runs with the same sampling settings: two runs
    that differ in, say, temperature draw different samples under the same seeds and are never collapsed, nor
    are imported runs or runs it does not list. Without it (a Parquet/CSV/JSONL file, where run settings are not
    known) nothing is collapsed, and the warning says which runs share slots and seeds.

    Examples
    --------
    >>> import warnings
    >>> df = pd.DataFrame({"run_id": ["a", "b", "b"], "model": "m", "task": "t", "question_id": "q",
    ...                    "context_id": 0, "sample_index": [0, 0, 1], "budget": "", "seed": [7, 7, 8],
    ...                    "error": None, "created_at": [1.0, 2.0, 2.0]})
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     out = collapse_duplicate_samples(df, protocols={"a": "p", "b": "p"})  # one protocol
    >>> out["run_id"].tolist(), caught[0].message.n_collapsed
    (['a', 'b'], 1)
    """
    cols = [*SLOT_COLUMNS, "seed"]
    if df.empty or any(c not in df.columns for c in [*cols, "run_id"]):
        return df
    if protocols is None:
        protocols = df.attrs.get("run_protocols")
    if protocols is None:  # a plain file: whether its runs shared their settings is not known
        _warn_unproven_repeats(df, cols)
        return df
    known = protocols
    # a run the mapping does not list (samples copied without their run's settings) is a protocol of its own
    df = df.assign(_protocol=df["run_id"].astype(str).map(lambda r: known.get(r, "run:" + r)))
    cols = [*cols, "_protocol"]
    seeded = np.flatnonzero(df["seed"].notna().to_numpy())
    shared = df.iloc[seeded].duplicated(subset=cols, keep=False).to_numpy()
    rows = seeded[shared]  # positions of the rows whose seeded slot another row holds too
    if rows.size == 0:
        return df.drop(columns="_protocol", errors="ignore")
    sub = df.iloc[rows]
    created = pd.to_numeric(df["created_at"], errors="coerce") if "created_at" in df else pd.Series(0.0, df.index)
    run_start = created.groupby(df["run_id"].to_numpy()).min()
    order = pd.DataFrame(
        {
            "slot": sub.groupby(cols, sort=False).ngroup().to_numpy(),
            "error": sub["error"].notna().to_numpy() if "error" in sub else False,
            "created": created.iloc[rows].fillna(np.inf).to_numpy(),
            "run_start": sub["run_id"].map(run_start).fillna(np.inf).to_numpy(),
            "run": sub["run_id"].astype(str).to_numpy(),
            "pos": rows,
        }
    ).sort_values(["slot", "error", "created", "run_start", "run", "pos"], kind="stable")
    kept_run = order.groupby("slot")["run"].transform("first")
    drop = order.loc[order["run"] != kept_run, "pos"].to_numpy()
    if drop.size == 0:  # repeated slots within one run only: not this function's business
        return df.drop(columns="_protocol", errors="ignore")
    runs = tuple(sorted(order.loc[order["slot"].isin(order.loc[order["pos"].isin(drop), "slot"]), "run"].unique()))
    shown = _name_runs(runs)
    warnings.warn(
        DuplicateSamplesWarning(
            f"{drop.size} repeated sample(s) left out: runs {shown} hold the same samples (same model, task, "
            "question, context, sample index, budget and seed), each now counted once; pass --run to analyse one run",
            n_collapsed=int(drop.size),
            runs=runs,
        ),
        stacklevel=2,
    )
    keep = np.ones(len(df), dtype=bool)
    keep[drop] = False
    return df[keep].drop(columns="_protocol", errors="ignore")


def _name_runs(runs: tuple[str, ...]) -> str:
    """``'a', 'b' and 3 more``: run ids for a one-line note."""
    return ", ".join(repr(r) for r in runs[:5]) + (f" and {len(runs) - 5} more" if len(runs) > 5 else "")


def _warn_unproven_repeats(df: pd.DataFrame, cols: list[str]) -> None:
    """Say (without dropping anything) that runs of a file share slots and seeds: maybe one run under two ids."""
    seeded = df[df["seed"].notna()]
    shared = seeded[seeded.duplicated(subset=cols, keep=False)]
    runs = tuple(sorted(shared["run_id"].astype(str).unique()))
    if len(runs) < 2:
        return
    shown = _name_runs(runs)
    warnings.warn(
        DuplicateSamplesWarning(
            f"{len(shared)} sample(s) of runs {shown} share model, task, question, context, sample index, budget "
            "and seed; this table does not say whether the runs used the same settings, so all are counted — if "
            "they are one run resumed under two ids, analyse one with --run (or analyse the run store, which knows)",
            n_collapsed=0,
            runs=runs,
        ),
        stacklevel=3,
    )


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


def write_samples(df: pd.DataFrame, path: str | Path) -> Path:
    """Write a samples table to a store (merging, exactly once), Parquet, CSV or JSONL, by suffix."""
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix not in STORE_SUFFIXES + _TABLE_SUFFIXES[:-1]:
        raise InputError(
            f"{p}: unsupported output type '{suffix}'",
            hint=f"use one of {', '.join(STORE_SUFFIXES + _TABLE_SUFFIXES[:-1])}",
        )
    if suffix in STORE_SUFFIXES:
        with RunStore(p) as store:
            store.write(df.to_dict("records"))
        return p
    prepare_output(p, what="samples file")
    out = df.copy()
    if suffix in (".parquet", ".pq"):
        for c in LIST_COLUMNS:
            out[c] = [None if v is None else [float(x) for x in v] for v in out[c]]
        out.to_parquet(p, index=False)
    elif suffix == ".csv":
        for c in LIST_COLUMNS:
            out[c] = [None if v is None else json.dumps([None if _isnan(x) else x for x in v]) for v in out[c]]
        out.to_csv(p, index=False)
    else:  # .jsonl, .ndjson
        out.to_json(p, orient="records", lines=True, force_ascii=False)
    return p


def _isnan(x: Any) -> bool:
    return isinstance(x, float) and math.isnan(x)
