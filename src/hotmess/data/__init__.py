"""The sample schema, the SQLite run store, and table import/export."""

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
from hotmess.data.store import SCHEMA_VERSION, RunStore
from hotmess.errors import DuplicateSamplesWarning

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
