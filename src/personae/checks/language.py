"""Language use: a reply in the wrong language, and words of the other script inside a reply.

Both use the project's one language detector (:mod:`personae.text.language`).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable

from personae.checks.overlap import quotations
from personae.text import Language, detect_language

_LATIN_WORD = re.compile(
    r"(?<![^\W\d_])[A-Za-z][A-Za-z'’-]*[A-Za-z]|(?<![^\W\d_])[A-Za-z](?![^\W\d_])"
)
_HANGUL_WORD = re.compile(r"[\uac00-\ud7a3]+")
# Latin-script words Korean writes as they are: units and chat words. Abbreviations in capitals
# (AI, TV, CEO, SNS) and capitalised names are let through by rule, not by this list.
_KOREAN_LOANS = frozenset(
    "ok okay vs etc app wifi wi-fi email e-mail kg km cm mm ml kcal am pm mp cctv".split()  # noqa: SIM905
)


def words_of(texts: Iterable[str]) -> frozenset[str]:
    """Every Latin and Hangul word in ``texts``, case-folded: what a reply may repeat in the
    other script without switching (the card's names, the user's own words)."""
    out: set[str] = set()
    for text in texts:
        out.update(_words(text))
    return frozenset(out)


@functools.lru_cache(maxsize=4096)
def _words(text: str) -> frozenset[str]:
    # Cached: a chat's history is read again on every later turn.
    latin = (w.casefold() for w in _LATIN_WORD.findall(text))
    return frozenset([*latin, *_HANGUL_WORD.findall(text)])


def wrong_language(reply: str, expected: Language) -> Language | None:
    """The language the reply is in when it is not ``expected``, or None.

    A reply with no letters has no language and is left to the ``empty`` check."""
    if not re.search(r"[^\W\d_]", reply):
        return None
    found = detect_language(reply)
    return found if found != expected else None


def code_switch(reply: str, allowed: frozenset[str]) -> list[str]:
    """Words of the other script inside a reply, with names and loans left out.

    In a Korean reply: a Latin-script word counts unless it is in ``allowed`` (the card's and
    the user's words), a capitalised name ("Holmes", "London"), an abbreviation in capitals of
    up to five letters ("AI", "CCTV"), or a unit or chat loan Korean writes in Latin letters
    ("ok", "kg"). In an English reply: a Hangul word counts unless it is in ``allowed``.
    Precision first: a lower-case English word in Korean prose ("directly") is the case this
    is for; a capitalised one is taken as a name even when it is not, and words inside
    quotation marks are quoted on purpose.
    """
    if detect_language(reply) == "ko":
        found = []
        spans = quotations(reply)
        for match in _LATIN_WORD.finditer(reply):
            if any(a <= match.start() < b for a, b in spans):
                continue  # English quoted on purpose: '"Oh my god, you guys!" 하고 흉내를 냈어요'
            word = match.group(0)
            folded = word.casefold()
            if folded in allowed or folded in _KOREAN_LOANS:
                continue
            if word[0].isupper() and (word[1:].islower() or word.isupper()) and len(word) > 1:
                if word.isupper() and len(word) > 5:
                    found.append(word)  # a shouted English word, not an abbreviation
                continue
            if len(word) < 2:
                continue  # a lone letter: "A반", "x축"
            found.append(word)
        return found
    return [w for w in _HANGUL_WORD.findall(reply) if w not in allowed]
