"""Decoding-based regression: floats as sign / exponent / mantissa tokens (SPEC §4).

The vocabulary has twelve tokens: the digits ``0``–``9`` (ids 0–9), ``+`` (id 10) and ``−`` (id 11). A float
``v`` becomes ``p + 3`` tokens::

    [sign] [e] [d0] [d1] ... [dp]        v = ±(d0.d1...dp) × 10^(−e),   e ∈ {0, ..., 9}

with the mantissa normalised (``d0 ≠ 0``) whenever possible. Examples with ``p = 2``: ``0.5 → + 1 5 0 0``,
``−1.5 → − 0 1 5 0``, ``−0.012 → − 2 1 2 0``, ``0.0023 → + 3 2 3 0``.

Range policy (documented clipping)
----------------------------------
* Largest magnitude: ``9.99…9`` (``p`` nines after the point, ``10 − 10^−p``). Larger magnitudes, ``±inf``
  included, are clipped to it, keeping the sign.
* Below ``10^−9`` the exponent stays at 9 and the mantissa loses leading digits (gradual underflow), so
  ``0.5e-9 → + 9 0 5 0`` for ``p = 2``; values under half the last place become ``+ 9 0 0 0`` (zero). Zero
  always carries ``+``.
* Mantissas are rounded half to even at ``p`` decimals; a rounding carry moves to the next exponent
  (``p = 2``: ``0.09996 → + 1 1 0 0``, i.e. ``0.100``).
* NaN cannot be encoded and raises :class:`ValueError`.

Decoding accepts any digit string (also unnormalised ones), so every sequence whose sign positions hold a
sign and whose digit positions hold a digit is a valid number; that is exactly what constrained decoding
guarantees.

The core works on torch tensors (any device, float64 arithmetic); :meth:`FloatTokenizer.encode` and
:meth:`FloatTokenizer.decode` are thin numpy wrappers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
import torch
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "DIGIT_TOKENS",
    "MAX_EXPONENT",
    "MINUS",
    "PLUS",
    "TOKEN_STRINGS",
    "VOCAB_SIZE",
    "FloatTokenizer",
]

PLUS: Final = 10
"""Token id of ``+``."""
MINUS: Final = 11
"""Token id of ``−``."""
VOCAB_SIZE: Final = 12
"""Number of token ids (digits, ``+``, ``−``)."""
MAX_EXPONENT: Final = 9
"""Largest exponent digit: the smallest normal magnitude is ``10^−9``."""
DIGIT_TOKENS: Final = tuple(range(10))
"""Token ids of the digits 0–9 (id = digit)."""
TOKEN_STRINGS: Final = ("0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "+", "−")
"""Printable form of every token id."""


@dataclass(frozen=True, slots=True)
class FloatTokenizer:
    """Sign / exponent / mantissa tokenizer with ``precision`` mantissa decimals.

    Parameters
    ----------
    precision
        ``p``: digits after the mantissa's decimal point; a float takes ``p + 3`` tokens.

    Examples
    --------
    >>> tok = FloatTokenizer(precision=2)
    >>> tok.encode([0.5, -1.5, -0.012, 0.0023]).reshape(4, 5).tolist()
    [[10, 1, 5, 0, 0], [11, 0, 1, 5, 0], [11, 2, 1, 2, 0], [10, 3, 2, 3, 0]]
    >>> tok.decode([11, 2, 1, 2, 0]).tolist()
    [-0.012]
    >>> tok.to_string(tok.encode([-1.5]))
    '− 0 1 5 0'
    """

    precision: int = 4

    def __post_init__(self) -> None:
        if not isinstance(self.precision, int) or not 0 <= self.precision <= 12:
            raise ValueError(f"precision: expected an integer in [0, 12], got {self.precision!r}")

    # ---------------------------------------------------------------- layout
    @property
    def tokens_per_float(self) -> int:
        """Tokens per float: sign, exponent and ``p + 1`` mantissa digits."""
        return self.precision + 3

    @property
    def max_value(self) -> float:
        """Largest encodable magnitude, ``10 − 10^−p``; larger magnitudes are clipped to it."""
        return float((10 ** (self.precision + 1) - 1) / 10**self.precision)

    def sign_positions(self, n_floats: int) -> NDArray[np.bool_]:
        """Boolean mask of shape ``(n_floats * tokens_per_float,)``: True where a sign token belongs.

        Examples
        --------
        >>> FloatTokenizer(precision=1).sign_positions(2).astype(int).tolist()
        [1, 0, 0, 0, 1, 0, 0, 0]
        """
        mask = np.zeros((n_floats, self.tokens_per_float), dtype=bool)
        mask[:, 0] = True
        return mask.reshape(-1)

    def allowed_tokens(self, n_floats: int) -> NDArray[np.bool_]:
        """``(n_floats * tokens_per_float, VOCAB_SIZE)`` mask of the tokens allowed at each position."""
        sign = self.sign_positions(n_floats)
        allowed = np.zeros((sign.size, VOCAB_SIZE), dtype=bool)
        allowed[sign, PLUS] = True
        allowed[sign, MINUS] = True
        allowed[~sign, :10] = True
        return allowed

    # ----------------------------------------------------------------- torch
    def encode_torch(self, values: torch.Tensor) -> torch.Tensor:
        """Encode ``(..., n)`` floats as ``(..., n * tokens_per_float)`` int64 tokens on the same device."""
        v = values.to(torch.float64)
        if torch.isnan(v).any():
            raise ValueError("values: NaN cannot be encoded (got at least one NaN)")
        p = self.precision
        a = v.abs().clamp(max=self.max_value)
        tiny = a < 10.0**-MAX_EXPONENT
        safe = torch.where(tiny, torch.ones_like(a), a)
        e = (-torch.floor(torch.log10(safe))).clamp(0, MAX_EXPONENT)
        e = torch.where(tiny, torch.full_like(e, MAX_EXPONENT), e)
        m = self._mantissa(a, e)
        # log10 can be off by one ulp near powers of ten: fix both directions once.
        over = (m >= 10 ** (p + 1)) & (e > 0)
        under = (m < 10**p) & (e < MAX_EXPONENT) & ~tiny
        e = e - over.to(e.dtype) + under.to(e.dtype)
        m = torch.where(over | under, self._mantissa(a, e), m)
        m = m.clamp(max=10 ** (p + 1) - 1)  # only reachable at e = 0 after rounding up
        powers = 10 ** torch.arange(p, -1, -1, device=v.device, dtype=torch.int64)  # (p+1,)
        digits = (m.unsqueeze(-1) // powers) % 10  # (..., n, p+1)
        sign = torch.where((v < 0) & (m > 0), MINUS, PLUS).to(torch.int64).unsqueeze(-1)  # (..., n, 1)
        tokens = torch.cat([sign, e.to(torch.int64).unsqueeze(-1), digits], dim=-1)  # (..., n, p+3)
        return tokens.flatten(-2)

    def _mantissa(self, a: torch.Tensor, e: torch.Tensor) -> torch.Tensor:
        return torch.round(a * torch.pow(10.0, e + self.precision)).to(torch.int64)

    def decode_torch(self, tokens: torch.Tensor, *, validate: bool = True) -> torch.Tensor:
        """Decode ``(..., n * tokens_per_float)`` tokens into ``(..., n)`` float64 values."""
        tpf = self.tokens_per_float
        if tokens.shape[-1] % tpf:
            raise ValueError(
                f"tokens: expected a last dimension divisible by {tpf} (tokens per float), got {tokens.shape}"
            )
        t = tokens.reshape(*tokens.shape[:-1], -1, tpf).to(torch.int64)  # (..., n, p+3)
        if validate:
            bad_sign = (t[..., 0] != PLUS) & (t[..., 0] != MINUS)
            bad_digit = (t[..., 1:] < 0) | (t[..., 1:] > 9)
            if bad_sign.any() or bad_digit.any():
                raise ValueError(
                    "tokens: sign positions must hold + (10) or − (11) and digit positions 0-9; got "
                    f"{int(bad_sign.sum())} bad sign(s) and {int(bad_digit.sum())} bad digit(s)"
                )
        powers = 10 ** torch.arange(self.precision, -1, -1, device=t.device, dtype=torch.int64)
        m = (t[..., 2:] * powers).sum(-1).to(torch.float64)  # (..., n) integer mantissa
        scale = torch.pow(10.0, t[..., 1].to(torch.float64) + self.precision)
        sign = torch.where(t[..., 0] == MINUS, -1.0, 1.0).to(torch.float64)
        return sign * (m / scale)

    # ----------------------------------------------------------------- numpy
    def encode(self, values: ArrayLike) -> NDArray[np.int64]:
        """Encode ``(..., n)`` floats (numpy in, numpy out); see :meth:`encode_torch`."""
        v = torch.from_numpy(np.atleast_1d(np.asarray(values, dtype=np.float64)))
        return self.encode_torch(v).numpy()

    def decode(self, tokens: ArrayLike, *, validate: bool = True) -> NDArray[np.float64]:
        """Decode ``(..., n * tokens_per_float)`` tokens (numpy in, numpy out); see :meth:`decode_torch`."""
        t = torch.from_numpy(np.atleast_1d(np.asarray(tokens, dtype=np.int64)))
        return self.decode_torch(t, validate=validate).numpy()

    def round_trip(self, values: ArrayLike) -> NDArray[np.float64]:
        """``decode(encode(values))``: the value the model actually sees (rounded and clipped)."""
        return self.decode(self.encode(values))

    @staticmethod
    def to_string(tokens: ArrayLike) -> str:
        """Space-separated printable tokens, e.g. ``'+ 1 5 0 0'``."""
        return " ".join(TOKEN_STRINGS[int(t)] for t in np.asarray(tokens).reshape(-1))
