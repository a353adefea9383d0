"""Issue 9: data defects reproduced by the filer, each through the path the user took.

Repeated samples of two runs counted twice, a re-failed error row keeping the first failure, long CSV fields,
absurd ``n_options``, foreign SQLite files, unwritable store paths, the duplicate-key and option-bound checks
of the file reader, and ``summarize_samples`` on a plain DataFrame.
"""

from __future__ import annotations

import hashlib
import io
import json
import sqlite3
import warnings
from pathlib import Path

import pandas as pd
import pytest

from hotmess.analysis import summarize_samples
from hotmess.cli.main import main
from hotmess.data import (
    MAX_N_OPTIONS,
    RunStore,
    Sample,
    collapse_duplicate_samples,
    normalize_samples,
    read_samples,
    write_samples,
)
from hotmess.errors import DuplicateSamplesWarning, InputError, StoreError

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "samples.csv"


def _cli(capsys, *args: object) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def _one_error_line(code: int, err: str) -> str:
    """The CLI refused with exactly one ``error:`` line and no traceback; returns that line."""
    lines = err.strip().splitlines()
    assert code != 0, err
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "Traceback" not in err and "unexpected" not in err, err
    return lines[0]


# -- 1. the same samples in two runs are counted once -------------------------------------------------------


def _run(run_id: str, *, seeds: int = 0, created_at: float = 1.0, n_q: int = 3, n_s: int = 4, **kw) -> list[Sample]:
    """``n_q`` questions × ``n_s`` samples of one run; seeds derived from the slot (plus ``seeds``)."""
    return [
        Sample(
            **{
                "run_id": run_id,
                "model": "m",
                "task": "t",
                "question_id": f"q{q}",
                "context_id": 0,
                "sample_index": i,
                "seed": 1000 * seeds + 10 * q + i,
                "n_options": 4,
                "correct": 0,
                "answer": (q + i) % 4,
                "valid": True,
                "created_at": created_at,
                **kw,
            }
        )
        for q in range(n_q)
        for i in range(n_s)
    ]


#: One sampling protocol: runs saved with it draw the same samples (a run resumed under another id).
SAME = {"model": "openai:m", "task": "t", "n_contexts": 1, "samples_per_context": 4, "temperature": 1.0}


def _store(path: Path, *runs: list[Sample]) -> Path:
    with RunStore(path) as store:
        for rows in runs:
            store.write(rows)
            store.save_run(rows[0].run_id, {**SAME, "run_id": rows[0].run_id})
    return path


def test_analyze_counts_a_resumed_runs_samples_once_and_says_so(tmp_path, capsys):
    # the filer's case: a run resumed under a new id (only the timeout changed) draws every sample again
    path = _store(tmp_path / "s.sqlite", _run("run-a", created_at=1.0), _run("run-b", created_at=2.0))
    assert len(read_samples(path)) == 24  # the store keeps both runs; only the analysis counts once
    code, out, err = _cli(capsys, "analyze", path, "--n-boot", "0", "--json")
    assert code == 0, err
    assert json.loads(out)["overall"]["n_samples"] == 12
    notes = [line for line in err.splitlines() if line.startswith("note:")]
    assert len(notes) == 1 and "12 repeated sample(s)" in notes[0] and "'run-a', 'run-b'" in notes[0]
    assert "Warning" not in err  # a note, not a Python warning

    code, out, err = _cli(capsys, "analyze", path, "--n-boot", "0")
    assert code == 0 and "DuplicateSamplesWarning" not in err
    assert sum("repeated sample(s)" in line and line.startswith("note:") for line in err.splitlines()) == 1


def test_one_run_alone_is_not_touched(tmp_path, capsys):
    path = _store(tmp_path / "s.sqlite", _run("run-a"), _run("run-b", created_at=2.0))
    code, out, err = _cli(capsys, "analyze", path, "--n-boot", "0", "--json", "--run", "run-b")
    assert code == 0 and json.loads(out)["overall"]["n_samples"] == 12 and "note:" not in err


