"""The torch side of the local backend: loading, batched seeded generation, option scoring.

Everything here is synchronous and runs in a worker thread under the provider's lock. Imported lazily by
:mod:`hotmess.models.local`, so importing :mod:`hotmess.models` needs neither torch nor transformers.

Stopping: :meth:`LocalEngine.generate` and :meth:`LocalEngine.score` take a ``threading.Event``; once another
thread sets it, generation ends at the next decoding step (scoring at the next chunk) and the partial result
is returned for the caller to discard. This is how a cancelled request or a closing provider stops a batch
instead of waiting minutes for it.

Reproducibility
---------------
Batched rows are sampled by Gumbel-max with noise from a *per-row* CPU ``torch.Generator`` seeded with that
sample's seed: ``token = argmax(log_softmax(logits / T) - log(E))`` with ``E ~ Exp(1)`` drawn from the row's
own generator. A row's draws therefore depend only on its own seed and its own logits, not on which other
rows share the batch or on the device. Its logits can differ across batch compositions by float rounding
(different padding, different matmul shapes), so the same seed gives bit-identical text for the same batch
and practically (not provably) identical text across batches.
"""

from __future__ import annotations

import contextlib
import math
import os
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from transformers import (
    AutoModelForCausalLM,
    AutoTokenizer,
    GenerationConfig,
    LogitsProcessor,
    LogitsProcessorList,
    StoppingCriteria,
    StoppingCriteriaList,
)

__all__ = ["GenResult", "GenRow", "LocalEngine", "ScoreJob", "StopOnEvent"]

_MASK64 = (1 << 64) - 1


@dataclass(frozen=True)
class GenRow:
    """One sample to generate."""

    prompt_ids: tuple[int, ...]
    seed: int
    temperature: float
    max_tokens: int


@dataclass(frozen=True)
class GenResult:
    """What one row produced."""

    text: str
    output_tokens: int
    finish_reason: str


@dataclass(frozen=True)
class ScoreJob:
    """Options to score after one prompt."""

    prompt_ids: tuple[int, ...]
    option_ids: tuple[tuple[int, ...], ...]
    #: ``"next_token"`` (log-probability of each option's first token) or ``"continuation"`` (sum over tokens).
    mode: str


class _SeededSampler(LogitsProcessor):
    """Samples every row from its own generator and hands greedy search a one-hot score row."""

    def __init__(
        self,
        seeds: Sequence[int],
        temperatures: Sequence[float],
        limits: Sequence[int],
        *,
        eos_id: int,
        prompt_len: int,
    ) -> None:
        self.generators = [torch.Generator().manual_seed(s & _MASK64) for s in seeds]
        self.temperatures = list(temperatures)
        self.limits = list(limits)
        self.eos_id = eos_id
        self.prompt_len = prompt_len

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        step = input_ids.shape[1] - self.prompt_len
        logits = scores.detach().float().cpu()  # (B, V)
        chosen = torch.empty(logits.shape[0], dtype=torch.long)
        for i, (gen, temp, limit) in enumerate(zip(self.generators, self.temperatures, self.limits, strict=True)):
            if step >= limit:  # this row's own max_tokens is reached: end it
                chosen[i] = self.eos_id
            elif temp <= 0:
                chosen[i] = int(torch.argmax(logits[i]))
            else:
                logp = torch.log_softmax(logits[i] / temp, dim=-1)
                noise = torch.empty_like(logp).exponential_(generator=gen)
                chosen[i] = int(torch.argmax(logp - noise.log()))
        out = torch.full_like(scores, -math.inf)
        out[torch.arange(out.shape[0], device=out.device), chosen.to(out.device)] = 0.0
        return out  # type: ignore[return-value]


class StopOnEvent(StoppingCriteria):
    """Ends every row at the next decoding step once ``event`` is set (from any thread).

    Examples
    --------
    >>> event = threading.Event()
    >>> stop = StopOnEvent(event)
    >>> ids = torch.zeros((2, 5), dtype=torch.long)
    >>> stop(ids, None).tolist()
    [False, False]
    >>> event.set()
    >>> stop(ids, None).tolist()
    [True, True]
    """

    def __init__(self, event: threading.Event) -> None:
        self.event = event

    def __call__(self, input_ids: torch.LongTensor, scores: Any, **kwargs: Any) -> torch.BoolTensor:
        value = self.event.is_set()
        return torch.full((input_ids.shape[0],), value, dtype=torch.bool, device=input_ids.device)  # type: ignore[return-value]


