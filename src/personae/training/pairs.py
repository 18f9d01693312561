"""Preference pairs from a user's own choices: the reply they kept against the ones they
regenerated away or rewrote.

The store never deletes a reply that was replaced: ``/regen`` marks the old reply
``superseded`` and adds the new one after it, and ``/edit`` of a reply does the same with the
user's own text. So in a chat's full history (hidden rows included), every shown, complete reply
that has superseded replies between it and the message before it is a choice the user made: the
shown one is *chosen*, each superseded one *rejected*. The prompt is the chat up to that point,
assembled by the same :class:`~personae.agent.prompt.PromptBuilder` a reply is generated with,
so the adapter learns on the prompts it will see.
"""

from __future__ import annotations

from personae.agent.prompt import PromptBuilder, Turn
from personae.store import CharacterRepository, ChatRepository
from personae.store.chats import VISIBLE, StoredMessage
from personae.store.database import Database
from personae.store.lorebooks import played_character
from personae.text.token_estimate import estimate_tokens
from personae.training.data import ChatRecord

PROMPT_CTX = 4096
REPLY_TOKENS = 400
MAX_PAIRS = 20_000


def _choices(messages: list[StoredMessage]) -> list[tuple[StoredMessage, list[StoredMessage]]]:
    """Each shown reply with the replies it superseded (see the module docstring)."""
    found = []
    previous_shown: StoredMessage | None = None
    for message in messages:
        if message.status not in VISIBLE:
            continue
        answers_user = previous_shown is not None and previous_shown.role == "user"
        if message.role == "assistant" and message.complete and answers_user:
            assert previous_shown is not None
            replaced = [
                m
                for m in messages
                if m.role == "assistant"
                and m.status == "superseded"
                and previous_shown.id < m.id < message.id
                and m.content.strip()
                and m.content.strip() != message.content.strip()
            ]
            if replaced:
                found.append((message, replaced))
        previous_shown = message
    return found


def pairs_from_chats(
    db: Database, character_id: str, *, user_id: str | None = None
) -> list[ChatRecord]:
    """Every preference pair in ``character_id``'s chats (of ``user_id``, else everyone's)."""
    stored = CharacterRepository(db).get(character_id)
    chats = ChatRepository(db)
    pairs: list[ChatRecord] = []
    for chat in chats.all(character_id, user_id=user_id):
        messages = chats.messages(chat.id, include_hidden=True)
        choices = _choices(messages)
        if not choices:
            continue
        character = played_character(db, stored, chat=chat)
        builder = PromptBuilder(
            character, user_name=chat.user_name, count_tokens=estimate_tokens, n_ctx=PROMPT_CTX
        )
        for chosen, rejected in choices:
            history = [
                Turn(m.role, m.content, m.note)  # type: ignore[arg-type]
                for m in messages
                if m.status in VISIBLE and m.id < chosen.id and m.role in ("user", "assistant")
            ]
            prompt = builder.build(history, max_tokens=REPLY_TOKENS).messages
            as_dicts = tuple({"role": m.role, "content": m.content} for m in prompt)
            for other in rejected:
                if len(pairs) >= MAX_PAIRS:
                    return pairs
                pairs.append(
                    ChatRecord(
                        as_dicts,
                        chosen=chosen.content,
                        rejected=other.content,
                        source=f"chat {chat.id} message {chosen.id}",
                    )
                )
    return pairs


__all__ = ["pairs_from_chats"]
