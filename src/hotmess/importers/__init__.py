"""Importers of existing repeated runs (Inspect logs, lm-evaluation-harness sample logs).

Every importer reads and validates whole files first (:func:`read_inspect_log`, :func:`read_lm_eval_samples`)
and then writes them to a run store in one transaction (:func:`write_imported`); the ``import_*`` functions
do both. See docs/importers/. Embedders of open-ended answers are model backends: :mod:`hotmess.models.embedders`.
"""

from hotmess.importers._common import KINDS, ImportedLog, ImportReport, write_imported
from hotmess.importers.inspect import import_inspect, read_inspect_log
from hotmess.importers.lm_eval import hf_token_counter, import_lm_eval, read_lm_eval_samples

__all__ = [
    "KINDS",
    "ImportReport",
    "ImportedLog",
    "hf_token_counter",
    "import_inspect",
    "import_lm_eval",
    "read_inspect_log",
    "read_lm_eval_samples",
    "write_imported",
]
