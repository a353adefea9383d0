"""The hotmess functions this task's YAML names with ``!function utils.<name>``."""

from hotmess.integrations.lm_eval import accuracy, bias, error, hotmess_results, incoherence, variance

# open-ended: each repeat is right when its first word equals the answer (lm-eval's exact_match rules)
process_results = hotmess_results(target="answer")

__all__ = ["accuracy", "bias", "error", "incoherence", "process_results", "variance"]
