"""The Inspect integration end to end with ``mockllm``: the metrics Inspect logs equal ``hotmess analyze``."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("inspect_ai")

from inspect_ai import Epochs, Task
from inspect_ai import eval as inspect_eval
from inspect_ai.dataset import Sample
from inspect_ai.log import read_eval_log
from inspect_ai.model import ChatMessageSystem, ChatMessageUser, ModelOutput, ModelUsage, get_model
from inspect_ai.scorer import Score, match
from inspect_ai.scorer import scorer as inspect_scorer
from inspect_ai.solver import generate, multiple_choice

from hotmess.analysis.summary import summarize_samples
from hotmess.data import read_samples
from hotmess.importers import import_inspect
from hotmess.integrations._core import question_stats
from hotmess.integrations.inspect import (
    decomposition,
    fewshot_contexts,
    hotmess_scorer,
)

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

QUESTIONS = [
    # question, choices, target, answer distribution over the ORIGINAL options (index; -1 = no answer)
    ("Which is a colour?", ["blue", "dog", "seven", "run"], "A", {0: 1.0}),
    ("How many legs has a spider?", ["six", "eight", "ten", "four"], "B", {1: 0.5, 0: 0.5}),
    ("Which planet is largest?", ["Mars", "Venus", "Jupiter", "Earth"], "C", {1: 1.0}),
    ("What is 12 times 12?", ["124", "144", "142", "122"], "B", {1: 0.4, 2: 0.3, 3: 0.15, -1: 0.15}),
    ("Which is a fruit?", ["apple", "stone", "iron"], "A", {0: 0.6, 2: 0.4}),
]
EXAMPLES = [
    Sample(id="ex1", input="What do bees make?", choices=["milk", "honey", "silk"], target="B"),
    Sample(id="ex2", input="Which planet do we live on?", choices=["Mars", "Earth", "Venus"], target="B"),
    Sample(id="ex3", input="What is frozen water?", choices=["ice", "steam", "sand"], target="A"),
    Sample(id="ex4", input="What colour is snow?", choices=["red", "green", "white"], target="C"),
]


def _draw(rng: random.Random, dist: dict[int, float]) -> int:
    r, acc = rng.random(), 0.0
    for k, p in dist.items():
        acc += p
        if r < acc:
            return k
    return list(dist)[-1]


def _mc_model(seed: int) -> Any:
    """A scripted model that answers by the ORIGINAL option, reading the shuffled options from the prompt."""
    rng = random.Random(seed)
    seen_systems: list[str] = []

    def output(msgs: list[Any], tools: Any, tool_choice: Any, config: Any) -> ModelOutput:
        user = next(m.text for m in msgs if isinstance(m, ChatMessageUser))
        seen_systems.extend(m.text for m in msgs if isinstance(m, ChatMessageSystem))
        q = next(q for q in QUESTIONS if q[0] in user)
        k = _draw(rng, q[3])
        if k < 0:
            body = "I am not sure."
        else:
            shown = [line.split(") ", 1) for line in user.splitlines() if len(line) > 2 and line[1:3] == ") "]
            letter = next(lt for lt, text in shown if text.strip() == q[1][k])
            body = f"Thinking. ANSWER: {letter}"
        o = ModelOutput.from_content(model="mockllm", content=body)
        o.usage = ModelUsage(input_tokens=30, output_tokens=len(body.split()), total_tokens=30 + len(body.split()))
        return o

    return get_model("mockllm/model", custom_outputs=output), seen_systems


def _run(task: Task, model: Any, log_dir: Path) -> Path:
    logs = inspect_eval(task, model=model, log_dir=str(log_dir), display="none", max_samples=1)
    assert logs[0].status == "success", logs[0].error
    return Path(logs[0].location)


def _mc_task(epochs: int = 12, contexts: int = 4) -> Task:
    return Task(
        dataset=[Sample(id=f"q{i}", input=q, choices=ch, target=t) for i, (q, ch, t, _) in enumerate(QUESTIONS)],
        solver=[fewshot_contexts(EXAMPLES, k=2, contexts=contexts, seed=7), multiple_choice()],
        scorer=hotmess_scorer(),
        epochs=Epochs(epochs, decomposition()),
        name="quiz",
    )


@pytest.fixture(scope="module")
def mc_log(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    model, systems = _mc_model(20261201)
    return _run(_mc_task(), model, tmp_path_factory.mktemp("inspect-logs")), systems


def _logged_metrics(path: Path) -> dict[str, float]:
    log = read_eval_log(str(path))
    assert log.results is not None
    (score,) = log.results.scores
    return {name: m.value for name, m in score.metrics.items()}


def test_logged_metrics_equal_hotmess_analyze(mc_log: tuple[Path, list[str]], tmp_path: Path) -> None:
    path, _ = mc_log
    logged = _logged_metrics(path)
    store = tmp_path / "s.sqlite"
    report = import_inspect([path], store)
    assert report.logs[0].kind == "multiple-choice" and report.n_new == 5 * 12
    res = summarize_samples(read_samples(store), "kl", n_boot=1000, rng=0).overall
    assert logged["incoherence"] == pytest.approx(res.incoherence, abs=1e-9)
    for name in ("bias", "variance", "error", "accuracy"):
        assert logged[name] == pytest.approx(getattr(res, name), abs=1e-9), name
    assert logged["incoherence_low"] == pytest.approx(res.ci["incoherence"].low, abs=1e-9)
    assert logged["incoherence_high"] == pytest.approx(res.ci["incoherence"].high, abs=1e-9)
    assert 0 < logged["incoherence"] < 1  # the planted answers are neither all right nor all consistent


def test_shuffled_options_map_back_to_the_original_order(mc_log: tuple[Path, list[str]], tmp_path: Path) -> None:
    path, _ = mc_log
    df = read_samples(_imported(path, tmp_path))
    q0 = df[df["question_id"] == "q0"]  # always answers "blue" = original option A, wherever it was shown
    assert (q0["answer"] == 0).all() and (q0["correct"] == 0).all()
    q2 = df[df["question_id"] == "q2"]  # always "Venus" = original option B; correct is C
    assert (q2["answer"] == 1).all() and (q2["correct"] == 2).all()
    q3 = df[df["question_id"] == "q3"]
    assert set(q3["answer"]) <= {-1, 1, 2, 3} and q3["n_options"].eq(4).all()
    assert set(df["context_id"]) == {0, 1, 2, 3}  # 12 epochs over 4 contexts
    assert df.groupby(["question_id", "context_id"]).size().eq(3).all()


def _imported(path: Path, tmp_path: Path) -> Path:
    store = tmp_path / "s.sqlite"
    import_inspect([path], store)
    return store


def test_contexts_are_seeded_and_differ(mc_log: tuple[Path, list[str]], tmp_path: Path) -> None:
    _, systems = mc_log
    assert len(systems) == 5 * 12 and all("ANSWER:" in s for s in systems)
    assert len(set(systems)) > 1  # different contexts show different examples
    model, again = _mc_model(20261201)
    _run(_mc_task(), model, tmp_path)
    assert again == systems  # same seed, same contexts, same order


def test_test_vector_reducer_matches_hand_computation() -> None:
    recs = [{"kind": "test-vector", "tests": {"t1": 1, "t2": v}} for v in (1, 0)]
    s = question_stats(recs)
    assert (s["bias"], s["variance"], s["error"], s["accuracy"]) == (0.125, 0.125, 0.25, 0.5)


def test_open_ended_through_inspect(tmp_path: Path) -> None:
    rng = random.Random(3)
    targets = {"What is 3 plus 4?": ("7", 1.0), "Capital of France?": ("Paris", 0.6), "9 times 8?": ("72", 0.3)}

    def output(msgs: list[Any], tools: Any, tool_choice: Any, config: Any) -> ModelOutput:
        user = next(m.text for m in msgs if isinstance(m, ChatMessageUser))
        right, p = next(v for q, v in targets.items() if q in user)
        body = right if rng.random() < p else "no idea"
        o = ModelOutput.from_content(model="mockllm", content=body)
        o.usage = ModelUsage(input_tokens=5, output_tokens=2, total_tokens=7)
        return o

    task = Task(
        dataset=[Sample(id=f"o{i}", input=q, target=t) for i, (q, (t, _)) in enumerate(targets.items())],
        solver=generate(),
        scorer=hotmess_scorer(match(), kind="open-ended"),
        epochs=Epochs(8, decomposition("brier")),
        name="open",
    )
    path = _run(task, get_model("mockllm/model", custom_outputs=output), tmp_path / "logs")
    logged = _logged_metrics(path)
    df = read_samples(_imported(path, tmp_path))
    assert set(df["kind"]) == {"open-ended"}
    res = summarize_samples(df, "brier", n_boot=1000, rng=0).overall
    assert logged["incoherence"] == pytest.approx(res.incoherence, abs=1e-9)
    assert logged["incoherence_low"] == pytest.approx(res.ci["incoherence"].low, abs=1e-9)


def test_metrics_refuse_scores_without_the_reducer(tmp_path: Path) -> None:
    model, _ = _mc_model(1)
    task = Task(
        dataset=[Sample(id="q0", input=QUESTIONS[0][0], choices=QUESTIONS[0][1], target="A")],
        solver=multiple_choice(),
        scorer=hotmess_scorer(),
        epochs=2,  # Inspect's default mean reducer: not ours
        name="noreducer",
    )
    logs = inspect_eval(task, model=model, log_dir=str(tmp_path), display="none")
    assert logs[0].status == "error" and "decomposition()" in str(logs[0].error)


def test_reducer_refuses_scores_without_a_record() -> None:
    reduce = decomposition()
    with pytest.raises(ValueError, match="hotmess_scorer"):
        reduce([Score(value="C"), Score(value="I")])


def test_importing_hotmess_does_not_import_the_tools() -> None:
    code = (
        "import sys, hotmess, hotmess.integrations, hotmess.integrations.lm_eval, hotmess.importers;"
        "bad = [m for m in ('inspect_ai', 'lm_eval') if m in sys.modules]; print(bad); sys.exit(bool(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def test_bootstrap_interval_does_not_depend_on_question_order() -> None:
    from hotmess.integrations._core import dataset_stats

    rng = np.random.default_rng(0)
    pq = {
        f"q{i}": {"kind": "multiple-choice", "bias": b, "variance": v, "error": b + v, "accuracy": 0.5, "samples": 3}
        for i, (b, v) in enumerate(rng.uniform(0, 1, (20, 2)))
    }
    shuffled = dict(reversed(list(pq.items())))
    assert dataset_stats(pq) == dataset_stats(shuffled)


EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "inspect" / "incoherence_quiz.py"


def test_example_task_with_epochs_from_the_command_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`inspect eval examples/inspect/incoherence_quiz.py --epochs 6`, in process with a scripted model."""
    rng = random.Random(5)

    def output(msgs: list[Any], tools: Any, tool_choice: Any, config: Any) -> ModelOutput:
        letter = rng.choice("ABCD") if rng.random() < 0.5 else "B"
        o = ModelOutput.from_content(model="mockllm", content=f"ANSWER: {letter}")
        o.usage = ModelUsage(input_tokens=30, output_tokens=2, total_tokens=32)
        return o

    monkeypatch.chdir(EXAMPLE.parents[2])  # Inspect's task loader takes relative paths only
    logs = inspect_eval(
        str(EXAMPLE.relative_to(EXAMPLE.parents[2])),
        model=get_model("mockllm/model", custom_outputs=output),
        epochs=6,  # what --epochs 6 passes: the task's reducer stays
        task_args={"contexts": 3},
        log_dir=str(tmp_path / "logs"),
        display="none",
    )
    assert logs[0].status == "success", logs[0].error
    assert logs[0].eval.config.epochs == 6
    logged = _logged_metrics(Path(logs[0].location))
    df = read_samples(_imported(Path(logs[0].location), tmp_path))
    assert len(df) == 8 * 6 and set(df["context_id"]) == {0, 1, 2}
    res = summarize_samples(df, "kl", n_boot=1000, rng=0).overall
    assert logged["incoherence"] == pytest.approx(res.incoherence, abs=1e-9)
    assert logged["variance"] == pytest.approx(res.variance, abs=1e-9)


