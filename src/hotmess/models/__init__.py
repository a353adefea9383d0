"""hotmess.models."""
