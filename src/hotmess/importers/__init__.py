"""hotmess.importers."""
