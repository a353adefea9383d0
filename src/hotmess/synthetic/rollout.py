"""Markovian rollouts of a trained model: tokenize x → decode u → x ← x + u, batched over starts.

Decoding is constrained: at a sign position only ``+``/``−`` can be chosen, at a digit position only a digit,
so every decoded update is a valid number. Greedy (``temperature = 0``) takes the best allowed token;
``temperature > 0`` samples from the allowed tokens with a seeded generator, and several rollouts per start
then also measure the variance that decoding itself adds. With ``use_cache=True`` the tokens of x are
encoded once per step (prefill) and each u token costs one single-token forward through the KV cache;
``use_cache=False`` re-encodes the whole prefix for every token (the slow reference, kept for benchmarks
and tests).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from numpy.typing import ArrayLike, NDArray

from hotmess.synthetic.model import GPT, autocast_for
from hotmess.synthetic.tokenizer import FloatTokenizer

__all__ = ["generate_update_tokens", "rollout_model"]


def _choose(
    logits: torch.Tensor, mask_bias: torch.Tensor, temperature: float, gen: torch.Generator | None
) -> torch.Tensor:
    z = logits.float() + mask_bias  # (B, V); disallowed tokens at −inf
    if temperature == 0.0:
        return z.argmax(dim=-1)  # (B,)
    probs = torch.softmax(z / temperature, dim=-1)
    return torch.multinomial(probs, 1, generator=gen).squeeze(1)  # (B,)


@torch.no_grad()
def generate_update_tokens(
    model: GPT,
    x_tokens: torch.Tensor,
    tokenizer: FloatTokenizer,
    n_floats: int,
    *,
    temperature: float = 0.0,
    generator: torch.Generator | None = None,
    use_cache: bool = True,
) -> torch.Tensor:
    """Decode the ``n_floats · (p + 3)`` tokens of u after the prompt ``x_tokens`` ``(B, n_x)``.

    Returns ``(B, n_floats · (p + 3))`` int64 tokens that always form valid numbers.
    """
    n_u = n_floats * tokenizer.tokens_per_float
    allowed = torch.as_tensor(tokenizer.allowed_tokens(n_floats), device=x_tokens.device)  # (n_u, V)
    mask_bias = torch.zeros(allowed.shape, device=x_tokens.device).masked_fill(~allowed, float("-inf"))
    out = torch.empty(x_tokens.shape[0], n_u, dtype=torch.long, device=x_tokens.device)  # (B, n_u)
    with autocast_for(x_tokens.device):
        if use_cache:
            cache = model.new_cache()
            logits, _ = model(x_tokens, cache=cache)  # prefill: (B, n_x, V)
            for j in range(n_u):
                out[:, j] = _choose(logits[:, -1], mask_bias[j], temperature, generator)
                if j + 1 < n_u:
                    logits, _ = model(out[:, j : j + 1], cache=cache)  # (B, 1, V)
        else:
            for j in range(n_u):
                seq = torch.cat([x_tokens, out[:, :j]], dim=1)  # (B, n_x + j)
                logits, _ = model(seq)  # (B, n_x + j, V)
                out[:, j] = _choose(logits[:, -1], mask_bias[j], temperature, generator)
    return out


@torch.no_grad()
def rollout_model(
    model: GPT,
    tokenizer: FloatTokenizer,
    starts: ArrayLike,
    n_steps: int,
    *,
    temperature: float = 0.0,
    rollouts_per_start: int = 1,
    seed: int = 0,
    use_cache: bool = True,
    batch_size: int = 0,
    on_step: Callable[[int], None] | None = None,
) -> NDArray[np.float64]:
    """Roll ``model`` out from every start for ``n_steps`` steps, on the model's device.

    Parameters
    ----------
    model
        A trained :class:`GPT` (its device is used).
    tokenizer
        The tokenizer it was trained with.
    starts
        ``(K, d)`` starting points.
    n_steps
        Steps per rollout.
    temperature
        0 for greedy constrained decoding, > 0 to sample.
    rollouts_per_start
        R rollouts from each start (R > 1 needs ``temperature > 0`` to differ).
    seed
        Seeds the sampling generator (unused when greedy).
    use_cache
        Decode with the KV cache (fast) or by re-encoding the prefix for every token.
    batch_size
        Rollouts decoded together; 0 means all ``K · R`` at once.
    on_step
        Called with the number of rollout steps done in the current batch.

    Returns
    -------
    ``(K, R, n_steps + 1, d)`` float64 positions, the starts included at step 0.
    """
    x0 = np.asarray(starts, dtype=np.float64)
    if x0.ndim != 2:
        raise ValueError(f"starts: expected shape (K, d), got {x0.shape}")
    K, d = x0.shape
    device = next(model.parameters()).device
    flat = np.repeat(x0, rollouts_per_start, axis=0)  # (K·R, d), rollouts of one start adjacent
    out = np.empty((flat.shape[0], n_steps + 1, d), dtype=np.float64)
    gen = torch.Generator(device=device).manual_seed(seed) if temperature > 0 else None
    bs = flat.shape[0] if batch_size <= 0 else batch_size
    was_training = model.training
    model.eval()
    for s in range(0, flat.shape[0], bs):
        x = torch.as_tensor(flat[s : s + bs], device=device)  # (B, d) float64
        traj = torch.empty(x.shape[0], n_steps + 1, d, dtype=torch.float64, device=device)  # (B, T+1, d)
        traj[:, 0] = x
        for t in range(n_steps):
            x_tok = tokenizer.encode_torch(x)  # (B, n_x)
            u_tok = generate_update_tokens(
                model, x_tok, tokenizer, d, temperature=temperature, generator=gen, use_cache=use_cache
            )
            x = x + tokenizer.decode_torch(u_tok, validate=False)  # (B, d)
            traj[:, t + 1] = x
            if on_step is not None:
                on_step(t + 1)
        out[s : s + bs] = traj.cpu().numpy()
    model.train(was_training)
    return out.reshape(K, rollouts_per_start, n_steps + 1, d)
