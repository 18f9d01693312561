"""Compiled lorebook keys, read the way SillyTavern reads them.

* A key is a regular expression only when it is written ``/pattern/flags`` and parses as one
  (SillyTavern's ``parseRegexFromString``); every other key is plain text, whatever the entry's
  ``use_regex`` says, because SillyTavern's card export sets ``use_regex: true`` on every
  entry. A slash-form key that does not compile is plain text too, as there.
* Plain keys are matched with ``str.find`` on (case-folded) text. With whole-word matching a
  key with whitespace in it matches anywhere (as in SillyTavern); a one-word key needs a
  non-word character or the text's edge on both sides. Word characters are Unicode letters,
  digits and ``_`` of scripts that separate words with spaces: Korean attaches particles
  (홍길동이, 홍길동을) and Chinese/Japanese have no spaces, so their characters are never word
  characters and a Hangul particle after a Latin key (``Python을``) still ends the word.
* Regex keys come from untrusted cards, so they run on the ``regex`` module with a timeout per
  key and a time budget per scan (:class:`RegexBudget`), releasing the GIL while they run; a
  pattern whose counted repeats would expand into a huge program is never compiled at all.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import regex  # type: ignore[import-untyped, unused-ignore]

MAX_KEY_CHARS = 1000
# The regex module expands the minimum of a counted repeat into copies of its body at compile
# time: ``(a{1000}){1000}`` takes 0.4 s and ``x{4294967294}`` exhausts memory. Patterns whose
# nested minimums multiply past this are refused before compiling (10,000 copies: ~3 ms).
MAX_REPEAT_EXPANSION = 10_000
MAX_GROUP_DEPTH = 100
KEY_TIMEOUT_S = 0.02
SCAN_BUDGET_S = 0.05

_SLASH_FORM = re.compile(r"/(.+)/([gimsuy]*)", re.DOTALL)  # SillyTavern's accepted JS flags
_UNESCAPED_SLASH = re.compile(r"(?:^|[^\\])/")
_JS_FLAGS = {"i": regex.IGNORECASE, "m": regex.MULTILINE, "s": regex.DOTALL}
_COUNT = re.compile(r"\{(\d+)(?:,\d*)?\}")
_BRACED_ESCAPES = set("pPNxu")  # \p{L}, \x{41}, \N{name}, \u{41}: braces that are no repeat
_COMPILE_ERRORS = (regex.error, OverflowError, RecursionError, ValueError, MemoryError)
_NO_SPACE_SCRIPTS = (
    (0x0E00, 0x0EFF),  # Thai, Lao
    (0x1000, 0x109F),  # Myanmar
    (0x1100, 0x11FF),  # Hangul Jamo
    (0x1780, 0x17FF),  # Khmer
    (0x3040, 0x30FF),  # Hiragana, Katakana
    (0x3130, 0x318F),  # Hangul compatibility Jamo
    (0x3400, 0x4DBF),  # CJK extension A
    (0x4E00, 0x9FFF),  # CJK unified ideographs
    (0xA960, 0xA97F),  # Hangul Jamo extended A
    (0xAC00, 0xD7FF),  # Hangul syllables, Jamo extended B
    (0xF900, 0xFAFF),  # CJK compatibility ideographs
    (0xFF66, 0xFF9F),  # half-width Katakana
    (0x20000, 0x3FFFF),  # CJK extensions B and later
)


class BadKey(ValueError):
    """A key that cannot be used; the caller adds which entry it belongs to."""


def is_unspaced(char: str) -> bool:
    """Whether ``char`` belongs to a script written without spaces between words."""
    code = ord(char)
    return any(low <= code <= high for low, high in _NO_SPACE_SCRIPTS)


def _is_word(char: str) -> bool:
    return (char.isalnum() or char == "_") and not is_unspaced(char)


@dataclass(frozen=True, slots=True)
class Hay:
    """Text to scan, with its case-folded form computed once."""

    text: str
    folded: str

    @classmethod
    def of(cls, text: str) -> Hay:
        return cls(text, text.casefold())


@dataclass(frozen=True, slots=True)
class Key:
    """One compiled key, as written in ``source``.

    A plain key has its ``needle``; a regex key has its compiled ``pattern`` (``sticky`` for the
    JS ``y`` flag: match at the start only) or, when it was too large to compile safely, the
    reason in ``refused`` and never matches.
    """

    source: str
    needle: str = ""
    case_sensitive: bool = False
    whole_words: bool = False
    pattern: Any = None
    sticky: bool = False
    refused: str | None = None

    @property
    def is_regex(self) -> bool:
        return self.pattern is not None or self.refused is not None

    def hit(self, hay: Hay, budget: RegexBudget) -> bool:
        """Whether the key occurs in ``hay``; regex keys spend (and may exhaust) ``budget``."""
        if self.is_regex:
            return budget.search(self, hay.text)
        text = hay.text if self.case_sensitive else hay.folded
        if not self.whole_words:
            return self.needle in text
        start = text.find(self.needle)
        while start != -1:
            end = start + len(self.needle)
            if (start == 0 or not _is_word(text[start - 1])) and (
                end == len(text) or not _is_word(text[end])
            ):
                return True
            start = text.find(self.needle, start + 1)
        return False


@dataclass(slots=True)
class RegexBudget:
    """The time one scan may spend running regex keys, and the keys it had to skip.

    Each search gets at most ``per_key`` seconds (and never more than is left); a key that runs
    out counts as no match for the rest of the scan and is listed in ``skipped`` with why, so a
    catastrophic pattern costs one timeout rather than a frozen server.
    """

    seconds: float = SCAN_BUDGET_S
    per_key: float = KEY_TIMEOUT_S
    skipped: dict[str, str] = field(default_factory=dict)

    def search(self, key: Key, text: str) -> bool:
        if key.source in self.skipped:
            return False
        if key.refused is not None:
            self.skipped[key.source] = key.refused
            return False
        if self.seconds <= 0:
            self.skipped[key.source] = "not run: the scan's time for regex keys was used up"
            return False
        limit = min(self.per_key, self.seconds)
        run = key.pattern.match if key.sticky else key.pattern.search
        started = time.perf_counter()
        try:
            return run(text, timeout=limit, concurrent=True) is not None
        except TimeoutError:
            self.skipped[key.source] = (
                f"stopped after {limit * 1000:.0f} ms (the pattern backtracks too much); "
                "simplify it"
            )
            return False
        finally:
            self.seconds -= time.perf_counter() - started


def slash_form(key: str) -> tuple[str, str] | None:
    """``(pattern, flags)`` when ``key`` is written ``/pattern/flags`` as SillyTavern accepts it:
    JS flags ``gimsuy`` each at most once, and no unescaped ``/`` inside the pattern."""
    match = _SLASH_FORM.fullmatch(key)
    if match is None:
        return None
    pattern, flags = match.groups()
    if _UNESCAPED_SLASH.search(pattern) or len(set(flags)) != len(flags):
        return None
    return pattern, flags


def repeat_expansion(pattern: str) -> int | None:
    """About how many nodes compiling ``pattern`` expands its counted repeats into (each
    ``{n}``/``{n,m}`` copies its body ``n`` times, nested ones multiply), or None when groups
    nest deeper than :data:`MAX_GROUP_DEPTH`. An estimate made without compiling."""
    sums = [0]  # the size of each open group so far
    last = 1  # the size of the atom a following repeat applies to
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "(":
            sums.append(0)
            if len(sums) > MAX_GROUP_DEPTH:
                return None
            i += 1
            continue
        if char == ")" and len(sums) > 1:
            last = max(sums.pop(), 1)
            sums[-1] += last
            i += 1
            continue
        count = _COUNT.match(pattern, i) if char == "{" else None
        if count is not None:
            sums[-1] += last * max(int(count.group(1)) - 1, 0)
            i = count.end()
            continue
        i = _skip_atom(pattern, i)
        sums[-1] += 1
        last = 1
    return sum(sums)


def _skip_atom(pattern: str, i: int) -> int:
    """The index after the atom at ``i``: an escape, a character class or one character."""
    if pattern[i] == "\\":
        i += 2
        if pattern[i - 1 : i] in _BRACED_ESCAPES and pattern[i : i + 1] == "{":
            close = pattern.find("}", i)
            return len(pattern) if close == -1 else close + 1
        return i
    if pattern[i] != "[":
        return i + 1
    i += 1
    if pattern[i : i + 1] == "^":
        i += 1
    if pattern[i : i + 1] == "]":
        i += 1  # a "]" first in a class is a literal
    while i < len(pattern) and pattern[i] != "]":
        i += 2 if pattern[i] == "\\" else 1
    return i + 1


def _js_to_python(pattern: str) -> str:
    # JS spells back-references to named groups \k<name>; the regex module wants (?P=name).
    return re.sub(r"\\k<(\w+)>", r"(?P=\1)", pattern)


def _regex_key(key: str, pattern: str, flags: str) -> Key | None:
    """The compiled key, a refused one, or None when the pattern does not compile (then
    SillyTavern treats the key as plain text, and so do we)."""
    expansion = repeat_expansion(pattern)
    if expansion is None or expansion > MAX_REPEAT_EXPANSION:
        reason = (
            f"groups nested deeper than {MAX_GROUP_DEPTH}"
            if expansion is None
            else f"its counted repeats expand to about {expansion:,} steps"
        )
        return Key(key, refused=f"not run: {reason} (over the safe limit); simplify it")
    options = 0
    for letter in flags:
        options |= _JS_FLAGS.get(letter, 0)  # g and u change nothing for a yes/no search
    try:
        compiled = regex.compile(_js_to_python(pattern), options)
    except _COMPILE_ERRORS:
        return None
    return Key(key, pattern=compiled, sticky="y" in flags)


@lru_cache(maxsize=8192)
def compile_key(key: str, case_sensitive: bool = False, whole_words: bool = True) -> Key:
    """Compile one key (cached, so a book's keys are compiled once however often it is scanned).

    ``key`` is used as written, surrounding whitespace removed. ``case_sensitive`` and
    ``whole_words`` apply to plain keys only: a regex key's own flags decide for it.
    """
    key = key.strip()
    if not key:
        raise BadKey("key is empty")
    if len(key) > MAX_KEY_CHARS:
        raise BadKey(f"key is longer than {MAX_KEY_CHARS} characters")
    parts = slash_form(key)
    if parts is not None:
        compiled = _regex_key(key, *parts)
        if compiled is not None:
            return compiled
    needle = key if case_sensitive else key.casefold()
    # SillyTavern matches a key of several words anywhere, whole-word option or not.
    whole = whole_words and not any(char.isspace() for char in needle)
    return Key(key, needle=needle, case_sensitive=case_sensitive, whole_words=whole)
