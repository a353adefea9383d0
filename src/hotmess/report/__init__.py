"""hotmess.report."""
