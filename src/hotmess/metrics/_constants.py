"""Constants of the decompositions that need no numpy.

The ``hotmess`` command reads them when it registers its options (defaults, help text), so they live apart from
the numpy code; the public modules re-export them (``DEFAULT_DELTA`` from :mod:`hotmess.metrics.kl`).
"""

from __future__ import annotations

__all__ = ["DEFAULT_DELTA"]

DEFAULT_DELTA = 1e-12
"""Default Laplace smoothing δ of the KL decomposition (SPEC §1)."""
