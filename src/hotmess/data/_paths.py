"""Output paths: check that an output can be written there before anything is, with a one-line error if not.

:func:`prepare_output` checks (and creates) the folder of an output file. :func:`guard_output` is the rule every
command that derives an output from inputs follows: it never writes over one of its inputs, a run store or a
samples file, and says what an existing folder or file in the way should be instead.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

from hotmess.errors import HotmessError, InputError

__all__ = ["DATA_SUFFIXES", "guard_output", "holds_samples", "is_sqlite", "prepare_output"]

#: Suffixes of the files samples live in (run stores and samples files); never written over by a derived output.
DATA_SUFFIXES = (".sqlite", ".sqlite3", ".db", ".parquet", ".pq", ".csv", ".tsv", ".jsonl", ".ndjson", ".json")

_SQLITE_HEADER = b"SQLite format 3\x00"
_SNIFF_BYTES = 1 << 16
_MANIFEST = "manifest.json"

OutputKind = Literal["file", "folder", "samples", "store"]


def prepare_output(
    path: Path, *, what: str = "output", error: type[HotmessError] = InputError, create: bool = True
) -> None:
    """Create the folder of the output file ``path``; raise ``error`` naming the path when that cannot work.

    With ``create=False`` only check (before long work whose result goes there), writing nothing.

    Examples
    --------
    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp())
    >>> (d / "f").write_text("x")
    1
    >>> try:
    ...     prepare_output(d / "f" / "out.json")
    ... except InputError as err:
    ...     print(err.hint)
    choose another location for the output
    """
    if path.is_dir():
        raise error(f"{path} is a directory", hint=f"give a file name for the {what}")
    _check_parents(path, what=what, error=error)
    if not create:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise error(
            f"cannot create the folder of {path}: {exc.strerror or type(exc).__name__}",
            hint=f"choose a writable location for the {what}",
        ) from None


def _check_parents(path: Path, *, what: str, error: type[HotmessError]) -> None:
    """Raise when the nearest existing folder above ``path`` is a file."""
    blocking = next((p for p in path.parents if p.exists()), None)
    if blocking is not None and not blocking.is_dir():
        raise error(f"{blocking} is a file, not a folder", hint=f"choose another location for the {what}")


def is_sqlite(path: Path) -> bool:
    """Whether ``path`` is a SQLite database file (by its header, whatever its name).

    Examples
    --------
    >>> import sqlite3, tempfile
    >>> p = Path(tempfile.mkdtemp()) / "report.html"
    >>> sqlite3.connect(p).execute("CREATE TABLE t (x)").connection.commit()
    >>> is_sqlite(p), is_sqlite(p.parent)
    (True, False)
    """
    try:
        with open(path, "rb") as f:
            return f.read(len(_SQLITE_HEADER)) == _SQLITE_HEADER
    except OSError:  # missing, a folder, unreadable
        return False


def holds_samples(path: Path) -> bool:
    """Whether the table file ``path`` has the columns of a samples file (question_id, correct, answer or probs).

    Only the header (CSV/TSV, JSONL, Parquet schema) or the first records (JSON) are read. A file that cannot
    be read as a table is not one: nothing could read samples from it either.

    Examples
    --------
    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp())
    >>> _ = (d / "s.csv").write_text("question_id,answer,correct\\nq1,A,B\\n")
    >>> _ = (d / "r.csv").write_text("model,bias,variance\\nm,0.1,0.2\\n")
    >>> holds_samples(d / "s.csv"), holds_samples(d / "r.csv")
    (True, False)
    """
    return _holds_samples(path) is not False


def _holds_samples(path: Path) -> bool | None:
    """True or False when the header tells; None when the file is too large to look into (a big JSON)."""
    columns = _column_names(path)
    if columns is None:
        return None
    names = {n.strip().lower() for n in columns}
    return {"question_id", "correct"} <= names and bool({"answer", "probs"} & names)


def _column_names(path: Path) -> list[str] | None:
    suffix = path.suffix.lower()
    try:
        if suffix in (".parquet", ".pq"):
            import pyarrow.parquet as pq

            return list(pq.read_schema(path).names)
        with open(path, encoding="utf-8-sig", errors="replace") as f:  # -sig: CSVs saved by Excel
            head = f.read(_SNIFF_BYTES)
        if suffix in (".csv", ".tsv"):
            first = head.splitlines()[0] if head else ""
            return next(csv.reader([first], delimiter="\t" if suffix == ".tsv" else ","), [])
        if suffix in (".jsonl", ".ndjson"):
            record = json.loads(head.splitlines()[0]) if head.strip() else {}
            return list(record) if isinstance(record, dict) else []
        if suffix == ".json":
            if path.stat().st_size >= (64 << 20):
                return None  # too large to parse here: cannot tell
            data = json.loads(path.read_text(encoding="utf-8-sig"))
            if isinstance(data, list):
                return list(data[0]) if data and isinstance(data[0], dict) else []
            return list(data) if isinstance(data, dict) else []
    except Exception:  # unreadable as a table (pyarrow raises its own types): not a samples file
        return []
    return []


def _sibling(path: Path, name: str) -> Path:
    """``path`` with its last part replaced by ``name`` (also for ``.`` and ``..``, which have no name)."""
    return (path if path.name else path.resolve()).with_name(name)


def _same(a: Path, b: Path) -> bool:
    """Whether two paths name the same file (symlinks, ``./x`` vs ``x`` and hard links included)."""
    try:
        return os.path.samefile(a, b)
    except OSError:  # one does not exist
        return a.resolve() == b.resolve()


def guard_output(
    path: Path,
    *,
    inputs: Iterable[Path] = (),
    what: str = "output",
    kind: OutputKind = "file",
    replaces: Iterable[str] = (),
    example: str | None = None,
) -> None:
    """Refuse, before any work, an output ``path`` that would destroy data or cannot be what the output is.

    Never written over, whatever the kind: one of the ``inputs`` (compared as files: ``./s.sqlite``, a
    symlink or a hard link to it count) and a folder where a file is expected. Further, by ``kind``:

    ``"file"`` (a derived file: an HTML report, results)
        An existing SQLite file (by its header, whatever its name) and an existing file with a suffix of
        :data:`DATA_SUFFIXES` are refused — except suffixes in ``replaces`` (the command's own output types,
        e.g. analysis results as ``.csv``) whose file does not hold samples (:func:`holds_samples`).
    ``"folder"`` (a folder of tables)
        An existing file is refused, and an existing folder unless it is empty or an earlier output of this
        kind (it holds ``manifest.json``) with no input inside it.
    ``"samples"`` (a samples file, e.g. ``hotmess convert`` to ``.parquet``)
        An existing SQLite file is refused; an existing samples file is replaced.
    ``"store"`` (a run store merged into)
        Existing files are fine: the run store itself refuses files that are not hotmess stores.

    Anything else that exists (an earlier report of the same name) is replaced by the caller.

    Parameters
    ----------
    path
        The output path as the user gave it.
    inputs
        Files the output is derived from.
    what
        What the output is, for messages ("HTML report").
    kind
        See above.
    replaces
        For ``kind="file"``: data suffixes (lower case, with the dot) the command itself writes.
    example
        A file or folder name suggested in hints (default: ``path`` with a fitting name).

    Raises
    ------
    hotmess.errors.InputError
        One line naming the path and the fix.

    Examples
    --------
    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp())
    >>> _ = (d / "s.csv").write_text("question_id,answer,correct\\nq1,A,B\\n")
    >>> guard_output(d / "report.html", inputs=[d / "s.csv"], what="HTML report")  # new file: fine
    >>> try:
    ...     guard_output(d / "s.csv", inputs=[d / "s.csv"], what="HTML report", example="report.html")
    ... except InputError as err:
    ...     print(err.message.replace(str(d), "D"))
    refusing to write the HTML report over its input D/s.csv
    """
    sources = [Path(p) for p in inputs]
    hint_name = str(_sibling(path, example)) if example else None
    for src in sources:
        if _same(path, src):
            raise InputError(
                f"refusing to write the {what} over its input {path}",
                hint=f"write it to another file, e.g. {hint_name}" if hint_name else "choose another output path",
            )
    if kind == "folder":
        _guard_folder(path, sources, what=what, example=example)
        return
    if path.is_dir():
        named = f"e.g. {path / example}" if example else f"a file name for the {what}"
        raise InputError(f"{path} is a directory, not a file", hint=f"give {named}")
    _check_parents(path, what=what, error=InputError)
    if kind == "store" or not path.exists():
        return
    elsewhere = f"e.g. {hint_name}" if hint_name else "another path"
    if is_sqlite(path):
        raise InputError(
            f"refusing to write the {what} over the run store {path}", hint=f"write it elsewhere, {elsewhere}"
        )
    suffix = path.suffix.lower()
    if kind == "samples" and path.stat().st_size > 0 and _holds_samples(path) is not True:
        raise InputError(
            f"refusing to replace {path}: it is not a samples file (an earlier export would be)",
            hint=f"write the samples elsewhere, {elsewhere}",
        )
    if kind == "file" and suffix in DATA_SUFFIXES:
        own = {s.lower() for s in replaces}
        if suffix not in own or holds_samples(path):
            raise InputError(
                f"refusing to write the {what} over the samples/data file {path}",
                hint=f"write it elsewhere, {elsewhere}",
            )


def _guard_folder(path: Path, inputs: list[Path], *, what: str, example: str | None) -> None:
    other = example or f"{path.resolve().name}_tables"
    if path.exists() and not path.is_dir():
        raise InputError(
            f"{path} is an existing file, not a folder for the {what}",
            hint=f"give a folder name, e.g. {_sibling(path, other)}",
        )
    _check_parents(path, what=what, error=InputError)
    if not path.is_dir():
        return
    folder = path.resolve()
    inside = next((p for p in inputs if folder in p.resolve().parents), None)
    if inside is not None:
        raise InputError(f"the folder {path} holds the input {inside}", hint=f"write the {what} to another folder")
    if any(path.iterdir()) and not (path / _MANIFEST).is_file():
        raise InputError(
            f"{path} already holds other files (it is not a folder of earlier {what}: no {_MANIFEST})",
            hint=f"give a new or empty folder, e.g. {_sibling(path, other)}",
        )
