"""How a client's own system text combines with the character's card.

A client's leading system messages are instructions: they go after the card's system prompt.
But a front end like SillyTavern builds its whole prompt itself, the card included; adding
personae's copy of the card as well doubles it (Sherlock's prompt grows from ~1,100 to ~1,900
tokens, and a long Korean card no longer fits a 2,048-token context). So when the client's
system text already carries the card's description, the client's text *is* the prompt: the
card's own prompt fields (system prompt, description, personality, scenario, example dialogues,
post-history instructions) are left out, and what personae adds on top stays: lorebook entries
the chat activates, and in a stored chat the summary and what memory recalls.
"""

from __future__ import annotations

import re

from personae.characters import Character, expand_macros

# Shorter descriptions could be quoted by chance (and cost little to send twice).
MIN_DESCRIPTION_CHARS = 16
# Macros personae does not expand ({{random}}, {{time}} …): the client expanded them to
# something we cannot know, so the text on either side is matched on its own.
_OTHER_MACRO = re.compile(r"\{\{.*?\}\}")
_USER_MARK = "\x00"


def carries_card(character: Character, text: str) -> bool:
    """Whether ``text`` (a client's system text) already holds ``character``'s description,
    macros expanded as the client would (any user name)."""
    description = character.description.strip()
    if len(description) < MIN_DESCRIPTION_CHARS:
        return False
    expanded = expand_macros(description, char=character.name, user=_USER_MARK)
    pieces = [_normal(p) for p in _OTHER_MACRO.sub(_USER_MARK, expanded).split(_USER_MARK)]
    pieces = [p for p in pieces if p]
    haystack = _normal(text)
    return bool(pieces) and all(p in haystack for p in pieces)


def with_instructions(character: Character, instructions: str) -> Character:
    """The card as the prompt should use it with the client's system text ``instructions``.

    Usually the card with ``instructions`` after its system prompt (``{{original}}`` keeps the
    default one when the card has none), so they are part of the stable system message: never
    trimmed with old history, and macros like ``{{char}}`` work in them. When the instructions
    carry the card already (:func:`carries_card`), the card's prompt fields are left out and
    the instructions are the whole system prompt."""
    if not instructions.strip():
        return character
    if carries_card(character, instructions):
        return character.model_copy(
            update={
                "system_prompt": instructions.strip(),
                "description": "",
                "personality": "",
                "scenario": "",
                "mes_example": "",
                "post_history_instructions": "",
            }
        )
    head = character.system_prompt.strip() or "{{original}}"
    return character.model_copy(update={"system_prompt": f"{head}\n\n{instructions.strip()}"})


def _normal(text: str) -> str:
    return " ".join(text.split()).casefold()
