"""The configuration of one sampling run, saved with the run in the store."""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import asdict, dataclass, field
from typing import Any

from hotmess.errors import ConfigError

__all__ = ["TRANSPORT_OPTIONS", "Budget", "RunConfig", "canonical_model", "identity_of"]


#: The ``hotmess run`` option of each config field, so that errors name what the user typed.
_FLAGS = {
    "n_contexts": "--contexts",
    "samples_per_context": "--samples",
    "k_shot": "--k-shot",
    "max_tokens": "--max-tokens",
    "limit": "--limit",
    "max_samples": "--max-samples",
    "max_total_tokens": "--max-total-tokens",
    "concurrency": "--concurrency",
    "max_cost": "--max-cost",
    "price_per_mtok": "--price-per-mtok",
    "max_retries": "--retries",
    "max_consecutive_failures": "--max-consecutive-failures",
    "seed": "--seed",
    "temperature": "--temperature",
    "target_ci": "--target-ci",
    "first_contexts": "--first-round",
    "max_rounds": "--max-rounds",
}


#: Version of the adaptive allocation rule (:mod:`hotmess.sampling.adaptive`), part of an adaptive run's identity:
#: bumped when the rule changes, so that a stored adaptive run is never resumed under another rule.
ADAPTIVE_DESIGN_VERSION = 1


def _name(field_name: str) -> str:
    """``n_contexts (--contexts)``: the field and its command-line option."""
    flag = _FLAGS.get(field_name)
    return f"{field_name} ({flag})" if flag else field_name


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._]+", "-", text).strip("-")[:40]


@dataclass(frozen=True)
class Budget:
    """A reasoning budget: a label recorded with each sample and the settings it maps to."""

    label: str = ""
    """Recorded in the ``budget`` column ("" = the default budget)."""
    max_tokens: int | None = None
    """Cap on generated tokens under this budget (None: the run's ``max_tokens``)."""
    reasoning_effort: str | None = None
    """OpenAI-style ``reasoning_effort`` ("low", "medium", "high")."""
    thinking_budget: int | None = None
    """Anthropic extended-thinking budget in tokens."""

    @classmethod
    def parse(cls, text: str) -> Budget:
        """Parse ``low``/``medium``/``high`` (reasoning effort), ``think:N`` (thinking tokens) or ``tokens:N``.

        Examples
        --------
        >>> Budget.parse("high").reasoning_effort, Budget.parse("think:1024").thinking_budget
        ('high', 1024)
        """
        t = text.strip()
        if t in ("", "default"):
            return cls()
        m = re.fullmatch(r"(think|tokens):(\d+)", t)
        if m:
            n = int(m.group(2))
            return cls(label=t, thinking_budget=n) if m.group(1) == "think" else cls(label=t, max_tokens=n)
        effort = t.removeprefix("effort:")
        if re.fullmatch(r"[a-z][a-z0-9_-]{0,31}", effort):
            # Any effort word goes to the server as it is (none, minimal, low, medium, high, xhigh, and newer
            # ones): the server, not hotmess, knows which efforts its models accept.
            return cls(label=effort, reasoning_effort=effort)
        raise ConfigError(
            f"unknown budget {text!r}",
            hint="use a reasoning effort (none, minimal, low, medium, high, xhigh, ...), think:N (thinking "
            "tokens) or tokens:N (output cap)",
        )


#: Option names that hold a credential (compared without ``-``/``_`` and case), and endings that mark one.
_SECRET_NAMES = frozenset({"key", "apikey", "token", "accesstoken", "authtoken", "secret", "password", "authorization"})
_SECRET_ENDINGS = ("apikey", "secretkey", "accesskey", "privatekey", "accesstoken", "authtoken", "secret", "password")
#: Key-shaped values (``sk-...``, ``Bearer ...``), refused whatever the option is called.
_KEY_SHAPED = re.compile(r"^(sk-ant-|sk-|sk_|Bearer\s+)[A-Za-z0-9_\-]{12,}$")