def _scripted(text: Any) -> Any:
    """mockllm whose output is ``text(user prompt)``; it raises when text does."""

    def output(msgs: list[Any], tools: Any, tool_choice: Any, config: Any) -> ModelOutput:
        body = text(next(m.text for m in msgs if isinstance(m, ChatMessageUser)))
        o = ModelOutput.from_content(model="mockllm", content=body)
        o.usage = ModelUsage(input_tokens=5, output_tokens=2, total_tokens=7)
        return o

    return get_model("mockllm/model", custom_outputs=output)


def _logged_equals_analyze(path: Path, tmp_path: Path, metric: str = "kl") -> pd.DataFrame:
    logged = _logged_metrics(path)
    df = read_samples(_imported(path, tmp_path))
    res = summarize_samples(df, metric, n_boot=1000, rng=0).overall
    for name in ("incoherence", "bias", "variance", "error", "accuracy"):
        assert logged[name] == pytest.approx(getattr(res, name), abs=1e-9), name
    assert logged["incoherence_low"] == pytest.approx(res.ci["incoherence"].low, abs=1e-9)
    return df


@pytest.mark.parametrize("score_on_error", [False, True])
def test_errored_epochs_count_as_inspect_counted_them(tmp_path: Path, score_on_error: bool) -> None:
    rng = random.Random(2)
    calls = {"n": 0}

    def text(user: str) -> str:
        calls["n"] += 1
        if calls["n"] % 7 == 0:
            raise RuntimeError("scripted failure")
        return f"ANSWER: {rng.choice('ABCD')}" if rng.random() < 0.6 else "ANSWER: A"

    task = Task(
        dataset=[
            Sample(id=f"q{i}", input=f"Question {i}?", choices=list("abcd"), target="ABCD"[i % 4]) for i in range(6)
        ],
        solver=multiple_choice(),
        scorer=hotmess_scorer(),
        epochs=Epochs(5, decomposition()),
        name="errors",
        fail_on_error=False,
        **({"score_on_error": True} if score_on_error else {}),
    )
    logs = inspect_eval(task, model=_scripted(text), log_dir=str(tmp_path / "logs"), display="none", max_samples=1)
    log = read_eval_log(logs[0].location)
    assert log.samples is not None and sum(1 for s in log.samples if s.error) >= 3
    df = _logged_equals_analyze(Path(logs[0].location), tmp_path)
    assert df["error"].notna().sum() == (0 if score_on_error else sum(1 for s in log.samples if s.error))


