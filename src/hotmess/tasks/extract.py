r"""Answer extraction: from a model's raw text to an option index or a probability vector.

:func:`extract_answer` never raises on text; it returns an :class:`Extraction` whose ``answer`` is in
``[-1, n_options)`` (``-1`` = invalid) and whose ``probs``, when present, are a probability distribution.

Rules (letter answers, every format)
------------------------------------
1. **Clean-up.** Markdown emphasis (``**``, ``__``), backticks and ``$`` are removed; ``\text{B}``,
   ``\textbf{B}``, ``\mathrm{B}`` become ``B``.
2. **Answer statements**, in priority tiers; the *last* statement of the best tier present decides:

   0. ``<answer>X</answer>`` tags (a missing ``</answer>`` is accepted, as stop sequences cut it: the tag
      then ends at the next ``<answer>`` or the end of the output);
   1. explicit final answers: "final answer (is|:) X", ``\boxed{X}``;
   2. answer statements: "answer: X", "the (correct) answer is X", "answer to this question is X",
      "the correct option is X", "option X is correct", "(X) is the right answer", "X. <text> is the
      answer" (an unbracketed letter must be upper case here);
   3. choices: "I choose / pick / select / go with X".

   A statement counts only when a letter can be read right after it (after ``:``, ``-``, ``option``,
   parentheses, brackets or quotes): ``(C)``, ``C)``, ``C.``, ``C`` at the end of a line, or ``C`` followed by
   a word. Because "A" and "I" are English words and lower-case letters start sentences, ``A``/``I``/any
   lower-case letter followed by a word counts only before "because", "since", "as", "is correct/right/the",
   a dash or an opening parenthesis: "Answer: A triangle has..." is *not* an answer, "Answer: A because..."
   is. When no letter follows, the rest of the line is compared with the option texts (if ``options`` are
   given: "The answer is 42." picks the option "42"), then searched for one parenthesised letter
   ("The answer is 42 (B)."). Statements with none of these (e.g. "the answer is not obvious") are skipped.
3. **Several letters** in one statement ("Answer: A or B", "A, C", "A/B", "A and B") make it *ambiguous*:
   invalid. Across statements the last one of the best tier wins, so a corrected answer ("Answer: A.
   Wait -- Answer: B") gives B.
4. **Out of range**: a chosen statement whose letter is not among the first ``n_options`` letters is
   invalid (it is not skipped in favour of an earlier one).
5. **Bare answers** (only when there is no statement): the whole output is a label ("C", "(c)", "C.",
   "**C**", not "C:" which reads as a speaker); else the last non-empty line, else the first line, is a bare
   label; else the first line is "C) text" / "C. text" / "(C) text" and no other line starts with a label
   (a model listing the options is not answering); else the whole output or its last line equals an
   option's text.
6. **Few-shot continuation**: small models often go on to invent the next exemplar ("Question: ...").
   The rules above are applied first to the text before the first line starting with ``Question:``, then
   before the second, and so on; the first such prefix holding an answer (or an invalid/ambiguous one)
   decides, else the whole output does. "B\n\nQuestion: What is 3 + 4?\n...\nAnswer: A" gives B.

Probabilities (``fmt="prob"``)
------------------------------
The last ``<PROB>...</PROB>`` block is read (an unclosed block ends at the next ``<PROB>`` or the end; with
rule 6: the last block before the first ``Question:`` line that is preceded by one). Numbers are taken in order, or
by label when every number is labelled (``A: 0.2, B: 0.8``; labels must be exactly the option letters).
Items may be separated by commas, spaces or semicolons; with semicolons a decimal comma (``0,2; 0,8``) is
accepted. Then: a count other than ``n_options`` -> invalid; any negative or non-finite value -> invalid; a
``%`` sign -> percentages; values above 1 -> percentages when they sum to 100 ± 2, else plain weights; all
values are then renormalised to sum to 1 (a zero sum -> invalid). The ``answer`` is the most probable option
(the lowest index on ties). Without any ``<PROB>`` block the letter rules apply and ``probs`` is ``None``
(the store then uses the one-hot vector), unless ``strict=True``.

Limits
------
Answers given only as words ("the second one"), numbers not matching an option text, letters glued to
words ("Answer:B2"), and statements whose letter comes after an unrelated word ("Answer: I think B") are not
recognised. Option-text matching compares case-insensitively and accepts the option followed by a
non-alphanumeric character, so "the answer is no longer..." can match an option "No".
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from hotmess.tasks.types import FORMATS, option_letters

__all__ = ["Extraction", "extract_answer"]


@dataclass(frozen=True, slots=True)
class Extraction:
    """What was read from one model output.

    Attributes
    ----------
    answer
        0-based option index, ``-1`` when invalid.
    probs
        Stated probabilities (``prob`` format), a distribution over the options; ``None`` otherwise.
    valid
        Whether an answer (or a probability vector) was read.
    reason
        How it was read ("answer statement", "answer tag", ...) or why not ("ambiguous: A or B", ...).
    """

    answer: int
    probs: tuple[float, ...] | None
    valid: bool
    reason: str


def _invalid(reason: str) -> Extraction:
    return Extraction(-1, None, False, reason)


_I = re.IGNORECASE
_LATEX = re.compile(r"\\(?:text|textbf|mathrm|mathbf|mathtt)\s*\{([^{}]*)\}")
_MARKUP = re.compile(r"\*\*|__|`|\$")
_VERB = r"(?:\s*(?:(?:is|was|would\s+be|will\s+be|should\s+be|must\s+be)\b|=))?"
_CUES: Final[tuple[tuple[int, str, re.Pattern[str]], ...]] = (
    (1, "final answer statement", re.compile(r"\bfinal\s+(?:answer|choice|option|response)\b" + _VERB, _I)),
    (1, "final answer statement", re.compile(r"\\boxed\s*\{", _I)),
    (2, "answer statement", re.compile(r"\banswer\b(?:\s+to\s+(?:this|the)\s+question)?" + _VERB, _I)),
    (2, "answer statement", re.compile(r"\b(?:correct|right|best)\s+(?:option|choice|letter)\b" + _VERB, _I)),
    (
        3,
        "choice statement",
        re.compile(r"\b(?:choose|chose|pick|select|go\s+with|opt\s+for)\b(?:\s+(?:option|choice|answer))?", _I),
    ),
)
_LETTER_IS = re.compile(  # "(B) is correct", "option b is the right one", "D. Mars is the answer"
    r"(?:\(([A-Za-z])\)|\b(?i:option|choice|letter|answer)[ \t]+[(\[]?([A-Za-z])[)\]]?"
    r"|\b([A-Z])(?:[.)][ \t]+[^\n.;!?]{1,60}?)?)"
    r"[ \t]+(?i:is)[ \t]+(?i:the[ \t]+)?(?i:(?:correct|right|best)\b(?:[ \t]+(?:answer|option|choice)\b)?|answer\b)"
)
_TAG = re.compile(r"<\s*answer\s*>(.{0,300}?)(?:<\s*/\s*answer\s*>|(?=<\s*answer\s*>)|\Z)", _I | re.S)
_TOKEN = re.compile(
    r"\s*(?:[:=\-\u2013\u2014]\s*)?(?:(?:option|choice|letter)\s+)?"
    r"(?P<open>[(\[{\"'*_]*)[ \t]*(?P<letter>[A-Za-z])(?![A-Za-z0-9]|'[A-Za-z])(?P<close>[ \t]*[)\]}\"'*_]+)?",
    _I,
)
_STRONG_FOLLOW = re.compile(r"[ \t]*(?:\Z|\n|[.,;:!?/&+]|-|\u2013|\u2014)")
_CONNECTOR = re.compile(
    r"[ \t]+(?:because\b|since\b|as\b|is\s+(?:correct|right|the)\b|would\b|-|\u2013|\u2014|\(|\["
    r"|(?:or|and)\s+[(\[]?[A-Za-z](?![A-Za-z0-9]))",
    _I,
)
_ALSO = re.compile(r"\s*(?:,|/|&|\+|\bor\b|\band\b)\s*", _I)
_PAREN_LETTER = re.compile(r"[(\[]([A-Za-z])[)\]]")
_QUESTION_LINE = re.compile(r"^[ \t]*Question\s*:", re.M)
_MAX_QUESTION_LINES: Final = 20
_BARE = re.compile(r"[(\[{\"'*_]*\s*([A-Za-z])\s*[)\]}\"'*_]*[.)]?")
_BARE_LINE = re.compile(r"[(\[]?([A-Za-z])[)\].][ \t]+\S.*")


def _clean(text: str) -> str:
    for _ in range(2):
        text = _LATEX.sub(r"\1", text)
    return _MARKUP.sub("", text)


def _letter_at(s: str) -> tuple[str, int] | None:
    """A letter read at the start of ``s`` (after separators/wrappers), and where its token ends."""
    m = _TOKEN.match(s)
    if m is None:
        return None
    letter, rest = m.group("letter"), s[m.end() :]
    wrapped = bool(m.group("close")) or ("(" in m.group("open") or "[" in m.group("open"))
    if wrapped or _STRONG_FOLLOW.match(rest):
        return letter.upper(), m.end()
    if letter in "AI" or letter.islower():
        return (letter.upper(), m.end()) if _CONNECTOR.match(rest) else None
    return (letter.upper(), m.end()) if re.match(r"[ \t]+\S", rest) else None


def _norm(s: str) -> str:
    return " ".join(s.casefold().split()).strip(" .,;:!?\"'()[]{}*_")


def _option_prefix(s: str, options: Sequence[str] | None) -> int | None:
    """The option whose text starts ``s`` (longest wins), followed by a non-alphanumeric character."""
    if not options:
        return None
    line = _norm(s.split("\n", 1)[0].lstrip(" :=-\u2013\u2014"))
    best, best_len = None, 0
    for i, opt in enumerate(options):
        o = _norm(opt)
        if o and line.startswith(o) and (len(line) == len(o) or not line[len(o)].isalnum()):
            if len(o) > best_len:
                best, best_len = i, len(o)
            elif len(o) == best_len:
                best = None
    return best


# A statement's value: ("ok", index) | ("range", letter) | ("ambiguous", "A or B")
_Value = tuple[str, int | str]


def _value(s: str, n: int, options: Sequence[str] | None) -> _Value | None:
    """Read the answer right after a cue; ``None`` when there is none."""
    got = _letter_at(s)
    if got is not None:
        letter, end = got
        also = _ALSO.match(s, end)
        if also is not None:
            second = _letter_at(s[also.end() :])
            if second is not None and second[0] != letter:
                return ("ambiguous", f"{letter} or {second[0]}")
        idx = ord(letter) - ord("A")
        return ("ok", idx) if idx < n else ("range", letter)
    idx_opt = _option_prefix(s, options)
    if idx_opt is not None:
        return ("ok", idx_opt)
    letters = {m.group(1).upper() for m in _PAREN_LETTER.finditer(s.split("\n", 1)[0])}
    if len(letters) == 1:
        letter = letters.pop()
        idx = ord(letter) - ord("A")
        return ("ok", idx) if idx < n else ("range", letter)
    return None


def _statements(text: str, n: int, options: Sequence[str] | None) -> list[tuple[int, int, str, _Value]]:
    """(tier, position, kind, value) of every readable answer statement."""
    found: list[tuple[int, int, str, _Value]] = []
    for m in _TAG.finditer(text):
        v = _value(m.group(1), n, options)
        if v is not None:
            found.append((0, m.start(), "answer tag", v))
    for tier, kind, pattern in _CUES:
        for m in pattern.finditer(text):
            v = _value(text[m.end() : m.end() + 300], n, options)
            if v is not None:
                found.append((tier, m.start(), kind, v))
    for m in _LETTER_IS.finditer(text):
        letter = next(g for g in m.groups() if g).upper()
        idx = ord(letter) - ord("A")
        found.append((2, m.start(), "answer statement", ("ok", idx) if idx < n else ("range", letter)))
    return found


def _bare(text: str, n: int, options: Sequence[str] | None) -> tuple[_Value, str] | None:
    stripped = text.strip()
    lines = [ln.strip() for ln in stripped.split("\n") if ln.strip()]
    if not lines:
        return None
    candidates = [stripped] if "\n" not in stripped else [lines[-1], lines[0]]
    for cand in candidates:
        m = _BARE.fullmatch(cand)
        if m is None and cand in (stripped, lines[0]):
            # "C) text" as the only line, or as the first line when no other line is labelled
            # (a model listing the options is not answering)
            m = _BARE_LINE.fullmatch(cand)
            if m is not None and any(_BARE_LINE.fullmatch(ln) for ln in lines[1:]):
                m = None
        if m is not None:
            letter = m.group(1).upper()
            idx = ord(letter) - ord("A")
            return (("ok", idx) if idx < n else ("range", letter)), "bare letter"
    if options:
        for cand in (stripped, lines[-1]):
            hits = [i for i, o in enumerate(options) if _norm(o) and _norm(o) == _norm(cand)]
            if len(hits) == 1:
                return ("ok", hits[0]), "option text"
    return None


def _decide(text: str, n: int, options: Sequence[str] | None) -> Extraction | None:
    """The answer of ``text`` by the statement and bare-answer rules; ``None`` when there is none."""
    found = _statements(text, n, options)
    if found:
        tier = min(t for t, _, _, _ in found)
        _, _, kind, value = max((f for f in found if f[0] == tier), key=lambda f: f[1])
    else:
        bare = _bare(text, n, options)
        if bare is None:
            return None
        value, kind = bare
    status, what = value
    if status == "ok":
        assert isinstance(what, int)
        return Extraction(what, None, True, kind)
    if status == "range":
        return _invalid(f"letter {what} outside A-{option_letters(n)[-1]} ({kind})")
    return _invalid(f"ambiguous: {what} ({kind})")


def _letter_answer(text: str, n: int, options: Sequence[str] | None) -> Extraction:
    text = _clean(text)
    if not text.strip():
        return _invalid("empty output")
    for head in _heads(text):
        got = _decide(head, n, options)
        if got is not None:
            return got
    return _invalid("no answer found")


def _heads(text: str) -> list[str]:
    """The text before each of the first ``Question:`` lines (non-blank ones), then the whole text."""
    heads = [text[: m.start()] for m in _QUESTION_LINE.finditer(text)][:_MAX_QUESTION_LINES]
    return [h for h in heads if h.strip()] + [text]


_PROB = re.compile(r"<\s*PROB\s*>(.{0,2000}?)(?:<\s*/\s*PROB\s*>|(?=<\s*PROB\s*>)|\Z)", _I | re.S)
_NUM = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"
_NUMBER = re.compile(rf"({_NUM})\s*(%?)")
_LABELLED = re.compile(rf"(?<![A-Za-z])(?:p_?)?\(?([A-Za-z])\)?\s*[:=]\s*({_NUM})\s*(%?)", _I)


def _probs(content: str, n: int) -> Extraction:
    if ";" in content:
        content = re.sub(r"(\d),(\d)", r"\1.\2", content)
    numbers = [(float(v), pct == "%") for v, pct in _NUMBER.findall(content)]
    labelled = _LABELLED.findall(content)
    if labelled and len(labelled) == len(numbers):
        letters = [lab.upper() for lab, _, _ in labelled]
        if sorted(letters) != list(option_letters(n)):
            return _invalid(f"PROB labels {', '.join(letters)} are not the options {', '.join(option_letters(n))}")
        order = sorted(range(len(letters)), key=lambda i: letters[i])
        numbers = [(float(labelled[i][1]), labelled[i][2] == "%") for i in order]
    if len(numbers) != n:
        return _invalid(f"expected {n} probabilities, got {len(numbers)}")
    values = [v for v, _ in numbers]
    if not all(math.isfinite(v) for v in values):
        return _invalid("non-finite probability")
    if any(v < 0 for v in values):
        return _invalid("negative probability")
    total = math.fsum(values)
    if total <= 0:
        return _invalid("probabilities sum to 0")
    if any(p for _, p in numbers):
        note = "percentages"
    elif any(v > 1 for v in values):
        note = "percentages" if abs(total - 100) <= 2 else f"weights renormalised (sum {total:g})"
    else:
        note = "" if abs(total - 1) <= 1e-6 else f"renormalised (sum {total:g})"
    probs = tuple(v / total for v in values)
    best = max(range(n), key=lambda i: (probs[i], -i))
    return Extraction(best, probs, True, "PROB tag" + (f", {note}" if note else ""))


def extract_answer(
    text: str,
    n_options: int,
    fmt: str = "letter",
    *,
    options: Sequence[str] | None = None,
    strict: bool = False,
) -> Extraction:
    """Read the answer from a model output (rules in the module docstring and ``docs/tasks.md``).

    Parameters
    ----------
    text
        The raw output.
    n_options
        Number of options C (2-26); letters beyond the C-th are invalid.
    fmt
        ``"letter"``, ``"answer_tag"`` or ``"prob"``.
    options
        Option texts *in displayed order*, to recognise answers given as an option's text.
    strict
        Require the format's own markup: ``answer_tag`` needs an ``<answer>`` tag and ``prob`` a ``<PROB>``
        block; otherwise other answer statements are accepted too.

    Examples
    --------
    >>> extract_answer("Let's see... 7 * 6 = 42, so the final answer is **B**.", 4)
    Extraction(answer=1, probs=None, valid=True, reason='final answer statement')
    >>> extract_answer("Answer: A or C", 4).reason
    'ambiguous: A or C (answer statement)'
    >>> extract_answer("<PROB>20%, 80%</PROB>", 2, "prob").probs
    (0.2, 0.8)
    """
    if fmt not in FORMATS:
        raise ValueError(f"fmt must be one of {FORMATS}, got {fmt!r}")
    option_letters(n_options)  # validates n_options
    if options is not None and len(options) != n_options:
        raise ValueError(f"options must have n_options={n_options} entries, got {len(options)}")
    if not isinstance(text, str):
        return _invalid(f"output is {type(text).__name__}, not text")
    if fmt == "prob":
        for head in _heads(text):
            blocks = list(_PROB.finditer(head))
            if blocks:
                return _probs(blocks[-1].group(1), n_options)
        if strict:
            return _invalid("no <PROB> block")
        got = _letter_answer(text, n_options, options)
        return got if not got.valid else Extraction(got.answer, None, True, f"{got.reason} (no <PROB> block)")
    got = _letter_answer(text, n_options, options)
    if strict and fmt == "answer_tag" and got.valid and got.reason != "answer tag":
        return _invalid("no <answer> tag")
    return got
