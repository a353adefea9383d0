"""hotmess.data."""
