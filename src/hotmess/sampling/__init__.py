"""The sampler: few-shot contexts × seeds, bounded concurrency, classified retries, exactly-once resume."""

from hotmess.sampling.api import execute, run
from hotmess.sampling.config import Budget, RunConfig
from hotmess.sampling.runner import RunStats, sample_seed, sample_task

__all__ = ["Budget", "RunConfig", "RunStats", "execute", "run", "sample_seed", "sample_task"]
