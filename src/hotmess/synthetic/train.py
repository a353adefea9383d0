"""Train one model of the ladder: AdamW, warmup + cosine, held-out loss log, checkpoints and resume.

The same code runs on CPU (float32) and CUDA (bf16 autocast). A checkpoint holds the model, the optimizer,
the batch generator's state, the step, the loss log and the resolved run config; a JSON file beside it
holds the config and progress in readable form.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch

from hotmess.errors import ConfigError
from hotmess.synthetic.config import ModelSize, TrainConfig
from hotmess.synthetic.data import PairData
from hotmess.synthetic.model import GPT, GPTConfig, autocast_for, configure_optimizer, evaluate_loss, lr_at

__all__ = ["TrainResult", "model_config_for", "train_model"]


@dataclass(frozen=True)
class TrainResult:
    """What training one size produced."""

    name: str
    """Size label, e.g. ``"2x48h4"``."""
    n_params: int
    """Exact trainable parameter count."""
    log: list[dict[str, float]] = field(repr=False)
    """One row per evaluation: step, lr, train_loss, heldout_loss, tokens, elapsed_s."""
    final_heldout_loss: float
    """Held-out next-token loss (nats per u token) after the last step."""
    tokens_per_s: float
    """Training throughput in input tokens per second, evaluations excluded, over all calls (resumes too)."""
    wall_s: float
    """Training time over all calls (resumes too), evaluations and checkpoints included."""
    resumed_from: int
    """Step the run resumed from (0 for a fresh start)."""


def model_config_for(size: ModelSize, data: PairData) -> GPTConfig:
    """The :class:`GPTConfig` of ``size`` for sequences of ``data``."""
    return GPTConfig(block_size=data.block_size, n_layer=size.n_layer, n_head=size.n_head, n_embd=size.n_embd)


def train_model(
    size: ModelSize,
    data: PairData,
    config: TrainConfig,
    *,
    seed: int,
    checkpoint: Path | None = None,
    resume: bool = False,
    run_config: dict[str, Any] | None = None,
    on_step: Callable[[int], None] | None = None,
) -> tuple[GPT, TrainResult]:
    """Train ``size`` on ``data`` for ``config.steps`` steps (continuing from ``checkpoint`` when resuming).

    Parameters
    ----------
    size
        The rung of the ladder.
    data
        Trajectories (their device is the training device).
    config
        Schedule and logging.
    seed
        Seeds the initial weights, the batch stream and the held-out set (derived per size by the caller).
    checkpoint
        Path of the ``.pt`` checkpoint (written every ``config.checkpoint_every`` steps and at the end).
    resume
        Continue from ``checkpoint`` if it exists; it must come from the same model and training config.
    run_config
        Resolved experiment config saved inside the checkpoint and its JSON sidecar.
    on_step
        Called with the number of completed steps after every step (progress bars).

    Returns
    -------
    (model, TrainResult)
    """
    device = data.device
    mcfg = model_config_for(size, data)
    init_gen = torch.Generator().manual_seed(seed)
    model = GPT(mcfg, generator=init_gen).to(device)
    opt = configure_optimizer(model, lr=config.max_lr, weight_decay=config.weight_decay)
    batch_gen = torch.Generator(device=device).manual_seed(seed + 1)
    eval_x, eval_y = data.heldout_set(config.eval_pairs, seed=seed + 2)
    log: list[dict[str, float]] = []
    step, elapsed_before, eval_before = 0, 0.0, 0.0
    if resume and checkpoint is not None and checkpoint.exists():
        state = torch.load(checkpoint, map_location=device, weights_only=True)
        if state["model_config"] != asdict(mcfg) or state["train_config"] != asdict(config):
            raise ConfigError(
                f"checkpoint {checkpoint} was written with a different model or training config",
                hint="resume with the same preset and overrides, or use a fresh --out directory",
            )
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        batch_gen.set_state(state["generator"].cpu())
        step, log = int(state["step"]), list(state["log"])
        elapsed_before, eval_before = float(state["elapsed_s"]), float(state["eval_s"])
    resumed_from = step
    min_lr = config.max_lr * config.min_lr_ratio
    tokens_per_step = config.batch_size * mcfg.block_size
    t0 = time.perf_counter()
    eval_time = 0.0
    model.train()
    while step < config.steps:
        lr = lr_at(
            step, max_lr=config.max_lr, min_lr=min_lr, warmup_steps=config.warmup_steps, total_steps=config.steps
        )
        for group in opt.param_groups:
            group["lr"] = lr
        inputs, targets = data.batch(config.batch_size, batch_gen)
        with autocast_for(device):
            _, loss = model(inputs, targets)
        assert loss is not None
        loss.backward()
        if config.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
        opt.step()
        opt.zero_grad(set_to_none=True)
        step += 1
        if step % config.eval_every == 0 or step == config.steps:
            te = time.perf_counter()
            heldout = evaluate_loss(model, eval_x, eval_y)
            eval_time += time.perf_counter() - te
            log.append(
                {
                    "step": step,
                    "lr": lr,
                    "train_loss": float(loss.detach()),
                    "heldout_loss": heldout,
                    "tokens": float(step * tokens_per_step),
                    "elapsed_s": elapsed_before + time.perf_counter() - t0,
                }
            )
        if checkpoint is not None and (step % config.checkpoint_every == 0 or step == config.steps):
            timing = {"elapsed_s": elapsed_before + time.perf_counter() - t0, "eval_s": eval_before + eval_time}
            _save(checkpoint, model, opt, batch_gen, step, log, mcfg, config, size, run_config, timing)
        if on_step is not None:
            on_step(step)
    wall = elapsed_before + time.perf_counter() - t0
    train_time = wall - eval_before - eval_time
    tps = step * tokens_per_step / train_time if step and train_time > 0 else float("nan")
    final = log[-1]["heldout_loss"] if log else evaluate_loss(model, eval_x, eval_y)
    model.eval()
    return model, TrainResult(size.name, model.n_params, log, final, tps, wall, resumed_from)


def _save(
    path: Path,
    model: GPT,
    opt: torch.optim.Optimizer,
    gen: torch.Generator,
    step: int,
    log: list[dict[str, float]],
    mcfg: GPTConfig,
    config: TrainConfig,
    size: ModelSize,
    run_config: dict[str, Any] | None,
    timing: dict[str, float],
) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {
        "model": model.state_dict(),
        "optimizer": opt.state_dict(),
        "generator": gen.get_state(),
        "step": step,
        "log": log,
        **timing,
        "model_config": asdict(mcfg),
        "train_config": asdict(config),
        "run_config": run_config or {},
    }
    tmp = path.with_suffix(".pt.tmp")
    torch.save(state, tmp)
    tmp.replace(path)
    meta = {
        "size": size.name,
        "n_params": model.n_params,
        "step": step,
        "steps": config.steps,
        "model_config": asdict(mcfg),
        "train_config": asdict(config),
        "run_config": run_config or {},
    }
    path.with_suffix(".json").write_text(json.dumps(meta, indent=2) + "\n")
