"""The sample schema, the SQLite run store, and table import/export.

Importing this package does not import pandas: the functions and classes that need it load with their module
on first use (PEP 562), so that ``hotmess --help`` starts fast. The schema loads at once.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from hotmess.data.schema import (
    COLUMNS,
    KEY_COLUMNS,
    LENGTH_SOURCES,
    LIST_COLUMNS,
    MAX_N_OPTIONS,
    SAMPLE_KINDS,
    SLOT_COLUMNS,
    Sample,
)
from hotmess.errors import DuplicateSamplesWarning

if TYPE_CHECKING:
    from hotmess.data.frames import QUESTION_KEY, scored_samples, to_arrays
    from hotmess.data.io import (
        STORE_SUFFIXES,
        collapse_duplicate_samples,
        normalize_samples,
        parse_option,
        read_samples,
        run_protocols,
        write_samples,
    )
    from hotmess.data.store import SCHEMA_VERSION, RunStore

__all__ = [
    "COLUMNS",
    "KEY_COLUMNS",
    "LENGTH_SOURCES",
    "LIST_COLUMNS",
    "MAX_N_OPTIONS",
    "QUESTION_KEY",
    "SAMPLE_KINDS",
    "SCHEMA_VERSION",
    "SLOT_COLUMNS",
    "STORE_SUFFIXES",
    "DuplicateSamplesWarning",
    "RunStore",
    "Sample",
    "collapse_duplicate_samples",
    "normalize_samples",
    "parse_option",
    "read_samples",
    "run_protocols",
    "scored_samples",
    "to_arrays",
    "write_samples",
]

_LAZY: dict[str, str] = {
    "QUESTION_KEY": "frames",
    "scored_samples": "frames",
    "to_arrays": "frames",
    "STORE_SUFFIXES": "io",
    "collapse_duplicate_samples": "io",
    "normalize_samples": "io",
    "parse_option": "io",
    "read_samples": "io",
    "run_protocols": "io",
    "write_samples": "io",
    "SCHEMA_VERSION": "store",
    "RunStore": "store",
}
"""Public name → the submodule that defines it, imported on first access."""


if not TYPE_CHECKING:  # type checkers see the imports above instead, so a misspelt name stays an error

    def __getattr__(name: str) -> Any:
        """Import the submodule of a public name on first access (PEP 562) and keep the name here."""
        module = _LAZY.get(name)
        if module is None:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
        globals()[name] = value
        return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
