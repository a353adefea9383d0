"""Reading Inspect log files into plain dicts: with Inspect's own reader, or with zipfile + zstandard.

An Inspect ``.eval`` log is a zip archive whose entries are JSON documents, compressed with zstd (method 93)
in recent versions and deflate in older ones: ``header.json`` (the eval spec, plan, results and stats; missing
while a run is still going, when ``_journal/start.json`` holds the spec) and one ``samples/<id>_epoch_<n>.json``
per sample and epoch. A ``.json`` log is one JSON document with the same fields and a ``samples`` list.
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

__all__ = ["RawLog", "Reader", "read_raw_log"]

Reader = Literal["auto", "inspect", "builtin"]

#: A log as plain JSON: ``{"header": {...eval, plan, results, stats, status...}, "samples": [...]}``.
RawLog = dict[str, Any]

_SAMPLE_ENTRY = re.compile(r"^samples/.+_epoch_\d+\.json$")
_ZSTD = 93
_HEAVY = {"events", "events_data", "attachments", "timelines", "store"}
_HINT = "pass an Inspect log (.eval or .json) written by `inspect eval`"


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
    hotmess.errors.InputError
        A file that is not an Inspect log, is truncated or corrupt, or holds no samples.
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


def _check(raw: RawLog, path: Path) -> None:
    header = raw.get("header")
    spec = header.get("eval") if isinstance(header, dict) else None
    if not isinstance(spec, dict) or "task" not in spec or "model" not in spec:
        raise InputError(f"{path} is not an Inspect log (no eval spec with task and model)", hint=_HINT)
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
        first = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
        raise InputError(
            f"{path} could not be read as an Inspect log: {type(exc).__name__}: {first}", hint=_HINT
        ) from None
    header = log.model_dump(mode="json", exclude={"samples", "reductions"})
    samples = [s.model_dump(mode="json", exclude=_HEAVY) for s in (log.samples or [])]
    return {"header": header, "samples": samples}


def _read_json(path: Path) -> RawLog:
    try:
        with path.open("rb") as fh:
            data = json.load(fh)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{path} is not valid JSON (truncated or corrupt?): {exc}", hint=_HINT) from None
    if not isinstance(data, dict):
        raise InputError(f"{path} is not an Inspect log (top level is not an object)", hint=_HINT)
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
