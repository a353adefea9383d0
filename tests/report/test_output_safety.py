"""Outputs never destroy data: ``hotmess report`` and ``hotmess convert`` through the real CLI.

A refused output is one ``error:`` line on stderr naming the file, a non-zero exit code, and every file in the
folder byte-identical afterwards. Replacing an earlier output of the same kind (an older report, an earlier
table folder, an earlier export) and merging into a run store keep working.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from hotmess.cli.main import main
from hotmess.data import read_samples, write_samples

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "samples.csv"


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder (also the working directory) with ``s.sqlite``, ``samples.csv`` and ``other.sqlite``."""
    shutil.copyfile(EXAMPLE, tmp_path / "samples.csv")
    df = read_samples(EXAMPLE)
    write_samples(df, tmp_path / "s.sqlite")
    write_samples(df.assign(model="other-model"), tmp_path / "other.sqlite")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _refused(capsys: pytest.CaptureFixture[str], folder: Path, argv: list[str], *needles: str) -> str:
    """Run ``hotmess argv``; assert one error line containing ``needles`` and nothing changed in ``folder``."""
    before = _snapshot(folder)
    rc = main(argv)
    out, err = capsys.readouterr()
    assert rc != 0, err
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert "unexpected" not in err and out == ""
    for needle in needles:
        assert needle in err, (needle, err)
    assert _snapshot(folder) == before  # inputs and everything else byte-identical, nothing created
    return err