def test_unscored_epochs_are_skipped_not_fatal(tmp_path: Path) -> None:
    """A base score of NaN (Inspect's "not scored") gives no record; the question keeps its other epochs."""
    rng = random.Random(4)

    @inspect_scorer(metrics=[])
    def flaky() -> Any:
        async def score(state: Any, target: Any) -> Score:
            r = rng.random()
            return Score(value=float("nan")) if r < 0.2 else Score(value="C" if r < 0.6 else "I")

        return score

    task = Task(
        dataset=[Sample(id=f"o{i}", input=f"q{i}", target="x") for i in range(6)],
        solver=generate(),
        scorer=hotmess_scorer(flaky(), kind="open-ended"),
        epochs=Epochs(6, decomposition()),
        name="nan",
    )
    logs = inspect_eval(task, model=_scripted(lambda u: "x"), log_dir=str(tmp_path / "logs"), display="none")
    assert logs[0].status == "success", logs[0].error
    df = _logged_equals_analyze(Path(logs[0].location), tmp_path)
    assert df["error"].notna().sum() > 0  # the unscored epochs are not counted as answers


def test_test_vectors_end_to_end_with_missing_results(tmp_path: Path) -> None:
    rng = random.Random(5)

    @inspect_scorer(metrics=[])
    def swe() -> Any:
        async def score(state: Any, target: Any) -> Score:
            f2p = {"f1": int(rng.random() < 0.5), "f2": int(rng.random() < 0.5)}
            p2p = {"p1": int(rng.random() < 0.9)}
            if rng.random() < 0.3:
                f2p.pop("f2")  # a run whose report lacks a test: failing, in the reducer and the import alike
            return Score(value=0.0, metadata={"test_results": {"fail_to_pass": f2p, "pass_to_pass": p2p}})

        return score

    task = Task(
        dataset=[Sample(id=f"t{i}", input=f"fix {i}", target="x") for i in range(5)],
        solver=generate(),
        scorer=hotmess_scorer(swe(), kind="test-vector"),
        epochs=Epochs(6, decomposition()),
        name="tv",
    )
    logs = inspect_eval(task, model=_scripted(lambda u: "x"), log_dir=str(tmp_path / "logs"), display="none")
    assert logs[0].status == "success", logs[0].error
    df = _logged_equals_analyze(Path(logs[0].location), tmp_path)
    assert set(df["kind"]) == {"test-vector"} and df["test_outcomes"].map(len).eq(3).all()


