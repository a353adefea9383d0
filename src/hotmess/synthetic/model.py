"""A small decoder-only transformer (after nanoGPT), with a KV cache for batched rollouts.

Pieces, top to bottom: :class:`GPTConfig`, :class:`KVCache`, :class:`CausalSelfAttention`, :class:`MLP`,
:class:`Block`, :class:`GPT`, then the pure schedule :func:`lr_at`, :func:`configure_optimizer` and the
``@torch.no_grad()`` :func:`evaluate_loss`. Shapes: B batch, T time, C = ``n_embd``, nh heads, hs = C / nh,
V vocabulary.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F  # noqa: N812 (the torch idiom)

__all__ = [
    "GPT",
    "GPTConfig",
    "KVCache",
    "autocast_for",
    "configure_optimizer",
    "evaluate_loss",
    "lr_at",
]

IGNORE_INDEX = -100
"""Target value excluded from the loss (positions that are not trained on)."""


@dataclass(frozen=True)
class GPTConfig:
    """Shape of the transformer."""

    vocab_size: int = 12
    """V: number of token ids."""
    block_size: int = 55
    """Longest input sequence (the tokens of x and u minus the last one)."""
    n_layer: int = 2
    """Transformer blocks."""
    n_head: int = 4
    """Attention heads per block."""
    n_embd: int = 48
    """Residual width C."""
    dropout: float = 0.0
    """Dropout on attention and residual branches (0 for this data: it is noiseless and plentiful)."""
    bias: bool = True
    """Biases in linear layers and layer norms."""

    def __post_init__(self) -> None:
        if self.n_embd % self.n_head:
            raise ValueError(f"n_head: expected a divisor of n_embd={self.n_embd}, got {self.n_head}")
        if min(self.vocab_size, self.block_size, self.n_layer, self.n_head, self.n_embd) < 1:
            raise ValueError("GPTConfig: every size must be >= 1")

    def flops_per_token(self, seq_len: int | None = None) -> float:
        """Training FLOPs per token (forward + backward ≈ 6 N_matmul + 12 L C T), as in the PaLM appendix."""
        T = self.block_size if seq_len is None else seq_len
        n_matmul = 12 * self.n_layer * self.n_embd**2 + self.vocab_size * self.n_embd
        return 6.0 * n_matmul + 12.0 * self.n_layer * self.n_embd * T


class KVCache:
    """Keys and values of every layer for a batch whose rows all have the same length.

    Buffers ``(B, nh, block_size, hs)`` are allocated on first use; :meth:`update` writes the new positions
    of one layer and returns everything so far, :meth:`advance` moves the shared length once per forward.
    """

    def __init__(self, n_layer: int, block_size: int) -> None:
        self.block_size = block_size
        self.length = 0
        self._k: list[torch.Tensor | None] = [None] * n_layer
        self._v: list[torch.Tensor | None] = [None] * n_layer

    def update(self, layer: int, k: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Store ``k, v`` ``(B, nh, T, hs)`` at the current length; return ``(B, nh, length + T, hs)`` views."""
        B, nh, T, hs = k.shape
        end = self.length + T
        if end > self.block_size:
            raise ValueError(f"KVCache: sequence of {end} tokens exceeds block_size {self.block_size}")
        kb, vb = self._k[layer], self._v[layer]
        if kb is None or vb is None or kb.shape[0] != B or kb.dtype != k.dtype:
            kb = k.new_empty(B, nh, self.block_size, hs)
            vb = v.new_empty(B, nh, self.block_size, hs)
            self._k[layer], self._v[layer] = kb, vb
        kb[:, :, self.length : end] = k
        vb[:, :, self.length : end] = v
        return kb[:, :, :end], vb[:, :, :end]

    def advance(self, n: int) -> None:
        """Move the shared length by ``n`` tokens (called by :meth:`GPT.forward`)."""
        self.length += n

    def reset(self) -> None:
        """Forget the cached tokens (the buffers are kept for reuse)."""
        self.length = 0


