"""Tokenizer: the paper's examples, round trips, clipping, underflow and validation."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from hotmess.synthetic.tokenizer import MINUS, PLUS, VOCAB_SIZE, FloatTokenizer


@pytest.mark.parametrize(
    ("value", "text"),
    [(0.5, "+ 1 5 0 0"), (-1.5, "− 0 1 5 0"), (-0.012, "− 2 1 2 0"), (0.0023, "+ 3 2 3 0")],
)
def test_paper_examples(value: float, text: str) -> None:
    tok = FloatTokenizer(precision=2)
    tokens = tok.encode([value])
    assert tok.to_string(tokens) == text
    assert tok.decode(tokens)[0] == pytest.approx(value, rel=1e-12)


def test_layout_and_allowed_tokens() -> None:
    tok = FloatTokenizer(precision=4)
    assert tok.tokens_per_float == 7
    assert tok.max_value == pytest.approx(9.9999)
    allowed = tok.allowed_tokens(2)
    assert allowed.shape == (14, VOCAB_SIZE)
    assert allowed[0].tolist() == [False] * 10 + [True, True]
    assert allowed[7, PLUS] and allowed[7, MINUS]
    assert allowed[1:7, :10].all() and not allowed[1:7, 10:].any()


def test_batch_shapes_numpy_and_torch_agree() -> None:
    tok = FloatTokenizer(precision=3)
    x = np.random.default_rng(0).normal(size=(5, 4))
    tokens = tok.encode(x)
    assert tokens.shape == (5, 4 * 6) and tokens.dtype == np.int64
    assert np.array_equal(tokens, tok.encode_torch(torch.from_numpy(x)).numpy())
    assert tok.decode(tokens).shape == (5, 4)


def test_clipping_at_the_range_limits() -> None:
    tok = FloatTokenizer(precision=2)
    out = tok.round_trip([10.0, 123.0, -1e30, np.inf, -np.inf, 9.994, 9.996])
    assert out.tolist() == [9.99, 9.99, -9.99, 9.99, -9.99, 9.99, 9.99]


def test_gradual_underflow_and_zero() -> None:
    tok = FloatTokenizer(precision=2)
    assert tok.to_string(tok.encode([5e-10])) == "+ 9 0 5 0"
    assert tok.to_string(tok.encode([0.0])) == "+ 9 0 0 0"
    assert tok.to_string(tok.encode([-1e-13])) == "+ 9 0 0 0"  # zero always carries +
    assert tok.to_string(tok.encode([1e-9])) == "+ 9 1 0 0"
    assert tok.round_trip([0.0])[0] == 0.0


def test_rounding_carry_moves_the_exponent() -> None:
    tok = FloatTokenizer(precision=2)
    assert tok.to_string(tok.encode([0.09996])) == "+ 1 1 0 0"
    assert tok.to_string(tok.encode([0.001])) == "+ 3 1 0 0"
    assert tok.to_string(tok.encode([1e-5])) == "+ 5 1 0 0"


def test_nan_and_invalid_tokens_raise() -> None:
    tok = FloatTokenizer(precision=2)
    with pytest.raises(ValueError, match="NaN"):
        tok.encode([1.0, np.nan])
    with pytest.raises(ValueError, match="sign positions"):
        tok.decode([3, 1, 5, 0, 0])  # a digit where the sign belongs
    with pytest.raises(ValueError, match="sign positions"):
        tok.decode([PLUS, 1, MINUS, 0, 0])  # a sign where a digit belongs
    with pytest.raises(ValueError, match="divisible"):
        tok.decode([PLUS, 1, 5])
    with pytest.raises(ValueError, match="precision"):
        FloatTokenizer(precision=-1)


finite = st.floats(min_value=-20.0, max_value=20.0, allow_nan=False, allow_subnormal=False)


@settings(max_examples=300, deadline=None)
@given(x=hnp.arrays(np.float64, st.integers(1, 20), elements=finite), p=st.integers(0, 6))
def test_round_trip_error_is_within_half_a_last_place(x: np.ndarray, p: int) -> None:
    tok = FloatTokenizer(precision=p)
    y = tok.round_trip(x)
    a = np.abs(x)
    clipped = np.sign(x) * np.minimum(a, tok.max_value)
    # normal range: relative error ≤ half a unit in the last mantissa place; below 1e-9: absolute
    tol = np.where(a >= 1e-9, 0.5 * 10.0**-p * np.minimum(a, tok.max_value), 0.5 * 10.0 ** (-9 - p))
    assert np.all(np.abs(y - clipped) <= tol * (1 + 1e-9) + 1e-300)
    assert np.all((np.sign(y) == np.sign(x)) | (y == 0))


@settings(max_examples=200, deadline=None)
@given(x=hnp.arrays(np.float64, st.integers(1, 20), elements=finite), p=st.integers(0, 6))
def test_encoding_is_idempotent(x: np.ndarray, p: int) -> None:
    tok = FloatTokenizer(precision=p)
    t1 = tok.encode(x)
    assert np.array_equal(tok.encode(tok.decode(t1)), t1)


@settings(max_examples=200, deadline=None)
@given(
    sign=st.sampled_from([PLUS, MINUS]),
    e=st.integers(0, 8),
    lead=st.integers(1, 9),
    rest=st.lists(st.integers(0, 9), min_size=3, max_size=3),
)
def test_canonical_tokens_round_trip(sign: int, e: int, lead: int, rest: list[int]) -> None:
    tok = FloatTokenizer(precision=3)
    tokens = np.array([sign, e, lead, *rest])
    assert np.array_equal(tok.encode(tok.decode(tokens)), tokens)


def test_monotone_in_value() -> None:
    tok = FloatTokenizer(precision=2)
    x = np.linspace(-9.0, 9.0, 2001)
    y = tok.round_trip(x)
    assert np.all(np.diff(y) >= 0)
