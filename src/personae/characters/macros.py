"""Card macros: ``{{char}}``/``<BOT>``, ``{{user}}``/``<USER>`` and ``{{original}}``.

Expansion is a single regex pass, so a replacement value is never scanned again: a user who
calls themselves ``{{char}}`` stays ``{{char}}``. Unknown ``{{...}}`` macros are left as they
are because other tools (SillyTavern, RisuAI) define many more and a card may rely on them.
"""

from __future__ import annotations

import re

from personae.errors import InvalidInput

_MACRO = re.compile(r"\{\{(char|user|original)\}\}|<(bot|user)>", re.IGNORECASE)


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
        return values[(match.group(1) or match.group(2)).lower()]

    return _MACRO.sub(replace, text)
