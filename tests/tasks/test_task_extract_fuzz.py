"""Property tests: extraction never crashes and always returns a well-formed result."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from hotmess.tasks import FORMATS, Extraction, extract_answer, option_letters

PIECES = st.sampled_from(
    [
        "Answer:",
        "answer is",
        "final answer",
        "<answer>",
        "</answer>",
        "<PROB>",
        "</PROB>",
        "(",
        ")",
        "**",
        "\\boxed{",
        "}",
        "A",
        "B",
        "c",
        "Z",
        " or ",
        ", ",
        "%",
        "0.5",
        "-1",
        "100",
        "1e309",
        "nan",
        "\n",
        "Question:",
        "I choose",
        "Option",
        "is correct",
        " ",
        ".",
        "A triangle",
        "\u2014",
        "$",
        "\\text{",
    ]
)
TEXTS = st.one_of(st.text(max_size=300), st.lists(PIECES, max_size=30).map("".join))


def _check(text: str, n: int, fmt: str) -> None:
    got = extract_answer(text, n, fmt)
    assert -1 <= got.answer < n
    assert got.valid is (got.answer >= 0)
    assert isinstance(got.reason, str) and got.reason
    if got.probs is not None:
        assert got.valid and fmt == "prob"
        assert len(got.probs) == n
        assert all(p >= 0 and math.isfinite(p) for p in got.probs)
        assert math.isclose(sum(got.probs), 1.0, abs_tol=1e-9)
        assert got.probs[got.answer] == max(got.probs)


@settings(max_examples=300, deadline=None)
@given(TEXTS, st.integers(2, 26), st.sampled_from(FORMATS))
def test_never_crashes_and_well_formed(text: str, n: int, fmt: str) -> None:
    _check(text, n, fmt)


NOISE = st.text(alphabet="xyz0123456789 ,;\n", max_size=80)  # cannot contain a cue or a letter token


@settings(max_examples=150, deadline=None)
@given(NOISE, NOISE, st.integers(2, 26), st.data())
def test_final_statement_is_found_amid_noise(before: str, after: str, n: int, data: st.DataObject) -> None:
    k = data.draw(st.integers(0, n - 1))
    letter = option_letters(n)[k]
    text = f"{before}\nThe final answer is ({letter}).\n{after}"
    assert extract_answer(text, n).answer == k
    assert extract_answer(f"{before}<answer>{letter}</answer>", n, "answer_tag").answer == k


@settings(max_examples=150, deadline=None)
@given(st.lists(st.floats(0, 1, allow_nan=False, allow_subnormal=False), min_size=2, max_size=26), st.booleans())
def test_rendered_probabilities_round_trip(values: list[float], percent: bool) -> None:
    n = len(values)
    total = math.fsum(values)
    body = ", ".join(f"{v * 100:.17g}%" if percent else f"{v:.17g}" for v in values)  # may be 1e-05
    got = extract_answer(f"<PROB>{body}</PROB>", n, "prob")
    if total == 0:
        assert got == Extraction(-1, None, False, "probabilities sum to 0")
        return
    assert got.valid, got
    assert got.probs is not None
    for p, v in zip(got.probs, values, strict=True):
        assert math.isclose(p, v / total, rel_tol=1e-9, abs_tol=1e-12)
