"""Bad input through ``hotmess`` for every data-handling command: one ``error:`` line, no traceback, nothing written.

Each case builds its inputs in ``tmp_path``, runs ``main(argv)`` in-process and checks that the exit code is
non-zero, stderr is exactly one line starting with ``error:`` that names the problem (``needle``), stdout is
empty, no API key shows, and the files under ``tmp_path`` are exactly as before (nothing created, nothing
touched). Complements the analyze/convert cases of ``test_cli_analyze.py`` and the run cases of
``tests/sampling/test_cli_run.py``; nothing here needs SmolLM2, lm-eval or a network.
"""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from hotmess.cli.main import main
from hotmess.data import RunStore
from hotmess.importers import import_inspect
from tests.importers.conftest import INSPECT, LM_EVAL
from tests.models.test_embedders import SECRET as EMBED_SECRET
from tests.models.test_embedders import EmbeddingStub
from tests.support.helpers import SECRET, free_port
from tests.support.stub_server import StubOpenAIServer

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "samples.csv"
LM_MC = next((LM_EVAL / "fewshot0").glob("samples_hm_mc_*.jsonl"))
BINARY = bytes(range(256)) * 64


@pytest.fixture(scope="module")
def openai_stub() -> Iterator[StubOpenAIServer]:
    with StubOpenAIServer() as server:
        yield server


@pytest.fixture(scope="module")
def embed_stub() -> Iterator[EmbeddingStub]:
    stub = EmbeddingStub()
    yield stub
    stub.close()


@pytest.fixture(scope="module")
def open_ended_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("oe") / "open.sqlite"
    import_inspect([INSPECT / "open_qa.eval"], path)
    return path


@dataclass
class Env:
    """What a case may use: a scratch folder, the stubs, a dead port, an existing file (``afile``)."""

    tmp: Path
    openai_url: str
    embed_url: str
    dead_url: str
    oe_source: Path

    def write(self, name: str, content: bytes | str) -> str:
        p = self.tmp / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(content if isinstance(content, bytes) else content.encode())
        return str(p)

    def dir(self, name: str) -> str:
        (self.tmp / name).mkdir(parents=True, exist_ok=True)
        return str(self.tmp / name)

    @property
    def afile(self) -> str:
        return self.write("afile.txt", "not a folder\n")

    @property
    def oe_store(self) -> str:
        """A copy of a store with open-ended answers (embed may write into it)."""
        dest = self.tmp / "open.sqlite"
        shutil.copyfile(self.oe_source, dest)
        return str(dest)

    def out(self, name: str) -> str:
        return str(self.tmp / name)

    def run(self, *extra: str, store: str | None = None, task: str = "generated:arithmetic") -> list[str]:
        """``hotmess run`` against the OpenAI stub, small; ``extra`` options come last and win."""
        return [
            "run",
            "--model",
            "openai:stub",
            "--base-url",
            self.openai_url,
            "--task",
            task,
            "--store",
            store or self.out("runs.sqlite"),
            "--limit",
            "2",
            "--contexts",
            "1",
            "--samples",
            "1",
            "--no-progress",
            *extra,
        ]

    def local(self, spec: str) -> list[str]:
        """``hotmess run`` of a local model spec (no endpoint)."""
        return ["run", "--model", spec, "--store", self.out("runs.sqlite"), "--limit", "1", "--no-progress"]

    def anthropic(self, *urls: str) -> list[str]:
        base = [a for u in urls for a in ("--base-url", u)]
        return [*self.local("anthropic:claude-x"), *base, "--contexts", "1", "--samples", "1"]

    def embed(self, *extra: str) -> list[str]:
        """``hotmess embed`` of the open-ended store through the embeddings stub."""
        return ["embed", self.oe_store, "--embedder", "openai:emb", "--base-url", self.embed_url, *extra]