def _secret_option(options: Any) -> str | None:
    """The first (nested) option that holds a credential (``extra_body={"api_key": ...}`` too), or None.

    Examples
    --------
    >>> _secret_option({"extra_body": {"x-api-key": "abc"}}), _secret_option({"unknown_key": 1})
    ('x-api-key', None)
    """
    if isinstance(options, dict):
        for k, v in options.items():
            name = re.sub(r"[-_\s]", "", str(k).lower())
            if name in _SECRET_NAMES or name.endswith(_SECRET_ENDINGS):
                return str(k)
            if isinstance(v, str) and _KEY_SHAPED.match(v.strip()):
                return str(k)
            found = _secret_option(v)
            if found:
                return found
    if isinstance(options, list | tuple):
        for v in options:
            found = _secret_option(v)
            if found:
                return found
    return None


#: Backend options that change how requests travel, never what a sample is: they are left out of the run's
#: identity, so that resuming with another timeout, replica list or host spelling continues the same run.
TRANSPORT_OPTIONS = frozenset(
    {
        "base_url",
        "base_urls",
        "api_key_env",
        "timeout_s",
        "max_concurrency",
        "max_connections",
        "routing",
        "fail_fast_unreachable",
        "cooldown_s",
        "n_mode",
        "max_tokens_param",
        "api_version",
        "device",
        "max_batch_size",
        "batch_wait_s",
        "num_threads",
    }
)


def canonical_model(spec: str) -> str:
    """The ``backend:model`` form of a model spec (Inspect's ``backend/model`` is accepted too).

    Examples
    --------
    >>> canonical_model("openai/gpt-4o-mini"), canonical_model("local:/models/x"), canonical_model("smollm2")
    ('openai:gpt-4o-mini', 'local:/models/x', 'smollm2')
    """
    from hotmess.models import parse_model_spec

    backend, rest = parse_model_spec(spec)
    return f"{backend}:{rest}" if rest else spec.strip()


