"""The small async interface every model backend implements.

A provider turns one :class:`GenerateRequest` into ``request.n`` :class:`Completion` objects. Failures are
raised, never returned as text: a :class:`RetryableError` (rate limit, 5xx, timeout, dropped connection,
malformed response) is retried by the runner with backoff; anything else -- typically a
:class:`hotmess.errors.BackendError` (bad URL, bad key, unknown model) -- stops the run with one clear line.
"""

from __future__ import annotations

import abc
import dataclasses
from dataclasses import dataclass, field
from typing import Any, TypeVar

from hotmess.errors import ConfigError

__all__ = [
    "Completion",
    "GenerateRequest",
    "Provider",
    "RetryableError",
    "make_config",
]

C = TypeVar("C")


def make_config(cls: type[C], backend: str, **values: Any) -> C:
    """``cls(**values)`` for a backend's config dataclass; an unknown option is a one-line ConfigError.

    Examples
    --------
    >>> @dataclass
    ... class Cfg:
    ...     model: str
    ...     timeout_s: float = 60.0
    >>> try:
    ...     make_config(Cfg, "demo", model="m", timeout=5)
    ... except ConfigError as err:
    ...     print(err)
    unknown option timeout for the demo backend (use one of model, timeout_s)
    """
    known = [f.name for f in dataclasses.fields(cls)]  # type: ignore[arg-type]
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise ConfigError(
            f"unknown option {', '.join(unknown)} for the {backend} backend", hint=f"use one of {', '.join(known)}"
        )
    return cls(**values)


@dataclass(frozen=True, slots=True)
class GenerateRequest:
    """What to ask the model for one batch of samples of one prompt.

    Attributes
    ----------
    messages
        Chat messages ``[{"role": ..., "content": ...}]``; completion-style backends join their contents.
    n
        Number of samples wanted for this prompt (providers that cannot do ``n`` loop or batch).
    seeds
        One seed per sample (``len(seeds) == n``) or ``None``; providers pass them where the API allows.
    max_tokens
        Cap on generated tokens per sample.
    temperature
        Sampling temperature (test-time randomness comes from contexts *and* from sampling).
    reasoning_effort
        Provider-specific reasoning setting (OpenAI ``reasoning_effort`` "low"/"medium"/"high").
    thinking_budget
        Extended-thinking token budget (Anthropic); ``None`` disables thinking.
    options
        Option texts (e.g. ``["A", "B", "C", "D"]``) for log-likelihood scoring; when given, a provider that
        supports scoring returns one probability vector per sample instead of generating.
    extra
        Free-form provider options, passed through unchanged.
    """

    messages: tuple[dict[str, str], ...]
    n: int = 1
    seeds: tuple[int, ...] | None = None
    max_tokens: int = 512
    temperature: float = 1.0
    reasoning_effort: str | None = None
    thinking_budget: int | None = None
    options: tuple[str, ...] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def prompt(self) -> str:
        """The messages' contents joined, for completion-style backends."""
        return "\n\n".join(m["content"] for m in self.messages)


@dataclass(frozen=True, slots=True)
class Completion:
    """One sample returned by a provider.

    Attributes
    ----------
    text
        The visible answer text (``""`` when the model produced none).
    output_tokens
        Generated tokens of this sample, reasoning included, as the backend counted them (API usage, or the
        local tokenizer); for OpenAI-style APIs this includes hidden reasoning tokens. When one request returned
        several samples with one total, each sample's share of it (see ``length_source``); ``None`` when no
        count is known.
    reasoning_tokens
        Hidden reasoning tokens of this sample when the API reports them, else ``None``.
    probs
        Probability vector over ``request.options`` (log-likelihood scoring), else ``None``.
    finish_reason
        Why generation stopped (``"stop"``, ``"length"``, ...; ``"score"`` for scoring).
    input_tokens
        Prompt tokens as the backend counted them, if known.
    reasoning
        Visible reasoning or thinking text returned beside the answer (Anthropic thinking blocks,
        ``reasoning_content`` of reasoning servers), else ``None``.
    length_source
        How ``output_tokens`` was obtained (the sample column of the same name,
        :data:`hotmess.data.schema.LENGTH_SOURCES`): ``"api"`` — the API's usage for this one sample;
        ``"tokenizer"`` — counted by the backend's own tokenizer (local models count the tokens they generate,
        exactly); ``"estimated"`` — one API total for several samples of one request, split over them in
        proportion to their answer plus reasoning text length. ``None`` when ``output_tokens`` is ``None``.
    """

    text: str
    output_tokens: int | None = None
    reasoning_tokens: int | None = None
    probs: tuple[float, ...] | None = None
    finish_reason: str | None = None
    input_tokens: int | None = None
    reasoning: str | None = None
    length_source: str | None = None


class RetryableError(Exception):
    """A transient failure; the runner retries it with backoff.

    Parameters
    ----------
    kind
        Short classification used in progress and error counts: ``"rate_limit"``, ``"server"``,
        ``"timeout"``, ``"connection"``, ``"malformed"``, ``"empty"``.
    retry_after
        Seconds the server asked us to wait (``Retry-After``), if it said.
    """

    def __init__(self, kind: str, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(f"{kind}: {message}")
        self.kind = kind
        self.retry_after = retry_after


class Provider(abc.ABC):
    """A model backend.

    Subclasses set :attr:`name` (the model name recorded with every sample) and implement :meth:`generate`.
    """

    #: Model name recorded with every sample.
    name: str = ""
    #: Largest number of requests the runner should have in flight against this provider at once.
    max_concurrency: int = 8
    #: Whether the backend honours ``GenerateRequest.n`` natively (one request, n samples).
    supports_n: bool = False

    @abc.abstractmethod
    async def generate(self, request: GenerateRequest) -> list[Completion]:
        """Return exactly ``request.n`` completions, or raise."""

    def should_retry(self, error: BaseException) -> bool:
        """Whether ``error`` is transient; the default retries :class:`RetryableError` only."""
        return isinstance(error, RetryableError)

    async def aclose(self) -> None:  # noqa: B027 - optional hook
        """Release connections and models."""

    @property
    def endpoints(self) -> tuple[str, ...]:
        """The URLs requests are sent to, one per replica; empty for local models.

        Safe to print (URLs never carry credentials: a base URL with ``user:password@`` is refused), e.g. as
        ``endpoint: <url>`` when a run starts, so that a wrong ``OPENAI_BASE_URL`` shows before any request.
        """
        return ()

    def describe(self) -> dict[str, Any]:
        """The resolved, secret-free configuration to save with a run (override to add options)."""
        return {"provider": type(self).__name__, "name": self.name}
