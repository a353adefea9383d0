"""Few-shot contexts: exemplar draws, option shuffling, rendering, reproducibility."""

from __future__ import annotations

from collections import Counter

import pytest

from hotmess.errors import ConfigError
from hotmess.tasks import Prompt, Question, Task, build_prompt, extract_answer, stable_seed


def make_task(n: int = 6, pool: int = 0, **kwargs) -> Task:
    qs = tuple(
        Question(f"q{i}", f"Question number {i}?", ("w", "x", "y", "z"), i % 4, {"explanation": f"why {i}"})
        for i in range(n)
    )
    ex = tuple(Question(f"e{i}", f"Exemplar {i}?", ("p", "q", "r"), i % 3) for i in range(pool))
    return Task("toy", qs, exemplars=ex, **kwargs)


def test_messages_and_rendering() -> None:
    task = make_task(pool=4, description="Toy questions.")
    p = build_prompt(task, task.questions[1], context_id=0, seed=0, k=2, fmt="letter", shuffle_options=False)
    system, user = p.messages
    assert system == {
        "role": "system",
        "content": "Toy questions. Answer with the letter of the correct option on its own line, as 'Answer: X'.",
    }
    assert user["role"] == "user"
    assert user["content"].endswith("Now this question.\n\nQuestion: Question number 1?\nA. w\nB. x\nC. y\nD. z")
    assert user["content"].count("Question:") == 3
    assert p.perm == (0, 1, 2, 3) and p.correct == 1 and p.options == ("w", "x", "y", "z")
    # each exemplar is followed by its answer, in the chosen format
    for eid in p.exemplar_ids:
        i = int(eid[1:])
        letter = "ABC"[i % 3]
        assert f"Question: Exemplar {i}?\nA. p\nB. q\nC. r\nAnswer: {letter}" in user["content"]


def test_formats_render_exemplar_answers() -> None:
    task = make_task(pool=3)
    tag = build_prompt(task, "q0", context_id=0, seed=0, k=3, fmt="answer_tag", shuffle_options=False)
    assert "<answer>A</answer>" in tag.messages[1]["content"]  # e0 is correct at A
    assert "<answer>" in tag.messages[0]["content"]
    prob = build_prompt(task, "q0", context_id=0, seed=0, k=3, fmt="prob", shuffle_options=False)
    assert "<PROB>0.0, 1.0, 0.0</PROB>" in prob.messages[1]["content"]  # e1 is correct at B
    assert "<PROB>p_A, p_B, ...</PROB>" in prob.messages[0]["content"]


def test_reasoning_shows_explanations() -> None:
    task = make_task()
    p = build_prompt(task, "q0", context_id=0, seed=0, k=2, reasoning=True)
    assert "Think step by step" in p.messages[0]["content"]
    assert p.messages[1]["content"].count("Reasoning: why ") == 2
    plain = build_prompt(task, "q0", context_id=0, seed=0, k=2, reasoning=False)
    assert "Reasoning:" not in plain.messages[1]["content"]
    assert "step by step" not in plain.messages[0]["content"]


def test_reproducible_and_context_dependent() -> None:
    task = make_task(n=10)
    q = task.questions[3]
    a = build_prompt(task, q, context_id=2, seed=5, k=3)
    assert a == build_prompt(task, q, context_id=2, seed=5, k=3)
    variants = {build_prompt(task, q, context_id=c, seed=5, k=3).messages[1]["content"] for c in range(10)}
    assert len(variants) == 10
    assert build_prompt(task, q, context_id=2, seed=6, k=3) != a


def test_fixed_values_across_runs() -> None:
    # Recorded once from this implementation: they must not change between Python runs or machines (no salted hash()).
    assert stable_seed(0, "arithmetic", "q1", 3) == 2065419645525353447
    p = build_prompt(make_task(n=10), "q3", context_id=2, seed=5, k=3)
    assert (p.exemplar_ids, p.perm) == (("q9", "q6", "q4"), (2, 3, 1, 0))


