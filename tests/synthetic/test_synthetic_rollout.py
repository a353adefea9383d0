"""Rollouts: constrained decoding is always valid, the KV cache changes nothing, sampling is seeded."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from hotmess.synthetic.model import GPT, GPTConfig, KVCache
from hotmess.synthetic.rollout import generate_update_tokens, rollout_model
from hotmess.synthetic.tokenizer import MINUS, PLUS, FloatTokenizer

TOK = FloatTokenizer(precision=2)


class AdversarialModel(torch.nn.Module):
    """Always prefers an invalid token: ``+`` most, then ``−``, digits far behind (and digit 7 first)."""

    def __init__(self) -> None:
        super().__init__()
        self.dummy = torch.nn.Parameter(torch.zeros(1))
        self.logits = torch.full((12,), -5.0)
        self.logits[PLUS], self.logits[MINUS], self.logits[7] = 10.0, 9.0, 0.0

    def new_cache(self) -> KVCache:
        return KVCache(1, 64)

    def forward(self, idx: torch.Tensor, targets: object = None, *, cache: KVCache | None = None):  # type: ignore[no-untyped-def]
        if cache is not None:
            cache.advance(idx.shape[1])
        return self.logits.expand(*idx.shape, 12).clone(), None


def _tiny_gpt(seed: int = 0) -> GPT:
    cfg = GPTConfig(block_size=19, n_layer=1, n_head=2, n_embd=16)
    return GPT(cfg, generator=torch.Generator().manual_seed(seed)).eval()


def _valid(tokens: torch.Tensor, n_floats: int) -> bool:
    allowed = torch.as_tensor(TOK.allowed_tokens(n_floats))
    pos = torch.arange(tokens.shape[1]).expand_as(tokens)
    return bool(allowed[pos, tokens].all())


@pytest.mark.parametrize("temperature", [0.0, 1.0, 50.0])
@pytest.mark.parametrize("use_cache", [True, False])
def test_constrained_decoder_never_emits_an_invalid_number(temperature: float, use_cache: bool) -> None:
    x_tok = TOK.encode_torch(torch.randn(64, 2, dtype=torch.float64))
    gen = torch.Generator().manual_seed(0)
    for model in (AdversarialModel(), _tiny_gpt()):
        out = generate_update_tokens(
            model,
            x_tok,
            TOK,
            2,
            temperature=temperature,
            generator=gen,  # type: ignore[arg-type]
            use_cache=use_cache,
        )
        assert out.shape == (64, 10)
        assert _valid(out, 2)
        assert torch.isfinite(TOK.decode_torch(out)).all()  # validate=True would raise otherwise
    greedy = generate_update_tokens(AdversarialModel(), x_tok, TOK, 2)  # type: ignore[arg-type]
    assert TOK.to_string(greedy[0]) == "+ 7 7 7 7 + 7 7 7 7"  # best allowed token at every position


def test_cached_and_recomputed_rollouts_agree() -> None:
    m = _tiny_gpt(1)
    starts = np.random.default_rng(0).normal(size=(8, 2))
    fast = rollout_model(m, TOK, starts, 5, use_cache=True)
    slow = rollout_model(m, TOK, starts, 5, use_cache=False)
    assert fast.shape == (8, 1, 6, 2)
    np.testing.assert_array_equal(fast, slow)
    np.testing.assert_array_equal(fast[:, 0, 0], starts)


def test_rollout_is_markovian_x_plus_decoded_u() -> None:
    m = _tiny_gpt(2)
    starts = np.random.default_rng(1).normal(size=(4, 2))
    pts = rollout_model(m, TOK, starts, 3)[:, 0]  # (K, T+1, d)
    for t in range(3):
        x = torch.from_numpy(pts[:, t])
        u = TOK.decode_torch(generate_update_tokens(m, TOK.encode_torch(x), TOK, 2))
        np.testing.assert_allclose(pts[:, t + 1], pts[:, t] + u.numpy(), rtol=0, atol=1e-12)


def test_sampling_is_seeded_and_adds_decoding_variance() -> None:
    m = _tiny_gpt(3)
    starts = np.zeros((3, 2)) + 0.5
    a = rollout_model(m, TOK, starts, 4, temperature=1.0, rollouts_per_start=5, seed=7)
    b = rollout_model(m, TOK, starts, 4, temperature=1.0, rollouts_per_start=5, seed=7)
    c = rollout_model(m, TOK, starts, 4, temperature=1.0, rollouts_per_start=5, seed=8)
    assert a.shape == (3, 5, 5, 2)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert np.ptp(a[:, :, -1], axis=1).max() > 0  # rollouts of one start differ
    batched = rollout_model(m, TOK, starts, 4, temperature=0.0, batch_size=2)
    np.testing.assert_array_equal(batched, rollout_model(m, TOK, starts, 4))