class CausalSelfAttention(nn.Module):
    """Multi-head causal self-attention (fused QKV projection, PyTorch SDPA kernels)."""

    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.c_attn = nn.Linear(config.n_embd, 3 * config.n_embd, bias=config.bias)
        self.c_proj = nn.Linear(config.n_embd, config.n_embd, bias=config.bias)
        self.resid_dropout = nn.Dropout(config.dropout)
        self.n_head = config.n_head
        self.dropout = config.dropout

    def forward(self, x: torch.Tensor, cache: KVCache | None = None, layer: int = 0) -> torch.Tensor:
        B, T, C = x.shape
        q, k, v = self.c_attn(x).split(C, dim=2)  # 3 × (B, T, C)
        q = q.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)  # (B, nh, T, hs)
        k = k.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)  # (B, nh, T, hs)
        v = v.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)  # (B, nh, T, hs)
        past = 0
        if cache is not None:
            past = cache.length
            k, v = cache.update(layer, k, v)  # (B, nh, past + T, hs)
        p = self.dropout if self.training else 0.0
        if past == 0:
            y = F.scaled_dot_product_attention(q, k, v, dropout_p=p, is_causal=True)
        elif T == 1:  # one new token attends to everything before it
            y = F.scaled_dot_product_attention(q, k, v, dropout_p=p)
        else:  # a chunk after a prefix: causal mask shifted by the prefix length
            mask = torch.ones(T, past + T, dtype=torch.bool, device=x.device).tril(diagonal=past)
            y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=p)
        y = y.transpose(1, 2).contiguous().view(B, T, C)  # (B, T, C)
        return self.resid_dropout(self.c_proj(y))


class MLP(nn.Module):
    """Position-wise feed-forward block, C → 4C → C with GELU."""

    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.c_fc = nn.Linear(config.n_embd, 4 * config.n_embd, bias=config.bias)
        self.c_proj = nn.Linear(4 * config.n_embd, config.n_embd, bias=config.bias)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dropout(self.c_proj(F.gelu(self.c_fc(x))))  # (B, T, C)


class Block(nn.Module):
    """Pre-norm transformer block: x + attn(ln(x)), then x + mlp(ln(x))."""

    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.ln_1 = nn.LayerNorm(config.n_embd, bias=config.bias)
        self.attn = CausalSelfAttention(config)
        self.ln_2 = nn.LayerNorm(config.n_embd, bias=config.bias)
        self.mlp = MLP(config)

    def forward(self, x: torch.Tensor, cache: KVCache | None = None, layer: int = 0) -> torch.Tensor:
        x = x + self.attn(self.ln_1(x), cache, layer)  # (B, T, C)
        return x + self.mlp(self.ln_2(x))  # (B, T, C)


