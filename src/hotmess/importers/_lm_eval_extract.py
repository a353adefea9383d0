"""Answer extraction and exact-match scoring of lm-eval generations, one repeat at a time.

lm-eval applies a task's filter pipeline to all repeats of a document together and usually ends it with
``take_first`` (or ``majority_vote``), so its log keeps one extracted answer per document. To score every
repeat, the per-repeat steps of the pipeline (``regex``, ``remove_whitespace``, ``lowercase``,
``uppercase``) are re-applied here exactly as lm-eval implements them, and ``exact_match`` is computed with
the task's own options (``ignore_case``, ``ignore_punctuation``, ``ignore_numbers``, ``regexes_to_ignore``).
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Extractor", "exact_match", "make_extractor"]

_REDUCERS = {"take_first", "take_first_k", "majority_vote"}
_FALLBACK = "[invalid]"


@dataclass(frozen=True)
class Extractor:
    """The per-repeat part of a filter pipeline; ``exact`` is False when some step could not be reproduced.

    ``takes_first`` says whether lm-eval's logged answer (and metric) is that of the first repeat: true
    unless the pipeline reduces the repeats otherwise (``majority_vote``, as in ``maj@k`` filters).
    """

    steps: tuple[Callable[[str], str], ...] = ()
    fallbacks: frozenset[str] = field(default_factory=frozenset)
    exact: bool = True
    description: str = "raw response"
    takes_first: bool = True

    def __call__(self, text: str) -> tuple[str, bool]:
        """Extracted answer and whether extraction succeeded (False when a regex fell back)."""
        out = text
        for step in self.steps:
            out = step(out)
            if out in self.fallbacks:
                return out, False
        return out, True


def _regex_step(pattern: str, group_select: int, fallback: str) -> Callable[[str], str]:
    rx = re.compile(pattern)

    def step(resp: str) -> str:
        match: Any = rx.findall(resp)
        if not match:
            return fallback
        match = match[group_select]
        if isinstance(match, tuple):
            parts = [m for m in match if m]
            match = parts[0] if parts else fallback
        return str(match).strip()

    return step


def make_extractor(filter_steps: Sequence[Mapping[str, Any]] | None) -> Extractor:
    """Build the per-repeat extractor of one lm-eval filter (its list of ``{"function": ..., ...}`` steps).

    Examples
    --------
    >>> ex = make_extractor([{"function": "regex", "regex_pattern": "(\\\\w+)"}, {"function": "take_first"}])
    >>> ex(" Paris, of course")
    ('Paris', True)
    """
    if not filter_steps:
        return Extractor()
    steps: list[Callable[[str], str]] = []
    fallbacks: set[str] = set()
    names: list[str] = []
    for spec in filter_steps:
        fn = str(spec.get("function"))
        names.append(fn)
        if fn == "regex":
            fallback = str(spec.get("fallback", _FALLBACK))
            steps.append(
                _regex_step(
                    str(spec.get("regex_pattern", r"#### (\-?[0-9\.\,]+)")), int(spec.get("group_select", 0)), fallback
                )
            )
            fallbacks.add(fallback)
        elif fn == "remove_whitespace":
            steps.append(str.strip)
        elif fn == "lowercase":
            steps.append(str.lower)
        elif fn == "uppercase":
            steps.append(str.upper)
        elif fn in _REDUCERS:
            continue
        else:
            return Extractor(exact=False, description=f"raw response (filter step {fn!r} is not reproduced)")
    return Extractor(tuple(steps), frozenset(fallbacks), True, " → ".join(names), "majority_vote" not in names)


def exact_match(prediction: str, references: str | Sequence[str], options: Mapping[str, Any] | None = None) -> bool:
    """lm-eval's ``exact_match`` for one prediction (any of several references may match).

    Examples
    --------
    >>> exact_match("Paris.", "paris", {"ignore_case": True, "ignore_punctuation": True})
    True
    """
    opts = dict(options or {})
    refs = [references] if isinstance(references, str) else [str(r) for r in references]

    def norm(s: str) -> str:
        for rx in opts.get("regexes_to_ignore") or []:
            s = re.sub(rx, "", s)
        if opts.get("ignore_case"):
            s = s.lower()
        if opts.get("ignore_punctuation"):
            s = s.translate(str.maketrans("", "", string.punctuation))
        if opts.get("ignore_numbers"):
            s = s.translate(str.maketrans("", "", string.digits))
        return s

    p = norm(prediction)
    return any(p == norm(r) for r in refs)
