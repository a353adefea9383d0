"""hotmess inside the evaluation tools people already run.

- :mod:`hotmess.integrations.inspect`: an Inspect scorer wrapper, epochs reducer, metrics and few-shot
  context solver (needs ``inspect-ai``);
- :mod:`hotmess.integrations.lm_eval`: ``process_results`` helpers and aggregations for lm-evaluation-harness
  task YAMLs (needs nothing at import; lm-eval calls it).

Neither is imported by ``import hotmess``; import the one you need.
"""

__all__: list[str] = []
