"""load_task: format detection, shared options, errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hotmess.errors import ConfigError, InputError
from hotmess.tasks import build_prompt, load_task

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "tasks"


@pytest.mark.parametrize(
    ("name", "opts", "n", "first_right"),
    [
        ("mmlu_sample.csv", {}, 6, "Mars"),
        ("gpqa_sample.csv", {}, 4, "Carbon dioxide"),
        ("mwe_sample.jsonl", {"target": "not_matching"}, 3, "No"),
        ("generic_sample.jsonl", {"question": "prompt", "options": "choices", "answer": "label"}, 3, "12"),
    ],
)
def test_detects_example_formats(name: str, opts: dict, n: int, first_right: str) -> None:
    task = load_task(EXAMPLES / name, **opts)
    q = task.questions[0]
    assert len(task.questions) == n
    assert q.options[q.correct] == first_right


def test_explicit_format_overrides_detection(tmp_path: Path) -> None:
    # columns that look MMLU-style, read as generic with a list column would fail; explicit mmlu works
    p = tmp_path / "x.csv"
    p.write_text("question,A,B,answer\nQ?,yes,no,B\n", encoding="utf-8")
    assert load_task(p, format="mmlu").questions[0].correct == 1
    with pytest.raises(InputError, match="no column for the options"):
        load_task(p, format="generic")


def test_headerless_mmlu_detected(tmp_path: Path) -> None:
    p = tmp_path / "college_physics_test.csv"
    p.write_text("What is 1+1?,1,2,3,4,B\nWhat is 2+2?,4,5,6,7,A\n", encoding="utf-8")
    task = load_task(p)
    assert [q.correct for q in task.questions] == [1, 0]
    assert task.name == "college_physics_test"


def test_headerless_mmlu_row_error_is_reported(tmp_path: Path) -> None:
    p = tmp_path / "x_test.csv"
    p.write_text("What is 1+1?,1,2,3,4,B\nWhat is 2+2?,4,5,6,7,F\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"line 2 \(data row 2\): unknown answer letter 'F'"):
        load_task(p)


def test_undetectable_format_lists_columns(tmp_path: Path) -> None:
    p = tmp_path / "x.jsonl"
    p.write_text(json.dumps({"prompt": "Q?", "choices": ["a", "b"], "gold": 0}) + "\n", encoding="utf-8")
    with pytest.raises(
        InputError, match=r"cannot tell the task format from the columns \('prompt', 'choices', 'gold'\)"
    ):
        load_task(p)


def test_exemplar_file_limit_and_task_settings(tmp_path: Path) -> None:
    pool = tmp_path / "dev.csv"
    pool.write_text("question,A,B,answer\nDev one?,a,b,A\nDev two?,c,d,B\n", encoding="utf-8")
    task = load_task(
        EXAMPLES / "mmlu_sample.csv",
        exemplars=pool,
        limit=4,
        name="astro",
        description="Astronomy.",
        default_format="answer_tag",
        reasoning=True,
    )
    assert task.name == "astro" and len(task.questions) == 4
    assert [e.id for e in task.exemplars] == ["dev-0", "dev-1"]
    assert (task.description, task.default_format, task.reasoning) == ("Astronomy.", "answer_tag", True)
    p = build_prompt(task, task.questions[0], context_id=0, seed=0, k=2)
    assert set(p.exemplar_ids) == {"dev-0", "dev-1"}


def test_exemplar_file_errors_propagate(tmp_path: Path) -> None:
    pool = tmp_path / "dev.csv"
    pool.write_text("question,A,B,answer\nDev one?,a,b,Q\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"dev\.csv, line 2 \(data row 1\): unknown answer letter 'Q' \(options A-B\)"):
        load_task(EXAMPLES / "mmlu_sample.csv", exemplars=pool)


@pytest.mark.parametrize(
    ("spec", "opts", "match"),
    [
        ("mmlu_sample.csv", {"format": "xml"}, "unknown task format 'xml'"),
        ("mmlu_sample.csv", {"target": "matching"}, "option.*target do not apply to mmlu"),
        ("mmlu_sample.csv", {"limit": 0}, "limit must be a positive int"),
        ("mmlu_sample.csv", {"default_format": "json"}, "unknown default_format"),
    ],
)
def test_bad_options(spec: str, opts: dict, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        load_task(EXAMPLES / spec, **opts)


def test_generated_specs() -> None:
    with pytest.raises(ConfigError, match="format= does not apply"):
        load_task("generated:arithmetic", format="mmlu")
    with pytest.raises(ConfigError, match="unknown generated task 'chess'"):
        load_task("generated:chess")
    with pytest.raises(ConfigError, match=r"option.*exemplars do not apply to generated tasks"):
        load_task("generated:arithmetic", exemplars="dev.csv")
    with pytest.raises(ConfigError, match="unknown task source 'hf:mmlu'"):
        load_task("hf:mmlu")


def test_nothing_partially_loaded(tmp_path: Path) -> None:
    p = tmp_path / "m.csv"
    p.write_text("question,A,B,answer\n" + "Q?,a,b,A\n" * 50 + "Q?,a,b,C\n", encoding="utf-8")
    with pytest.raises(InputError, match="line 52"):
        load_task(p)


@pytest.mark.parametrize("sep", [",", "\t"])
def test_a_field_longer_than_the_csv_modules_default_limit_loads(tmp_path: Path, sep: str) -> None:
    # Python's csv module refuses fields over 131,072 characters unless told otherwise: a long passage is no error
    passage = "word " * 60_000  # 300,000 characters
    p = tmp_path / ("long.csv" if sep == "," else "long.tsv")
    p.write_text(sep.join(["question", "A", "B", "answer"]) + "\n" + sep.join([passage + "?", "yes", "no", "A"]) + "\n")
    q = load_task(p, format="mmlu").questions[0]
    assert len(q.text) >= 299_000 and q.options[q.correct] == "yes"
