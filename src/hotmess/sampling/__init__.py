"""hotmess.sampling."""
