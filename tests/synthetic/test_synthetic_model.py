"""The transformer: exact parameter counts, causality, KV cache, schedule."""

from __future__ import annotations

import itertools
import math

import pytest
import torch

from hotmess.synthetic.model import GPT, GPTConfig, KVCache, configure_optimizer, evaluate_loss, lr_at


def _model(**kw: int) -> GPT:
    cfg = GPTConfig(**{"block_size": 19, "n_layer": 2, "n_head": 2, "n_embd": 16, **kw})
    return GPT(cfg, generator=torch.Generator().manual_seed(0)).eval()


@pytest.mark.parametrize(("L", "C", "T"), [(1, 16, 19), (2, 48, 55), (8, 224, 55)])
def test_parameter_count_is_exact(L: int, C: int, T: int) -> None:
    m = GPT(GPTConfig(block_size=T, n_layer=L, n_head=4 if C % 4 == 0 else 2, n_embd=C))
    per_block = (C * 3 * C + 3 * C) + (C * C + C) + (C * 4 * C + 4 * C) + (4 * C * C + C) + 2 * 2 * C
    expected = L * per_block + 12 * C + T * C + 2 * C  # blocks, tied embedding, positions, final norm
    assert m.n_params == expected


def test_init_is_reproducible_from_the_generator() -> None:
    a, b = _model(), _model()
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters(), strict=True))


def test_attention_is_causal() -> None:
    m = _model()
    x = torch.randint(0, 12, (3, 19), generator=torch.Generator().manual_seed(1))
    y = x.clone()
    y[:, 10:] = (y[:, 10:] + 1) % 12
    la, _ = m(x)
    lb, _ = m(y)
    assert torch.allclose(la[:, :10], lb[:, :10], atol=1e-6)
    assert not torch.allclose(la[:, 10:], lb[:, 10:], atol=1e-4)


def test_kv_cache_matches_the_full_forward() -> None:
    m = _model()
    x = torch.randint(0, 12, (4, 19), generator=torch.Generator().manual_seed(2))
    full, _ = m(x)
    cache = m.new_cache()
    prefill, _ = m(x[:, :8], cache=cache)  # prompt in one pass
    steps = [m(x[:, t : t + 1], cache=cache)[0] for t in range(8, 12)]  # one token at a time
    chunk, _ = m(x[:, 12:], cache=cache)  # then a chunk after a prefix
    incremental = torch.cat([prefill, *steps, chunk], dim=1)
    assert cache.length == 19
    assert torch.allclose(incremental, full, atol=1e-5)


def test_cache_rejects_overflow() -> None:
    m = _model()
    cache = m.new_cache()
    m(torch.zeros(1, 19, dtype=torch.long), cache=cache)
    with pytest.raises(ValueError, match="block_size"):
        m(torch.zeros(1, 1, dtype=torch.long), cache=cache)
    assert isinstance(cache, KVCache)


def test_loss_ignores_masked_targets_and_training_reduces_it() -> None:
    m = _model().train()
    g = torch.Generator().manual_seed(3)
    x = torch.randint(0, 12, (16, 19), generator=g)
    y = torch.roll(x, -1, dims=1)
    y[:, :9] = -100
    before = evaluate_loss(m, x, y)
    assert before == pytest.approx(math.log(12), rel=0.05)  # near-uniform at init
    with torch.no_grad():
        logits, _ = m(x)
    manual = torch.nn.functional.cross_entropy(logits[:, 9:].reshape(-1, 12), y[:, 9:].reshape(-1))
    assert before == pytest.approx(float(manual), rel=1e-5)
    opt = configure_optimizer(m, lr=1e-2, weight_decay=0.0)
    for _ in range(60):
        _, loss = m(x, y)
        assert loss is not None
        loss.backward()
        opt.step()
        opt.zero_grad()
    assert evaluate_loss(m, x, y) < 0.5 * before


def test_lr_schedule() -> None:
    kw = {"max_lr": 1.0, "min_lr": 0.1, "warmup_steps": 10, "total_steps": 110}
    lrs = [lr_at(s, **kw) for s in range(120)]
    assert lrs[0] == pytest.approx(0.1) and lrs[9] == pytest.approx(1.0)
    assert all(a <= b for a, b in itertools.pairwise(lrs[:10]))  # warmup rises
    assert all(a >= b for a, b in itertools.pairwise(lrs[10:110]))  # cosine falls
    assert lrs[109] == lrs[119] == pytest.approx(0.1)
    assert lr_at(60, **kw) == pytest.approx(0.55, abs=0.01)  # half way down the cosine


def test_config_validation() -> None:
    with pytest.raises(ValueError, match="n_head"):
        GPTConfig(n_head=5, n_embd=48)