def _ok(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    rc = main(argv)
    err = capsys.readouterr().err
    assert rc == 0, err


REPORT = ["report", "s.sqlite", "--n-boot", "0"]


# ------------------------------------------------------------------------------------------- report, HTML
@pytest.mark.parametrize(
    ("out", "needles"),
    [
        ("s.sqlite", ["over its input s.sqlite", "report.html"]),  # the input itself
        (lambda d: f"../{d.name}/s.sqlite", ["over its input ../"]),  # the input, spelled differently
        (lambda d: str(d / "s.sqlite"), ["over its input"]),  # the input, absolute
        ("other.sqlite", ["over the run store other.sqlite"]),  # another run store
        ("samples.csv", ["over the samples/data file samples.csv"]),  # a samples file
    ],
    ids=["input", "input-relative", "input-absolute", "other-store", "samples-file"],
)
def test_report_never_writes_over_data(
    work: Path, capsys: pytest.CaptureFixture[str], out: str | Callable[[Path], str], needles: list[str]
) -> None:
    target = out(work) if callable(out) else out
    _refused(capsys, work, [*REPORT, "-o", target], *needles)


def test_report_never_writes_through_a_link_to_its_input(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (work / "link.html").symlink_to(work / "s.sqlite")
    os.link(work / "samples.csv", work / "hard.html")
    _refused(capsys, work, [*REPORT, "-o", "link.html"], "over its input link.html")
    _refused(capsys, work, ["report", "samples.csv", "--n-boot", "0", "-o", "hard.html"], "over its input hard.html")


def test_report_never_writes_over_a_store_under_another_name(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copyfile(work / "other.sqlite", work / "notes.txt")  # a SQLite file, whatever its name
    _refused(capsys, work, [*REPORT, "-o", "notes.txt"], "run store notes.txt")


def test_report_never_writes_over_its_survey(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (work / "survey.csv").write_text("entity,rater,attribute,rank\na,1,x,1\nb,1,x,2\n")
    _refused(capsys, work, [*REPORT, "--survey", "survey.csv", "-o", "survey.csv"], "over its input survey.csv")


def test_report_into_an_existing_folder_names_a_file(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (work / "out").mkdir()
    err = _refused(capsys, work, [*REPORT, "-o", "out"], "out is a directory")
    assert "out/report.html" in err


def test_report_replaces_an_earlier_report(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (work / "report.html").write_text("<p>an older report</p>")
    _ok(capsys, [*REPORT, "-o", "report.html"])
    assert (work / "report.html").read_text().startswith("<!DOCTYPE html>")


# ------------------------------------------------------------------------------------------ report, tables
def test_table_report_into_an_existing_file_wants_a_folder(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (work / "tables.json").write_text("{}")
    _refused(capsys, work, [*REPORT, "--format", "json", "-o", "tables.json"], "tables.json is an existing file")
    _refused(capsys, work, [*REPORT, "--format", "parquet", "-o", "samples.csv"], "not a folder")


def test_table_report_never_mixes_into_a_folder_of_other_files(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (work / "mine").mkdir()
    (work / "mine" / "length__buckets.json").write_text("my own notes")
    _refused(capsys, work, [*REPORT, "--format", "json", "-o", "mine"], "mine already holds other files")
    _refused(capsys, work, ["report", "samples.csv", "--format", "json", "-o", "."], "holds the input samples.csv")


def test_table_report_replaces_an_earlier_table_report(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (work / "empty").mkdir()
    _ok(capsys, [*REPORT, "--format", "json", "-o", "empty"])
    _ok(capsys, [*REPORT, "--format", "json", "-o", "empty"])
    assert (work / "empty" / "manifest.json").is_file()


# ------------------------------------------------------------------------------------------------- convert
def test_convert_never_writes_over_its_source(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    os.link(work / "samples.csv", work / "hard.csv")
    _refused(capsys, work, ["convert", "samples.csv", "./samples.csv"], "over its input samples.csv")
    _refused(capsys, work, ["convert", "samples.csv", "hard.csv"], "over its input hard.csv")  # a hard link
    _refused(capsys, work, ["convert", "s.sqlite", str(work / "s.sqlite")], "over its input")


def test_convert_never_writes_over_a_store_under_a_samples_name(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copyfile(work / "other.sqlite", work / "export.csv")
    _refused(capsys, work, ["convert", "samples.csv", "export.csv"], "over the run store export.csv")


def test_convert_merges_into_a_store_and_replaces_an_export(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _ok(capsys, ["convert", "samples.csv", "other.sqlite"])  # a run store is merged into
    assert set(read_samples(work / "other.sqlite")["model"]) == {"demo-model", "other-model"}
    _ok(capsys, ["convert", "other.sqlite", "export.parquet"])
    _ok(capsys, ["convert", "s.sqlite", "export.parquet"])  # an earlier export is replaced
    assert len(read_samples(work / "export.parquet")) == 24


@pytest.mark.parametrize("flag", ["--out", "--plot"])
@pytest.mark.parametrize("target", ["s.sqlite", "other.sqlite", "samples.csv"])
def test_embed_never_writes_over_data(work: Path, capsys: pytest.CaptureFixture[str], flag: str, target: str) -> None:
    _refused(capsys, work, ["embed", "s.sqlite", flag, target], target)


@pytest.mark.parametrize("target", ["s.sqlite", "./s.sqlite", "other.sqlite", "samples.csv"])
def test_analyze_out_never_writes_over_data(work: Path, capsys: pytest.CaptureFixture[str], target: str) -> None:
    _refused(capsys, work, ["analyze", "s.sqlite", "--out", target, "--n-boot", "0"], target.removeprefix("./"))


def test_analyze_out_replaces_earlier_results(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["analyze", "s.sqlite", "--out", "results.csv", "--n-boot", "0"]) == 0
    first = (work / "results.csv").read_bytes()
    assert main(["analyze", "s.sqlite", "--out", "results.csv", "--n-boot", "0", "--metric", "brier"]) == 0
    second = (work / "results.csv").read_bytes()
    assert b"kl" in first and b"brier" in second and first != second


def test_convert_never_replaces_a_file_that_is_not_a_samples_export(
    work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (work / "tasks.csv").write_text("question,A,B,answer\nIs 2 even?,yes,no,A\n")
    _refused(capsys, work, ["convert", "s.sqlite", "tasks.csv"], "tasks.csv")


def test_a_samples_csv_saved_with_a_bom_is_still_data(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (work / "excel.csv").write_bytes(b"\xef\xbb\xbf" + (work / "samples.csv").read_bytes())  # as Excel saves it
    _refused(capsys, work, ["analyze", "s.sqlite", "--out", "excel.csv", "--n-boot", "0"], "excel.csv")
