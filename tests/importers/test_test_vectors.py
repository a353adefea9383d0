"""SWE-bench test reports → test vectors, and the test-vector decomposition on hand-computed cases."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hotmess.importers._tests import TestResults, parse_test_results, sample_test_lists, task_test_vectors
from hotmess.metrics import apply_limit_hits, test_vector_decomposition


def _explanation(p2p: dict[str, str], f2p: dict[str, str]) -> str:
    # the layout of inspect_evals' swe_bench_scorer
    return f"PASS_TO_PASS:\n\n{json.dumps(p2p, indent=2)}\n\nFAIL_TO_PASS:\n\n{json.dumps(f2p, indent=2)}\n\n"


def test_three_report_layouts_parse_alike() -> None:
    p2p = {"t_keep": "PASSED", "t_keep2": "FAILED"}
    f2p = {"t_fix{x}": "XFAIL", "t_fix2": "ERROR"}  # a brace inside a test name does not confuse the parser
    want = TestResults(fail_to_pass={"t_fix{x}": 1, "t_fix2": 0}, pass_to_pass={"t_keep": 1, "t_keep2": 0})
    assert parse_test_results({"explanation": _explanation(p2p, f2p)}) == want
    assert parse_test_results({"metadata": {"test_results": {"pass_to_pass": p2p, "fail_to_pass": f2p}}}) == want
    harness = {
        "tests_status": {
            "FAIL_TO_PASS": {"success": ["t_fix{x}"], "failure": ["t_fix2"]},
            "PASS_TO_PASS": {"success": ["t_keep"], "failure": ["t_keep2"]},
        }
    }
    assert parse_test_results({"metadata": harness}) == want
    assert parse_test_results({"explanation": "The tests did not run correctly. PASS_TO_PASS: n/a"}) is None
    assert parse_test_results({"value": "C", "explanation": "plain answer"}) is None
    assert parse_test_results(None) is None


def test_sample_metadata_lists_may_be_json_strings() -> None:
    assert sample_test_lists({"FAIL_TO_PASS": '["a", "b"]', "PASS_TO_PASS": ["c"]}) == (["a", "b"], ["c"])
    assert sample_test_lists(None) == ([], [])


def test_hand_computed_task_with_a_limit_hit() -> None:
    """Tests: f1, f2 (FAIL_TO_PASS), p1 (PASS_TO_PASS). Three runs:
    run 0 fixes f1 only → (1, 0, 1); run 1 fixes both but breaks p1 → (1, 1, 0);
    run 2 hit its limit with a partial report → unchanged (0, 0, 1).
    ȳ = (2/3, 1/3, 2/3); bias = mean (1 − ȳ)² = (1/9 + 4/9 + 1/9)/3 = 2/9;
    variance = mean ȳ(1 − ȳ) = (2/9 + 2/9 + 2/9)/3 = 2/9; error = 4 failing cells / 9 = 4/9."""
    runs = [
        TestResults(fail_to_pass={"f1": 1, "f2": 0}, pass_to_pass={"p1": 1}),
        TestResults(fail_to_pass={"f1": 1, "f2": 1}, pass_to_pass={"p1": 0}),
        TestResults(fail_to_pass={"f1": 1}, pass_to_pass={"p1": 0}),  # ignored: the run hit a limit
    ]
    tt = task_test_vectors(runs, [False, False, True])
    assert tt.tests == ("f1", "f2", "p1")
    assert tt.outcomes.tolist() == [[1, 0, 1], [1, 1, 0], [0, 0, 1]]
    d = test_vector_decomposition(tt.outcomes[None, :, :])
    assert (d.bias[0], d.variance[0], d.error[0]) == pytest.approx((2 / 9, 2 / 9, 4 / 9))
    assert d.incoherence == pytest.approx(0.5)


def test_missing_results_and_runs_without_reports() -> None:
    runs = [TestResults(fail_to_pass={"f": 1}, pass_to_pass={"p": 1}), TestResults({}, {"p": 1}), None]
    tt = task_test_vectors(runs, [False, False, False], known=(["f"], ["p"]))
    # run 1 does not report f (counted failing); run 2 has no report at all (every test failing)
    assert tt.outcomes.tolist() == [[1, 1], [0, 1], [0, 0]] and tt.n_missing == 1
    with pytest.raises(ValueError, match="both"):
        task_test_vectors([TestResults({"x": 1}, {"x": 1})], [False])
    with pytest.raises(ValueError, match="no FAIL_TO_PASS"):
        task_test_vectors([None], [True])


@settings(max_examples=50, deadline=None)
@given(
    y=st.lists(st.lists(st.integers(0, 1), min_size=3, max_size=3), min_size=1, max_size=6),
    hits=st.lists(st.booleans(), min_size=6, max_size=6),
)
def test_limit_hits_equal_apply_limit_hits(y: list[list[int]], hits: list[bool]) -> None:
    """Whatever a stopped run reported, its vector is the baseline; the decomposition adds up."""
    hit = hits[: len(y)]
    runs = [TestResults({"a": r[0], "b": r[1]}, {"c": r[2]}) for r in y]
    tt = task_test_vectors(runs, hit)
    expect = apply_limit_hits(np.array([y], dtype=float), np.array([hit]), np.array([[0.0, 0.0, 1.0]]))[0]
    assert tt.outcomes.tolist() == expect.astype(int).tolist()
    d = test_vector_decomposition(tt.outcomes[None])
    assert d.bias[0] + d.variance[0] == pytest.approx(d.error[0])
    assert 0.0 <= d.variance[0] <= d.error[0] + 1e-12
