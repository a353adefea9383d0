"""hotmess.cli."""
