"""The synthetic optimizer experiment (SPEC §4): transformers that imitate an optimizer, then act on their own.

Decoder-only transformers of growing size learn, by next-token prediction on sign / exponent / mantissa
tokens, the update steps of fixed-step steepest descent on a random quadratic; rolled out on their own
predictions, their bias and variance about the minimum show whether they learn the goal (bias falls) faster
than they learn to pursue it coherently (variance falls). ``hotmess synthetic`` runs it end to end;
:func:`run_experiment` is the library entry point. Needs the ``synthetic`` extra (torch).
"""

from hotmess.synthetic.config import (
    DataConfig,
    ExperimentConfig,
    MeasureConfig,
    ModelSize,
    ProblemConfig,
    RolloutConfig,
    TrainConfig,
)
from hotmess.synthetic.data import PairData, build_data
from hotmess.synthetic.experiment import REFERENCE, ExperimentResult, derive_seed, resolve_device, run_experiment
from hotmess.synthetic.measure import (
    PowerLawFit,
    final_values,
    fit_power_law,
    resampled_final_values,
    scaling_fits,
    step_metrics,
)
from hotmess.synthetic.model import GPT, GPTConfig, KVCache, evaluate_loss, lr_at
from hotmess.synthetic.presets import PAPER_LADDER, PRESETS, get_preset, parse_sizes, with_overrides
from hotmess.synthetic.problem import Quadratic, make_problem, optimizer_rollout, sample_starts, split_trajectories
from hotmess.synthetic.rollout import generate_update_tokens, rollout_model
from hotmess.synthetic.tokenizer import MINUS, PLUS, VOCAB_SIZE, FloatTokenizer
from hotmess.synthetic.train import TrainResult, model_config_for, train_model

__all__ = [
    "GPT",
    "MINUS",
    "PAPER_LADDER",
    "PLUS",
    "PRESETS",
    "REFERENCE",
    "VOCAB_SIZE",
    "DataConfig",
    "ExperimentConfig",
    "ExperimentResult",
    "FloatTokenizer",
    "GPTConfig",
    "KVCache",
    "MeasureConfig",
    "ModelSize",
    "PairData",
    "PowerLawFit",
    "ProblemConfig",
    "Quadratic",
    "RolloutConfig",
    "TrainConfig",
    "TrainResult",
    "build_data",
    "derive_seed",
    "evaluate_loss",
    "final_values",
    "fit_power_law",
    "generate_update_tokens",
    "get_preset",
    "lr_at",
    "make_problem",
    "model_config_for",
    "optimizer_rollout",
    "parse_sizes",
    "resampled_final_values",
    "resolve_device",
    "rollout_model",
    "run_experiment",
    "sample_starts",
    "scaling_fits",
    "split_trajectories",
    "step_metrics",
    "train_model",
    "with_overrides",
]
