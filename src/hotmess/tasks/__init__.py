"""hotmess.tasks."""
