"""Per-test outcomes of SWE-bench-style scorers, and the test vectors of one task's runs.

A SWE-bench task has FAIL_TO_PASS tests (failing before the fix; the fix must make them pass) and
PASS_TO_PASS tests (passing before; they must keep passing). Scorers report per-test results in one of these
shapes, all understood here:

- inspect_evals' ``swe_bench_scorer``: the score explanation holds
  ``PASS_TO_PASS:\\n\\n{"test": "PASSED", ...}\\n\\nFAIL_TO_PASS:\\n\\n{...}``;
- score metadata ``{"test_results": {"pass_to_pass": {...}, "fail_to_pass": {...}}}`` or
  ``{"PASS_TO_PASS": {...}, "FAIL_TO_PASS": {...}}`` with a status per test;
- the SWE-bench harness report: ``{"FAIL_TO_PASS": {"success": [...], "failure": [...]}, ...}``.

A status passes when it is ``PASSED`` or ``XFAIL`` (as in the SWE-bench grader), ``true`` or 1; anything else
(``FAILED``, ``ERROR``, ``SKIPPED``, ...) fails.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from hotmess.metrics.vectors import apply_limit_hits

__all__ = ["TaskTests", "TestResults", "parse_test_results", "sample_test_lists", "task_test_vectors"]

_PASS = {"PASSED", "XFAIL", "PASS", "SUCCESS", "TRUE", "1"}
_GROUPS = ("FAIL_TO_PASS", "PASS_TO_PASS")


@dataclass(frozen=True)
class TestResults:
    """Outcomes (1 pass / 0 fail) of one run, by group."""

    fail_to_pass: dict[str, int]
    pass_to_pass: dict[str, int]


TestResults.__test__ = False  # type: ignore[attr-defined]  # not a pytest test class


def _passes(status: Any) -> int:
    if isinstance(status, bool):
        return int(status)
    if isinstance(status, int | float):
        return int(status == 1)
    return int(str(status).strip().upper() in _PASS)


def _status_map(v: Any) -> dict[str, int] | None:
    """``{test: status}`` or ``{"success": [...], "failure": [...]}`` → ``{test: 0/1}``."""
    if not isinstance(v, Mapping):
        return None
    if set(v) <= {"success", "failure"} and all(isinstance(x, list) for x in v.values()):
        out = {str(t): 1 for t in v.get("success", [])}
        out.update({str(t): 0 for t in v.get("failure", [])})
        return out
    return {str(k): _passes(s) for k, s in v.items()}


def _from_mapping(m: Mapping[str, Any]) -> TestResults | None:
    lowered = {str(k).upper(): v for k, v in m.items()}
    if "TEST_RESULTS" in lowered and isinstance(lowered["TEST_RESULTS"], Mapping):
        return _from_mapping(lowered["TEST_RESULTS"])
    if "TESTS_STATUS" in lowered and isinstance(lowered["TESTS_STATUS"], Mapping):
        return _from_mapping(lowered["TESTS_STATUS"])
    f2p, p2p = _status_map(lowered.get("FAIL_TO_PASS")), _status_map(lowered.get("PASS_TO_PASS"))
    if f2p is None and p2p is None:
        return None
    return TestResults(fail_to_pass=f2p or {}, pass_to_pass=p2p or {})


def _from_explanation(text: str) -> TestResults | None:
    found: dict[str, dict[str, int]] = {}
    decoder = json.JSONDecoder()
    for group in _GROUPS:
        at = text.find(group + ":")
        if at < 0:
            return None
        brace = text.find("{", at)
        if brace < 0:
            return None
        try:
            obj, _ = decoder.raw_decode(text, brace)
        except json.JSONDecodeError:
            return None
        m = _status_map(obj)
        if m is None:
            return None
        found[group] = m
    return TestResults(fail_to_pass=found["FAIL_TO_PASS"], pass_to_pass=found["PASS_TO_PASS"])


def parse_test_results(score: Mapping[str, Any] | None) -> TestResults | None:
    """Per-test outcomes in an Inspect score (metadata first, then the explanation), or None.

    Examples
    --------
    >>> text = 'PASS_TO_PASS:\\n\\n{"t1": "PASSED"}\\n\\nFAIL_TO_PASS:\\n\\n{"t2": "FAILED"}'
    >>> r = parse_test_results({"explanation": text})
    >>> r.pass_to_pass, r.fail_to_pass
    ({'t1': 1}, {'t2': 0})
    """
    if not score:
        return None
    meta = score.get("metadata")
    if isinstance(meta, Mapping):
        got = _from_mapping(meta)
        if got is not None:
            return got
    text = score.get("explanation")
    return _from_explanation(text) if isinstance(text, str) else None


def sample_test_lists(metadata: Mapping[str, Any] | None) -> tuple[list[str], list[str]]:
    """FAIL_TO_PASS and PASS_TO_PASS test names from a sample's metadata (lists or JSON strings)."""
    out: list[list[str]] = []
    for group in _GROUPS:
        v = (metadata or {}).get(group, (metadata or {}).get(group.lower()))
        if isinstance(v, str):
            try:
                v = json.loads(v)
            except json.JSONDecodeError:
                v = [v]
        out.append([str(t) for t in v] if isinstance(v, list) else [])
    return out[0], out[1]