def test_same_slot_with_other_seeds_or_no_seed_is_kept():
    other_seeds = pd.DataFrame([s.to_row() for s in _run("a") + _run("b", seeds=1)])
    no_seed = pd.DataFrame([s.to_row() for s in _run("a", seed=None) + _run("b", seed=None)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning either
        assert len(collapse_duplicate_samples(other_seeds)) == 24
        assert len(collapse_duplicate_samples(no_seed)) == 24
        assert summarize_samples(no_seed, n_boot=0).overall.n_samples == 24


def test_collapse_prefers_a_good_row_then_the_earliest():
    early_errors = _run("a", created_at=1.0, answer=-1, valid=False, error="timeout", n_q=1, n_s=2)
    late_good = _run("b", created_at=5.0, n_q=1, n_s=2)
    later_good = _run("c", created_at=9.0, n_q=1, n_s=2)
    df = pd.DataFrame([s.to_row() for s in later_good + early_errors + late_good])
    with pytest.warns(DuplicateSamplesWarning) as rec:
        out = collapse_duplicate_samples(df, protocols=dict.fromkeys("abc", "p"))
    assert out["run_id"].tolist() == ["b", "b"] and out["error"].isna().all()
    w = rec[0].message
    assert isinstance(w, DuplicateSamplesWarning) and w.n_collapsed == 4 and w.runs == ("a", "b", "c")


def test_summarize_samples_warns_and_lists_the_note():
    df = pd.DataFrame([s.to_row() for s in _run("a") + _run("b", created_at=2.0)])
    df.attrs["run_protocols"] = {"a": "p", "b": "p"}  # as a run store tells it
    with pytest.warns(DuplicateSamplesWarning, match="12 repeated sample"):
        res = summarize_samples(df, "brier", n_boot=0)
    assert res.overall.n_samples == 12 and any("'a', 'b'" in w for w in res.warnings)
    single = summarize_samples(df[df["run_id"] == "a"], "brier", n_boot=0)
    assert res.overall.to_dict() == single.overall.to_dict()


def test_the_report_shows_the_note(tmp_path, capsys):
    from hotmess.report import ReportOptions, build_report, write_html

    path = _store(tmp_path / "s.sqlite", _run("a", n_s=6), _run("b", n_s=6, created_at=2.0))
    code, _out, err = _cli(capsys, "report", path, "-o", tmp_path / "cli.html", "--n-boot", "0")
    assert code == 0 and "Warning" not in err, err
    assert "18 repeated sample(s) left out" in (tmp_path / "cli.html").read_text()

    df = read_samples(path)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DuplicateSamplesWarning)  # recorded in the report, not leaked
        rep = build_report(df, options=ReportOptions(n_boot=0, plots=False))
    assert len(rep.warnings) == 1 and "18 repeated sample(s)" in rep.warnings[0]
    overview = next(s for s in rep.sections if s.key == "overview")
    assert overview.skipped is None and rep.warnings[0] in overview.notes
    assert overview.tables["summary"]["n_samples"].iloc[0] == 18
    html = write_html(rep, tmp_path / "r.html").read_text()
    assert "18 repeated sample(s) left out" in html


# -- 2. a re-failed error row records the latest failure ------------------------------------------------------


def test_a_later_failure_replaces_an_earlier_error_row(tmp_path):
    fail = {"answer": -1, "valid": False, "n_q": 1, "n_s": 1}
    with RunStore(tmp_path / "s.sqlite") as store:
        store.write(_run("r", error="rate limited", created_at=10.0, **fail))
        assert store.write(_run("r", error="timeout after 3 retries", created_at=20.0, **fail)) == 0  # no new sample
        row = store.samples().iloc[0]
        assert row["error"] == "timeout after 3 retries" and row["created_at"] == 20.0
        store.write(_run("r", error="an older failure, imported again", created_at=5.0, **fail))
        assert store.samples().iloc[0]["error"] == "timeout after 3 retries"  # never rewound
        store.write(_run("r", created_at=30.0, n_q=1, n_s=1))  # a good sample replaces it
        store.write(_run("r", error="later failure", created_at=40.0, **fail))  # and is never replaced
        row = store.samples().iloc[0]
    assert pd.isna(row["error"]) and row["created_at"] == 30.0 and bool(row["valid"])


# -- 3. long CSV fields -------------------------------------------------------------------------------------------


def test_a_300k_character_raw_output_survives_a_csv_round_trip(tmp_path, capsys):
    big = ('he said "wait, no",\nthen ' * 20_000)[:300_000]
    df = normalize_samples(
        pd.DataFrame({"question_id": ["q1", "q1"], "answer": ["A", "B"], "correct": "A", "raw_output": [big, "B"]})
    )
    path = write_samples(df, tmp_path / "long.csv")
    assert read_samples(path)["raw_output"].tolist() == [big, "B"]
    code, _out, err = _cli(capsys, "convert", path, tmp_path / "long.sqlite")
    assert code == 0, err
    assert read_samples(tmp_path / "long.sqlite")["raw_output"].iloc[0] == big


# -- 4. n_options has an upper bound -------------------------------------------------------------------------------


def test_absurd_n_options_is_one_input_error(tmp_path, capsys):
    path = tmp_path / "s.csv"
    path.write_text("question_id,answer,correct,n_options\nq1,A,A,4\nq1,B,A,100000000\n")
    line = _one_error_line(*_cli(capsys, "analyze", path)[::2])
    assert "row 2" in line and "n_options" in line and f"{MAX_N_OPTIONS:,}" in line


def test_an_option_index_that_implies_too_many_options_is_one_input_error(tmp_path, capsys):
    path = tmp_path / "s.csv"
    path.write_text("question_id,answer,correct\nq1,A,A\nq1,B,99999999\n")
    line = _one_error_line(*_cli(capsys, "analyze", path)[::2])
    assert "row 2" in line and "n_options" in line


def test_n_options_at_the_limit_is_accepted():
    df = normalize_samples(
        pd.DataFrame({"question_id": ["q1", "q1"], "answer": ["0", "1"], "correct": "0", "n_options": MAX_N_OPTIONS})
    )
    assert df["n_options"].tolist() == [MAX_N_OPTIONS] * 2
    with pytest.raises(InputError, match="more than"):
        normalize_samples(df.assign(n_options=MAX_N_OPTIONS + 1))


# -- 5. a foreign SQLite file is never modified --------------------------------------------------------------------


FOREIGN = {
    "samples-other-columns": ["CREATE TABLE samples (id INTEGER PRIMARY KEY, text TEXT)"],
    "samples-and-meta-without-our-keys": [
        "CREATE TABLE samples (id INTEGER PRIMARY KEY, text TEXT)",
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)",
        "INSERT INTO meta VALUES ('owner', 'someone else')",
    ],
    "samples-and-meta-other-layout": [
        "CREATE TABLE samples (id INTEGER PRIMARY KEY, text TEXT)",
        "CREATE TABLE meta (name TEXT, data BLOB)",
    ],
    "our-version-their-samples": [
        "CREATE TABLE samples (run_id TEXT, question_id TEXT, answer INTEGER)",
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        "INSERT INTO meta VALUES ('schema_version', '1')",
    ],
    "our-version-no-samples": [
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        "INSERT INTO meta VALUES ('schema_version', '1')",
    ],
    "a-view-only": ["CREATE VIEW v AS SELECT 1 AS x"],
}


