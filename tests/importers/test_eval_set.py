"""A folder written by Inspect's ``eval_set()`` (made here for real with ``mockllm/model``) imports whole.

``eval_set()`` writes ``eval-set.json`` and ``logs.json`` beside the logs; they, and any other ``.json`` in a
folder that is not an Inspect log (an lm-eval results file), are skipped with a note. A file the user names
must still be a log.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from hotmess.data import RunStore
from hotmess.errors import InputError
from hotmess.importers import import_inspect, read_inspect_log
from tests.importers._helpers import assert_one_line_refusal, import_cli
from tests.importers.conftest import LM_EVAL

pytest.importorskip("inspect_ai")
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

QUESTIONS = [("q1", "What is 3 plus 4?", "7"), ("q2", "What is 2 plus 2?", "4"), ("q3", "Capital of France?", "Paris")]
EPOCHS = 3


def _eval_set(log_dir: Path) -> list[str]:
    """Run a two-task eval set with scripted outputs (usage set: mockllm would download a tokenizer)."""
    from inspect_ai import Task, eval_set
    from inspect_ai.dataset import Sample
    from inspect_ai.model import ModelOutput, ModelUsage, get_model
    from inspect_ai.scorer import includes, match
    from inspect_ai.solver import generate

    calls = {"n": 0}

    def output(msgs: list[Any], tools: Any, tool_choice: Any, config: Any) -> ModelOutput:
        calls["n"] += 1
        body = f"The answer is {'7' if calls['n'] % 2 else 'Paris'}"
        o = ModelOutput.from_content(model="mockllm", content=body)
        o.usage = ModelUsage(input_tokens=10, output_tokens=len(body.split()), total_tokens=10 + len(body.split()))
        return o

    dataset = [Sample(id=i, input=q, target=t) for i, q, t in QUESTIONS]
    tasks = [
        Task(dataset=dataset, solver=generate(), scorer=match(location="end"), epochs=EPOCHS, name="set_match"),
        Task(dataset=dataset, solver=generate(), scorer=includes(), epochs=EPOCHS, name="set_includes"),
    ]
    ok, logs = eval_set(
        tasks,
        log_dir=str(log_dir),
        model=get_model("mockllm/model", custom_outputs=output),
        display="none",
        max_samples=1,
    )
    assert ok
    return [Path(str(log.location)).name for log in logs]


@pytest.fixture(scope="module")
def eval_set_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("eval_set")
    names = _eval_set(folder)
    assert len(names) == 2 and {"eval-set.json", "logs.json"} <= {p.name for p in folder.iterdir()}
    return folder


@pytest.fixture
def mixed_dir(eval_set_dir: Path, tmp_path: Path) -> Path:
    """The eval-set folder plus an lm-eval results file and a foreign JSON list in a subfolder."""
    folder = tmp_path / "logs"
    shutil.copytree(eval_set_dir, folder)
    (results,) = (LM_EVAL / "fewshot0").glob("results_*.json")
    shutil.copyfile(results, folder / results.name)
    (folder / "sub").mkdir()
    (folder / "sub" / "notes.json").write_text("[1, 2, 3]")
    return folder


@pytest.mark.parametrize("reader", ["inspect", "builtin"])
def test_eval_set_folder_imports_its_logs_and_notes_what_it_skipped(
    mixed_dir: Path, tmp_path: Path, reader: str
) -> None:
    store = tmp_path / "runs.sqlite"
    report = import_inspect([mixed_dir], store, reader=reader)
    assert sorted(log.task for log in report.logs) == ["set_includes", "set_match"]
    assert report.n_new == 2 * len(QUESTIONS) * EPOCHS
    skipped = {Path(w.split(":")[0]).name for w in report.warnings if "skipped, not an Inspect log" in w}
    assert skipped == {"eval-set.json", "logs.json", "results_2026-11-27T09-31-54.808081.json", "notes.json"}
    with RunStore(store) as st:
        assert len(st) == 2 * len(QUESTIONS) * EPOCHS
    again = import_inspect([mixed_dir], store, reader=reader)
    assert again.n_new == 0 and again.n_already_stored == report.n_new


def test_eval_set_folder_through_the_cli(
    mixed_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    run = import_cli(monkeypatch, capsys)
    store = tmp_path / "runs.sqlite"
    code, out, err = run("import", "inspect", mixed_dir, "--store", store, "--n-boot", "0", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["import"]["new"] == 2 * len(QUESTIONS) * EPOCHS
    assert {r["task"] for r in data["summary"]} == {"set_match", "set_includes"}
    assert sum("eval-set.json: skipped" in w for w in data["import"]["warnings"]) == 1
    code, out, err = run("import", "inspect", mixed_dir, "--store", store, "--n-boot", "0")
    assert code == 0 and "logs.json: skipped" in " ".join(err.split())


@pytest.mark.parametrize("name", ["eval-set.json", "logs.json"])
@pytest.mark.parametrize("reader", ["inspect", "builtin"])
def test_a_named_non_log_file_is_still_an_error(eval_set_dir: Path, name: str, reader: str) -> None:
    with pytest.raises(InputError, match=r"is not an Inspect log \(no eval spec") as info:
        read_inspect_log(eval_set_dir / name, reader=reader)
    assert "\n" not in str(info.value)
    with pytest.raises(InputError, match=name):
        import_inspect([eval_set_dir / name], eval_set_dir / "never.sqlite", reader=reader)
    assert not (eval_set_dir / "never.sqlite").exists()


def test_a_named_non_log_file_through_the_cli(
    eval_set_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    run = import_cli(monkeypatch, capsys)
    store = tmp_path / "runs.sqlite"
    assert_one_line_refusal(*run("import", "inspect", eval_set_dir / "eval-set.json", "--store", store))
    assert not store.exists()


def test_a_folder_without_logs_and_a_broken_log_in_a_folder(eval_set_dir: Path, tmp_path: Path) -> None:
    only = tmp_path / "only"
    only.mkdir()
    shutil.copyfile(eval_set_dir / "eval-set.json", only / "eval-set.json")
    with pytest.raises(InputError, match="no Inspect logs found"):
        import_inspect([only], tmp_path / "a.sqlite")
    # a truncated JSON is not "clearly not a log": it still stops the import
    broken = tmp_path / "broken"
    shutil.copytree(eval_set_dir, broken)
    (broken / "zz_cut.json").write_text('{"version": 2, "eval": {"task": "t", "model": "m"')
    with pytest.raises(InputError, match=r"zz_cut\.json"):
        import_inspect([broken], tmp_path / "b.sqlite")
    assert not (tmp_path / "b.sqlite").exists()