class GPT(nn.Module):
    """Decoder-only transformer with learned positions and tied input/output embeddings.

    Parameters
    ----------
    config
        The shape.
    generator
        Source of the initial weights (normal, std 0.02; residual projections scaled by 1/√(2L)).

    Examples
    --------
    >>> m = GPT(GPTConfig(block_size=8, n_layer=1, n_head=2, n_embd=16), generator=torch.Generator().manual_seed(0))
    >>> logits, loss = m(torch.zeros(3, 8, dtype=torch.long), torch.ones(3, 8, dtype=torch.long))
    >>> tuple(logits.shape), loss is not None, m.n_params
    ((3, 8, 12), True, 3632)
    """

    def __init__(self, config: GPTConfig, *, generator: torch.Generator | None = None) -> None:
        super().__init__()
        self.config = config
        self.wte = nn.Embedding(config.vocab_size, config.n_embd)
        self.wpe = nn.Embedding(config.block_size, config.n_embd)
        self.drop = nn.Dropout(config.dropout)
        self.h = nn.ModuleList(Block(config) for _ in range(config.n_layer))
        self.ln_f = nn.LayerNorm(config.n_embd, bias=config.bias)
        self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
        self.lm_head.weight = self.wte.weight  # weight tying
        for name, p in self.named_parameters():
            if name.endswith("c_proj.weight"):
                nn.init.normal_(p, 0.0, 0.02 / math.sqrt(2 * config.n_layer), generator=generator)
            elif p.dim() >= 2:
                nn.init.normal_(p, 0.0, 0.02, generator=generator)
            elif name.endswith(".bias"):
                nn.init.zeros_(p)

    @property
    def n_params(self) -> int:
        """Exact number of trainable parameters: embeddings included, tied weights counted once."""
        return sum(p.numel() for p in self.parameters())

    def new_cache(self) -> KVCache:
        """An empty :class:`KVCache` for incremental decoding with this model."""
        return KVCache(self.config.n_layer, self.config.block_size)

    def forward(
        self, idx: torch.Tensor, targets: torch.Tensor | None = None, *, cache: KVCache | None = None
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Logits ``(B, T, V)`` for tokens ``idx`` ``(B, T)``; mean cross-entropy when ``targets`` is given.

        With ``cache``, ``idx`` continues the cached sequence (positions start at ``cache.length``) and the
        cache is extended by ``T``. Targets equal to ``-100`` are ignored.
        """
        T = idx.shape[1]
        start = 0 if cache is None else cache.length
        if start + T > self.config.block_size:
            raise ValueError(f"idx: {start + T} positions exceed block_size {self.config.block_size}")
        pos = torch.arange(start, start + T, dtype=torch.long, device=idx.device)  # (T,)
        x = self.drop(self.wte(idx) + self.wpe(pos))  # (B, T, C)
        for i, block in enumerate(self.h):
            x = block(x, cache, i)  # (B, T, C)
        if cache is not None:
            cache.advance(T)
        logits = self.lm_head(self.ln_f(x))  # (B, T, V)
        loss = None
        if targets is not None:
            loss = F.cross_entropy(
                logits.float().view(-1, logits.size(-1)), targets.reshape(-1), ignore_index=IGNORE_INDEX
            )
        return logits, loss


def lr_at(step: int, *, max_lr: float, min_lr: float, warmup_steps: int, total_steps: int) -> float:
    """Learning rate at ``step``: linear warmup to ``max_lr``, then cosine decay to ``min_lr``.

    Examples
    --------
    >>> [round(lr_at(s, max_lr=1.0, min_lr=0.1, warmup_steps=2, total_steps=6), 3) for s in range(7)]
    [0.5, 1.0, 1.0, 0.775, 0.325, 0.1, 0.1]
    """
    if step < warmup_steps:
        return max_lr * (step + 1) / warmup_steps
    if step >= total_steps - 1:
        return min_lr
    span = max(1, total_steps - 1 - warmup_steps)
    ratio = (step - warmup_steps) / span
    return min_lr + 0.5 * (1.0 + math.cos(math.pi * ratio)) * (max_lr - min_lr)


def configure_optimizer(
    model: nn.Module, *, lr: float, weight_decay: float, betas: tuple[float, float] = (0.9, 0.95)
) -> torch.optim.AdamW:
    """AdamW with weight decay on matrices and embeddings only (biases and norms are not decayed)."""
    params = [p for p in model.parameters() if p.requires_grad]
    decay = [p for p in params if p.dim() >= 2]
    no_decay = [p for p in params if p.dim() < 2]
    groups = [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    fused = all(p.is_cuda for p in params)
    return torch.optim.AdamW(groups, lr=lr, betas=betas, fused=fused)


@torch.no_grad()
def evaluate_loss(model: GPT, inputs: torch.Tensor, targets: torch.Tensor, *, batch_size: int = 4096) -> float:
    """Mean cross-entropy (nats per trained token) of ``model`` on ``(N, T)`` inputs and targets."""
    was_training = model.training
    model.eval()
    total, count = 0.0, 0
    for s in range(0, inputs.shape[0], batch_size):
        tgt = targets[s : s + batch_size]
        n = int((tgt != IGNORE_INDEX).sum())
        with autocast_for(inputs.device):
            _, loss = model(inputs[s : s + batch_size], tgt)
        assert loss is not None
        total += float(loss) * n
        count += n
    model.train(was_training)
    return total / max(count, 1)


def autocast_for(device: torch.device) -> torch.autocast:
    """bf16 autocast on CUDA; a disabled context elsewhere (CPU runs in float32)."""
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=device.type == "cuda")
