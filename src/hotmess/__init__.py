"""hotmess: measure how AI models fail.

Samples a model many times on the same questions, splits its error into bias (consistently wrong) and
variance (inconsistently wrong), and reports *incoherence*, the share of error that is variance.
See ``docs/`` and the reference formulas in ``docs/formulas.md``.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
