"""Output paths: check that a file can be written there before anything is, with a one-line error if not."""

from __future__ import annotations

from pathlib import Path

from hotmess.errors import HotmessError, InputError

__all__ = ["prepare_output"]


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
    blocking = next((p for p in path.parents if p.exists()), None)
    if blocking is not None and not blocking.is_dir():
        raise error(f"{blocking} is a file, not a folder", hint=f"choose another location for the {what}")
    if not create:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise error(
            f"cannot create the folder of {path}: {exc.strerror or type(exc).__name__}",
            hint=f"choose a writable location for the {what}",
        ) from None
