"""hotmess.synthetic."""