def _foreign(path: Path, statements: list[str]) -> Path:
    con = sqlite3.connect(path)
    for sql in statements:
        con.execute(sql)
    if "CREATE TABLE samples (id" in statements[0]:
        con.execute("INSERT INTO samples (text) VALUES ('their data')")
    con.commit()
    con.close()
    return path


def _fingerprint(path: Path) -> tuple[str, list[tuple[str, str]], list[str]]:
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    objects = con.execute("SELECT type, name FROM sqlite_master ORDER BY name").fetchall()
    con.close()
    siblings = sorted(p.name for p in path.parent.iterdir())
    return hashlib.sha256(path.read_bytes()).hexdigest(), objects, siblings


@pytest.mark.parametrize("variant", list(FOREIGN))
def test_a_foreign_sqlite_file_is_refused_and_left_untouched(tmp_path, capsys, variant):
    path = _foreign(tmp_path / "other.sqlite", FOREIGN[variant])
    before = _fingerprint(path)
    for argv in (["analyze", path], ["convert", EXAMPLE, path], ["report", path, "-o", tmp_path / "r.html"]):
        line = _one_error_line(*_cli(capsys, *argv)[::2])
        assert "not a hotmess run store" in line, line
        assert _fingerprint(path) == before, argv
    for create in (True, False):
        with pytest.raises(StoreError, match="not a hotmess run store"):
            RunStore(path, create=create)
        assert _fingerprint(path) == before


def test_a_store_of_this_version_still_opens(tmp_path):
    path = _store(tmp_path / "s.sqlite", _run("a"))
    with RunStore(path, create=False) as store:
        assert len(store) == 12


# -- 6. an unwritable store path says so ---------------------------------------------------------------------------


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux /proc")
def test_a_store_where_no_file_can_be_created_says_it_cannot_write(capsys):
    target = Path("/proc/hotmess-issue9.sqlite")  # /proc exists but takes no new files, even for root
    line = _one_error_line(*_cli(capsys, "convert", EXAMPLE, target)[::2])
    assert f"cannot write the run store at {target}" in line and "not a hotmess run store" not in line
    assert not target.exists()


