"""File loaders: GPQA-, MMLU-style and generic files, and every input error."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from hotmess.errors import ConfigError, InputError
from hotmess.tasks import load_generic, load_gpqa, load_mmlu, load_task

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "tasks"


def write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def write_jsonl(tmp_path: Path, name: str, rows: list[dict]) -> Path:
    return write(tmp_path, name, "".join(json.dumps(r) + "\n" for r in rows))


# ---------------------------------------------------------------------------------------------------- GPQA

GPQA_HEADER = "Record ID,Question,Correct Answer,Incorrect Answer 1,Incorrect Answer 2,Incorrect Answer 3\n"


def test_gpqa_example_file() -> None:
    task = load_gpqa(EXAMPLES / "gpqa_sample.csv")
    assert task.name == "gpqa_sample"
    assert [q.id for q in task.questions] == ["recA1", "recA2", "recA3", "recA4"]
    right = ["Carbon dioxide", "19.6 m", "sp", "1/4"]
    assert [q.options[q.correct] for q in task.questions] == right
    q = task.questions[2]
    assert sorted(q.options) == ["sp", "sp2", "sp3", "sp3d"]
    assert q.metadata["difficulty"] == "Hard undergraduate level"
    assert q.metadata["domain"] == "Chemistry"
    assert q.metadata["subdomain"] == "Organic Chemistry"
    assert q.metadata["explanation"].startswith("Each carbon")
    # source_order maps displayed original order back to file columns: 0 = correct answer column
    assert q.metadata["source_order"][q.correct] == 0


def test_gpqa_order_is_fixed_but_not_always_first(tmp_path: Path) -> None:
    rows = "".join(f"r{i},Question {i}?,right{i},w{i}a,w{i}b,w{i}c\n" for i in range(12))
    path = write(tmp_path, "g.csv", GPQA_HEADER + rows)
    task = load_gpqa(path)
    assert {q.correct for q in task.questions} != {0}  # the file's "correct first" order is not kept
    assert task == load_gpqa(path)
    assert load_gpqa(path, seed=1) != task
    for q in task.questions:
        assert q.options[q.correct] == f"right{q.id[1:]}"


def test_gpqa_liberal_columns_and_multiline_cells(tmp_path: Path) -> None:
    text = (
        "question,CORRECT_ANSWER,wrong answer 1,wrong_answer_2\n"
        '"A question\nover two lines?",yes,no,maybe\n'
        "Second?,b,a,\n"
    )
    task = load_gpqa(write(tmp_path, "g.csv", text))
    first, second = task.questions
    assert first.text == "A question\nover two lines?"
    assert sorted(first.options) == ["maybe", "no", "yes"]
    assert sorted(second.options) == ["a", "b"]  # blank incorrect answer dropped
    assert second.id == "g-1"


def test_gpqa_missing_columns_lists_found_and_expected(tmp_path: Path) -> None:
    path = write(tmp_path, "g.csv", "Question,Correct Answer,Notes\nQ?,a,x\n")
    with pytest.raises(InputError) as err:
        load_gpqa(path)
    msg = str(err.value)
    assert "g.csv" in msg and "incorrect answers" in msg
    assert "'Question', 'Correct Answer', 'Notes'" in msg
    assert "Incorrect Answer 1" in msg
    assert err.value.hint


def test_gpqa_row_errors_name_the_line(tmp_path: Path) -> None:
    text = GPQA_HEADER + "r1,Q1?,a,b,c,d\n" + '"r2","Long\nquestion?",,b,c,d\n'
    with pytest.raises(InputError, match=r"g\.csv, line 3 \(data row 2\): empty correct answer"):
        load_gpqa(write(tmp_path, "g.csv", text))
    text = GPQA_HEADER + "r1,Q1?,a,,,\n"
    with pytest.raises(InputError, match=r"line 2 \(data row 1\): only 1 option\(s\)"):
        load_gpqa(write(tmp_path, "g.csv", text))
    text = GPQA_HEADER + "r1,Q1?,a,b,a,c\n"
    with pytest.raises(InputError, match=r"correct option .* has the same text as option"):
        load_gpqa(write(tmp_path, "g.csv", text))


def test_duplicate_ids_name_both_rows(tmp_path: Path) -> None:
    text = GPQA_HEADER + "r1,Q1?,a,b,c,d\nr2,Q2?,a,b,c,d\nr1,Q3?,a,b,c,d\n"
    with pytest.raises(InputError, match=r"line 4 \(data row 3\): duplicate question id 'r1' \(first at line 2"):
        load_gpqa(write(tmp_path, "g.csv", text))


# ---------------------------------------------------------------------------------------------------- MMLU


def test_mmlu_example_file() -> None:
    task = load_mmlu(EXAMPLES / "mmlu_sample.csv")
    assert len(task.questions) == 6
    assert [q.correct for q in task.questions] == [1, 2, 2, 1, 0, 0]
    assert task.questions[3].text == "How long does light from the Sun take to reach Earth, roughly?"
    assert task.questions[0].metadata == {"source": "mmlu_sample.csv", "subject": "astronomy"}


def test_mmlu_answer_forms(tmp_path: Path) -> None:
    rows = [
        {"question": "q0", "A": "a", "B": "b", "C": "c", "D": "d", "answer": "c"},
        {"question": "q1", "A": "a", "B": "b", "C": "c", "D": "d", "answer": "(D)"},
        {"question": "q2", "A": "a", "B": "b", "C": "c", "D": "d", "answer": 1},
        {"question": "q3", "A": "a", "B": "b", "C": "c", "D": "d", "answer": "0"},
        {"question": "q4", "A": "a", "B": "b", "C": "", "D": "", "answer": "B"},
    ]
    task = load_mmlu(write_jsonl(tmp_path, "m.jsonl", rows))
    assert [q.correct for q in task.questions] == [2, 3, 1, 0, 1]
    assert task.questions[4].options == ("a", "b")  # trailing blank options dropped


def test_mmlu_index_base_one(tmp_path: Path) -> None:
    rows = [{"question": "q", "A": "a", "B": "b", "C": "c", "answer": 3}]
    assert load_mmlu(write_jsonl(tmp_path, "m.jsonl", rows), index_base=1).questions[0].correct == 2
    with pytest.raises(InputError, match="answer index 0 outside 1-3"):
        load_mmlu(write_jsonl(tmp_path, "z.jsonl", [rows[0] | {"answer": 0}]), index_base=1)


def test_mmlu_parquet_with_choices_list(tmp_path: Path) -> None:
    df = pd.DataFrame(
        {
            "question": ["2+2?", "Capital of France?"],
            "subject": ["math", "geo"],
            "choices": [["3", "4", "5", "6"], ["Rome", "Paris", "Lima", "Oslo"]],
            "answer": [1, 1],
        }
    )
    path = tmp_path / "hf.parquet"
    df.to_parquet(path)
    task = load_mmlu(path)
    assert task.questions[1].options == ("Rome", "Paris", "Lima", "Oslo")
    assert [q.correct for q in task.questions] == [1, 1]
    assert task.questions[0].metadata["subject"] == "math"
    assert task.questions[0].id == "hf-0"


def test_mmlu_headerless_original_csv(tmp_path: Path) -> None:
    text = 'What is 1+1?,1,2,3,4,B\n"Pick, with comma",x,y,z,w,D\n'
    task = load_mmlu(write(tmp_path, "astronomy_test.csv", text))
    assert [q.options[q.correct] for q in task.questions] == ["2", "w"]
    assert task.questions[1].text == "Pick, with comma"


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ("E", r"line 2 \(data row 1\): unknown answer letter 'E' \(options A-D\)"),
        ("7", "answer index 7 outside 0-3"),
        ("maybe", "answer 'maybe' is not among the options"),
        ("", "empty answer"),
    ],
)
def test_mmlu_bad_answers(tmp_path: Path, answer: str, message: str) -> None:
    path = write(tmp_path, "m.csv", f"question,A,B,C,D,answer\nQ?,a,b,c,d,{answer}\n")
    with pytest.raises(InputError, match=message):
        load_mmlu(path)


def test_windows_line_ends(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_bytes(b'\xef\xbb\xbfquestion,A,B,answer\r\n"Multi\r\nline?",a,b,B\r\nQ2?,c,d,Z\r\n')  # BOM too
    with pytest.raises(InputError, match=r"line 4 \(data row 2\): unknown answer letter 'Z'"):
        load_mmlu(path)
    path.write_bytes(b'\xef\xbb\xbfquestion,A,B,answer\r\n"Multi\r\nline?",a,b,B\r\n')
    assert load_mmlu(path).questions[0].text == "Multi\nline?"


def test_mmlu_interior_blank_option(tmp_path: Path) -> None:
    path = write(tmp_path, "m.csv", "question,A,B,C,D,answer\nQ?,a,,c,d,A\n")
    with pytest.raises(InputError, match="option B is empty"):
        load_mmlu(path)


def test_mmlu_missing_answer_column(tmp_path: Path) -> None:
    path = write(tmp_path, "m.csv", "question,A,B,C,D,solution\nQ?,a,b,c,d,A\n")
    with pytest.raises(
        InputError, match=r"no column for the answer: expected one of answer, .*found columns 'question'"
    ):
        load_mmlu(path)


# ------------------------------------------------------------------------------------------------- generic


def test_generic_example_file() -> None:
    task = load_generic(
        EXAMPLES / "generic_sample.jsonl", question="prompt", options="choices", answer="label", metadata=["level"]
    )
    assert [q.options[q.correct] for q in task.questions] == ["12", "14", "17"]
    assert [q.metadata["level"] for q in task.questions] == [1, 2, 3]


def test_generic_several_option_columns_and_text_answers(tmp_path: Path) -> None:
    text = "qid,stem,o1,o2,o3,gold\nx1,Colour of the sky?,green,blue,red,blue\nx2,Opposite of up?,down,left,,down\n"
    task = load_generic(
        write(tmp_path, "g.csv", text), question="stem", options=["o1", "o2", "o3"], answer="gold", id="qid"
    )
    assert [q.id for q in task.questions] == ["x1", "x2"]
    assert [q.correct for q in task.questions] == [1, 0]
    assert task.questions[1].options == ("down", "left")


def test_generic_json_list_in_csv_cell(tmp_path: Path) -> None:
    text = 'question,options,answer\nQ?,"[""a"", ""b"", ""c""]",C\n'
    task = load_generic(write(tmp_path, "g.csv", text))
    assert task.questions[0].options == ("a", "b", "c")
    assert task.questions[0].correct == 2


def test_generic_ambiguous_answer_and_answer_type(tmp_path: Path) -> None:
    rows = [{"question": "Q?", "options": ["0", "1", "2"], "answer": "1"}]
    # index and text readings agree: accepted
    assert load_generic(write_jsonl(tmp_path, "g.jsonl", rows)).questions[0].correct == 1
    rows = [{"question": "Q?", "options": ["1", "2", "3"], "answer": "1"}]
    path = write_jsonl(tmp_path, "h.jsonl", rows)
    with pytest.raises(InputError, match=r"ambiguous answer '1' \(as index: B, as text: A\)"):
        load_generic(path)
    assert load_generic(path, answer_type="text").questions[0].correct == 0
    assert load_generic(path, answer_type="index").questions[0].correct == 1
    with pytest.raises(ConfigError, match="answer_type"):
        load_generic(path, answer_type="guess")


def test_generic_answer_not_among_options(tmp_path: Path) -> None:
    rows = [{"question": "Q?", "options": ["red", "blue"], "answer": "green"}]
    with pytest.raises(InputError, match=r"line 1: answer 'green' is not among the options"):
        load_generic(write_jsonl(tmp_path, "g.jsonl", rows))


def test_generic_missing_mapped_column(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path, "g.jsonl", [{"q": "Q?", "opts": ["a", "b"], "a": 0}])
    with pytest.raises(
        InputError, match=r"no column for the question: expected one of 'question'; found columns 'q', 'opts', 'a'"
    ):
        load_generic(path, options="opts", answer="a")


def test_generic_options_cell_not_a_list(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path, "g.jsonl", [{"question": "Q?", "options": "a or b", "answer": 0}])
    with pytest.raises(InputError, match="should hold a list of options, got str"):
        load_generic(path)


# -------------------------------------------------------------------------------------------- file errors


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="file not found"):
        load_task(tmp_path / "nope.csv")


@pytest.mark.parametrize("content", ["", "\n\n", "question,A,B,answer\n"])
def test_empty_files(tmp_path: Path, content: str) -> None:
    with pytest.raises(InputError, match=r"empty file|no rows"):
        load_mmlu(write(tmp_path, "m.csv", content))


def test_bad_json_line(tmp_path: Path) -> None:
    path = write(tmp_path, "g.jsonl", '{"question": "Q?", "options": ["a", "b"], "answer": 0}\n{"question": \n')
    with pytest.raises(InputError, match=r"g\.jsonl, line 2: invalid JSON"):
        load_generic(path)


def test_jsonl_line_not_an_object(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="line 1: expected a JSON object, got list"):
        load_generic(write(tmp_path, "g.jsonl", "[1, 2]\n"))


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_bytes(b"question,A,B,answer\nQ\xff?,a,b,A\n")
    with pytest.raises(InputError, match="not UTF-8"):
        load_mmlu(path)


def test_unknown_extension(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"unknown file type '\.xlsx'"):
        load_task(write(tmp_path, "m.xlsx", "x"))


def test_too_many_cells(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"line 2: 6 cells but 5 columns"):
        load_mmlu(write(tmp_path, "m.csv", "question,A,B,C,answer\nQ?,a,b,c,A,extra\n"))


def test_empty_question_text(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"line 2 \(data row 1\): empty question"):
        load_mmlu(write(tmp_path, "m.csv", "question,A,B,answer\n ,a,b,A\n"))
