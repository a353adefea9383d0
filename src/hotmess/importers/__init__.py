"""Importers of existing repeated runs: Inspect logs and lm-evaluation-harness sample logs."""

from hotmess.importers._common import KINDS, ImportedLog, ImportReport, write_imported
from hotmess.importers.inspect import import_inspect, read_inspect_log

__all__ = [
    "KINDS",
    "ImportReport",
    "ImportedLog",
    "import_inspect",
    "read_inspect_log",
    "write_imported",
]
