"""hotmess: measure how AI models fail.

Samples a model many times on the same questions, splits its error into bias (consistently wrong) and
variance (inconsistently wrong), and reports *incoherence*, the share of error that is variance.
See ``docs/`` and the reference formulas in ``docs/formulas.md``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hotmess.sampling import RunStats

__version__ = "0.1.0"

__all__ = ["__version__", "run"]


def run(model: str, task: str, store: str | Path, **options: Any) -> RunStats:
    """Sample ``model`` on ``task`` into the run store ``store``, synchronously (see :func:`hotmess.sampling.run`).

    Importing :mod:`hotmess` stays light: the sampler and its dependencies load on the first call.
    """
    from hotmess.sampling import run as _run

    return _run(model, task, store, **options)