@dataclass(frozen=True)
class Case:
    name: str
    argv: Callable[[Env], list[str]]
    needle: str
    """Text the error line must contain (the problem or the option at fault)."""
    setup: Callable[[Env, pytest.MonkeyPatch, StubOpenAIServer, EmbeddingStub], None] | None = None
    needs: str | None = None
    """A module the case needs (skipped without it)."""
    may_leave_empty_store: bool = False
    """A backend failure after the store was opened: a new store holding no samples (its run marked failed)."""


def _sqlite_foreign(env: Env) -> str:
    path = env.tmp / "other_app.sqlite"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE users (name TEXT)")
    con.commit()
    con.close()
    return str(path)


def _empty_store(env: Env) -> str:
    RunStore(env.tmp / "empty_store.sqlite").close()
    return str(env.tmp / "empty_store.sqlite")


def _zip_not_eval(env: Env) -> str:
    path = env.tmp / "notes.eval"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("hello.txt", "hi")
    return str(path)


def _unauthorized(env: Env, mp: pytest.MonkeyPatch, openai: StubOpenAIServer, emb: EmbeddingStub) -> None:
    openai.fail_next("unauthorized", times=100)


def _embed_unauthorized(env: Env, mp: pytest.MonkeyPatch, openai: StubOpenAIServer, emb: EmbeddingStub) -> None:
    mp.setenv("HOTMESS_CAMPAIGN_EMBED_KEY", EMBED_SECRET)
    emb.plan[:] = [401] * 8


def _no_retry_sleep(env: Env, mp: pytest.MonkeyPatch, openai: StubOpenAIServer, emb: EmbeddingStub) -> None:
    from hotmess.models import _retry

    # the embedder retries connection errors with backoff: no waiting here
    mp.setattr(_retry, "backoff_delay", lambda attempt, **kw: 0.0)


def _import(kind: str, name: str, args: Callable[[Env], list[str]], needle: str) -> Case:
    """``hotmess import KIND`` into a fresh store (``args`` may override ``-s``)."""
    return Case(f"import {kind}: {name}", lambda e: ["import", kind, "-s", e.out("s.sqlite"), *args(e)], needle)


def _synthetic(name: str, args: list[str], needle: str) -> Case:
    """``hotmess synthetic`` with a bad option: refused before anything is trained or written."""
    return Case(
        f"synthetic: {name}", lambda e: ["synthetic", "--out", e.out("syn"), "--quiet", *args], needle, needs="torch"
    )


TRUNCATED_JSONL = '{"question": "q1", "choices": ["a", "b"], "answer": 0}\n{"question": "q2", "cho'