@dataclass(frozen=True)
class RunConfig:
    """Everything that determines a run's samples. Its hash names the run, so rerunning resumes it."""

    model: str
    """Model spec, e.g. ``smollm2``, ``openai:gpt-4o-mini``, ``anthropic:claude-...``, ``local:/path``."""
    task: str
    """Task spec: a file path or ``generated:<name>``."""
    n_contexts: int = 10
    """Few-shot contexts per question (SPEC §2 default: 10)."""
    samples_per_context: int = 3
    """Samples per context (SPEC §2 default: 3; 10 × 3 = 30 per question)."""
    k_shot: int = 3
    """Exemplars per few-shot context."""
    fmt: str | None = None
    """Prompt format: ``letter``, ``prob``, ``answer_tag`` (None: the task's default)."""
    shuffle_options: bool = True
    """Shuffle option order per context (recorded; answers are stored in the original order)."""
    scoring: str = "generate"
    """``generate`` (sample text and extract the answer) or ``loglik`` (score the options; local models)."""
    temperature: float = 1.0
    """Sampling temperature."""
    max_tokens: int = 512
    """Cap on generated tokens per sample."""
    budgets: tuple[Budget, ...] = (Budget(),)
    """Reasoning budgets; every question is sampled under each."""
    seed: int = 0
    """Root seed: contexts and per-sample seeds derive from it."""
    limit: int | None = None
    """Use only the first ``limit`` questions of the task."""
    max_samples: int | None = None
    """Stop after this many new samples."""
    max_total_tokens: int | None = None
    """Stop once this many output tokens have been generated in this invocation."""
    max_cost: float | None = None
    """Stop once the estimated cost (``price_per_mtok`` × output tokens) reaches this, in currency units."""
    price_per_mtok: float | None = None
    """Price per million output tokens, for the cost estimate."""
    concurrency: int | None = None
    """Requests in flight (None: the provider's own limit)."""
    max_retries: int = 6
    """Attempts after the first for a transient failure."""
    max_retry_seconds: float = 600.0
    """Give up retrying a request after this long in total."""
    max_consecutive_failures: int = 20
    """Circuit breaker: stop the run once this many attempts in a row found the endpoint unreachable
    (connection refused or dropped, timeouts) over at least ``max_failure_seconds``; 0 turns it off."""
    max_failure_seconds: float = 60.0
    """Circuit breaker: how long failures must have lasted without one success before the run stops."""
    shard: tuple[int, int] | None = None
    """``(k, n)``: sample only the k-th of n disjoint parts of the run (1 ≤ k ≤ n), for one machine of n; the
    parts are one run (the shard is not part of its identity) and their stores merge with ``hotmess convert``."""
    model_options: dict[str, Any] = field(default_factory=dict)
    """Backend options (base URLs, batch size, device, ...). Never holds API keys."""
    task_options: dict[str, Any] = field(default_factory=dict)
    """Options passed to the task loader (e.g. ``n_per_level``, ``levels`` of a generated task; ``target`` of
    a Model-Written-Evals file)."""
    target_ci: float | None = None
    """Adaptive sampling (:mod:`hotmess.sampling.adaptive`): stop once the half-width of the dataset
    incoherence's bootstrap interval is at most this. None: the fixed contexts × samples protocol. In an
    adaptive run ``n_contexts`` is the most contexts a question can get and ``samples_per_context`` the samples
    of every context."""
    first_contexts: int = 2
    """Adaptive runs: contexts of every question in the first round."""
    max_rounds: int | None = None
    """Adaptive runs: stop after this many rounds (None: no limit)."""
    target_level: float = 0.95
    """Adaptive runs: confidence level of the interval whose half-width is compared with ``target_ci``."""

    def __post_init__(self) -> None:
        for name in ("n_contexts", "samples_per_context"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{_name(name)} must be at least 1", hint="see `hotmess run --help`")
        if self.seed < 0:  # checked here, before the store is created
            raise ConfigError(f"{_name('seed')} must be ≥ 0, got {self.seed}", hint="e.g. --seed 0")
        if self.k_shot < 0:
            raise ConfigError(f"{_name('k_shot')} must be ≥ 0", hint="use 0 for zero-shot prompts")
        if self.scoring not in ("generate", "loglik"):
            raise ConfigError(f"unknown scoring {self.scoring!r}", hint="use generate or loglik")
        if not 0 <= self.temperature < math.inf:  # also refuses NaN
            raise ConfigError(
                f"{_name('temperature')} must be a finite number ≥ 0, got {self.temperature}", hint="e.g. 1.0"
            )
        if self.max_tokens < 1:
            raise ConfigError(f"{_name('max_tokens')} must be ≥ 1", hint="e.g. --max-tokens 512")
        # a negative limit would slice off the last questions; caps ≤ 0 would stop before the first sample
        for name in ("limit", "max_samples", "max_total_tokens", "concurrency"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ConfigError(f"{_name(name)} must be ≥ 1, got {value}", hint="leave it out for no limit")
        for name in ("max_cost", "price_per_mtok"):
            value = getattr(self, name)
            if value is not None and not 0 <= value < math.inf:
                raise ConfigError(f"{_name(name)} must be a finite number ≥ 0, got {value}", hint="e.g. 2.5")
        if self.max_retries < 0 or not self.max_retry_seconds > 0:
            raise ConfigError(f"{_name('max_retries')} must be ≥ 0 and max_retry_seconds > 0", hint="e.g. --retries 6")
        labels = [b.label for b in self.budgets]
        if len(set(labels)) != len(labels) or not labels:
            raise ConfigError("budgets must be distinct and non-empty", hint="list each budget once")
        if self.shard is not None:
            k, n = self.shard
            if not 1 <= k <= n:
                raise ConfigError(f"shard (--shard) must be K/N with 1 ≤ K ≤ N, got {k}/{n}", hint="e.g. --shard 1/4")
        secret = _secret_option(self.model_options)
        if secret:  # options are saved with the run: a key here would leak into the store
            raise ConfigError(
                f"option {secret!r} looks like an API key or other credential, and options are saved with the run",
                hint="put the key in an environment variable and pass its name: --api-key-env NAME",
            )
        if self.target_ci is not None:
            self._check_adaptive()
        if self.max_consecutive_failures < 0 or not self.max_failure_seconds >= 0:
            raise ConfigError(
                f"{_name('max_consecutive_failures')} and max_failure_seconds must be ≥ 0",
                hint="e.g. --max-consecutive-failures 20 (0 turns the circuit breaker off)",
            )

    def _check_adaptive(self) -> None:
        if not 0 < self.target_ci < math.inf:  # type: ignore[operator]
            raise ConfigError(f"{_name('target_ci')} must be a positive number, got {self.target_ci}", hint="e.g. 0.02")
        if not 1 <= self.first_contexts <= self.n_contexts:
            raise ConfigError(
                f"{_name('first_contexts')}: the first round's contexts ({self.first_contexts}) must be between 1 and "
                f"{_name('n_contexts')} ({self.n_contexts}), the most contexts a question can get",
                hint="e.g. --first-round 2x2 --contexts 15",
            )
        if self.first_contexts * self.samples_per_context < 2:
            raise ConfigError("the first round needs at least 2 samples per question", hint="e.g. --first-round 2x2")
        if self.max_rounds is not None and self.max_rounds < 1:
            raise ConfigError(f"{_name('max_rounds')} must be ≥ 1, got {self.max_rounds}", hint="leave it out")
        if not 0 < self.target_level < 1:
            raise ConfigError(f"target_level must be in (0, 1), got {self.target_level}", hint="e.g. 0.95")
        if len(self.budgets) != 1:
            raise ConfigError(
                "adaptive sampling (--target-ci) plans one budget at a time",
                hint="run each --budget as its own adaptive run (the same --store is fine)",
            )
        if self.shard is not None:
            raise ConfigError("adaptive sampling (--target-ci) cannot be sharded", hint="leave out --shard")

    @property
    def adaptive(self) -> bool:
        """Whether this is an adaptive run (``target_ci`` set)."""
        return self.target_ci is not None

    @property
    def samples_per_question(self) -> int:
        """Samples per question and budget."""
        return self.n_contexts * self.samples_per_context

    def identity(self) -> dict[str, Any]:
        """The fields that determine what the run's samples are.

        Caps, concurrency, retry and circuit-breaker settings and the backend's transport options
        (:data:`TRANSPORT_OPTIONS`: base URLs, timeouts, pool sizes, ...) are left out, and the model spec is
        put in its ``backend:model`` form, so that none of them starts a new run when changed on resume.
        """
        return identity_of(asdict(self))

    def run_id(self) -> str:
        """A readable, stable run id: model, task and a hash of :meth:`identity`.

        Examples
        --------
        >>> RunConfig(model="smollm2", task="generated:arithmetic").run_id()[:29]
        'smollm2__generated-arithmetic'
        """
        digest = hashlib.sha256(json.dumps(self.identity(), sort_keys=True, default=str).encode()).hexdigest()
        return f"{_slug(canonical_model(self.model))}__{_slug(self.task.rsplit('/', 1)[-1])}__{digest[:8]}"

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict of every field."""
        return asdict(self)


#: RunConfig fields that do not change what a run's samples are.
_NOT_IDENTITY = (
    "max_samples",
    "max_total_tokens",
    "max_cost",
    "price_per_mtok",
    "concurrency",
    "max_retries",
    "max_retry_seconds",
    "max_consecutive_failures",
    "max_failure_seconds",
    "shard",
    "target_ci",
    "max_rounds",
    "target_level",
    "first_contexts",
)


def identity_of(config: dict[str, Any]) -> dict[str, Any]:
    """:meth:`RunConfig.identity` of a config saved as a dict (also one saved by an older hotmess).

    Examples
    --------
    >>> a = RunConfig("openai:m", "t.csv", model_options={"base_url": "http://localhost:8000/v1"})
    >>> b = RunConfig("openai/m", "t.csv", model_options={"base_url": "http://127.0.0.1:8000/v1", "timeout_s": 30})
    >>> identity_of(a.to_dict()) == identity_of(b.to_dict())
    True
    """
    known = {f for f in RunConfig.__dataclass_fields__ if f not in _NOT_IDENTITY}
    d = {k: v for k, v in config.items() if k in known}
    d["model"] = canonical_model(str(d.get("model", "")))
    opts = d.get("model_options") or {}
    d["model_options"] = {k: v for k, v in opts.items() if k not in TRANSPORT_OPTIONS}
    budgets = d.get("budgets")
    if budgets is not None:  # Budget objects or their saved dicts
        d["budgets"] = [asdict(b) if isinstance(b, Budget) else dict(b) for b in budgets]
    d.setdefault("task_options", {})
    if config.get("target_ci") is not None:  # an adaptive run: its allocation rule decides its samples
        d["adaptive"] = {"design": ADAPTIVE_DESIGN_VERSION, "first_contexts": int(config.get("first_contexts") or 2)}
    return d
