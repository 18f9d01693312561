"""What a server job is asked: a character's reply, stateless (the request's history) or on a
stored chat (:class:`StoredTarget`). The routes build a :class:`Job`; :mod:`.jobs` runs it."""

from __future__ import annotations

from dataclasses import dataclass

from personae.agent.prompt import Turn
from personae.backends.base import GenerationParams
from personae.settings.reply import ReplyStrategy


@dataclass(frozen=True)
class StoredTarget:
    """Stateful mode: which stored chat, and what to do there: reply to the one new user
    message ``text``; with an empty ``text``, let the character speak again (a new reply with
    no user message); with ``continue_reply``, continue the chat's last reply; with
    ``regenerate``, replace the last reply (``chat_id`` is then required)."""

    text: str
    chat_id: int | None = None
    user_id: str | None = None
    new_chat: bool = False
    regenerate: bool = False
    continue_reply: bool = False


@dataclass(frozen=True)
class Job:
    character: str
    model: str | None
    params: GenerationParams
    history: tuple[Turn, ...] = ()  # stateless: the whole conversation, oldest first
    continuing: bool = False  # stateless: the reply continues history's last message
    instructions: str = ""  # the client's leading system messages
    raw: bool = False  # the model alone: ``history`` is the whole prompt, no character
    user_name: str | None = None
    n: int = 1
    stored: StoredTarget | None = None
    viewer: str | None = None  # the key's user: others' private characters don't exist
    # How the reply is made (see .strategies: the request's, the character's or [reply]);
    # None: single.
    strategy: ReplyStrategy | None = None


__all__ = ["Job", "StoredTarget"]