CASES = [
    # ---- usage errors (typer/click): one line too, not click's multi-line usage block
    Case("usage: missing --store", lambda e: ["run"], "--store"),
    Case("usage: count not an integer", lambda e: e.run("--contexts", "abc"), "--contexts"),
    Case("usage: unknown option", lambda e: ["analyze", str(EXAMPLE), "--colour"], "--colour"),
    Case("usage: unknown command", lambda e: ["frobnicate"], "frobnicate"),
    Case("usage: import without logs", lambda e: ["import", "inspect"], "logs"),
    # ---- run: the task file
    Case("run: task is a directory", lambda e: e.run(task=e.dir("tasks.csv")), "directory"),
    Case("run: empty task file", lambda e: e.run(task=e.write("t.csv", "")), "empty"),
    Case("run: header-only task", lambda e: e.run(task=e.write("t.csv", "question,A,B,C,D,answer\n")), "no rows"),
    Case("run: foreign task columns", lambda e: e.run(task=e.write("t.csv", "x,y\n1,2\n")), "task format"),
    Case("run: truncated task jsonl", lambda e: e.run(task=e.write("t.jsonl", TRUNCATED_JSONL)), "line 2"),
    Case("run: binary task file", lambda e: e.run(task=e.write("t.csv", b"\xff\xfe\x00\x81" * 300)), "UTF-8"),
    Case("run: task of unknown type", lambda e: e.run(task=e.write("t.xlsx", "x")), ".xlsx"),
    # ---- run: the store
    Case("run: store under a file", lambda e: e.run(store=e.afile + "/runs.sqlite"), "is a file"),
    Case("run: store is a directory", lambda e: e.run(store=e.dir("runs.sqlite")), "not a hotmess run store"),
    Case("run: store is binary", lambda e: e.run(store=e.write("runs.sqlite", BINARY)), "not a hotmess run store"),
    Case("run: store of another app", lambda e: e.run(store=_sqlite_foreign(e)), "other tables"),
    Case("run: store named .parquet", lambda e: e.run(store=e.out("runs.parquet")), "samples file"),
    # ---- run: option values
    Case("run: negative contexts", lambda e: e.run("--contexts", "-1"), "n_contexts"),
    Case("run: zero samples", lambda e: e.run("--samples", "0"), "samples_per_context"),
    Case("run: negative k-shot", lambda e: e.run("--k-shot", "-1"), "k_shot"),
    Case("run: limit 0", lambda e: e.run("--limit", "0"), "limit"),
    Case("run: negative limit", lambda e: e.run("--limit", "-1"), "limit"),  # was: all but the last question
    Case("run: max-tokens 0", lambda e: e.run("--max-tokens", "0"), "max_tokens"),
    Case("run: negative temperature", lambda e: e.run("--temperature", "-1"), "temperature"),
    Case("run: NaN temperature", lambda e: e.run("--temperature", "nan"), "temperature"),
    Case("run: concurrency 0", lambda e: e.run("--concurrency", "0"), "concurrency"),
    Case("run: negative retries", lambda e: e.run("--retries", "-1"), "max_retries"),
    Case("run: negative max-samples", lambda e: e.run("--max-samples", "-1"), "max_samples"),
    Case("run: max-total-tokens 0", lambda e: e.run("--max-total-tokens", "0"), "max_total_tokens"),
    Case("run: negative price", lambda e: e.run("--price-per-mtok", "-1"), "price_per_mtok"),
    Case("run: max-cost without price", lambda e: e.run("--max-cost", "1"), "--price-per-mtok"),
    Case("run: unknown scoring", lambda e: e.run("--scoring", "vibes"), "vibes"),
    Case("run: negative seed", lambda e: e.run("--seed", "-1"), "seed"),
    Case("run: bad thinking budget", lambda e: e.run("--budget", "think:lots"), "think:lots"),
    Case("run: option without =", lambda e: e.run("--option", "batch_size"), "KEY=VALUE"),
    Case("run: empty model name", lambda e: e.run("--model", "openai:"), "openai:"),
    Case("run: local model missing", lambda e: e.local("local:/nonexistent/model"), "/nonexistent/model"),
    Case("run: local model not a model", lambda e: e.local("local:" + e.afile), "afile.txt"),
    Case("run: base URL for a local model", lambda e: e.run("--model", "smollm2"), "--base-url"),
    Case("run: base URL not a URL", lambda e: e.run("--base-url", "not a url"), "not a url"),
    Case(
        "run: credentials in the base URL", lambda e: e.run("--base-url", f"http://u:{SECRET}@127.0.0.1:9/v1"), "user:"
    ),
    Case("run: key inside extra_body", lambda e: e.run("--option", f'extra_body={{"api_key": "{SECRET}"}}'), "API key"),
    # ---- run: the endpoint
    Case("run: api-key-env unset", lambda e: e.run("--api-key-env", "HOTMESS_CAMPAIGN_UNSET"), "HOTMESS_CAMPAIGN"),
    Case("run: wrong key", lambda e: e.run(), "OPENAI_API_KEY", setup=_unauthorized, may_leave_empty_store=True),
    Case("run: anthropic unreachable", lambda e: e.anthropic(e.dead_url), "127.0.0.1", may_leave_empty_store=True),
    Case("run: two anthropic base URLs", lambda e: e.anthropic(e.dead_url, e.dead_url), "--base-url"),
    # ---- analyze
    Case("analyze: out under a file", lambda e: ["analyze", str(EXAMPLE), "-o", e.afile + "/r.json"], "is a file"),
    Case("analyze: out is a directory", lambda e: ["analyze", str(EXAMPLE), "-o", e.dir("r.json")], "directory"),
    Case("analyze: NaN delta", lambda e: ["analyze", str(EXAMPLE), "--delta", "nan"], "--delta"),
    Case("analyze: negative n-boot", lambda e: ["analyze", str(EXAMPLE), "--n-boot", "-1"], "--n-boot"),
    Case("analyze: truncated jsonl", lambda e: ["analyze", e.write("s.jsonl", '{"question_id": "q1", "a')], "s.jsonl"),
    Case("analyze: foreign jsonl", lambda e: ["analyze", e.write("s.jsonl", '{"foo": 1}\n')], "missing column"),
    Case("analyze: foreign sqlite", lambda e: ["analyze", _sqlite_foreign(e)], "other tables"),
    Case("analyze: empty .sqlite file", lambda e: ["analyze", e.write("s.sqlite", "")], "empty"),
    Case("analyze: store without samples", lambda e: ["analyze", _empty_store(e)], "no samples"),
    # ---- convert
    Case("convert: dest under a file", lambda e: ["convert", str(EXAMPLE), e.afile + "/x.parquet"], "is a file"),
    Case("convert: dest is a directory", lambda e: ["convert", str(EXAMPLE), e.dir("x.csv")], "directory"),
    Case("convert: src is a directory", lambda e: ["convert", e.dir("in.csv"), e.out("x.parquet")], "directory"),
    Case("convert: empty src", lambda e: ["convert", e.write("in.csv", ""), e.out("x.parquet")], "in.csv"),
    Case("convert: into a binary .sqlite", lambda e: ["convert", str(EXAMPLE), e.write("x.sqlite", BINARY)], "store"),
    Case("convert: into a foreign db", lambda e: ["convert", str(EXAMPLE), _sqlite_foreign(e)], "other tables"),
    Case("convert: unknown run", lambda e: ["convert", str(EXAMPLE), e.out("x.parquet"), "--run", "r9"], "r9"),
    Case("convert: bad suffix, new folder", lambda e: ["convert", str(EXAMPLE), e.out("new/x.xlsx")], ".xlsx"),
    # ---- import inspect
    _import("inspect", "missing log", lambda e: [e.out("nope.eval")], "does not exist"),
    _import("inspect", "empty folder", lambda e: [e.dir("logs")], "no Inspect logs"),
    _import("inspect", "empty .eval", lambda e: [e.write("a.eval", "")], "a.eval"),
    _import(
        "inspect",
        "truncated .json",
        lambda e: [e.write("a.json", (INSPECT / "mc_quiz.json").read_text()[:500])],
        "a.json",
    ),
    _import("inspect", "foreign .json", lambda e: [e.write("a.json", '{"hello": "world"}')], "a.json"),
    _import("inspect", "binary .json", lambda e: [e.write("a.json", b"\xff\xfe" * 100)], "a.json"),
    _import("inspect", "zip that is not a log", lambda e: [_zip_not_eval(e)], "notes.eval"),
    _import("inspect", "samples csv given as log", lambda e: [str(EXAMPLE)], ".csv"),
    _import("inspect", "unknown reader", lambda e: [str(INSPECT / "mc_quiz.eval"), "--reader", "magic"], "magic"),
    _import("inspect", "negative n-boot", lambda e: [str(INSPECT / "mc_quiz.eval"), "--n-boot", "-1"], "--n-boot"),
    _import("inspect", "unknown scorer", lambda e: [str(INSPECT / "mc_quiz.eval"), "--scorer", "nope"], "nope"),
    _import(
        "inspect", "kind that does not fit", lambda e: [str(INSPECT / "mc_quiz.eval"), "--kind", "test-vector"], "tests"
    ),
    Case(
        "import inspect: store under a file",
        lambda e: ["import", "inspect", str(INSPECT / "mc_quiz.eval"), "-s", e.afile + "/s.sqlite"],
        "is a file",
    ),
    Case(
        "import inspect: store named .parquet",
        lambda e: ["import", "inspect", str(INSPECT / "mc_quiz.eval"), "-s", e.out("s.parquet")],
        "samples file",
    ),
    Case(
        "import inspect: binary store",
        lambda e: ["import", "inspect", str(INSPECT / "mc_quiz.eval"), "-s", e.write("s.sqlite", BINARY)],
        "not a hotmess run store",
    ),
    # ---- import lm-eval
    _import("lm-eval", "missing file", lambda e: [e.out("samples_x_1.jsonl")], "does not exist"),
    _import("lm-eval", "empty folder", lambda e: [e.dir("lm")], "no lm-eval samples"),
    _import("lm-eval", "empty file", lambda e: [e.write("samples_x_1.jsonl", "")], "no sample records"),
    _import("lm-eval", "truncated", lambda e: [e.write("samples_x_1.jsonl", LM_MC.read_text()[:700])], "line 1"),
    _import("lm-eval", "foreign records", lambda e: [e.write("samples_x_1.jsonl", '{"foo": 1}\n')], "doc_id"),
    _import("lm-eval", "binary", lambda e: [e.write("samples_x_1.jsonl", b"\xff\xfe" * 100)], "UTF-8"),
    _import("lm-eval", "samples csv given", lambda e: [str(EXAMPLE)], ".csv"),  # was: 0 samples imported, exit 0
    _import("lm-eval", "unknown filter", lambda e: [str(LM_MC), "--filter", "nope"], "nope"),
    _import("lm-eval", "negative n-boot", lambda e: [str(LM_MC), "--n-boot", "-1"], "--n-boot"),
    _import("lm-eval", "tokenizer folder missing", lambda e: [str(LM_MC), "--tokenizer", e.out("tok")], "tok"),
    _import("lm-eval", "store under a file", lambda e: [str(LM_MC), "-s", e.afile + "/s.sqlite"], "is a file"),
    Case(
        "import lm-eval: tokenizer folder empty",
        lambda e: ["import", "lm-eval", str(LM_MC), "--tokenizer", e.dir("tok"), "-s", e.out("s.sqlite")],
        "no tokenizer",
        needs="transformers",
    ),
    # ---- embed
    Case("embed: missing store", lambda e: ["embed", e.out("nope.sqlite")], "does not exist"),
    Case("embed: store is a directory", lambda e: ["embed", e.dir("s.sqlite")], "not a hotmess run store"),
    Case("embed: binary store", lambda e: ["embed", e.write("s.sqlite", BINARY)], "not a hotmess run store"),
    Case("embed: empty .sqlite file", lambda e: ["embed", e.write("s.sqlite", "")], "empty"),
    Case("embed: buckets 0", lambda e: e.embed("--buckets", "0"), "--buckets"),  # was: exit 0 with a note
    Case("embed: unknown length axis", lambda e: e.embed("--length", "words"), "words"),
    Case("embed: unknown embedder", lambda e: e.embed("--embedder", "bogus"), "bogus"),
    Case("embed: local embedder missing", lambda e: e.embed("--embedder", "local:/nonexistent"), "/nonexistent"),
    Case("embed: unknown task", lambda e: e.embed("--task", "nope"), "nope"),
    Case("embed: out of unknown type", lambda e: e.embed("--out", e.out("r.txt")), "r.txt"),
    Case("embed: plot of unknown type", lambda e: e.embed("--plot", e.out("p.txt")), "p.txt"),
    Case("embed: plot under a file", lambda e: e.embed("--plot", e.afile + "/p.png"), "is a file"),
    Case("embed: unreachable endpoint", lambda e: e.embed("--base-url", e.dead_url), "127.0.0.1", _no_retry_sleep),
    Case(
        "embed: wrong key",
        lambda e: e.embed("--api-key-env", "HOTMESS_CAMPAIGN_EMBED_KEY"),
        "HOTMESS_CAMPAIGN_EMBED_KEY",
        _embed_unauthorized,
    ),
    # ---- synthetic (rejected before any training)
    _synthetic("unknown preset", ["--preset", "huge"], "huge"),
    _synthetic("unreadable sizes", ["--sizes", "big"], "big"),
    _synthetic("steps 0", ["--steps", "0"], "steps"),
    _synthetic("negative learning rate", ["--lr", "-1"], "max_lr"),  # was: torch's ValueError after writing --out
    _synthetic("precision 50", ["--precision", "50"], "precision"),  # was: tokenizer's ValueError after writing --out
    _synthetic("negative temperature", ["--temperature", "-1"], "temperature"),
    _synthetic("rollouts per start, greedy", ["--rollouts-per-start", "4"], "temperature"),
    _synthetic("unknown start distribution", ["--start-distribution", "ring"], "ring"),
    _synthetic("n-boot 0", ["--n-boot", "0"], "n_boot"),
    _synthetic("unknown device", ["--device", "tpu"], "tpu"),
    _synthetic("negative threads", ["--threads", "-1"], "threads"),
    _synthetic("negative jobs", ["--jobs", "-1"], "jobs"),
    Case("synthetic: out is a file", lambda e: ["synthetic", "--out", e.afile, "--quiet"], "is a file", needs="torch"),
    Case(
        "synthetic: out under a file",
        lambda e: ["synthetic", "--out", e.afile + "/syn", "--quiet"],
        "Not a directory",
        needs="torch",
    ),
    Case(
        "synthetic: resume with a broken config.json",
        lambda e: ["synthetic", "--out", str(Path(e.write("syn/config.json", "{trunc")).parent), "--resume", "--quiet"],
        "config.json",
        needs="torch",
    ),
]


