"""hotmess.analysis."""
