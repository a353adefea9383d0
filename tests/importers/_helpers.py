"""Helpers of the importer tests: the ``hotmess`` CLI with only ``import`` registered, and store snapshots."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import typer

import hotmess.cli.main as cli_main
from hotmess.cli import import_cmd
from hotmess.data import RunStore

CliCall = Callable[..., tuple[int, str, str]]


def import_cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> CliCall:
    """``call(*args) -> (exit code, stdout, stderr)`` of ``hotmess`` with the ``import`` subcommands."""
    app = typer.Typer(pretty_exceptions_enable=False)

    @app.callback()
    def _root() -> None:
        """test app"""

    import_cmd.register(app)
    monkeypatch.setattr(cli_main, "app", app)

    def call(*args: Any) -> tuple[int, str, str]:
        capsys.readouterr()  # drop anything printed before
        code = cli_main.main([str(a) for a in args])
        out, err = capsys.readouterr()
        return code, out, err

    return call


def assert_one_line_refusal(code: int, out: str, err: str) -> None:
    """A refused command: exit code 2, one ``error:`` line on stderr, no traceback."""
    assert code == 2, (code, err)
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert "Traceback" not in out + err and "unexpected" not in err


def _rows(records: list[dict[str, Any]]) -> list[str]:
    """Rows as sorted JSON, independent of the column dtypes pandas picks (None or NaN, 1 or 1.0)."""

    def plain(v: Any) -> Any:
        if isinstance(v, float) and math.isnan(v):
            return None
        return int(v) if isinstance(v, float) and v.is_integer() else v

    return sorted(json.dumps({k: plain(v) for k, v in r.items()}, sort_keys=True, default=str) for r in records)


def snapshot(store: Path) -> dict[str, Any]:
    """Samples (without ``created_at``), runs (without times) and questions of a store; empty when missing."""
    if not store.exists():
        return {"samples": [], "runs": [], "questions": []}
    with RunStore(store, create=False) as st:
        samples = _rows(st.samples().drop(columns=["created_at"]).to_dict("records"))
        runs = _rows(st.runs()[["run_id", "config"]].to_dict("records"))
        questions = _rows(st.questions().to_dict("records"))
    return {"samples": samples, "runs": runs, "questions": questions}


def rewrite_eval(src: Path, dst: Path, edit: Callable[[str, Any], Any]) -> Path:
    """Copy a .eval log, passing every JSON entry through ``edit(name, data)`` (written back with deflate)."""
    import zipfile

    from hotmess.importers._inspect_files import _entry_json

    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = edit(info.filename, _entry_json(zin, src, info.filename))
            zout.writestr(info.filename, json.dumps(data))
    return dst
