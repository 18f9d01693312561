"""Compiled lorebook keys: plain keys with script-aware word boundaries, and regex keys.

Plain keys are matched with ``str.find`` on (case-folded) text and a boundary check on the
characters around each hit, which is far faster than one regex per key and gives the same
answer. Boundaries only apply to scripts that separate words with spaces: Korean attaches
particles (홍길동이, 홍길동을) and Chinese/Japanese have no spaces, so keys in those scripts
match as substrings, and a Hangul particle after a Latin key (``Python을``) still counts as a
word end.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

MAX_KEY_CHARS = 1000
_JS_REGEX = re.compile(r"/(.+)/([a-z]*)", re.DOTALL)
_JS_FLAGS = {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL}
_JS_IGNORED = set("gyudv")  # meaningful in JS only for iteration, indices or unicode sets
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
    """A key that cannot be compiled; the caller adds which entry it belongs to."""


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
    """One compiled key; ``regex`` is set for regex keys, ``needle`` for plain ones."""

    needle: str
    case_sensitive: bool
    left: bool
    right: bool
    regex: re.Pattern[str] | None

    def hit(self, hay: Hay) -> bool:
        if self.regex is not None:
            return self.regex.search(hay.text) is not None
        text = hay.text if self.case_sensitive else hay.folded
        start = text.find(self.needle)
        end_limit = len(text)
        while start != -1:
            end = start + len(self.needle)
            left_ok = not self.left or start == 0 or not _is_word(text[start - 1])
            right_ok = not self.right or end == end_limit or not _is_word(text[end])
            if left_ok and right_ok:
                return True
            start = text.find(self.needle, start + 1)
        return False


def _js_to_python(pattern: str) -> str:
    # JS spells named groups (?<name>...) and back-references \k<name>; Python wants the P form.
    pattern = re.sub(r"\(\?<(?![=!])", "(?P<", pattern)
    return re.sub(r"\\k<(\w+)>", r"(?P=\1)", pattern)


def _compile(pattern: str, flags: int, shown: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern, flags)
    except (re.error, OverflowError, RecursionError, ValueError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise BadKey(f"regex key {shown[:60]!r} does not compile ({reason})") from None


def _js_literal(key: str) -> tuple[str, int] | None:
    match = _JS_REGEX.fullmatch(key)
    if match is None:
        return None
    flags = 0
    for letter in match.group(2):
        if letter in _JS_FLAGS:
            flags |= _JS_FLAGS[letter]
        elif letter not in _JS_IGNORED:
            return None
    return _js_to_python(match.group(1)), flags


@lru_cache(maxsize=8192)
def compile_key(key: str, use_regex: bool, case_sensitive: bool, whole_words: bool | None) -> Key:
    """Compile one key (cached, so a book's keys are compiled once however often it is scanned).

    With ``use_regex`` the key is a pattern, bare or JS-style ``/pattern/flags``. Without it a
    key that *is* a well-formed, compilable ``/pattern/flags`` literal is still a regex, as in
    SillyTavern; anything else is literal text.
    """
    if not key:
        raise BadKey("key is empty")
    if len(key) > MAX_KEY_CHARS:
        raise BadKey(f"key is longer than {MAX_KEY_CHARS} characters")
    literal = _js_literal(key)
    if use_regex:
        if literal is not None:
            return Key("", True, False, False, _compile(literal[0], literal[1], key))
        flags = 0 if case_sensitive else re.IGNORECASE
        return Key("", case_sensitive, False, False, _compile(key, flags, key))
    if literal is not None:
        try:
            return Key("", True, False, False, _compile(literal[0], literal[1], key))
        except BadKey:
            pass  # not meant as a regex after all: match it as text
    needle = key if case_sensitive else key.casefold()
    if whole_words is None:
        left, right = _is_word(needle[0]), _is_word(needle[-1])
    else:
        left = whole_words and (needle[0].isalnum() or needle[0] == "_")
        right = whole_words and (needle[-1].isalnum() or needle[-1] == "_")
    return Key(needle, case_sensitive, left, right, None)
