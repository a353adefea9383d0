"""Exceptions that reach users as one clear line.

Every error a user can cause (a malformed file, a missing column, an unreachable endpoint) is raised as a
:class:`HotmessError` subclass carrying a message that names the problem and a ``hint`` that names the fix.
The CLI prints ``error: <message> (<hint>)`` and exits non-zero; ``--debug`` shows the traceback.
"""

from __future__ import annotations

__all__ = [
    "BackendError",
    "ConfigError",
    "DuplicateSamplesWarning",
    "HotmessError",
    "InputError",
    "Interrupted",
    "StoreError",
]


class HotmessError(Exception):
    """Base class of errors meant for the user; ``str(err)`` is one line with the fix."""

    exit_code: int = 2

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class InputError(HotmessError, ValueError):
    """A file or table given by the user is missing, malformed or inconsistent."""


class ConfigError(HotmessError, ValueError):
    """An option or configuration value is invalid."""


class StoreError(HotmessError):
    """The run store cannot be opened, read or written."""


class Interrupted(HotmessError):  # noqa: N818 - a user action, not an error
    """The user interrupted a command (Ctrl-C); the message says what was kept and how to resume."""

    exit_code = 130


class BackendError(HotmessError):
    """A model backend failed in a way that retrying will not fix (bad URL, bad key, unknown model)."""

    exit_code = 3


class DuplicateSamplesWarning(UserWarning):
    """Samples of different runs that fill the same slot with the same seed were counted once.

    Raised as a warning (never an error) by :func:`hotmess.data.collapse_duplicate_samples`; ``n_collapsed``
    is the number of rows left out and ``runs`` the run ids involved.
    """

    def __init__(self, message: str, *, n_collapsed: int = 0, runs: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.n_collapsed = n_collapsed
        self.runs = runs
