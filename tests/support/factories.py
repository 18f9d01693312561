"""Small builders for test data the tests write themselves."""

from __future__ import annotations

from typing import Any

from personae.characters import Character, Lorebook, LoreEntry


def make_character(name: str = "Holmes", **fields: Any) -> Character:
    base: dict[str, Any] = {
        "name": name,
        "description": f"{name} is a consulting detective in London.",
        "personality": "observant, terse, vain about his methods",
        "scenario": "221B Baker Street, a foggy evening.",
        "first_mes": "You have been in Afghanistan, I perceive.",
        "mes_example": "<START>\n{{user}}: How did you know?\n{{char}}: Your tan, {{user}}.",
    }
    base.update(fields)
    return Character(**base)


def make_book(*entries: LoreEntry, **fields: Any) -> Lorebook:
    return Lorebook(entries=list(entries), **fields)


def entry(keys: list[str], content: str, **fields: Any) -> LoreEntry:
    return LoreEntry(keys=keys, content=content, **fields)
