"""Built-in generated tasks: answers re-derived from the question text, difficulty, determinism."""

from __future__ import annotations

import re

import pytest

from hotmess.errors import ConfigError
from hotmess.tasks import Question, generate_task, load_task


def solve_arithmetic(text: str) -> tuple[int, int]:
    """(result, number of steps), computed independently from the question text."""
    m = re.fullmatch(r"Start with (\d+)\. (.*) What is the result\?", text)
    assert m, text
    value, steps = int(m.group(1)), re.findall(r"(Add|Subtract|Multiply by) (\d+)\.", m.group(2))
    for op, x in steps:
        value = {"Add": value + int(x), "Subtract": value - int(x), "Multiply by": value * int(x)}[op]
    return value, len(steps)


def solve_tracking(text: str) -> tuple[str, int]:
    holding = dict(re.findall(r"(\w+) has the (\w+) ball", text))
    swaps = re.findall(r"(\w+) and (\w+) swap their balls", text)
    for a, b in swaps:
        holding[a], holding[b] = holding[b], holding[a]
    who = re.search(r"which ball does (\w+) have\?", text).group(1)
    return f"the {holding[who]} ball", len(swaps)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_arithmetic_answers_and_levels(seed: int) -> None:
    task = generate_task("arithmetic", n_per_level=6, levels=(1, 2, 4, 6), seed=seed)
    assert len(task.questions) == 24 and len(task.exemplars) == 20
    for q in task.questions + task.exemplars:
        value, steps = solve_arithmetic(q.text)
        assert q.options[q.correct] == str(value)
        assert steps == q.metadata["difficulty"] == q.metadata["level"]
        assert q.n_options == 4 and len(set(q.options)) == 4
        assert all(int(o) > 0 for o in q.options)
        assert q.metadata["explanation"].endswith(f"The result is {value}.")
        assert q.metadata["source"] == "generated:arithmetic"
    assert [q.metadata["level"] for q in task.questions] == [1] * 6 + [2] * 6 + [4] * 6 + [6] * 6
    assert {q.metadata["level"] for q in task.exemplars} == {1, 2, 4, 6}


@pytest.mark.parametrize("seed", [0, 7])
def test_tracking_answers_and_levels(seed: int) -> None:
    task = generate_task("tracking", n_per_level=5, levels=5, seed=seed)
    for q in task.questions + task.exemplars:
        right, swaps = solve_tracking(q.text)
        assert q.options[q.correct] == right
        assert swaps == q.metadata["difficulty"]
        assert len(set(q.options)) == 4 and all(o.startswith("the ") for o in q.options)


def test_correct_position_varies() -> None:
    for name in ("arithmetic", "tracking"):
        task = generate_task(name, n_per_level=10, levels=3)
        assert {q.correct for q in task.questions} == {0, 1, 2, 3}


def test_exemplar_pool_is_disjoint_from_questions() -> None:
    for name in ("arithmetic", "tracking"):
        task = generate_task(name, n_per_level=20, levels=2, n_exemplars=30, seed=3)
        texts = [q.text for q in task.questions]
        assert len(set(texts)) == len(texts)
        assert not set(texts) & {q.text for q in task.exemplars}
        assert not {q.id for q in task.questions} & {q.id for q in task.exemplars}


def test_deterministic_from_seed() -> None:
    a = generate_task("arithmetic", n_per_level=3, seed=11)
    assert a == generate_task("arithmetic", n_per_level=3, seed=11)
    assert a != generate_task("arithmetic", n_per_level=3, seed=12)
    # adding exemplars does not change the questions (separate random streams)
    assert generate_task("arithmetic", n_per_level=3, seed=11, n_exemplars=50).questions == a.questions


def test_task_settings() -> None:
    task = generate_task("tracking", n_per_level=1, levels=(2,), n_exemplars=0, default_format="prob", reasoning=False)
    assert task.questions[0].id == "tracking-L2-000"
    assert task.default_format == "prob" and task.reasoning is False and task.exemplars == ()
    assert task.description.startswith("Questions about tracking")


def test_through_load_task() -> None:
    task = load_task("generated:arithmetic", n_per_level=2, levels=2, seed=4)
    assert task == generate_task("arithmetic", n_per_level=2, levels=2, seed=4)
    assert isinstance(task.questions[0], Question)


@pytest.mark.parametrize(
    ("name", "kwargs", "match"),
    [
        ("sudoku", {}, "unknown generated task 'sudoku'"),
        ("arithmetic", {"levels": 0}, "levels must be positive"),
        ("arithmetic", {"levels": (1, -2)}, "levels must be positive"),
        ("arithmetic", {"n_per_level": 0}, "n_per_level must be at least 1"),
        ("arithmetic", {"seed": -1}, "seed must be a non-negative int"),
        ("arithmetic", {"n_per_level": 2000, "levels": (1,)}, "too few distinct arithmetic questions at level 1"),
    ],
)
def test_bad_arguments(name: str, kwargs: dict, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        generate_task(name, **kwargs)