def _tree(root: Path) -> dict[str, str]:
    """Every file and folder under ``root`` with a digest of its bytes (folders: "dir")."""
    return {
        str(p.relative_to(root)): "dir" if p.is_dir() else hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
    }


def test_case_names_are_unique() -> None:
    names = [c.name for c in CASES]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input_is_one_error_line_and_writes_nothing(
    case: Case,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    openai_stub: StubOpenAIServer,
    embed_stub: EmbeddingStub,
    open_ended_store: Path,
) -> None:
    if case.needs:
        pytest.importorskip(case.needs)
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    monkeypatch.setenv("ANTHROPIC_API_KEY", SECRET)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    monkeypatch.delenv("HOTMESS_CAMPAIGN_UNSET", raising=False)
    env = Env(
        tmp=tmp_path,
        openai_url=openai_stub.url,
        embed_url=embed_stub.url,
        dead_url=f"http://127.0.0.1:{free_port()}/v1",
        oe_source=open_ended_store,
    )
    argv = case.argv(env)
    if case.setup is not None:
        case.setup(env, monkeypatch, openai_stub, embed_stub)
    before = _tree(tmp_path)
    try:
        code = main(argv)
    finally:
        openai_stub.clear_faults()
        embed_stub.plan.clear()
    out, err = capsys.readouterr()
    assert code != 0, f"exit 0 for {argv}\n{out}{err}"
    # `run` names its endpoint before the first request (a wrong endpoint costs money); the error is one line
    lines = [ln for ln in err.strip().splitlines() if not ln.startswith("endpoint: ")]
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "Traceback" not in err and "unexpected" not in err and "please report" not in err, err
    assert case.needle in lines[0], lines[0]
    assert SECRET not in err and EMBED_SECRET not in err
    assert out == ""
    after = _tree(tmp_path)
    if case.may_leave_empty_store:
        for name in set(after) - set(before):
            if name.endswith(".sqlite"):
                with RunStore(tmp_path / name, create=False) as store:
                    assert len(store) == 0 and set(store.runs()["status"]) == {"failed"}
                del after[name]
    assert after == before, "files were created or changed"
