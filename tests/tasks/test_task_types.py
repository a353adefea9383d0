"""Question and Task: validation and small behaviour."""

from __future__ import annotations

import pytest

from hotmess.tasks import MAX_OPTIONS, Question, Task, option_letters


def q(qid: str = "q1", text: str = "2 + 2 = ?", options: tuple[str, ...] = ("3", "4"), correct: int = 1) -> Question:
    return Question(qid, text, options, correct)


def test_option_letters() -> None:
    assert option_letters(2) == ("A", "B")
    assert option_letters(26)[-1] == "Z"
    with pytest.raises(ValueError, match="n_options"):
        option_letters(1)
    with pytest.raises(ValueError, match="n_options"):
        option_letters(27)


def test_question_fields() -> None:
    question = Question("q1", "Pick", ("a", "b", "c"), 2, {"difficulty": 3})
    assert question.n_options == 3
    assert question.options[question.correct] == "c"
    assert question.metadata["difficulty"] == 3
    assert hash(question) == hash(Question("q1", "Pick", ("a", "b", "c"), 2, {"other": 1}))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"options": ("only",)}, "needs 2"),
        ({"options": tuple(str(i) for i in range(MAX_OPTIONS + 1))}, "needs 2"),
        ({"correct": 2}, "outside"),
        ({"correct": -1}, "outside"),
        ({"qid": ""}, "non-empty"),
    ],
)
def test_question_rejects(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        q(**kwargs)


def test_question_rejects_list_options() -> None:
    with pytest.raises(ValueError, match="tuple"):
        Question("q", "t", ["a", "b"], 0)  # type: ignore[arg-type]


def test_task_pool_defaults_to_questions() -> None:
    a, b = q("a"), q("b", text="other")
    assert Task("t", (a, b)).pool == (a, b)
    ex = q("e", text="exemplar")
    assert Task("t", (a,), exemplars=(ex,)).pool == (ex,)


def test_task_rejects_duplicates_and_bad_format() -> None:
    with pytest.raises(ValueError, match="duplicate id 'a' in questions"):
        Task("t", (q("a"), q("a", text="x")))
    with pytest.raises(ValueError, match="duplicate id 'e' in exemplars"):
        Task("t", (q("a"),), exemplars=(q("e"), q("e")))
    with pytest.raises(ValueError, match="default_format"):
        Task("t", (q("a"),), default_format="json")
    with pytest.raises(ValueError, match="no questions"):
        Task("t", ())


def test_task_question_lookup() -> None:
    task = Task("t", (q("a"), q("b", text="x")))
    assert task.question("b").text == "x"
    with pytest.raises(KeyError):
        task.question("zz")
