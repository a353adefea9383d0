"""Reading Inspect log files into plain dicts: with Inspect's own reader, or with zipfile + zstandard.

An Inspect ``.eval`` log is a zip archive whose entries are JSON documents, compressed with zstd (method 93)
in recent versions and deflate in older ones: ``header.json`` (the eval spec, plan, results and stats; missing
while a run is still going, when ``_journal/start.json`` holds the spec) and one ``samples/<id>_epoch_<n>.json``
per sample and epoch. A ``.json`` log is one JSON document with the same fields and a ``samples`` list.

A folder written by Inspect's ``eval_set()`` also holds ``eval-set.json`` (the set's tasks) and ``logs.json``
(a listing of the logs' headers): :func:`non_log_reason` names such files, and :class:`NotAnInspectLogError` is
raised for any ``.json`` that parses but is not a log, so that a folder can be imported whole.
"""

from __future__ import annotations

import json
import re
import struct
import zipfile
import zlib
from pathlib import Path
from typing import Any, Literal

from hotmess._extras import install_hint
from hotmess.errors import InputError

__all__ = ["NotAnInspectLogError", "RawLog", "Reader", "non_log_reason", "read_raw_log"]

Reader = Literal["auto", "inspect", "builtin"]

#: A log as plain JSON: ``{"header": {...eval, plan, results, stats, status...}, "samples": [...]}``.
RawLog = dict[str, Any]

_SAMPLE_ENTRY = re.compile(r"^samples/.+_epoch_\d+\.json$")
_ZSTD = 93
_HEAVY = {"events", "events_data", "attachments", "timelines", "store"}
_HINT = "pass an Inspect log (.eval or .json) written by `inspect eval`"
#: Files Inspect writes next to its logs, which are not logs themselves.
_NOT_LOGS = {
    "eval-set.json": "the task list Inspect's eval_set() writes",
    "logs.json": "the listing of log headers Inspect writes",
}
#: Location parts pydantic adds for the branches of a union (e.g. ``'str'``, ``'dict[str,int]'``).
_BRANCHES = {"str", "int", "float", "bool", "none", "list", "dict", "tuple", "set"}


class NotAnInspectLogError(InputError):
    """A file that parses (as a zip archive or JSON) but is not an Inspect log: no eval spec with task and model."""


def non_log_reason(path: Path) -> str | None:
    """Why a file found in a folder of logs is known not to be a log (Inspect's own index files), or None."""
    return _NOT_LOGS.get(path.name.lower())


def read_raw_log(path: Path, reader: Reader = "auto") -> RawLog:
    """Read an Inspect log as plain JSON with its samples (without events).

    Parameters
    ----------
    path
        A ``.eval`` or ``.json`` Inspect log.
    reader
        ``"inspect"``: Inspect's :func:`inspect_ai.log.read_eval_log` (needs ``inspect-ai``);
        ``"builtin"``: zipfile + zstandard (needs ``zstandard`` for zstd entries);
        ``"auto"``: Inspect's reader when it is installed.

    Raises
    ------
    NotAnInspectLogError
        A file that parses but is not an Inspect log (a subclass of :class:`~hotmess.errors.InputError`).
    hotmess.errors.InputError
        A file that is truncated or corrupt, fails Inspect's validation (the message names the field), or
        holds no samples.

    Notes
    -----
    Inspect (0.3.2xx) refuses a ``null`` score value, which older Inspect versions wrote for an unscored
    (NaN) sample. A log whose only problem is such values is read with the builtin reader instead, and
    ``raw["notes"]`` says so: both readers then give the same samples (a null value is "not scored").
    """
    suffix = path.suffix.lower()
    if suffix not in (".eval", ".json"):
        raise InputError(f"{path}: unsupported log type '{suffix}'", hint=_HINT)
    if reader == "auto":
        try:
            import inspect_ai.log  # noqa: F401
        except ImportError:
            reader = "builtin"
        else:
            reader = "inspect"
    if reader == "inspect":
        raw = _read_with_inspect(path)
    elif reader == "builtin":
        raw = _read_eval_zip(path) if suffix == ".eval" else _read_json(path)
    else:
        raise ValueError(f"reader: expected 'auto', 'inspect' or 'builtin', got {reader!r}")
    _check(raw, path)
    return raw


def _is_spec(spec: Any) -> bool:
    return isinstance(spec, dict) and "task" in spec and "model" in spec