class LocalEngine:
    """A loaded tokenizer and causal LM.

    Parameters
    ----------
    directory
        Local model directory (a Hugging Face checkout, or the folder of a GGUF file).
    gguf_file
        GGUF file name inside ``directory``, if loading from GGUF.
    device
        ``"auto"`` (CUDA, then MPS, then CPU), or a torch device string.
    dtype
        ``"auto"`` (float32 on CPU, bfloat16 on CUDA) or a torch dtype name.
    """

    def __init__(self, directory: str, gguf_file: str | None, *, device: str = "auto", dtype: str = "auto") -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        if device == "auto":
            if torch.cuda.is_available():
                device = "cuda"
            elif getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
                device = "mps"
            else:
                device = "cpu"
        if dtype == "auto":
            torch_dtype = torch.bfloat16 if device.startswith("cuda") else torch.float32
        else:
            torch_dtype = getattr(torch, dtype)
        kwargs: dict[str, Any] = {"local_files_only": True}
        if gguf_file:
            kwargs["gguf_file"] = gguf_file
        with _quiet_progress_bars():  # transformers' GGUF conversion bars would break our own progress display
            self.tokenizer = AutoTokenizer.from_pretrained(directory, **kwargs)
            self.model = AutoModelForCausalLM.from_pretrained(directory, dtype=torch_dtype, **kwargs)
        self.model.to(device)  # type: ignore[arg-type]
        self.model.eval()
        self.device = device
        tok = self.tokenizer
        eos: list[int] = []
        for value in (self.model.generation_config.eos_token_id, tok.eos_token_id):
            for v in value if isinstance(value, list) else [value]:
                if isinstance(v, int) and v not in eos:
                    eos.append(v)
        if not eos:
            raise ValueError("the tokenizer defines no end-of-sequence token")
        self.eos_ids = eos
        self.pad_id = tok.pad_token_id if tok.pad_token_id is not None else eos[0]

    # -- prompts ---------------------------------------------------------------------------------------------
    def prompt_ids(self, messages: Sequence[dict[str, str]], *, chat_template: bool) -> tuple[int, ...]:
        """Token ids of the prompt: the chat template with the assistant turn opened, or the joined text."""
        tok = self.tokenizer
        if chat_template and getattr(tok, "chat_template", None):
            text = tok.apply_chat_template(list(messages), add_generation_prompt=True, tokenize=False)
            return tuple(tok(text, add_special_tokens=False)["input_ids"])
        text = "\n\n".join(m["content"] for m in messages)
        return tuple(tok(text, add_special_tokens=True)["input_ids"])

    def encode(self, text: str) -> tuple[int, ...]:
        """Token ids of ``text`` without special tokens."""
        return tuple(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def _left_pad(self, rows: Sequence[Sequence[int]]) -> tuple[torch.Tensor, torch.Tensor]:
        length = max(len(r) for r in rows)
        ids = torch.full((len(rows), length), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(rows), length), dtype=torch.long)
        for i, r in enumerate(rows):
            if r:
                ids[i, length - len(r) :] = torch.tensor(r, dtype=torch.long)
                mask[i, length - len(r) :] = 1
        return ids.to(self.device), mask.to(self.device)

    # -- generation ------------------------------------------------------------------------------------------
    @torch.inference_mode()
    def generate(self, rows: Sequence[GenRow], *, stop: threading.Event | None = None) -> list[GenResult]:
        """Generate all ``rows`` in one batch (left padded), each with its own seed, temperature and cap.

        Once ``stop`` is set (by another thread), every row ends at the next decoding step; the results are then
        partial (``finish_reason`` ``"length"``) and meant to be discarded.
        """
        input_ids, mask = self._left_pad([r.prompt_ids for r in rows])
        prompt_len = input_ids.shape[1]
        limits = [max(0, r.max_tokens) for r in rows]
        sampler = _SeededSampler(
            [r.seed for r in rows],
            [r.temperature for r in rows],
            limits,
            eos_id=self.eos_ids[0],
            prompt_len=prompt_len,
        )
        config = GenerationConfig(
            max_new_tokens=max(1, max(limits)),
            do_sample=False,
            num_beams=1,
            eos_token_id=self.eos_ids,
            pad_token_id=self.pad_id,
        )
        out = self.model.generate(
            input_ids=input_ids,
            attention_mask=mask,
            generation_config=config,
            logits_processor=LogitsProcessorList([sampler]),
            stopping_criteria=StoppingCriteriaList([StopOnEvent(stop or threading.Event())]),
        )
        generated = out[:, prompt_len:].tolist()
        eos = set(self.eos_ids)
        results = []
        for tokens, limit in zip(generated, limits, strict=True):
            end = next((j for j, t in enumerate(tokens) if t in eos), None)
            if end is not None and end < limit:
                kept, finish = tokens[:end], "stop"
            else:
                kept, finish = tokens[: min(limit, len(tokens) if end is None else end)], "length"
            text = str(self.tokenizer.decode(kept, skip_special_tokens=True))
            results.append(GenResult(text=text, output_tokens=len(kept), finish_reason=finish))
        return results

    # -- scoring ---------------------------------------------------------------------------------------------
    @torch.inference_mode()
    def score(
        self, jobs: Sequence[ScoreJob], *, max_rows: int, stop: threading.Event | None = None
    ) -> list[list[float]]:
        """Log-likelihood of each option of each job (one list per job, in option order).

        Once ``stop`` is set, no further chunk of ``max_rows`` rows is run (the result is then incomplete).
        """
        rows: list[tuple[int, int, tuple[int, ...], int]] = []  # (job, option or -1, ids, option length)
        for j, job in enumerate(jobs):
            if job.mode == "next_token":
                rows.append((j, -1, job.prompt_ids, 0))
            else:
                for c, opt in enumerate(job.option_ids):
                    rows.append((j, c, job.prompt_ids + opt, len(opt)))
        out: list[list[float]] = [[0.0] * len(job.option_ids) for job in jobs]
        for start in range(0, len(rows), max_rows):
            if stop is not None and stop.is_set():
                break
            chunk = rows[start : start + max_rows]
            ids, mask = self._left_pad([r[2] for r in chunk])
            keep = max(r[3] for r in chunk) + 1
            positions = (mask.cumsum(-1) - 1).clamp(min=0)
            logits = self.model(input_ids=ids, attention_mask=mask, position_ids=positions, logits_to_keep=keep).logits
            logp = torch.log_softmax(logits.float(), dim=-1).cpu()  # (rows, keep, V); last = next token
            for i, (j, c, seq, k) in enumerate(chunk):
                if c < 0:
                    last = logp[i, -1]
                    for cc, opt in enumerate(jobs[j].option_ids):
                        out[j][cc] = float(last[opt[0]])
                else:
                    # option tokens sit at the last k positions; each is predicted one position earlier
                    total = 0.0
                    for t in range(k):
                        total += float(logp[i, keep - 1 - k + t, seq[len(seq) - k + t]])
                    out[j][c] = total
        return out


@contextlib.contextmanager
def _quiet_progress_bars() -> Iterator[None]:
    """Silence transformers' loading bars while a model loads; restore afterwards.

    The GGUF converter calls ``tqdm`` directly (tqdm reads ``TQDM_DISABLE`` only at import), so its module-level
    name is swapped for a disabled ``tqdm`` for the duration of the load.
    """
    import functools

    from transformers import modeling_gguf_pytorch_utils as gguf_utils
    from transformers.utils import logging as hf_logging

    enabled = hf_logging.is_progress_bar_enabled()
    original = getattr(gguf_utils, "tqdm", None)
    hf_logging.disable_progress_bar()
    if original is not None:
        gguf_utils.tqdm = functools.partial(original, disable=True)
    try:
        yield
    finally:
        if original is not None:
            gguf_utils.tqdm = original
        if enabled:
            hf_logging.enable_progress_bar()