def test_a_target_of_several_letters_is_refused(tmp_path: Path) -> None:
    task = Task(
        dataset=[Sample(id="q", input="Pick both", choices=["a", "b", "c"], target="AB")],
        solver=multiple_choice(),
        scorer=hotmess_scorer(),
        epochs=Epochs(2, decomposition()),
        name="ab",
    )
    logs = inspect_eval(task, model=_scripted(lambda u: "ANSWER: A"), log_dir=str(tmp_path), display="none")
    assert logs[0].status == "error" and "not one option letter" in str(logs[0].error)


def test_inspect_finds_the_hotmess_names_in_a_fresh_process(mc_log: tuple[Path, list[str]]) -> None:
    """`recompute_metrics` resolves hotmess/decomposition and the metrics through the inspect_ai entry point."""
    path, _ = mc_log
    code = (
        "import json, sys; from inspect_ai.log import read_eval_log, recompute_metrics;"
        "log = read_eval_log(sys.argv[1]); recompute_metrics(log);"
        "print(json.dumps({n: m.value for n, m in log.results.scores[0].metrics.items()}))"
    )
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    recomputed = json.loads(out.stdout.strip().splitlines()[-1])
    assert recomputed == pytest.approx(_logged_metrics(path), abs=1e-12)
    assert set(recomputed) >= {"incoherence", "bias", "variance", "error", "accuracy"}
