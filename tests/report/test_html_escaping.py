"""``hotmess report`` through the real CLI with markup in every user-controlled text: the page shows it as text.

One payload goes into every field a user (or a model) controls — model, task and budget names, question ids,
raw outputs, the run id, its status and configuration, difficulty group names, survey entities and
attributes, ``--reference-model``, ``--markers``, ``--param`` and ``--title`` — and must never reach the page
unescaped, whether it lands in a heading, a table cell, a skip reason, a note or an image's alt text.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hotmess.analysis import simulate_samples
from hotmess.cli.main import main
from hotmess.data import RunStore, write_samples

PAYLOAD = "<img src=x onerror=alert(1)>"
N_QUESTIONS = 8


def _samples() -> pd.DataFrame:
    """Two model sizes × two budgets; every name, id and raw output carries the payload."""
    gen = np.random.default_rng(0)
    lengths = np.linspace(60, 600, N_QUESTIONS)
    ids = [f"{PAYLOAD}q{i}" for i in range(N_QUESTIONS)]
    parts = []
    for size in ("135M", "8B"):
        for budget in ("low", "high"):
            parts.append(
                simulate_samples(
                    np.full(N_QUESTIONS, 0.6),
                    np.full(N_QUESTIONS, 0.5),
                    kind="answers",
                    lengths=lengths,
                    n_contexts=3,
                    samples_per_context=2,
                    model=f"{PAYLOAD}-{size}",
                    task=f"{PAYLOAD}task",
                    budget=f"{PAYLOAD}{budget}",
                    question_ids=ids,
                    invalid_rate=0.1,
                    rng=gen,
                )
            )
    df = pd.concat(parts, ignore_index=True)
    df["raw_output"] = f"Wait, {PAYLOAD} Answer: " + df["raw_output"].fillna("").astype(str)
    df["run_id"] = PAYLOAD
    return df


@pytest.fixture(scope="module")
def evil_store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A run store and a survey file full of the payload."""
    d = tmp_path_factory.mktemp("evil")
    store = d / "runs.sqlite"
    write_samples(_samples(), store)
    with RunStore(store) as s:
        s.save_run(PAYLOAD, {"model": PAYLOAD, "note": PAYLOAD}, status=PAYLOAD)
        s.save_questions(
            {
                "task": f"{PAYLOAD}task",
                "question_id": f"{PAYLOAD}q{i}",
                "text": PAYLOAD,
                "options": [PAYLOAD],
                "correct": 0,
                "metadata": {"difficulty": f"{PAYLOAD}{i // 4}"},
            }
            for i in range(N_QUESTIONS)
        )
    survey = d / "survey.csv"
    pd.DataFrame(
        {
            "entity": [f"{PAYLOAD}{e}" for e in "abc"] * 4,
            "rater": np.repeat([1, 2, 1, 2], 3),
            "attribute": np.repeat([f"{PAYLOAD}smart", f"{PAYLOAD}smart", "coherent", "coherent"], 3),
            "rank": [1, 2, 3, 2, 1, 3, 3, 2, 1, 3, 1, 2],
        }
    ).to_csv(survey, index=False)
    return store, survey


def _report(capsys: pytest.CaptureFixture[str], store: Path, out: Path, *extra: str) -> str:
    argv = ["report", str(store), "-o", str(out), "--n-boot", "0", "--title", PAYLOAD, *extra]
    rc = main(argv)
    err = capsys.readouterr().err
    assert rc == 0, err
    return out.read_text(encoding="utf-8")


def _assert_escaped(page: str) -> None:
    """The payload only as text: no raw payload, and the only ``<img`` elements are the figures' PNGs."""
    assert PAYLOAD not in page
    assert len(re.findall(r"<img\b", page, re.IGNORECASE)) == page.count('<figure><img alt="')
    assert html.escape(PAYLOAD) in page


def test_payload_in_every_field_is_escaped(
    evil_store: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Groups from metadata, the survey, markers and --param: every section shown, the payload only as text."""
    store, survey = evil_store
    extra = ["--difficulty", "metadata", "--survey", str(survey), "--markers", f"{PAYLOAD},Wait"]
    page = _report(capsys, store, tmp_path / "r.html", *extra, "--param", f"{PAYLOAD}-8B=8e9")
    assert "Skipped:" not in page  # every section shown, so the payload went through all of them
    assert page.count('<figure><img alt="') >= 9
    _assert_escaped(page)
    e = html.escape(PAYLOAD)
    for text in (f"{e}-135M", f"{e}task", f"{e}low", f"{e}q0", f"{e}1", f"{e}a", f"{e}smart", f"<h1>{e}</h1>"):
        assert text in page, text  # model, task, budget, question id, difficulty group, survey names, title
    assert f"<h3>run {e} ({e})</h3>" in page  # run id and status heading
    browser = re.search(r'<section id="samples">.*?</section>', page, re.DOTALL)
    assert browser is not None
    b = browser.group(0)
    assert f'<p class="q">{e}</p>' in b and f"A. {e} ✓ correct" in b  # question text and option
    assert f"<pre>Wait, {e} Answer: " in b and f"<code>{e}q0</code> · {e}-135M" in b  # raw output, id, model


def test_reference_model_in_skip_reasons_is_escaped(
    evil_store: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An unknown --reference-model is quoted by the skip reasons: as text."""
    store, _ = evil_store
    page = _report(capsys, store, tmp_path / "r.html", "--reference-model", PAYLOAD)
    skips = re.findall(r'<p class="skip">(.*?)</p>', page)
    assert any(html.escape(PAYLOAD) in s for s in skips), skips
    _assert_escaped(page)
