"""A stored conversation: an :class:`~personae.agent.agent.Agent` plus the store.

Every turn follows the store's two-step protocol (see :mod:`personae.store.chats`): the user's
message and an empty ``incomplete`` reply are committed before generation starts, the partial
text is checkpointed while it streams, and the reply becomes ``complete`` only after its last
token. Ctrl-C, a closed client or a crash leaves an ``incomplete`` reply with what had arrived.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

from personae.agent.agent import Agent, ReplyStream
from personae.agent.prompt import Turn
from personae.backends.base import Backend, GenerationParams
from personae.characters import expand_macros
from personae.errors import InvalidInput
from personae.store import (
    CharacterRepository,
    ChatRepository,
    Database,
    ReplyStats,
    StoredCharacter,
    StoredMessage,
)


@dataclass(frozen=True)
class Reply:
    id: int
    text: str
    complete: bool
    finish_reason: str | None
    ttft_ms: float | None
    duration_ms: float | None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    cached_tokens: int | None = None


class Chat:
    """A conversation with one character, persisted in ``db``.

    >>> chat = Chat.start(db, "sherlock", backend)      # doctest: +SKIP
    >>> for piece in chat.send("Who are you?"):          # doctest: +SKIP
    ...     print(piece, end="")
    """

    checkpoint_seconds = 0.5

    def __init__(
        self,
        db: Database,
        chat_id: int,
        backend: Backend,
        *,
        params: GenerationParams | None = None,
        n_ctx: int | None = None,
    ) -> None:
        self.db = db
        self.chats = ChatRepository(db)
        self.info = self.chats.get(chat_id)
        self.stored: StoredCharacter = CharacterRepository(db).get(self.info.character_id)
        self.agent = Agent(
            self.stored.character,
            backend,
            user_name=self.info.user_name,
            params=params,
            n_ctx=n_ctx,
        )
        self.last_reply: Reply | None = None

    @classmethod
    def start(
        cls,
        db: Database,
        character_id: str,
        backend: Backend,
        *,
        user_name: str = "User",
        greeting: int | None = 0,
        params: GenerationParams | None = None,
        n_ctx: int | None = None,
    ) -> Chat:
        """A new chat; the character's greeting (``greeting`` picks among the alternates,
        ``None`` for a random one) is its first message."""
        stored = CharacterRepository(db).get(character_id)
        repo = ChatRepository(db)
        chat_id = repo.create(stored.id, user_name=user_name)
        greetings = [g for g in stored.character.greetings() if g.strip()]
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
            text = expand_macros(text, char=stored.character.name, user=user_name).strip()
            repo.add_message(chat_id, "assistant", text)
        return cls(db, chat_id, backend, params=params, n_ctx=n_ctx)

    @property
    def id(self) -> int:
        return self.info.id

    @property
    def character_name(self) -> str:
        return self.stored.character.name

    def messages(self) -> list[StoredMessage]:
        return self.chats.messages(self.id)

    def _history(self) -> list[Turn]:
        turns: list[Turn] = []
        for m in self.messages():
            if m.role in ("user", "assistant") and m.content.strip():
                turns.append(Turn("user" if m.role == "user" else "assistant", m.content))
        return turns

    def warm_up(self) -> threading.Thread | None:
        """Fill the backend's prompt cache with this chat so far, in the background."""
        return self.agent.warm_up(self._history())

    # -- turns --------------------------------------------------------------------------------

    def send(self, text: str, params: GenerationParams | None = None) -> Iterator[str]:
        """Store ``text`` as the user's message and stream the character's reply."""
        if not text or not text.strip():
            raise InvalidInput("the message is empty")
        # Build the prompt first: if it cannot fit, nothing is written.
        stream = self.agent.reply([*self._history(), Turn("user", text)], params)
        _, reply_id = self.chats.begin_turn(self.id, text)
        return self._generate(reply_id, stream)

    def regenerate(self, params: GenerationParams | None = None) -> Iterator[str]:
        """Replace the last reply with a new one (the old one is kept, hidden)."""
        visible = self.messages()
        if not any(m.role == "user" for m in visible):
            raise InvalidInput("nothing to regenerate yet: say something first")
        history = self._history()
        if visible[-1].role == "assistant":
            history = history[:-1] if visible[-1].content.strip() else history
        stream = self.agent.reply(history, params)
        if visible[-1].role == "assistant":
            self.chats.set_status([visible[-1].id], "superseded")
        _, reply_id = self.chats.begin_turn(self.id, None)
        return self._generate(reply_id, stream)

    def edit_last(self, text: str, params: GenerationParams | None = None) -> Iterator[str]:
        """Replace your last message with ``text`` and get a new reply to it."""
        if not text.strip():
            raise InvalidInput("the new text is empty")
        user = self._last("user")
        later = [m.id for m in self.messages() if m.id > user.id]
        self.chats.set_status([user.id, *later], "superseded")
        return self.send(text, params)

    def undo(self) -> int:
        """Remove your last message and everything after it; returns how many were hidden."""
        user = self._last("user")
        hidden = [m.id for m in self.messages() if m.id >= user.id]
        self.chats.set_status(hidden, "deleted")
        return len(hidden)

    def _last(self, role: str) -> StoredMessage:
        for m in reversed(self.messages()):
            if m.role == role:
                return m
        what = "message of yours" if role == "user" else "reply"
        raise InvalidInput(f"there is no {what} in this chat yet")

    def _generate(self, reply_id: int, stream: ReplyStream) -> Iterator[str]:
        try:
            last_save = time.monotonic()
            for piece in stream:
                yield piece
                now = time.monotonic()
                if now - last_save >= self.checkpoint_seconds:
                    self.chats.save_partial(reply_id, stream.text)
                    last_save = now
        except BaseException as exc:
            # Ctrl-C, a closed consumer (GeneratorExit) or a backend failure: keep what arrived.
            reason = "cancelled" if isinstance(exc, KeyboardInterrupt | GeneratorExit) else "error"
            self.chats.interrupt_reply(reply_id, stream.text, reason)
            self.last_reply = Reply(reply_id, stream.text, False, reason, None, None)
            raise
        usage = stream.usage
        stats = ReplyStats(
            backend=self.agent.backend.name,
            model=self.agent.backend.model,
            prompt_tokens=usage.prompt_tokens if usage else None,
            completion_tokens=usage.completion_tokens if usage else None,
            cached_tokens=usage.cached_tokens if usage else None,
            ttft_ms=stream.ttft_ms,
            duration_ms=stream.duration_ms,
            finish_reason=stream.finish_reason,
        )
        self.chats.complete_reply(reply_id, stream.text, stats)
        self.last_reply = Reply(
            reply_id,
            stream.text,
            True,
            stream.finish_reason,
            stream.ttft_ms,
            stream.duration_ms,
            stats.prompt_tokens,
            stats.completion_tokens,
            stats.cached_tokens,
        )
