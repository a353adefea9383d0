"""Answer extraction on hand-written, real-style model outputs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hotmess.tasks import Extraction, extract_answer

# (output, n_options, expected answer); -1 = invalid. Format "letter", no option texts.
LETTER_CASES = [
    # plain and decorated letters
    ("B", 4, 1),
    ("c", 4, 2),
    ("(C)", 4, 2),
    ("C.", 4, 2),
    ("**D**", 4, 3),
    ("  [b]  \n", 4, 1),
    ("B) 42", 4, 1),
    ("(B) 42", 4, 1),
    ("C. Jupiter", 4, 2),
    # answer statements
    ("Answer: c", 4, 2),
    ("ANSWER: D", 4, 3),
    ("Answer:B", 4, 1),
    ("Answer - B", 4, 1),
    ("Answer (B)", 4, 1),
    ("The answer is (C).", 4, 2),
    ("The answer is C", 4, 2),
    ("The correct answer is: **C) 12**", 4, 2),
    ("**Answer:** B", 4, 1),
    ("Answer: **B**", 4, 1),
    ("Answer:\nB", 4, 1),
    ("The answer to this question is D.", 4, 3),
    ("The correct option is B.", 4, 1),
    ("Option B is correct.", 4, 1),
    ("I believe choice (d) is the right one. Answer: D", 4, 3),
    ("My answer would be A.", 4, 0),
    ("Answer: A because 7 + 5 = 12.", 4, 0),
    ("Answer: A - the red ball", 4, 0),
    ("Answer: A (12)", 4, 0),
    ("answer: b because the sum is 12", 4, 1),
    ("(B) is the right answer.", 4, 1),
    ("I think option c is correct", 4, 2),
    ("The name isn't known. Therefore, D. Mars is the answer, but it is known", 4, 3),
    ("C is the best answer here.", 4, 2),
    ("Option A is incorrect and option B is not correct either.", 4, -1),
    ("A ball is the answer to the riddle.", 4, -1),
    # trailing reasoning after the answer
    ("Answer: B\n\nExplanation: A is wrong because 3 + 4 is 7, and C is too large.", 4, 1),
    ("The answer is B. Option A is incorrect since it ignores the last step.", 4, 1),
    ("B\n\nBecause 7 * 6 = 42 and the other options are off by one.", 4, 1),
    # reasoning before the answer
    ("7 + 5 = 12, then 12 * 3 = 36, so the final answer is B", 4, 1),
    ("Step 1: 9 - 5 = 4.\nStep 2: nothing else.\nFinal answer: D", 4, 3),
    ("Let's think. Alice and Bob swap, so Bob has red.\nAnswer: (A)", 4, 0),
    ("Alice has the green ball after the swaps.\n\nC", 4, 2),
    ("First, 2 * 5 = 10.\nThen 10 - 1 = 9.\nTherefore the answer is **D**.", 4, 3),
    ("We get $\\boxed{B}$.", 4, 1),
    ("So the result is \\boxed{\\text{C}}", 4, 2),
    # several letters: final statement preferred, last statement wins, ambiguity invalid
    ("I choose A. Hmm, the answer is C.", 4, 2),
    ("Answer: A\nWait, I made a mistake. Answer: B", 4, 1),
    ("The final answer is C. Some people would say the answer is B.", 4, 2),
    ("Answer: A or C", 4, -1),
    ("Answer: B/C", 4, -1),
    ("Answer: a, b", 4, -1),
    ("The answer is either B or D.", 4, -1),
    ("I'd go with B", 4, 1),
    ("I pick (c).", 4, 2),
    # out of range
    ("Answer: E", 4, -1),
    ("The answer is (C).", 2, -1),
    ("Z", 3, -1),
    # false positives avoided
    ("A triangle has three sides.", 4, -1),
    ("Answer: A triangle has three sides.", 4, -1),
    ("I think so.", 4, -1),
    ("The answer is a number between 10 and 20.", 4, -1),
    ("To answer this question we need more data.", 4, -1),
    ("The answer is not obvious.", 4, -1),
    ("A:", 4, -1),
    ("I am a digital AI with no programming skills.\n\nA:", 4, -1),
    ("A. 14\nB. 4", 4, -1),
    ("A. Earth\nThis answer has a duplicate answer.", 4, 0),
    ("C. Titan\n\nExplanation: Titan is a moon of Saturn.", 4, 2),
    ("A. 6\nB. 4\nC. 8\nD. 12\nC. Multiply by 2, which is 8.", 4, -1),
    ("", 4, -1),
    ("   \n  ", 4, -1),
    ("Answer: BD", 4, -1),
    # a model continuing the few-shot pattern: the hallucinated next question is ignored
    ("Answer: B\n\nQuestion: What is 3 + 4?\nA. 7\nB. 8\nAnswer: A", 4, 1),
    # the parenthesised letter in the rest of the line
    ("The answer is 42 (B).", 4, 1),
    ("The answer is 42 (B) or maybe (C).", 4, -1),
    # tags are honoured in every format
    ("Thinking... <answer>C</answer>", 4, 2),
    ("Answer: A\n<answer>B</answer>", 4, 1),
]


@pytest.mark.parametrize(("text", "n", "expected"), LETTER_CASES)
def test_letter_outputs(text: str, n: int, expected: int) -> None:
    got = extract_answer(text, n, "letter")
    assert got.answer == expected, got
    assert got.valid is (expected >= 0)
    assert got.probs is None


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("Answer: A or C", "ambiguous: A or C (answer statement)"),
        ("Answer: E", "letter E outside A-D (answer statement)"),
        ("nothing here", "no answer found"),
        ("", "empty output"),
        ("so the final answer is B", "final answer statement"),
        ("Answer: B", "answer statement"),
        ("I choose B", "choice statement"),
        ("B", "bare letter"),
        ("<answer>B</answer>", "answer tag"),
    ],
)
def test_reasons(text: str, reason: str) -> None:
    assert extract_answer(text, 4).reason == reason


TAG_CASES = [
    ("<answer>B</answer>", 1),
    ("<ANSWER> c </ANSWER>", 2),
    ("<answer>(D)</answer>", 3),
    ("<answer>**A**</answer>", 0),
    ("<answer>B) 42</answer>", 1),
    ("Let me think step by step. 3 + 4 = 7.\n<answer>A", 0),  # closing tag cut by a stop sequence
    ("<answer>A</answer> ... no wait <answer>C</answer>", 2),
    ("<answer>A or B</answer>", -1),
    ("<answer>E</answer>", -1),
    ("<answer></answer>", -1),
    ("The answer is B.", 1),  # no tag: other answer statements still count (strict=False)
]


@pytest.mark.parametrize(("text", "expected"), TAG_CASES)
def test_answer_tag_outputs(text: str, expected: int) -> None:
    got = extract_answer(text, 4, "answer_tag")
    assert got.answer == expected, got
    assert got.valid is (expected >= 0)


def test_answer_tag_strict() -> None:
    assert extract_answer("The answer is B.", 4, "answer_tag", strict=True) == Extraction(
        -1, None, False, "no <answer> tag"
    )
    assert extract_answer("<answer>B</answer>", 4, "answer_tag", strict=True).answer == 1


def test_option_text_answers() -> None:
    options = ("36", "42", "48", "4")
    assert extract_answer("The answer is 42.", 4, options=options).answer == 1
    assert extract_answer("The answer is 4.", 4, options=options).answer == 3  # 4 is not a prefix of 42
    assert extract_answer("<answer>48</answer>", 4, "answer_tag", options=options).answer == 2
    assert extract_answer("6 * 8 = 48\n48", 4, options=options).answer == 2
    assert extract_answer("42", 4, options=options).answer == 1
    assert extract_answer("The answer is 7.", 4, options=options).answer == -1
    assert extract_answer("The answer is 42.", 4).answer == -1  # without option texts: not recognised
    balls = ("the red ball", "the blue ball", "the green ball", "the pink ball")
    assert extract_answer("So the final answer is the green ball.", 4, options=balls).answer == 2
    # a letter beats the text reading
    assert extract_answer("Answer: B (the green ball)", 4, options=balls).answer == 1


PROB_CASES = [
    ("<PROB>0.1, 0.2, 0.3, 0.4</PROB>", (0.1, 0.2, 0.3, 0.4), 3),
    ("<PROB> 0.7 , 0.1 , 0.1 , 0.1 </PROB>", (0.7, 0.1, 0.1, 0.1), 0),
    ("<prob>0.25 0.25 0.5 0</prob>", (0.25, 0.25, 0.5, 0.0), 2),
    ("<PROB>10%, 20%, 30%, 40%</PROB>", (0.1, 0.2, 0.3, 0.4), 3),
    ("<PROB>10, 20, 30, 40</PROB>", (0.1, 0.2, 0.3, 0.4), 3),  # >1 and sums to 100: percentages
    ("<PROB>1, 1, 2, 0</PROB>", (0.25, 0.25, 0.5, 0.0), 2),  # >1, not 100: weights renormalised
    ("<PROB>0.2, 0.2, 0.2, 0.2</PROB>", (0.25, 0.25, 0.25, 0.25), 0),  # sum 0.8: renormalised; tie -> lowest
    ("<PROB>A: 0.1, B: 0.6, C: 0.2, D: 0.1</PROB>", (0.1, 0.6, 0.2, 0.1), 1),
    ("<PROB>D=0.1, C=0.2, B=0.6, A=0.1</PROB>", (0.1, 0.6, 0.2, 0.1), 1),  # by label, any order
    ("<PROB>p_A=0.5, p_B=0.5, p_C=0, p_D=0</PROB>", (0.5, 0.5, 0.0, 0.0), 0),
    ("<PROB>[0.1, 0.2, 0.3, 0.4]</PROB>", (0.1, 0.2, 0.3, 0.4), 3),
    ("<PROB>0,1; 0,2; 0,3; 0,4</PROB>", (0.1, 0.2, 0.3, 0.4), 3),  # decimal commas with semicolons
    ("Reasoning first.\n<PROB>0.9, 0.05, 0.05, 0.0", (0.9, 0.05, 0.05, 0.0), 0),  # unclosed at the end
    ("<PROB>1, 0, 0, 0</PROB> then again <PROB>0, 0, 0, 1</PROB>", (0.0, 0.0, 0.0, 1.0), 3),
    ("<PROB>1e-1, 2e-1, 3e-1, 4e-1</PROB>", (0.1, 0.2, 0.3, 0.4), 3),
]


@pytest.mark.parametrize(("text", "probs", "answer"), PROB_CASES)
def test_prob_outputs(text: str, probs: tuple[float, ...], answer: int) -> None:
    got = extract_answer(text, 4, "prob")
    assert got.valid, got
    assert got.answer == answer
    assert got.probs == pytest.approx(probs)
    assert sum(got.probs or ()) == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("<PROB>0.5, 0.5, 0</PROB>", "expected 4 probabilities, got 3"),
        ("<PROB>0.2, 0.2, 0.2, 0.2, 0.2</PROB>", "expected 4 probabilities, got 5"),
        ("<PROB>-0.1, 0.5, 0.3, 0.3</PROB>", "negative probability"),
        ("<PROB>0, 0, 0, 0</PROB>", "probabilities sum to 0"),
        ("<PROB>A: 0.5, B: 0.5, C: 0, E: 0</PROB>", "PROB labels A, B, C, E are not the options A, B, C, D"),
        ("<PROB></PROB>", "expected 4 probabilities, got 0"),
        ("<PROB>high, low, low, low</PROB>", "expected 4 probabilities, got 0"),
    ],
)
def test_prob_invalid(text: str, reason: str) -> None:
    assert extract_answer(text, 4, "prob") == Extraction(-1, None, False, reason)


def test_prob_reasons() -> None:
    assert extract_answer("<PROB>0.5, 0.5</PROB>", 2, "prob").reason == "PROB tag"
    assert extract_answer("<PROB>50%, 50%</PROB>", 2, "prob").reason == "PROB tag, percentages"
    assert extract_answer("<PROB>1, 3</PROB>", 2, "prob").reason == "PROB tag, weights renormalised (sum 4)"
    assert extract_answer("<PROB>0.5, 0.4</PROB>", 2, "prob").reason == "PROB tag, renormalised (sum 0.9)"


def test_prob_without_block_falls_back_to_letter() -> None:
    got = extract_answer("I am fairly sure. Answer: C", 4, "prob")
    assert got == Extraction(2, None, True, "answer statement (no <PROB> block)")
    assert extract_answer("Answer: C", 4, "prob", strict=True) == Extraction(-1, None, False, "no <PROB> block")
    assert extract_answer("no idea", 4, "prob").valid is False


def test_bad_arguments_raise() -> None:
    with pytest.raises(ValueError, match="fmt"):
        extract_answer("B", 4, "json")
    with pytest.raises(ValueError, match="n_options"):
        extract_answer("B", 1)
    with pytest.raises(ValueError, match="options"):
        extract_answer("B", 4, options=("a", "b"))


def test_non_text_output_is_invalid() -> None:
    assert extract_answer(None, 4).valid is False  # type: ignore[arg-type]


def test_unclosed_prob_blocks_end_at_the_next_block() -> None:
    # real SmolLM2-135M output: several unclosed blocks; the last one is read (and has the wrong count)
    text = "<PROB>2, 9, 15\n<PROB>1.0, 1.0, 500.0\nD. 86.0\n<PROB>21, 11\n<PROB>2.5, 21\nC. 9.15\n<EININTJ>"
    assert extract_answer(text, 4, "prob").reason == "expected 4 probabilities, got 3"
    assert extract_answer("<PROB>1, 0, 0, 0\n<PROB>0.1, 0.2, 0.3, 0.4", 4, "prob").answer == 3
    assert extract_answer("<answer>A\n<answer>C", 4, "answer_tag").answer == 2


# Real outputs of SmolLM2-135M-Instruct (sampled at temperature 1 on prompts built by build_prompt), each with
# the answer a careful reader records under the documented rules (displayed-order index, -1 = invalid).
REAL_SMOLLM2 = [
    (r["text"], r["fmt"], r["expected"])
    for r in map(json.loads, (Path(__file__).parent / "data" / "smollm2_outputs.jsonl").read_text().splitlines())
]


@pytest.mark.parametrize(("text", "fmt", "expected"), REAL_SMOLLM2)
def test_real_smollm2_outputs(text: str, fmt: str, expected: int) -> None:
    assert extract_answer(text, 4, fmt).answer == expected


def test_real_smollm2_option_text_answer() -> None:
    text = "Given those answers the answer that provides a correct answer to the question is, Earth."
    assert extract_answer(text, 4, "prob", options=("Earth", "Neptune", "Jupiter", "Mars")).answer == 0
    assert extract_answer(text, 4, "prob").answer == -1
