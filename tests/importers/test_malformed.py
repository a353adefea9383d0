"""Malformed, truncated and foreign files: one clear InputError each, and nothing written."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path
from typing import Any

import pytest

from hotmess.data import RunStore
from hotmess.errors import InputError
from hotmess.importers import import_inspect, import_lm_eval, read_inspect_log, read_lm_eval_samples
from tests.importers.conftest import INSPECT, lm_eval_file


def _has_inspect() -> bool:
    try:
        import inspect_ai.log  # noqa: F401
    except ImportError:
        return False
    return True


READERS = ["builtin", pytest.param("inspect", marks=pytest.mark.skipif(not _has_inspect(), reason="needs inspect-ai"))]


def _one_line(err: InputError) -> str:
    text = str(err)
    assert "\n" not in text and err.hint
    return text


@pytest.mark.parametrize("reader", READERS)
@pytest.mark.parametrize(
    ("name", "make", "pattern"),
    [
        ("trunc.eval", lambda src: src.read_bytes()[: len(src.read_bytes()) // 2], r"trunc\.eval"),
        ("noise.eval", lambda src: b"\x00\x01 not a zip at all " * 50, r"noise\.eval"),
        ("trunc.json", lambda src: (INSPECT / "mc_quiz.json").read_bytes()[:5000], r"trunc\.json"),
        (
            "foreign.json",
            lambda src: json.dumps({"results": {"acc": 1.0}}).encode(),
            r"(not an|could not be read as an) Inspect log",
        ),
        ("list.json", lambda src: b"[1, 2, 3]", r"(not an|could not be read as an) Inspect log"),
        ("empty.json", lambda src: b"", r"empty\.json"),
    ],
)
def test_bad_inspect_files(tmp_path: Path, reader: Any, name: str, make, pattern: str) -> None:
    bad = tmp_path / name
    bad.write_bytes(make(INSPECT / "mc_quiz.eval"))
    with pytest.raises(InputError, match=pattern) as info:
        read_inspect_log(bad, reader=reader)
    _one_line(info.value)


@pytest.mark.parametrize("reader", READERS)
def test_foreign_zip_and_corrupt_entry(tmp_path: Path, reader: Any) -> None:
    foreign = tmp_path / "foreign.eval"
    with zipfile.ZipFile(foreign, "w") as zf:
        zf.writestr("data.json", "{}")
    with pytest.raises(InputError, match=r"foreign\.eval"):
        read_inspect_log(foreign, reader=reader)
    # flip bytes inside the first sample entry: the CRC (or the decompressor) catches it
    corrupt = tmp_path / "corrupt.eval"
    data = bytearray((INSPECT / "mc_quiz.eval").read_bytes())
    with zipfile.ZipFile(INSPECT / "mc_quiz.eval") as zf:
        info = next(i for i in zf.infolist() if i.filename.startswith("samples/"))
    start = info.header_offset + 30 + len(info.filename) + 40
    data[start : start + 20] = b"\xff" * 20
    corrupt.write_bytes(bytes(data))
    with pytest.raises(InputError, match="corrupt"):
        read_inspect_log(corrupt, reader=reader)


def test_wrong_suffix_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="unsupported log type"):
        read_inspect_log(lm_eval_file("fewshot0", "hm_mc"))
    with pytest.raises(InputError, match="does not exist"):
        read_inspect_log(tmp_path / "nope.eval")
    with pytest.raises(InputError, match="unsupported file type"):
        read_lm_eval_samples(INSPECT / "mc_quiz.json")


def test_a_bad_file_among_good_ones_writes_nothing(tmp_path: Path, store: Path) -> None:
    bad = tmp_path / "zz_truncated.eval"
    bad.write_bytes((INSPECT / "swe_mini.eval").read_bytes()[:3000])
    with pytest.raises(InputError, match="zz_truncated"):
        import_inspect([INSPECT / "mc_quiz.eval", INSPECT / "open_qa.eval", bad], store)
    assert not store.exists() or len(RunStore(store)) == 0


@pytest.mark.parametrize(
    ("content", "pattern"),
    [
        (lambda good: good[: len(good) - 40], r"line 5 is not valid JSON"),
        (lambda good: good + '{"doc_id": 9}\n', r"line 6 is not an lm-eval sample record"),
        (lambda good: '{"question": "q", "answer": "A"}\n', r"line 1 is not an lm-eval sample record"),
        (lambda good: "", r"holds no sample records"),
        (lambda good: good + good.splitlines()[0] + "\n", r"doc_id 0 appears twice"),
    ],
)
def test_bad_lm_eval_files(tmp_path: Path, store: Path, content, pattern: str) -> None:
    good = lm_eval_file("fewshot1", "hm_mc").read_text()
    bad = tmp_path / "samples_hm_mc_2026-01-01T00-00-00.000000.jsonl"
    bad.write_text(content(good))
    with pytest.raises(InputError, match=pattern) as info:
        import_lm_eval([lm_eval_file("fewshot0", "hm_mc"), bad], store)
    _one_line(info.value)
    assert not store.exists() or len(RunStore(store)) == 0


def test_lm_eval_inconsistent_resps(tmp_path: Path) -> None:
    lines = [json.loads(x) for x in lm_eval_file("fewshot1", "hm_mc").read_text().splitlines()]
    lines[2]["resps"][1] = []  # an option without log-likelihoods
    bad = tmp_path / "samples_hm_mc_2026-01-01T00-00-00.000000.jsonl"
    bad.write_text("".join(json.dumps(x) + "\n" for x in lines))
    with pytest.raises(InputError, match="line 3"):
        read_lm_eval_samples(bad)
    lines[2]["resps"][1] = [["-1.0", "False"]]
    lines[2]["target"] = 7
    bad.write_text("".join(json.dumps(x) + "\n" for x in lines))
    with pytest.raises(InputError, match="line 3: target 7 is not one of the 4 options"):
        read_lm_eval_samples(bad)


def test_lm_eval_loglikelihood_task_is_refused(tmp_path: Path) -> None:
    src = lm_eval_file("fewshot1", "hm_mc")
    dest = tmp_path / src.name
    shutil.copyfile(src, dest)
    (results,) = src.parent.glob("results_*.json")
    data = json.loads(results.read_text())
    data["configs"]["hm_mc"]["output_type"] = "loglikelihood_rolling"
    (tmp_path / results.name).write_text(json.dumps(data))
    with pytest.raises(InputError, match="loglikelihood_rolling"):
        read_lm_eval_samples(dest)
    (tmp_path / results.name).write_text("{ not json")
    with pytest.raises(InputError, match="results file"):
        read_lm_eval_samples(dest)


# -- Inspect's reader: a validation error names the field ------------------------------------------------------


@pytest.mark.skipif(not _has_inspect(), reason="needs inspect-ai")
def test_inspect_reader_names_the_invalid_field(tmp_path: Path) -> None:
    data = json.loads((INSPECT / "mc_quiz.json").read_text())
    data["samples"][2]["scores"]["choice"] = "oops"  # a score that is not a Score
    data["samples"][3]["epoch"] = "first"
    bad = tmp_path / "bad_fields.json"
    bad.write_text(json.dumps(data))
    with pytest.raises(InputError) as info:
        read_inspect_log(bad, reader="inspect")
    text = _one_line(info.value)
    assert "bad_fields.json" in text and "field samples[2].scores.choice: " in text
    assert "(and 1 more field(s))" in text and "validation error" not in text
    # inside a .eval archive Inspect validates one sample entry at a time: the field is named within it
    from tests.importers._helpers import rewrite_eval

    def break_value(name: str, d: Any) -> Any:
        if name == "samples/mc1_epoch_3.json":
            d["scores"]["choice"]["value"] = {"nested": [1, 2]}
        return d

    path = rewrite_eval(INSPECT / "mc_quiz.eval", tmp_path / "bad_value.eval", break_value)
    with pytest.raises(InputError, match=r"EvalSample field scores\.choice\.value: .* fits none of") as info:
        read_inspect_log(path, reader="inspect")
    _one_line(info.value)


# -- lm-eval: resps that do not fit the document or the task config -------------------------------------------


def _copy_with_results(tmp_path: Path, folder: str, task: str) -> tuple[Path, Path]:
    src = lm_eval_file(folder, task)
    (results,) = src.parent.glob("results_*.json")
    shutil.copyfile(results, tmp_path / results.name)
    return tmp_path / src.name, tmp_path / results.name


def _write(path: Path, records: list[dict[str, Any]]) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))


def test_lm_eval_fewer_loglikelihoods_than_choices(tmp_path: Path) -> None:
    dest, results = _copy_with_results(tmp_path, "fewshot1", "hm_mc")
    lines = [json.loads(x) for x in lm_eval_file("fewshot1", "hm_mc").read_text().splitlines()]
    lines[2]["resps"] = lines[2]["resps"][:3]  # 3 log-likelihoods for a document with 4 choices
    _write(dest, lines)
    with pytest.raises(InputError, match=r"line 3: expected 4 option\(s\) \(from the document's arguments\), found 3"):
        read_lm_eval_samples(dest)
    del lines[2]["arguments"]  # then the task config's doc_to_choice ("choices") says how many
    _write(dest, lines)
    with pytest.raises(InputError, match=r"line 3: expected 4 option\(s\) \(from the doc's 'choices' field") as info:
        read_lm_eval_samples(dest)
    assert str(dest) in _one_line(info.value)
    data = json.loads(results.read_text())
    data["configs"]["hm_mc"]["doc_to_choice"] = ["w", "x", "y", "z"]  # a literal list of choices
    results.write_text(json.dumps(data))
    for rec in lines:
        rec["doc"].pop("choices")
    _write(dest, lines)
    with pytest.raises(InputError, match=r"line 3: expected 4 option\(s\) \(from the task config's doc_to_choice\)"):
        read_lm_eval_samples(dest)


def test_lm_eval_repeats_that_differ_from_the_config_or_the_other_documents(tmp_path: Path) -> None:
    dest, results = _copy_with_results(tmp_path, "fewshot0", "hm_gen")
    lines = [json.loads(x) for x in lm_eval_file("fewshot0", "hm_gen").read_text().splitlines()]
    lines[3]["resps"][0] = lines[3]["resps"][0][:2]  # the config says repeats: 3
    _write(dest, lines)
    with pytest.raises(
        InputError, match=r"line 4: expected 3 repeat\(s\) \(the task config says repeats: 3\), found 2"
    ):
        read_lm_eval_samples(dest)
    data = json.loads(results.read_text())
    data["configs"]["hm_gen"]["repeats"] = 4
    results.write_text(json.dumps(data))
    _write(dest, [json.loads(x) for x in lm_eval_file("fewshot0", "hm_gen").read_text().splitlines()])
    with pytest.raises(InputError, match=r"line 1: expected 4 repeat\(s\) .*repeats: 4\), found 3"):
        read_lm_eval_samples(dest)
    results.unlink()  # without a config, every document must have as many repeats as the first
    _write(dest, lines)
    with pytest.raises(InputError, match=r"line 4: expected 3 repeat\(s\) \(line 1 has 3\), found 2"):
        read_lm_eval_samples(dest)