@dataclass(frozen=True)
class TaskTests:
    """One task's tests (FAIL_TO_PASS first, then PASS_TO_PASS, each sorted) and its runs' outcomes."""

    tests: tuple[str, ...]
    fail_to_pass: tuple[str, ...]
    pass_to_pass: tuple[str, ...]
    outcomes: np.ndarray  # (n_runs, n_tests) in {0, 1}, limit hits already set to "unchanged"
    n_missing: int  # (run, test) results absent from a run's report, counted as failures


TaskTests.__test__ = False  # type: ignore[attr-defined]


def task_test_vectors(
    results: Sequence[TestResults | None],
    limit_hit: Sequence[bool],
    known: tuple[Sequence[str], Sequence[str]] = ((), ()),
) -> TaskTests:
    """Test vectors of one task's runs, with runs that hit a limit set to "tests unchanged".

    Parameters
    ----------
    results
        Per run, the parsed results, or None when the run has none (it hit a limit, failed, or its tests did
        not run: such a run that did not hit a limit counts every test as failing).
    limit_hit
        Per run, whether it stopped on a limit (or failed); its tests are set to the baseline: PASS_TO_PASS
        pass, FAIL_TO_PASS fail (:func:`hotmess.metrics.apply_limit_hits`).
    known
        FAIL_TO_PASS and PASS_TO_PASS names known from the dataset (sample metadata).

    Raises
    ------
    ValueError
        A test listed as both FAIL_TO_PASS and PASS_TO_PASS, or a task with no tests at all.

    Examples
    --------
    >>> r = TestResults(fail_to_pass={"a": 1}, pass_to_pass={"b": 0})
    >>> tt = task_test_vectors([r, None], [False, True])
    >>> tt.tests, tt.outcomes.tolist()
    (('a', 'b'), [[1, 0], [0, 1]])
    """
    f2p = set(known[0])
    p2p = set(known[1])
    for r in results:
        if r is not None:
            f2p.update(r.fail_to_pass)
            p2p.update(r.pass_to_pass)
    both = f2p & p2p
    if both:
        raise ValueError(f"test {sorted(both)[0]!r} is listed as both FAIL_TO_PASS and PASS_TO_PASS")
    tests = (*sorted(f2p), *sorted(p2p))
    if not tests:
        raise ValueError("no FAIL_TO_PASS or PASS_TO_PASS tests found for this task")
    n_f2p = len(f2p)
    R, T = len(results), len(tests)
    y = np.zeros((1, R, T))
    missing = 0
    for r_i, r in enumerate(results):
        if r is None:
            continue
        merged = {**r.fail_to_pass, **r.pass_to_pass}
        for j, t in enumerate(tests):
            if t in merged:
                y[0, r_i, j] = merged[t]
            elif not limit_hit[r_i]:
                missing += 1
    baseline = np.array([[0.0] * n_f2p + [1.0] * (T - n_f2p)])
    y = apply_limit_hits(y, np.asarray([list(limit_hit)], dtype=bool), baseline)
    return TaskTests(
        tests=tests,
        fail_to_pass=tests[:n_f2p],
        pass_to_pass=tests[n_f2p:],
        outcomes=y[0].astype(np.int64),
        n_missing=missing,
    )
