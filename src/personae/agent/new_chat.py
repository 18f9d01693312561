"""A new chat in the store: the character's greeting chosen and spoken with the user's name,
stored as its first message. No backend is needed (the server makes chats this way and opens
them when a reply is asked for); :meth:`personae.agent.chat.Chat.start` opens one at once."""

from __future__ import annotations

import random

from personae.agent.prompt import card_language
from personae.characters.user_names import as_spoken, resolve_user_name
from personae.errors import InvalidInput
from personae.store import CharacterRepository, ChatRepository, Database


def create_chat(
    db: Database,
    character_id: str,
    *,
    user_name: str = "User",
    user_id: str = "local",
    greeting: int | None = 0,
    title: str = "",
    profile_name: str | None = None,
) -> int:
    """Store a new chat, its greeting first, and return its id; no backend is needed (the
    server makes chats this way, and opens them when a reply is asked for). With no
    ``user_name`` (or "User"), the greeting calls the user ``profile_name`` or "you"."""
    stored = CharacterRepository(db).get(character_id)
    repo = ChatRepository(db)
    greetings = [g for g in stored.character.greetings() if g.strip()]
    text = None
    if greetings:
        if greeting is None:
            text = random.choice(greetings)
        elif 0 <= greeting < len(greetings):
            text = greetings[greeting]
        else:
            raise InvalidInput(
                f"{stored.character.name} has {len(greetings)} greeting(s); "
                f"--greeting must be 0..{len(greetings) - 1}"
            )
        said = resolve_user_name(
            user_name, language=card_language(stored.character), profile_name=profile_name
        )
        text = as_spoken(
            text,
            char=stored.character.name,
            user=said,
            language=card_language(stored.character),
        ).strip()
    chat_id = repo.create(stored.id, user_name=user_name, user_id=user_id, title=title)
    if text is not None:
        repo.add_message(chat_id, "assistant", text)
    return chat_id


__all__ = ["create_chat"]
