"""Card macros: ``{{char}}``/``<BOT>``, ``{{user}}``/``<USER>`` and ``{{original}}``.

Expansion is a single regex pass, so a replacement value is never scanned again: a user who
calls themselves ``{{char}}`` stays ``{{char}}``. Unknown ``{{...}}`` macros are left as they
are because other tools (SillyTavern, RisuAI) define many more and a card may rely on them.
A Korean particle written after ``{{char}}``/``{{user}}`` takes the form the name's last
syllable needs ("{{user}}와" is "당신과" for 당신, "민수와" for 민수).
"""

from __future__ import annotations

import re

from personae.errors import InvalidInput

_MACRO = re.compile(
    r"(?:\{\{(char|user|original)\}\}|<(bot|user)>)"
    # A Korean particle glued to the macro, as a word's end (or 와의/과의).
    r"(?:(이|가|은|는|을|를|과|와)(?=의|[^\uac00-\ud7a3]|$))?",
    re.IGNORECASE,
)
# Particle pairs: after a final consonant (batchim), after a vowel.
_PARTICLES = (("이", "가"), ("은", "는"), ("을", "를"), ("과", "와"))
_AFTER_CONSONANT = {vowel: cons for cons, vowel in _PARTICLES} | {c: c for c, _ in _PARTICLES}
_AFTER_VOWEL = {cons: vowel for cons, vowel in _PARTICLES} | {v: v for _, v in _PARTICLES}


def _with_particle(value: str, particle: str | None) -> str:
    """``value`` and the Korean ``particle`` in the form its last syllable takes: a card writes
    "{{user}}와" for any name, "당신과" and "민수와" are what reads right."""
    if not particle:
        return value
    last = value[-1:]
    if not "\uac00" <= last <= "\ud7a3":
        return value + particle  # not Hangul: nothing to agree with
    batchim = (ord(last) - 0xAC00) % 28 != 0
    return value + (_AFTER_CONSONANT if batchim else _AFTER_VOWEL)[particle]


def expand_macros(text: str, *, char: str, user: str, original: str = "") -> str:
    """Replace the card macros in ``text`` (case-insensitively) in one pass.

    ``original`` is what ``{{original}}`` stands for: the global prompt a card's
    ``system_prompt`` or ``post_history_instructions`` replaces.
    """
    for label, value in (("text", text), ("char", char), ("user", user), ("original", original)):
        if not isinstance(value, str):
            raise InvalidInput(
                f"macro {label} must be a string, got {type(value).__name__}; pass text"
            )
    values = {"char": char, "bot": char, "user": user, "original": original}

    def replace(match: re.Match[str]) -> str:
        name = (match.group(1) or match.group(2)).lower()
        if name == "original":
            return values[name] + (match.group(3) or "")
        return _with_particle(values[name], match.group(3))

    return _MACRO.sub(replace, text)
