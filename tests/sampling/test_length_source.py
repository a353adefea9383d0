"""The runner stores each sample's reasoning length, how it was obtained (``length_source``) and why it stopped.

Against the stub OpenAI-compatible server with separate ``reasoning_content`` of very different lengths per choice
(12,000, 300 and 3,000 characters): with native ``n = 3`` one ``completion_tokens`` total is split over the three
samples (``"estimated"``), with ``n = 1`` each sample has the API's exact count (``"api"``), and a provider with a
tokenizer counts answer plus reasoning itself (``"tokenizer"``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from hotmess.data import RunStore, read_samples
from hotmess.models import OpenAICompatProvider
from hotmess.models.base import Provider
from hotmess.sampling import RunConfig, RunStats, sample_task
from hotmess.tasks import load_task
from tests.support.stub_server import StubOpenAIServer

CHARS = [12_000, 300, 3_000]
REASONING_WORDS = [c // 4 for c in CHARS]  # the stub's reasoning text: one 3-letter word (one token) per 4 chars


@pytest.fixture
def stub() -> Iterator[StubOpenAIServer]:
    with StubOpenAIServer(reasoning_chars=CHARS) as server:
        yield server


class _TokenizerProvider(OpenAICompatProvider):
    """An OpenAI-compatible provider with the model's tokenizer at hand (the stub's: one token per word)."""

    def count_tokens(self, text: str) -> int:
        return len(text.split())


def _sample(
    stub: StubOpenAIServer, tmp_path: Path, spc: int, provider_cls: type[Provider] | None = None
) -> pd.DataFrame:
    config = RunConfig(
        model="openai:stub",
        task="generated:arithmetic",
        n_contexts=2,
        samples_per_context=spc,
        limit=4,
        model_options={"base_url": stub.url, "api_key_env": None},
    )
    task = load_task(config.task)

    async def go() -> RunStats:
        if provider_cls is None:
            from hotmess.models import resolve_model

            provider: Any = resolve_model(config.model, **config.model_options)
        else:
            provider = provider_cls("stub", base_url=stub.url, api_key_env=None)
        try:
            with RunStore(tmp_path / "s.sqlite") as store:
                return await sample_task(provider, task, store, config, progress=False)
        finally:
            await provider.aclose()

    stats = asyncio.run(go())
    assert stats.complete
    df = read_samples(tmp_path / "s.sqlite")
    assert len(df) == 4 * 2 * spc and df["error"].isna().all()
    return df


def _answer_words(df: pd.DataFrame) -> pd.Series:
    return df["raw_output"].str.split().str.len()


def test_native_n_lengths_are_split_by_reasoning_and_marked_estimated(stub: StubOpenAIServer, tmp_path: Path) -> None:
    df = _sample(stub, tmp_path, 3)
    assert (df["length_source"] == "estimated").all()
    assert (df["finish_reason"] == "stop").all()
    assert stub.stats()["requests"] == 4 * 2  # one request per (question, context): native n = 3
    for _, unit in df.groupby(["question_id", "context_id"]):
        unit = unit.sort_values("sample_index")
        tokens = unit["output_tokens"].tolist()
        # what the server generated: the answer's words plus the reasoning's, for each choice
        truth = (_answer_words(unit) + REASONING_WORDS).tolist()
        assert sum(tokens) == sum(truth)  # the request's completion_tokens, split exactly
        assert tokens[0] > tokens[2] > tokens[1], (tokens, truth)  # 12,000 > 3,000 > 300 characters
        assert tokens[0] > 2_500 and tokens[1] < 200


def test_one_sample_per_request_has_the_exact_api_count(stub: StubOpenAIServer, tmp_path: Path) -> None:
    df = _sample(stub, tmp_path, 1)
    assert (df["length_source"] == "api").all()
    # sample index 0 is choice 0 of its request: 12,000 characters of reasoning
    assert df["output_tokens"].tolist() == (_answer_words(df) + REASONING_WORDS[0]).tolist()


def test_a_provider_with_a_tokenizer_counts_answer_and_reasoning(stub: StubOpenAIServer, tmp_path: Path) -> None:
    df = _sample(stub, tmp_path, 3, _TokenizerProvider)
    assert (df["length_source"] == "tokenizer").all()
    expected = _answer_words(df) + df["sample_index"].map(dict(enumerate(REASONING_WORDS)))
    assert df["output_tokens"].tolist() == expected.tolist()  # exact per sample, not a share of a total
