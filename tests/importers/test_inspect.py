"""Importing real Inspect logs (committed fixtures produced by Inspect with mockllm)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from hotmess.data import RunStore, read_samples
from hotmess.errors import InputError
from hotmess.importers import import_inspect, read_inspect_log
from tests.importers.conftest import INSPECT, raw_inspect_samples


def _has_inspect() -> bool:
    try:
        import inspect_ai.log  # noqa: F401
    except ImportError:
        return False
    return True


BOTH = ["builtin", pytest.param("inspect", marks=pytest.mark.skipif(not _has_inspect(), reason="needs inspect-ai"))]


# -- multiple choice ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("reader", BOTH)
def test_choice_scorer_log_becomes_multiple_choice_samples(reader: Any) -> None:
    log = read_inspect_log(INSPECT / "mc_quiz.eval", reader=reader)
    assert log.kind == "multiple-choice"
    assert (log.model, log.task) == ("mockllm/model", "mc_quiz")
    assert len(log.samples) == 24 and log.n_questions == 4
    by_q: dict[str, list] = {}
    for s in log.samples:
        by_q.setdefault(s.question_id, []).append(s)
    assert {q: sorted(s.sample_index for s in v) for q, v in by_q.items()} == {q: list(range(6)) for q in by_q}
    # scripted answers: mc0 always A (correct), mc2 always B (correct is C)
    assert {(s.answer, s.correct) for s in by_q["mc0"]} == {(0, 0)}
    assert {(s.answer, s.correct) for s in by_q["mc2"]} == {(1, 2)}
    assert all(s.n_options == 4 and s.context_id == 0 and s.run_id == log.run_id for s in log.samples)


def test_multiple_choice_answers_agree_with_inspects_own_scores() -> None:
    log = read_inspect_log(INSPECT / "mc_quiz.json", reader="builtin")
    raw = {(str(s["id"]), s["epoch"] - 1): s for s in raw_inspect_samples("mc_quiz.json")}
    n_invalid = 0
    for s in log.samples:
        score = raw[(s.question_id, s.sample_index)]["scores"]["choice"]
        assert (s.answer == s.correct) == (score["value"] == "C")
        if score["answer"] == "":
            n_invalid += 1
            assert not s.valid and s.answer == -1
        else:
            assert s.answer == "ABCD".index(score["answer"])
        usage = raw[(s.question_id, s.sample_index)]["model_usage"]["mockllm/model"]
        assert s.output_tokens == usage["output_tokens"] and s.reasoning_tokens == usage["reasoning_tokens"]
        assert s.length_source == "api"  # the sample's own model usage
        stop = raw[(s.question_id, s.sample_index)]["output"]["choices"][0]["stop_reason"]
        assert s.finish_reason == stop == "stop"
        assert s.actions == 1
    assert n_invalid >= 1  # the fixture has an output without "ANSWER: X"
    # and the share correct equals Inspect's own accuracy metric in the log header
    header = json.loads((INSPECT / "mc_quiz.json").read_text())["results"]["scores"][0]["metrics"]["accuracy"]
    assert np.mean([s.answer == s.correct for s in log.samples]) == pytest.approx(header["value"])


def test_eval_and_json_of_one_log_are_the_same_run(store: Path) -> None:
    a = read_inspect_log(INSPECT / "mc_quiz.eval")
    b = read_inspect_log(INSPECT / "mc_quiz.json")
    assert a.run_id == b.run_id
    assert [s.to_row() for s in a.samples] == [s.to_row() for s in b.samples]
    report = import_inspect([INSPECT / "mc_quiz.eval", INSPECT / "mc_quiz.json"], store)
    assert report.n_new == 24 and len(report.logs) == 1
    assert any("same log" in w for w in report.warnings)


@pytest.mark.skipif(not _has_inspect(), reason="needs inspect-ai")
@pytest.mark.parametrize("name", ["mc_quiz.eval", "mc_quiz.json", "open_qa.eval", "swe_mini.eval"])
def test_builtin_reader_matches_inspects_reader(name: str) -> None:
    a = read_inspect_log(INSPECT / name, reader="inspect")
    b = read_inspect_log(INSPECT / name, reader="builtin")
    assert [s.to_row() for s in a.samples] == [s.to_row() for s in b.samples]
    assert a.questions == b.questions


def test_reimport_adds_nothing(store: Path) -> None:
    first = import_inspect([INSPECT], store)
    assert first.n_new == 24 + 20 + 12
    again = import_inspect([INSPECT / "swe_mini.eval", INSPECT / "open_qa.eval"], store)
    assert again.n_new == 0 and again.n_already_stored == 32
    with RunStore(store) as st:
        assert len(st) == 56
        runs = st.runs()
    assert sorted(runs["status"]) == ["imported"] * 3
    assert {c["kind"] for c in runs["config"]} == {"multiple-choice", "open-ended", "test-vector"}


# -- open-ended --------------------------------------------------------------------------------------------


def test_match_scorer_log_becomes_two_option_correctness() -> None:
    log = read_inspect_log(INSPECT / "open_qa.eval")
    assert log.kind == "open-ended" and log.config["scorer"] == "match"
    assert all(s.n_options == 2 and s.correct == 0 for s in log.samples)
    errors = [s for s in log.samples if s.error is not None]
    assert len(errors) == 1 and "scripted failure" in str(errors[0].error) and not errors[0].valid
    ok = [s for s in log.samples if s.error is None]
    by_q: dict[str, set[int]] = {}
    for s in ok:
        by_q.setdefault(s.question_id, set()).add(s.answer)
        assert s.raw_output.startswith("Let me see") and s.valid
        assert s.output_tokens == len(s.raw_output.split()) and s.reasoning_tokens is None
    assert by_q["oq0"] == {0}  # always "7": correct
    assert by_q["oq3"] == {1}  # always "Atlantic": incorrect
    meta = {q["question_id"]: q["metadata"] for q in log.questions}
    assert meta["oq1"] == {"kind": "open-ended", "source": "inspect", "target": "Paris"}


def test_scorer_choice_and_unknown_scorer() -> None:
    inc = read_inspect_log(INSPECT / "open_qa.eval", scorer="includes")
    assert inc.config["scorer"] == "includes"
    assert [s.answer for s in inc.samples] == [s.answer for s in read_inspect_log(INSPECT / "open_qa.eval").samples]
    with pytest.raises(InputError, match=r"no scores from scorer 'nope'.*match, includes"):
        read_inspect_log(INSPECT / "open_qa.eval", scorer="nope")


def test_forcing_multiple_choice_on_an_open_log_is_refused() -> None:
    with pytest.raises(InputError, match="choices"):
        read_inspect_log(INSPECT / "open_qa.eval", kind="multiple-choice")


# -- SWE-bench style ---------------------------------------------------------------------------------------


def test_swe_log_becomes_test_vectors_with_the_limit_hit_unchanged() -> None:
    log = read_inspect_log(INSPECT / "swe_mini.eval")
    assert log.kind == "test-vector" and log.config["limit_hits"] == 1
    raw = {(str(s["id"]), s["epoch"]): s for s in raw_inspect_samples_from_eval()}
    meta = {q["question_id"]: q["metadata"] for q in log.questions}
    for s in log.samples:
        m = meta[s.question_id]
        r = raw[(s.question_id, s.sample_index + 1)]
        assert s.n_options == 0 and s.correct == -1 and s.valid and s.error is None
        assert s.test_outcomes is not None
        assert len(s.test_outcomes) == len(m["tests"])
        assert s.actions == sum(1 for msg in r["messages"] if msg["role"] == "assistant")
        if r.get("limit"):
            # tests unchanged: FAIL_TO_PASS fail, PASS_TO_PASS pass — whatever the scorer reported
            expected = tuple(0 if t in m["fail_to_pass"] else 1 for t in m["tests"])
            assert s.test_outcomes == expected
            assert m["limit_hits"] == [s.sample_index + 1]
        else:
            text = r["scores"]["swe_tests_scorer"]["explanation"]
            for t, v in zip(m["tests"], s.test_outcomes, strict=True):
                assert f'"{t}": "{"PASSED" if v else "FAILED"}"' in text
    assert meta["acme__widgets-202"]["fail_to_pass"] == ["test_timeout"]
    assert meta["acme__widgets-202"]["pass_to_pass"] == ["test_close", "test_connect", "test_retry"]


def raw_inspect_samples_from_eval() -> list[dict]:
    from hotmess.importers._inspect_files import read_raw_log

    return list(read_raw_log(INSPECT / "swe_mini.eval", "builtin")["samples"])


def test_swe_fixture_decomposition_by_hand(store: Path) -> None:
    """acme__gadgets-7 (tests mean, median, sum | len), read off the committed log: epochs 1, 3, 4 report
    (1,0,0,1), (1,0,1,1), (0,1,1,1); epoch 2 hit the message limit, so its tests are unchanged: (0,0,0,1).
    ȳ = (.5, .25, .5, 1): bias = (.25 + .5625 + .25 + 0)/4 = .265625; variance = mean ȳ(1−ȳ) = .171875;
    error = 7 failing cells / 16 = .4375."""
    from hotmess.analysis.open_ended import test_vectors_by_question

    import_inspect([INSPECT / "swe_mini.eval"], store)
    df = read_samples(store)
    g = df[df["question_id"] == "acme__gadgets-7"].sort_values("sample_index")
    assert [tuple(v) for v in g["test_outcomes"]] == [(1, 0, 0, 1), (0, 0, 0, 1), (1, 0, 1, 1), (0, 1, 1, 1)]
    pq = test_vectors_by_question(df).set_index("question_id")
    row = pq.loc["acme__gadgets-7"]
    assert (row["bias"], row["variance"], row["error"]) == pytest.approx((0.265625, 0.171875, 0.4375))
    assert row["resolved"] == 0.0
    assert (pq["bias"] + pq["variance"]).to_numpy() == pytest.approx(pq["error"].to_numpy())


def test_errors_as_rows_option_keeps_failures_out() -> None:
    a = read_inspect_log(INSPECT / "swe_mini.eval", errors_as_unchanged=False)
    assert a.n_errors == 0  # the fixture's agent run hit a limit, it did not fail
    assert Counter(len(s.test_outcomes or ()) for s in a.samples) == Counter({4: 12})


def test_overrides_of_names() -> None:
    log = read_inspect_log(INSPECT / "mc_quiz.eval", model="m", task="t", budget="high")
    assert {(s.model, s.task, s.budget) for s in log.samples} == {("m", "t", "high")}


# -- limit hits: baseline (default) or as logged ---------------------------------------------------------------


def test_limit_hits_logged_keeps_the_logged_test_vector(store: Path) -> None:
    base = read_inspect_log(INSPECT / "swe_mini.eval")
    logged = read_inspect_log(INSPECT / "swe_mini.eval", limit_hits="logged")
    assert logged.run_id == base.run_id and logged.config["limit_hits_as"] == "logged"
    meta = {q["question_id"]: q["metadata"] for q in logged.questions}
    raw = {(str(s["id"]), s["epoch"]): s for s in raw_inspect_samples_from_eval()}
    for a, b in zip(base.samples, logged.samples, strict=True):
        r = raw[(a.question_id, a.sample_index + 1)]
        if not r.get("limit"):
            assert a.test_outcomes == b.test_outcomes
            continue
        # acme__gadgets-7 epoch 2: the scorer saw every test fail (test_len broken by the looping agent)
        text = r["scores"]["swe_tests_scorer"]["explanation"]
        tests = meta[a.question_id]["tests"]
        assert b.test_outcomes == tuple(int(f'"{t}": "PASSED"' in text) for t in tests) == (0, 0, 0, 0)
        assert a.test_outcomes == (0, 0, 0, 1)  # the baseline: FAIL_TO_PASS fail, PASS_TO_PASS pass
        assert meta[a.question_id]["limit_hits"] == [2]
    assert logged.warnings == ()


def test_limit_hits_changes_incoherence_as_documented(store: Path, tmp_path: Path) -> None:
    """docs/importers/inspect.md quotes these numbers. Baseline: Σ variance = .34375, Σ error = .875 over the
    three tasks, incoherence 11/28 = 0.393. As logged, only acme__gadgets-7 epoch 2 changes, (0,0,0,1) →
    (0,0,0,0): its ȳ goes from (.5,.25,.5,1) to (.5,.25,.5,.75), variance .171875 → .21875 and error
    7/16 → 8/16, so incoherence = .390625 / .9375 = 5/12 = 0.417."""
    from hotmess.analysis.open_ended import summarize_test_vectors, test_vectors_by_question

    got = {}
    for how in ("baseline", "logged"):
        path = tmp_path / f"{how}.sqlite"
        import_inspect([INSPECT / "swe_mini.eval"], path, limit_hits=how)
        got[how] = summarize_test_vectors(test_vectors_by_question(read_samples(path)), n_boot=0, rng=0)
    assert got["baseline"].incoherence == pytest.approx(11 / 28)
    assert got["logged"].incoherence == pytest.approx(5 / 12)


def test_limit_hit_without_a_logged_report_falls_back_to_the_baseline(tmp_path: Path) -> None:
    from tests.importers._helpers import rewrite_eval

    def drop_report(name: str, data: Any) -> Any:
        if name.startswith("samples/") and data.get("limit"):
            data["scores"]["swe_tests_scorer"]["explanation"] = "the tests did not run"
        return data

    path = rewrite_eval(INSPECT / "swe_mini.eval", tmp_path / "swe_noreport.eval", drop_report)
    base = read_inspect_log(path)
    logged = read_inspect_log(path, limit_hits="logged")
    assert [s.test_outcomes for s in logged.samples] == [s.test_outcomes for s in base.samples]
    assert any("1 run(s) hit a limit without a logged test report" in w for w in logged.warnings)
    with pytest.raises(InputError, match="unknown limit_hits"):
        read_inspect_log(path, limit_hits="sometimes")  # type: ignore[arg-type]


def test_limit_hits_option_through_the_cli(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.importers._helpers import import_cli

    run = import_cli(monkeypatch, capsys)
    inc = {}
    for how in ("baseline", "logged"):
        store = tmp_path / f"{how}.sqlite"
        code, out, err = run("import", "inspect", INSPECT / "swe_mini.eval", "--store", store, "--n-boot", "0",
                             "--limit-hits", how, "--json")  # fmt: skip
        assert code == 0, err
        (row,) = json.loads(out)["summary"]
        inc[how] = row["incoherence"]
    assert round(inc["baseline"], 3) == 0.393 and round(inc["logged"], 3) == 0.417
    code, _, err = run("import", "inspect", INSPECT / "swe_mini.eval", "--store", tmp_path / "x.sqlite",
                       "--limit-hits", "never")  # fmt: skip
    assert code == 2 and "--limit-hits" in err and not (tmp_path / "x.sqlite").exists()


# -- a null (or NaN) score value: both readers import the same rows ------------------------------------------


@pytest.mark.skipif(not _has_inspect(), reason="needs inspect-ai")
@pytest.mark.parametrize("value", [None, float("nan")])
@pytest.mark.parametrize("log", ["mc_quiz.json", "open_qa.eval"])
def test_readers_agree_on_an_unscored_value(tmp_path: Path, log: str, value: float | None) -> None:
    from tests.importers._helpers import rewrite_eval

    scorer = "choice" if log.startswith("mc") else "match"
    if log.endswith(".json"):
        data = json.loads((INSPECT / log).read_text())
        data["samples"][0]["scores"][scorer]["value"] = value
        path = tmp_path / log
        path.write_text(json.dumps(data))  # NaN is written as the constant NaN, as Inspect does
        first = (str(data["samples"][0]["id"]), data["samples"][0]["epoch"] - 1)
    else:

        def unscore(name: str, data: Any) -> Any:
            if name == "samples/oq1_epoch_2.json":
                data["scores"][scorer]["value"] = value
            return data

        path = rewrite_eval(INSPECT / log, tmp_path / log, unscore)
        first = ("oq1", 1)
    a = read_inspect_log(path, reader="inspect")
    b = read_inspect_log(path, reader="builtin")
    assert [s.to_row() for s in a.samples] == [s.to_row() for s in b.samples]
    assert a.questions == b.questions
    (s,) = [s for s in a.samples if (s.question_id, s.sample_index) == first]
    assert s.error is not None and "not scored" in s.error and not s.valid  # never scored
    if value is None:  # Inspect's own model refuses null values: read with the builtin reader, and said so
        assert any("null score value" in w for w in a.warnings)
