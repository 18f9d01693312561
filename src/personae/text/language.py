"""Which language a text is written in: Korean or English, by the share of Hangul letters.

The project speaks two languages, so "detection" is a script count, not a model: a text is
Korean when more than :data:`KOREAN_SHARE` of its letters are Hangul. The threshold is below
one half because one Hangul syllable carries what two to four Latin letters do ("직접" is
"directly"): a Korean sentence that names "Sherlock Holmes" and "London" is still Korean,
while an English reply with a Korean name in it ("Hong Gildong (홍길동)") stays English.

Hangul here means the precomposed syllables (U+AC00–U+D7A3) and the compatibility jamo
(U+3131–U+318E: "ㅋㅋ", "ㅠㅠ" are Korean chat). Digits, punctuation and spaces are not letters
and do not count either way; a text without letters gets the ``default``.
"""

from __future__ import annotations

import re
from typing import Literal

Language = Literal["en", "ko"]

KOREAN_SHARE = 0.3

_HANGUL = re.compile(r"[\uac00-\ud7a3\u3131-\u318e]")
_LETTER = re.compile(r"[^\W\d_]")


def is_hangul(ch: str) -> bool:
    """True for one Hangul syllable or compatibility jamo."""
    return "\uac00" <= ch <= "\ud7a3" or "\u3131" <= ch <= "\u318e"


def has_hangul(text: str) -> bool:
    """True when ``text`` holds at least one Hangul letter."""
    return _HANGUL.search(text) is not None


def hangul_count(text: str) -> int:
    """How many Hangul letters (syllables and compatibility jamo) ``text`` holds."""
    return len(_HANGUL.findall(text))


def hangul_share(text: str) -> float:
    """Hangul letters over all letters of ``text`` (0.0 when it has no letters)."""
    letters = len(_LETTER.findall(text))
    return hangul_count(text) / letters if letters else 0.0


def letter_count(text: str) -> int:
    """How many letters ``text`` has (any script; digits, punctuation and spaces aside)."""
    return len(_LETTER.findall(text))


def detect_language(text: str, default: Language = "en") -> Language:
    """'ko' when more than :data:`KOREAN_SHARE` of the letters are Hangul, 'en' when fewer,
    ``default`` when ``text`` has no letters at all."""
    letters = len(_LETTER.findall(text))
    if not letters:
        return default
    return "ko" if len(_HANGUL.findall(text)) / letters > KOREAN_SHARE else "en"