def _check(raw: RawLog, path: Path) -> None:
    header = raw.get("header")
    if not _is_spec(header.get("eval") if isinstance(header, dict) else None):
        raise NotAnInspectLogError(f"{path} is not an Inspect log (no eval spec with task and model)", hint=_HINT)
    samples = raw.get("samples")
    if not isinstance(samples, list) or not samples:
        status = header.get("status", "?") if isinstance(header, dict) else "?"
        raise InputError(
            f"{path} holds no samples (log status {status!r})",
            hint="run `inspect eval` with sample logging on (the default) and let it finish",
        )
    for i, s in enumerate(samples):
        if not isinstance(s, dict) or "id" not in s or "epoch" not in s:
            raise InputError(f"{path}: sample {i + 1} has no id/epoch", hint=_HINT)


def _read_with_inspect(path: Path) -> RawLog:
    try:
        from inspect_ai.log import read_eval_log
    except ImportError:
        raise InputError(
            "reading with Inspect's reader needs inspect-ai",
            hint=install_hint("inspect") + ", or use --reader builtin",
        ) from None
    try:
        log = read_eval_log(str(path), resolve_attachments=True, exclude_fields=set(_HEAVY))
    except Exception as exc:  # Inspect raises many types (zip, JSON, pydantic) for bad files
        if path.suffix.lower() == ".json" and _foreign_json(path):
            msg = f"{path} is not an Inspect log (no eval spec with task and model)"
            raise NotAnInspectLogError(msg, hint=_HINT) from None
        errors = _validation_errors(exc)
        if errors is not None and errors and all(_null_score_value(loc, value) for loc, _, value in errors):
            raw = _read_eval_zip(path) if path.suffix.lower() == ".eval" else _read_json(path)
            raw["notes"] = [
                f"{path}: null score value(s), which Inspect's reader refuses (older Inspect versions wrote "
                "unscored NaN scores so); read with the builtin reader, such samples count as not scored"
            ]
            return raw
        if errors is not None:
            detail = f"{getattr(exc, 'title', 'log')} {_describe(errors)}"
        else:
            detail = f"{type(exc).__name__}: {str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ''}"
        raise InputError(f"{path} could not be read as an Inspect log: {detail}", hint=_HINT) from None
    header = log.model_dump(mode="json", exclude={"samples", "reductions"})
    samples = [s.model_dump(mode="json", exclude=_HEAVY) for s in (log.samples or [])]
    return {"header": header, "samples": samples}


def _foreign_json(path: Path) -> bool:
    """Whether a .json file parses but is clearly not an Inspect log (no eval spec with task and model)."""
    try:
        with path.open("rb") as fh:
            data = json.load(fh)
    except (OSError, ValueError):  # unreadable or not JSON: truncated or corrupt, not "foreign"
        return False
    return not isinstance(data, dict) or not _is_spec(data.get("eval"))


def _validation_errors(exc: Exception) -> list[tuple[tuple[Any, ...], str, Any]] | None:
    """A pydantic ValidationError's errors as (field location without union branches, message, input)."""
    errors = getattr(exc, "errors", None)
    if not callable(errors) or type(exc).__name__ != "ValidationError":
        return None
    out = []
    for e in errors():
        loc = tuple(e.get("loc", ()))
        while loc and isinstance(loc[-1], str) and (loc[-1] in _BRANCHES or any(c in loc[-1] for c in "[(-")):
            loc = loc[:-1]
        out.append((loc, str(e.get("msg", "invalid")), e.get("input")))
    return out


def _null_score_value(loc: tuple[Any, ...], value: Any) -> bool:
    return value is None and len(loc) >= 3 and loc[-3] == "scores" and loc[-1] == "value"


def _describe(errors: list[tuple[tuple[Any, ...], str, Any]]) -> str:
    """``field samples[0].scores.choice.value: null fits none of ...`` for the first field (and how many more)."""
    by_loc: dict[tuple[Any, ...], list[tuple[str, Any]]] = {}
    for loc, msg, value in errors:
        by_loc.setdefault(loc, []).append((msg, value))
    loc, problems = next(iter(by_loc.items()))
    where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc).lstrip(".") or "(top level)"
    if len(problems) > 1:  # a union: the value fits none of its branches
        got = "null" if problems[0][1] is None else json.dumps(problems[0][1], default=str)[:40]
        kinds = ", ".join(m.removeprefix("Input should be ") for m, _ in problems)
        problem = f"{got} fits none of: {kinds}"
    else:
        problem = problems[0][0]
    more = len(by_loc) - 1
    return f"field {where}: {problem}"[:300] + (f" (and {more} more field(s))" if more else "")


