"""Built-in generated tasks with a difficulty knob, so that everything runs offline.

Both tasks are deterministic functions of ``seed``: the same arguments give the same questions on every
machine. Each question has 4 options (the correct one at a random position) and ``metadata`` with its
``difficulty`` (= ``level``), ``source`` and a worked ``explanation`` that few-shot exemplars show when
prompts ask for step-by-step reasoning. The exemplar pool is generated from its own random stream and never
shares a question text with the questions.

``arithmetic``
    "Start with 7. Add 5. Multiply by 3. What is the result?" Level *d* has *d* steps; operands also grow
    with the level (additions up to 9 at levels 1-2, 19 at 3-4, 49 beyond). Distractors are the results of
    typical slips: dropping the last step, an off-by-one in one step, an addition done as a subtraction,
    answers off by one.
``tracking``
    The shuffled-objects / shell game: four people hold four coloured balls and swap them in pairs. Level *d*
    has *d* swaps; the question asks who holds what at the end, and the options are the four balls.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Final

import numpy as np

from hotmess.errors import ConfigError
from hotmess.tasks._seeding import seed_sequence
from hotmess.tasks.types import Question, Task

__all__ = ["GENERATED", "generate_task"]

_N_OPTIONS: Final = 4
_NAMES: Final = ("Alice", "Bob", "Claire", "Dave", "Eve", "Frank", "Grace", "Henry")
_COLOURS: Final = ("red", "blue", "green", "yellow", "purple", "orange", "white", "black", "pink", "brown")

# A generator returns (text, options in original order, correct index, explanation).
_Item = tuple[str, tuple[str, ...], int, str]


def _arith_steps(rng: np.random.Generator, level: int) -> tuple[int, list[tuple[str, int]]]:
    add_max = 9 if level <= 2 else 19 if level <= 4 else 49
    value = int(rng.integers(2, 10 if level <= 2 else 20))
    start, steps = value, []
    for _ in range(level):
        choices = ["+", "-", "*"] if value <= 40 else ["+", "-"]
        op = str(rng.choice(choices))
        if op == "-" and value <= 2:
            op = "+"
        if op == "+":
            x = int(rng.integers(1, add_max + 1))
            value += x
        elif op == "-":
            x = int(rng.integers(1, min(add_max, value - 1) + 1))
            value -= x
        else:
            x = int(rng.integers(2, 6))
            value *= x
        steps.append((op, x))
    return start, steps


def _run(start: int, steps: Sequence[tuple[str, int]]) -> int:
    value = start
    for op, x in steps:
        value = value + x if op == "+" else value - x if op == "-" else value * x
    return value


_WORDS = {"+": "Add {x}.", "-": "Subtract {x}.", "*": "Multiply by {x}."}


def _arithmetic(rng: np.random.Generator, level: int) -> _Item:
    start, steps = _arith_steps(rng, level)
    answer = _run(start, steps)
    text = " ".join([f"Start with {start}.", *(_WORDS[op].format(x=x) for op, x in steps)])
    text += " What is the result?"
    lines, value = [], start
    for op, x in steps:
        new = _run(value, [(op, x)])
        lines.append(f"{value} {op} {x} = {new}.")
        value = new
    explanation = " ".join(lines) + f" The result is {answer}."
    slips = {_run(start, steps[:-1]), answer + 1, answer - 1, answer + 10, answer - 10}
    for i, (op, x) in enumerate(steps):
        for wrong in ((op, x + 1), (op, x - 1), ("-" if op == "+" else "+", x)):
            slips.add(_run(start, [*steps[:i], wrong, *steps[i + 1 :]]))
    pool = sorted(v for v in slips if v > 0 and v != answer)
    picked = [int(v) for v in rng.choice(pool, size=min(3, len(pool)), replace=False)]
    while len(picked) < 3:  # only for tiny answers; nearby positive numbers
        v = answer + int(rng.integers(2, 12))
        if v not in picked:
            picked.append(v)
    return _shuffle(rng, text, str(answer), [str(v) for v in picked], explanation)


def _tracking(rng: np.random.Generator, level: int) -> _Item:
    names = [str(n) for n in rng.choice(_NAMES, size=_N_OPTIONS, replace=False)]
    colours = [str(c) for c in rng.choice(_COLOURS, size=_N_OPTIONS, replace=False)]
    holding = dict(zip(names, colours, strict=True))
    text = [
        f"{', '.join(names[:-1])} and {names[-1]} each hold a ball. "
        + ", ".join(f"{n} has the {c} ball" for n, c in holding.items())
        + "."
    ]
    explanation = ["At the start: " + ", ".join(f"{n} {c}" for n, c in holding.items()) + "."]
    touched: list[str] = []
    for i in range(level):
        while True:  # never the same pair twice in a row: that swap would undo the last one
            a, b = (str(x) for x in rng.choice(names, size=2, replace=False))
            if {a, b} != set(touched[-2:]):
                break
        holding[a], holding[b] = holding[b], holding[a]
        touched += [a, b]
        first = "First" if i == 0 else "Then"
        text.append(f"{first}, {a} and {b} swap their balls.")
        explanation.append(f"After {a} and {b} swap: " + ", ".join(f"{n} {c}" for n, c in holding.items()) + ".")
    who = str(rng.choice(sorted(set(touched))))
    text.append(f"At the end, which ball does {who} have?")
    explanation.append(f"So {who} has the {holding[who]} ball.")
    right = f"the {holding[who]} ball"
    wrong = [f"the {c} ball" for c in colours if c != holding[who]]
    return _shuffle(rng, " ".join(text), right, wrong, " ".join(explanation))


def _shuffle(rng: np.random.Generator, text: str, right: str, wrong: list[str], explanation: str) -> _Item:
    options = [right, *wrong]
    perm = [int(i) for i in rng.permutation(len(options))]
    return text, tuple(options[i] for i in perm), perm.index(0), explanation


#: name -> (generator, description)
GENERATED: Final[dict[str, tuple[Callable[[np.random.Generator, int], _Item], str]]] = {
    "arithmetic": (_arithmetic, "Questions about multi-step arithmetic with whole numbers."),
    "tracking": (_tracking, "Questions about tracking objects that people swap."),
}


def _levels(levels: int | Sequence[int]) -> tuple[int, ...]:
    out = tuple(range(1, levels + 1)) if isinstance(levels, int) else tuple(levels)
    if not out or any(isinstance(v, bool) or not isinstance(v, int) or v < 1 for v in out):
        raise ConfigError(f"levels must be positive ints, got {levels!r}", hint="e.g. levels=5 or (1, 3, 5)")
    return out


def generate_task(
    name: str,
    *,
    n_per_level: int = 10,
    levels: int | Sequence[int] = 5,
    n_exemplars: int = 20,
    seed: int = 0,
    default_format: str = "letter",
    reasoning: bool = True,
) -> Task:
    """Generate a built-in task.

    Parameters
    ----------
    name
        ``"arithmetic"`` or ``"tracking"`` (see the module docstring).
    n_per_level
        Questions per difficulty level.
    levels
        Difficulty levels (steps or swaps), or an int ``L`` meaning ``1..L``.
    n_exemplars
        Size of the exemplar pool, its levels cycling through ``levels``.
    seed
        Everything is a deterministic function of it.
    default_format, reasoning
        Stored on the task: by default prompts ask for step-by-step reasoning, then ``Answer: X``.

    Examples
    --------
    >>> task = generate_task("tracking", n_per_level=1, levels=(1, 3), n_exemplars=2, seed=1)
    >>> [q.metadata["difficulty"] for q in task.questions], len(task.exemplars)
    ([1, 3], 2)
    >>> task == generate_task("tracking", n_per_level=1, levels=(1, 3), n_exemplars=2, seed=1)
    True
    """
    if name not in GENERATED:
        raise ConfigError(f"unknown generated task {name!r}", hint=f"use one of {', '.join(sorted(GENERATED))}")
    lv = _levels(levels)
    for label, v in (("n_per_level", n_per_level), ("n_exemplars", n_exemplars), ("seed", seed)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            raise ConfigError(f"{label} must be a non-negative int, got {v!r}", hint=f"pass {label}=10")
    if n_per_level == 0:
        raise ConfigError("n_per_level must be at least 1", hint="pass n_per_level=10")
    make, description = GENERATED[name]
    q_ss, ex_ss = seed_sequence(seed, "generated", name).spawn(2)
    seen: set[str] = set()

    def draw(rng: np.random.Generator, level: int, qid: str) -> Question:
        for _ in range(1000):
            text, options, correct, explanation = make(rng, level)
            if text not in seen:
                seen.add(text)
                meta: dict[str, Any] = {"difficulty": level, "level": level, "source": f"generated:{name}"}
                meta["explanation"] = explanation
                return Question(qid, text, options, correct, meta)
        raise ConfigError(
            f"cannot generate {qid}: too few distinct {name} questions at level {level}",
            hint="lower n_per_level or n_exemplars",
        )

    q_rng, ex_rng = np.random.default_rng(q_ss), np.random.default_rng(ex_ss)
    questions = tuple(draw(q_rng, level, f"{name}-L{level}-{i:03d}") for level in lv for i in range(n_per_level))
    exemplars = tuple(draw(ex_rng, lv[i % len(lv)], f"{name}-ex-{i:03d}") for i in range(n_exemplars))
    return Task(
        name=name,
        questions=questions,
        exemplars=exemplars,
        default_format=default_format,
        description=description,
        reasoning=reasoning,
    )
