"""A character's own words as training records: each line it says, with the line it answers.

The best data this machine has is not generated at all: a novel's or a script's lines of the
character (``card from-text``, ``card add-lines``), each answering someone's line. Each becomes
a chat record — the answered line as the user's message, the character's line as its reply —
under a short system prompt: the opening of the one the chat itself uses ("You are {{char}}…",
:data:`~personae.agent.prompt.DEFAULT_SYSTEM_PROMPT` or the card's own), without the card's long
fields, so that a row is tens of tokens instead of a thousand and the adapter learns the voice
rather than to copy the card.

The library keeps indexed lines as ``line`` memories reading ``"{context}\\n{speaker}: {text}"``
(:func:`personae.memory.lines.line_drafts`); :func:`stored_line_pairs` reads them back.
"""

from __future__ import annotations

from collections.abc import Iterable

from personae.agent.prompt import PromptBuilder
from personae.characters import Character
from personae.store.database import Database
from personae.store.memories import MemoryRepository
from personae.text.token_estimate import estimate_tokens
from personae.training.data import ChatRecord

MIN_REPLY_WORDS = 3
MAX_LINE_CHARS = 2000


def compact_system_prompt(character: Character, user_name: str = "User") -> str:
    """The head of the character's chat system prompt, without description, personality,
    scenario, example dialogue or lorebook."""
    bare = character.model_copy(
        update={
            "description": "",
            "personality": "",
            "scenario": "",
            "mes_example": "",
            "character_book": None,
        }
    )
    builder = PromptBuilder(bare, user_name=user_name, count_tokens=estimate_tokens, n_ctx=4096)
    return builder.system_text()


def _words(text: str) -> int:
    # A Hangul word carries about what two English ones do (particles are joined to it).
    hangul = any("\uac00" <= c <= "\ud7a3" for c in text)
    return len(text.split()) * (2 if hangul else 1)


def _unprefixed(context: str) -> str:
    """``"Watson: Where were you?"`` → ``"Where were you?"`` (the user's message has no name)."""
    head, sep, rest = context.partition(": ")
    if sep and 0 < len(head) <= 40 and "\n" not in head:
        return rest.strip()
    return context.strip()


def line_records(
    character: Character,
    pairs: Iterable[tuple[str | None, str]],
    *,
    user_name: str = "User",
    source: str = "lines",
) -> list[ChatRecord]:
    """``(answered line or None, the character's line)`` pairs as chat records; lines that
    answer nothing, or are shorter than :data:`MIN_REPLY_WORDS` words, are left out."""
    system = compact_system_prompt(character, user_name)
    records = []
    for number, (context, reply) in enumerate(pairs, 1):
        reply = reply.strip()[:MAX_LINE_CHARS]
        if not context or not context.strip() or _words(reply) < MIN_REPLY_WORDS:
            continue
        question = _unprefixed(context)[:MAX_LINE_CHARS]
        if not question:
            continue
        messages = (
            {"role": "system", "content": system},
            {"role": "user", "content": question},
            {"role": "assistant", "content": reply},
        )
        records.append(ChatRecord(messages, source=f"{source} {number}"))
    return records


def split_stored_line(text: str, speaker: str) -> tuple[str | None, str]:
    """A stored line memory as ``(context or None, the speaker's line)``."""
    marker = f"\n{speaker}: "
    at = text.rfind(marker)
    if at >= 0:
        return text[:at].strip() or None, text[at + len(marker) :].strip()
    prefix = f"{speaker}: "
    return None, text[len(prefix) :].strip() if text.startswith(prefix) else text.strip()


def stored_line_pairs(db: Database, character_id: str) -> list[tuple[str | None, str]]:
    """The character's indexed lines in the library, as (answered line, line) pairs."""
    items = MemoryRepository(db).partition(None, character_id, ["line"])
    return [split_stored_line(item.text, item.label or "") for item in items if item.label]


def records_from_library(
    db: Database, character_id: str, character: Character, *, user_name: str = "User"
) -> list[ChatRecord]:
    return line_records(
        character,
        stored_line_pairs(db, character_id),
        user_name=user_name,
        source=f"lines:{character_id}",
    )


__all__ = [
    "compact_system_prompt",
    "line_records",
    "records_from_library",
    "split_stored_line",
    "stored_line_pairs",
]