def test_a_read_only_folder_says_permission_denied(tmp_path, monkeypatch):
    import os

    real_open = os.open

    def deny(path, flags, *args):
        if str(path).endswith("denied.sqlite"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, flags, *args)

    monkeypatch.setattr(os, "open", deny)
    with pytest.raises(StoreError, match=r"cannot write the run store at .*denied\.sqlite: permission denied"):
        RunStore(tmp_path / "denied.sqlite")
    assert not (tmp_path / "denied.sqlite").exists()


def test_sqlite_unable_to_open_is_not_called_a_foreign_file(tmp_path, monkeypatch):
    path = _store(tmp_path / "s.sqlite", _run("a"))

    def fail(*args, **kwargs):
        raise sqlite3.OperationalError("unable to open database file")

    monkeypatch.setattr(sqlite3, "connect", fail)
    with pytest.raises(StoreError, match="cannot write the run store") as err:
        RunStore(path)
    assert "not a hotmess run store" not in str(err.value) and err.value.hint


# -- 7. the reader's key and bound checks ----------------------------------------------------------------------------


def test_one_slot_under_two_budgets_is_two_samples_and_a_true_repeat_is_refused(tmp_path, capsys):
    rows = "question_id,context_id,sample_index,budget,answer,correct\nq1,0,0,low,A,A\nq1,0,0,high,B,A\n"
    df = normalize_samples(pd.read_csv(io.StringIO(rows), dtype=str))
    assert sorted(df["budget"]) == ["high", "low"]
    (tmp_path / "ok.csv").write_text(rows)
    code, out, err = _cli(capsys, "analyze", tmp_path / "ok.csv", "--n-boot", "0", "--json")
    assert code == 0 and json.loads(out)["overall"]["n_samples"] == 2, err

    (tmp_path / "dup.csv").write_text(rows.replace(",high,", ",low,"))
    line = _one_error_line(*_cli(capsys, "analyze", tmp_path / "dup.csv")[::2])
    assert "row 2 repeats the key" in line


@pytest.mark.parametrize("correct", ["D", "E", "4"])
def test_a_correct_option_at_or_beyond_n_options_is_refused(tmp_path, capsys, correct):
    path = tmp_path / "s.csv"
    path.write_text(f"question_id,answer,correct,n_options\nq1,A,A,4\nq2,B,{correct},4\n")
    if correct == "D":  # index 3 < 4: fine
        assert _cli(capsys, "analyze", path, "--n-boot", "0")[0] == 0
        return
    line = _one_error_line(*_cli(capsys, "analyze", path)[::2])
    assert "row 2: correct option 4 is beyond n_options 4" in line


# -- 8. summarize_samples on a plain DataFrame ------------------------------------------------------------------------


def test_summarize_samples_normalises_a_plain_frame():
    plain = pd.read_csv(EXAMPLE)
    res = summarize_samples(plain, "brier", n_boot=0)
    expected = summarize_samples(read_samples(EXAMPLE), "brier", n_boot=0)
    assert res.overall.to_dict() == expected.overall.to_dict()
    three = plain[["question_id", "answer", "correct"]]
    assert summarize_samples(three, "brier", n_boot=0).overall.n_samples == len(plain)


def test_summarize_samples_refuses_a_frame_it_cannot_normalise():
    with pytest.raises(InputError, match="missing column"):
        summarize_samples(pd.DataFrame({"question": ["q1"], "answer": ["A"]}), n_boot=0)
    with pytest.raises(InputError, match="holds no samples"):
        summarize_samples(pd.DataFrame({"question_id": [], "answer": [], "correct": []}), n_boot=0)


def test_a_plain_table_counts_everything_and_says_which_runs_may_repeat():
    # a file does not say whether two runs used the same settings (a temperature sweep shares seeds too)
    df = pd.DataFrame([s.to_row() for s in _run("a") + _run("b", created_at=2.0)])
    with pytest.warns(DuplicateSamplesWarning, match="24 sample.*'a', 'b'.*all are counted"):
        res = summarize_samples(df, "brier", n_boot=0)
    assert res.overall.n_samples == 24


def test_runs_of_other_settings_in_a_store_are_never_collapsed(tmp_path):
    path = tmp_path / "sweep.sqlite"
    with RunStore(path) as store:
        for run_id, temperature in (("cold", 0.0), ("hot", 1.0)):
            store.write(_run(run_id))
            store.save_run(run_id, {**SAME, "temperature": temperature, "run_id": run_id})
    with warnings.catch_warnings():
        warnings.simplefilter("error", DuplicateSamplesWarning)
        assert summarize_samples(read_samples(path), "brier", n_boot=0).overall.n_samples == 24