def test_never_the_question_itself_nor_its_text() -> None:
    qs = (
        Question("a", "Same text?", ("1", "2"), 0),
        Question("b", "  same   TEXT? ", ("1", "2"), 1),
        Question("c", "Other?", ("1", "2"), 1),
        Question("d", "Fourth?", ("1", "2"), 0),
    )
    task = Task("dup", qs)
    for c in range(30):
        p = build_prompt(task, "a", context_id=c, seed=1, k=2)
        assert set(p.exemplar_ids) == {"c", "d"}
    with pytest.raises(ConfigError, match="3 exemplars asked for question 'a' but only 2 available"):
        build_prompt(task, "a", context_id=0, seed=1, k=3)


def test_exemplars_come_from_the_pool_when_given() -> None:
    task = make_task(n=3, pool=5)
    seen = set()
    for c in range(20):
        seen |= set(build_prompt(task, "q0", context_id=c, seed=0, k=2).exemplar_ids)
    assert seen == {f"e{i}" for i in range(5)}


def test_option_shuffle_and_mapping_back() -> None:
    task = make_task(n=4)
    q = task.questions[2]  # correct = 2 ("y")
    positions = Counter()
    for c in range(40):
        p = build_prompt(task, q, context_id=c, seed=0, k=0)
        assert sorted(p.perm) == [0, 1, 2, 3]
        assert p.options == tuple(q.options[i] for i in p.perm)
        assert p.options[p.correct] == "y" and p.correct_original == 2
        assert p.to_original(p.correct) == 2
        positions[p.correct] += 1
        # the store records answers in original order: answering the correct letter maps back to 2
        ex = p.extract(f"Answer: {'ABCD'[p.correct]}")
        assert (ex.answer, ex.valid) == (2, True)
        # and probabilities are permuted back too
        shown = [0.0] * 4
        shown[p.correct] = 1.0
        assert p.probs_to_original(shown) == (0.0, 0.0, 1.0, 0.0)
    assert len(positions) == 4  # the correct option moves around
    p = build_prompt(task, q, context_id=0, seed=0, k=0, shuffle_options=False)
    assert p.perm == (0, 1, 2, 3)


def test_shuffle_does_not_depend_on_k() -> None:
    task = make_task(n=8)
    perms = {build_prompt(task, "q1", context_id=4, seed=3, k=k).perm for k in (0, 1, 3)}
    assert len(perms) == 1


def test_prompt_unshuffle_prob_extraction() -> None:
    p = Prompt((), (2, 0, 1), (), 0, ("c", "a", "b"), "prob", "q", 0)
    ex = p.extract("<PROB>0.7, 0.2, 0.1</PROB>")
    assert ex.answer == 2 and ex.probs == pytest.approx((0.2, 0.1, 0.7))
    assert p.extract("rubbish").answer == -1
    with pytest.raises(ValueError, match="displayed answer"):
        p.to_original(3)
    with pytest.raises(ValueError, match="3 values"):
        p.probs_to_original([0.5, 0.5])


def test_option_texts_are_passed_to_extraction() -> None:
    task = Task("t", (Question("q", "6 * 7?", ("36", "42", "48", "54"), 1),))
    p = build_prompt(task, "q", context_id=0, seed=0, k=0)
    assert p.extract("The answer is 42.").answer == 1
    assert extract_answer("The answer is 42.", 4).valid is False


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"fmt": "json"}, "unknown prompt format"),
        ({"context_id": -1}, "context_id must be a non-negative int"),
        ({"seed": 1.5}, "seed must be a non-negative int"),
        ({"k": -2}, "k must be a non-negative int"),
    ],
)
def test_bad_arguments(kwargs: dict, match: str) -> None:
    args = {"context_id": 0, "seed": 0, "k": 1} | kwargs
    with pytest.raises(ConfigError, match=match):
        build_prompt(make_task(), "q0", **args)


def test_default_format_and_reasoning_from_task() -> None:
    task = make_task(default_format="answer_tag", reasoning=True)
    p = build_prompt(task, "q0", context_id=0, seed=0, k=1)
    assert p.fmt == "answer_tag"
    assert "Think step by step" in p.messages[0]["content"]
