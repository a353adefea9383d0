"""The sample browser: every sample of a question, its text and options, escaped, capped, filterable without JS."""

from __future__ import annotations

import dataclasses
import html
import re

import numpy as np
import pandas as pd
import pytest

from hotmess.analysis import simulate_samples
from hotmess.report import Report, render_html
from hotmess.report.browser import browser_html, option_letter

PAYLOAD = "<script>window.__pwned=1</script><img src=x onerror=alert(1)>"


def _samples(model: str = "m") -> pd.DataFrame:
    df = simulate_samples(
        np.full(3, 0.6), np.full(3, 0.5), kind="answers", n_contexts=2, samples_per_context=3, rng=0, model=model
    )
    df["raw_output"] = [f"out {i}" for i in range(len(df))]
    df["finish_reason"] = "stop"
    return df


def _blocks(page: str) -> dict[str, str]:
    """Question id → its ``<details>`` block."""
    return {
        html.unescape(m.group(1)): m.group(0)
        for m in re.finditer(r"<details><summary><code>(.*?)</code>.*?</details>", page, re.DOTALL)
    }


def _rows(block: str) -> list[str]:
    return re.findall(r'<tr class="smp[^"]*">.*?</tr>', block, re.DOTALL)


def test_every_sample_of_a_question_with_text_options_and_counts() -> None:
    df = _samples()
    q0 = df["question_id"] == df["question_id"].iloc[0]
    first = df.index[q0]
    df.loc[first[0], ["valid", "answer"]] = [False, -1]
    df.loc[first[1], "finish_reason"] = "length"
    df.loc[first[2], ["valid", "answer"]] = [True, int(df.loc[first[2], "correct"])]
    qid = str(df["question_id"].iloc[0])
    questions = pd.DataFrame(
        {
            "task": [str(df["task"].iloc[0])],
            "question_id": [qid],
            "text": ["What is 2+2?"],
            "options": [["3", "4", "5"]],
            "correct": [1],
            "metadata": [{}],
        }
    )
    page = browser_html(df, questions)
    blocks = _blocks(page)
    assert len(blocks) == df["question_id"].nunique()
    block = blocks[qid]
    mine = df[q0]
    rows = _rows(block)
    assert len(rows) == len(mine) == 6
    for r in mine.itertuples():
        assert f"<pre>{r.raw_output}</pre>" in block
    right = ((mine["answer"] == mine["correct"]) & mine["valid"]).mean()
    summary = re.search(r"<summary>(.*?)</summary>", block, re.DOTALL)
    assert summary is not None
    assert f"accuracy {right:.0%}" in summary.group(1)
    assert "6 samples" in summary.group(1) and "1 invalid" in summary.group(1) and "1 truncated" in summary.group(1)
    assert "What is 2+2?" in block and "A. 3" in block and '<li class="ok">B. 4 ✓ correct</li>' in block
    assert sum('class="smp inv' in r for r in rows) == 1 and sum("trunc" in r for r in rows) == 1
    assert '<td class="s a">invalid</td>' in rows[0]
    other = blocks[str(df["question_id"].iloc[-1])]
    assert "not in the input" in other  # no question text for that one


def test_filters_need_no_script() -> None:
    page = browser_html(_samples())
    for k in ("inv", "wrong", "trunc"):
        assert f'<input type="checkbox" id="f-{k}">' in page
    assert "<script" not in page
    assert page.startswith('<section id="samples">')


def test_caps_and_truncation() -> None:
    df = _samples()
    df["raw_output"] = "x" * 5000
    page = browser_html(df, max_questions=2, max_samples=4)
    assert "first 2 of 3 questions shown" in page and "first 4 of 6 samples shown" in page
    blocks = _blocks(page)
    assert len(blocks) == 2 and all(len(_rows(b)) == 4 for b in blocks.values())
    assert "x" * 4000 in page and "x" * 4001 not in page and "first 4,000 of 5,000 characters shown" in page


def test_error_rows_and_letters() -> None:
    """An error row is not scored: neither invalid nor wrong, and left out of the accuracy."""
    df = _samples()
    df["valid"] = True
    df["answer"] = df["correct"]
    df.loc[0, ["error", "valid", "answer"]] = ["timeout <b>", False, -1]
    block = _blocks(browser_html(df))[str(df.loc[0, "question_id"])]
    assert "not scored: timeout &lt;b&gt;" in block and "timeout <b>" not in block
    assert "accuracy 100%" in block and "0 invalid" in block and "6 samples" in block
    assert [option_letter(i) for i in (0, 1, 25, 26)] == ["A", "B", "Z", "#27"]


def test_no_samples() -> None:
    assert "No samples." in browser_html(None)


def test_payload_in_every_browser_field_is_text(report: Report) -> None:
    assert report.samples is not None
    df = report.samples.copy()
    df["model"] = PAYLOAD + df["model"]
    df["raw_output"] = PAYLOAD
    qs = pd.DataFrame(
        {
            "task": "sim-arith",
            "question_id": [f"q{i:04d}" for i in range(24)],
            "text": PAYLOAD,
            "options": [[PAYLOAD, "b"]] * 24,
            "correct": 0,
            "metadata": [{}] * 24,
        }
    )
    page = render_html(dataclasses.replace(report, samples=df, questions=qs))
    assert PAYLOAD not in page and "<script" not in page.lower().replace("&lt;script", "")
    browser = re.search(r'<section id="samples">.*?</section>', page, re.DOTALL)
    assert browser is not None
    e = html.escape(PAYLOAD)
    assert f'<p class="q">{e}</p>' in browser.group(0)  # question text
    assert f"A. {e} ✓ correct" in browser.group(0)  # option
    assert f"<pre>{e}</pre>" in browser.group(0)  # raw output
    assert f"{e}fam-8B" in browser.group(0)  # model name


@pytest.mark.parametrize("n_questions", [1, 250])
def test_default_cap(n_questions: int) -> None:
    df = simulate_samples(np.full(n_questions, 0.6), np.full(n_questions, 0.5), kind="answers", rng=0)
    page = browser_html(df)
    shown = min(n_questions, 200)
    assert len(_blocks(page)) == shown
    assert (f"first 200 of {n_questions} questions shown" in page) == (n_questions > 200)