def _read_json(path: Path) -> RawLog:
    try:
        with path.open("rb") as fh:
            data = json.load(fh)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{path} is not valid JSON (truncated or corrupt?): {exc}", hint=_HINT) from None
    if not isinstance(data, dict):
        raise NotAnInspectLogError(f"{path} is not an Inspect log (top level is not an object)", hint=_HINT)
    samples = data.get("samples") or []
    header = {k: v for k, v in data.items() if k not in ("samples", "reductions")}
    return {"header": header, "samples": [_resolve(_strip(s)) for s in samples if isinstance(s, dict)]}


def _read_eval_zip(path: Path) -> RawLog:
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputError(f"{path} is not a readable .eval archive (truncated or corrupt?): {exc}", hint=_HINT) from None
    with zf:
        names = set(zf.namelist())
        if "header.json" in names:
            header = _entry_json(zf, path, "header.json")
        elif "_journal/start.json" in names:  # a run that has not finished: spec and plan only
            header = {**_entry_json(zf, path, "_journal/start.json"), "status": "started"}
        else:
            raise InputError(f"{path} is a zip archive but not an Inspect log (no header.json)", hint=_HINT)
        samples = [_resolve(_strip(_entry_json(zf, path, n))) for n in sorted(names) if _SAMPLE_ENTRY.match(n)]
    if not isinstance(header, dict):
        raise InputError(f"{path}: header.json is not an object", hint=_HINT)
    samples.sort(key=lambda s: (int(s.get("epoch", 0)), str(s.get("id"))))
    return {"header": header, "samples": samples}


def _entry_json(zf: zipfile.ZipFile, path: Path, name: str) -> Any:
    info = zf.getinfo(name)
    try:
        data = _zstd_entry(zf, info) if info.compress_type == _ZSTD else zf.read(info)
        if zlib.crc32(data) & 0xFFFFFFFF != info.CRC:
            raise InputError(f"{path}: entry {name} is corrupt (CRC mismatch)", hint=_HINT)
        return json.loads(data)
    except InputError:
        raise
    except ImportError:
        raise InputError(
            f"{path} uses zstd compression, which needs zstandard or inspect-ai",
            hint=install_hint("inspect"),
        ) from None
    except Exception as exc:  # zlib/zstd errors, truncated data, bad JSON
        raise InputError(
            f"{path}: entry {name} could not be read (truncated or corrupt?): {type(exc).__name__}: {exc}",
            hint=_HINT,
        ) from None


def _zstd_entry(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    import zstandard

    fp = zf.fp
    if fp is None:  # pragma: no cover - the archive is open while entries are read
        raise OSError("archive closed")
    fp.seek(info.header_offset)
    local = fp.read(30)
    if len(local) != 30 or local[:4] != b"PK\x03\x04":
        raise ValueError("bad local file header")
    name_len, extra_len = struct.unpack("<HH", local[26:30])
    fp.seek(info.header_offset + 30 + name_len + extra_len)
    compressed = fp.read(info.compress_size)
    if len(compressed) != info.compress_size:
        raise ValueError("entry is truncated")
    out = zstandard.ZstdDecompressor().decompressobj().decompress(compressed)
    if len(out) != info.file_size:
        raise ValueError(f"entry decompressed to {len(out)} bytes, expected {info.file_size}")
    return bytes(out)


def _strip(sample: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in sample.items() if k not in _HEAVY or k == "attachments"}


def _resolve(sample: dict[str, Any]) -> dict[str, Any]:
    """Replace ``attachment://<hash>`` references by the attachment text, then drop the attachments."""
    attachments = sample.pop("attachments", None) or {}
    if not attachments:
        return sample

    def sub(v: Any) -> Any:
        if isinstance(v, str) and v.startswith("attachment://"):
            return attachments.get(v[len("attachment://") :], v)
        if isinstance(v, dict):
            return {k: sub(x) for k, x in v.items()}
        if isinstance(v, list):
            return [sub(x) for x in v]
        return v

    return {k: sub(v) for k, v in sample.items()}
