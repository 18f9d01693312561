"""A stored conversation: an :class:`~personae.agent.agent.Agent` plus the store.

Every turn follows the store's two-step protocol (see :mod:`personae.store.chats`): the user's
message and an empty ``incomplete`` reply are committed before generation starts, the partial
text is checkpointed before each piece is handed on (so what was shown is what is kept), and
the reply becomes ``complete`` only after its last token. Ctrl-C, a closed client or a crash
leaves an ``incomplete`` reply with what had arrived; a reply that stays empty is not stored as
complete either (:class:`~personae.errors.EmptyReply`).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from personae.agent.agent import Agent, ReplyStream
from personae.agent.attempts import Attempt
from personae.agent.best_of_n import ChosenReplyStream
from personae.agent.new_chat import create_chat
from personae.agent.prompt import Turn
from personae.agent.swipes import keep_candidates, last_turn
from personae.backends.base import Backend, GenerationParams
from personae.characters.user_names import speaker_label
from personae.context.notes import PromptMemory
from personae.errors import EmptyReply, InvalidInput, PersonaeError
from personae.settings.reply import ReplyStrategy
from personae.store import (
    CharacterRepository,
    ChatRepository,
    Database,
    ReplyStats,
    StoredCharacter,
    StoredMessage,
)
from personae.store.lorebooks import played_character
from personae.store.swipes import Swipe, SwipeRepository

if TYPE_CHECKING:
    from personae.agent.verifiers import Ranked
    from personae.memory.bank import MemoryBank
    from personae.memory.manager import AfterTurn, ChatMemory, MemorySettings, TurnMemory

# Tokens kept free beside history for memory's notes (profile, memories, lines) and summary.
MEMORY_RESERVE = 600


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
    shown_ms: float | None = None  # until the first text was shown (see ReplyStream)


class Chat:
    """A conversation with one character, persisted in ``db``.

    >>> chat = Chat.start(db, "sherlock", backend)      # doctest: +SKIP
    >>> for piece in chat.send("Who are you?"):          # doctest: +SKIP
    ...     print(piece, end="")
    """

    def __init__(
        self,
        db: Database,
        chat_id: int,
        backend: Backend,
        *,
        params: GenerationParams | None = None,
        n_ctx: int | None = None,
        memory: MemoryBank | None = None,
        memory_settings: MemorySettings | None = None,
        guard: bool = True,
        strategy: ReplyStrategy | None = None,
    ) -> None:
        self.db = db
        self.chats = ChatRepository(db)
        self.swipes = SwipeRepository(db)
        self.info = self.chats.get(chat_id)
        self.stored: StoredCharacter = CharacterRepository(db).get(self.info.character_id)
        self.agent = Agent(
            # Books attached to the character or to this chat are scanned with the card's own.
            played_character(db, self.stored, chat=self.info),
            backend,
            user_name=self.info.user_name,
            params=params,
            n_ctx=n_ctx,
            guard=guard,
            strategy=strategy,
        )
        self.last_reply: Reply | None = None
        # The candidates of the last reply made by best-of-N/refine, ranked with their scores.
        self.last_ranked: list[Ranked] = []
        self.last_attempts: list[Attempt] = []
        self.memory: ChatMemory | None = None
        self.last_memory: TurnMemory | None = None
        self.last_learned: AfterTurn | None = None
        self.memory_error: str | None = None
        if memory is not None:
            self._attach_memory(memory, memory_settings)

    def _attach_memory(self, bank: MemoryBank, settings: MemorySettings | None) -> None:
        # Memory's modules (numpy, the indexes: ~0.3 s) load only for a chat with memory, here
        # and below: `import personae.agent` is on every command's path, `--help` included.
        from personae.memory.manager import ChatMemory

        self.memory = ChatMemory(
            bank,
            chat_id=self.info.id,
            user_id=self.info.user_id,
            user_name=self.agent.builder.prompt_user,
            character_id=self.stored.id,
            character=self.stored.character,
            language=self.agent.builder.language,
            backend=self.agent.backend,
            settings=settings,
            count_tokens=self.agent.count_tokens,
        )
        if self.memory.settings.lines:
            from personae.memory.lines import sync_card_lines  # see above

            sync_card_lines(bank, self.stored.id, self.stored.character)
        self._sync_user_name()

    def _sync_user_name(self) -> None:
        """Call the user by the name the profile learned when the chat was given none."""
        if self.memory is None:
            return
        self.agent.set_user_name(self.info.user_name, profile_name=self.memory.profile_name())
        # Memory's notes are instructions: a neutral name reads "the user" there, not "you";
        # the character's own lines it recalls say the name as the character would.
        self.memory.user_name = self.agent.builder.prompt_user
        self.memory.addressed_as = self.agent.user_name

    @classmethod
    def start(
        cls,
        db: Database,
        character_id: str,
        backend: Backend,
        *,
        user_name: str = "User",
        user_id: str = "local",
        greeting: int | None = 0,
        params: GenerationParams | None = None,
        n_ctx: int | None = None,
        memory: MemoryBank | None = None,
        memory_settings: MemorySettings | None = None,
        guard: bool = True,
        strategy: ReplyStrategy | None = None,
    ) -> Chat:
        """A new chat; the character's greeting (``greeting`` picks among the alternates,
        ``None`` for a random one) is its first message."""
        known = None
        if memory is not None:
            from personae.memory.profile import profile_name  # see _attach_memory

            known = profile_name(
                memory.items(user_id=user_id, character_id=character_id, kinds=["fact"])
            )
        chat_id = cls.create(
            db,
            character_id,
            user_name=user_name,
            user_id=user_id,
            greeting=greeting,
            profile_name=known,
        )
        return cls(
            db,
            chat_id,
            backend,
            params=params,
            n_ctx=n_ctx,
            memory=memory,
            memory_settings=memory_settings,
            guard=guard,
            strategy=strategy,
        )

    # Store a new chat, its greeting first (no backend needed): see personae.agent.new_chat.
    create = staticmethod(create_chat)

    @property
    def id(self) -> int:
        return self.info.id

    @property
    def character_name(self) -> str:
        return self.stored.character.name

    def messages(self) -> list[StoredMessage]:
        return self.chats.messages(self.id)

    def _conversation(self) -> list[StoredMessage]:
        """The messages the prompt shows: user and assistant, after the running summary."""
        through = self.memory.summary_through() if self.memory else None
        return [
            m
            for m in self.messages()
            if m.role in ("user", "assistant")
            and m.content.strip()
            and (through is None or m.id > through)
        ]

    def history(self) -> list[Turn]:
        """What the next prompt shows of this chat (after the running summary, if any)."""
        return [
            Turn("user" if m.role == "user" else "assistant", m.content, m.note)
            for m in self._conversation()
        ]

    def _recall(self, user_text: str) -> PromptMemory | None:
        if self.memory is None:
            return None
        self.last_memory = self.memory.prepare(user_text)
        return self.last_memory.prompt

    def warm_up(self) -> threading.Thread | None:
        """Fill the backend's prompt cache with this chat so far, in the background."""
        summary = None
        if self.memory is not None and self.memory.settings.summary:
            stored = self.memory.bank.repo.summary(self.id)
            summary = PromptMemory(summary=stored.text) if stored else None
        return self.agent.warm_up(self.history(), summary)

    # -- turns --------------------------------------------------------------------------------

    def send(self, text: str, params: GenerationParams | None = None) -> Iterator[str]:
        """Store ``text`` as the user's message and stream the character's reply."""
        if not text or not text.strip():
            raise InvalidInput("the message is empty")
        # Build the prompt first: if it cannot fit, nothing is written. A message too long to
        # fit even alone is refused before memory embeds and searches it (counts are cached,
        # so the real build below does not count it again).
        self.agent.prompt([Turn("user", text)], params)
        memory = self._recall(text)
        stream = self.agent.reply([*self.history(), Turn("user", text)], params, memory)
        # The note goes with the message: later prompts show it again at the same place, so
        # the backend's prompt cache covers everything up to the next message.
        user_id, reply_id = self.chats.begin_turn(self.id, text, note=stream.prompt.note)
        return self._generate(reply_id, stream, learn=(user_id, text), after_id=user_id)

    def regenerate(self, params: GenerationParams | None = None) -> Iterator[str]:
        """Replace the last reply with a new one (the old one is kept, hidden)."""
        visible = self.messages()
        if not any(m.role == "user" for m in visible):
            raise InvalidInput("nothing to regenerate yet: say something first")
        history = self.history()
        replaced, after_id = last_turn(visible)
        if replaced is not None:
            history = history[:-1] if replaced.content.strip() else history
        if after_id is not None:
            swipe = self.swipes.take(self.id, after_id)
            if swipe is not None:
                return self._show_swipe(swipe.content, replaced)
        last_user = next((t.content for t in reversed(history) if t.role == "user"), "")
        stream = self.agent.reply(history, params, self._recall(last_user))
        if replaced is not None:
            self.chats.set_status([replaced.id], "superseded")
        _, reply_id = self.chats.begin_turn(self.id, None)
        return self._generate(reply_id, stream, after_id=after_id)

    def pending_swipes(self) -> list[Swipe]:
        """The kept candidates that :meth:`regenerate` would show next, best first."""
        visible = self.messages()
        _, after_id = last_turn(visible)
        if after_id is None or not any(m.role == "user" for m in visible):
            return []
        return self.swipes.pending(self.id, after_id)

    def _show_swipe(self, text: str, replaced: StoredMessage | None) -> Iterator[str]:
        """A kept candidate becomes the reply at once (regenerate after best-of-N)."""
        if replaced is not None:
            self.chats.set_status([replaced.id], "superseded")
        _, reply_id = self.chats.begin_turn(self.id, None)
        stats = ReplyStats(
            backend=self.agent.backend.name,
            model=self.agent.backend.model,
            finish_reason="stop",
        )
        self.chats.complete_reply(reply_id, text, stats)
        self.last_reply = Reply(reply_id, text, True, "stop", None, None)
        self.last_attempts = []
        self.last_ranked = []
        return iter([text])

    def speak(self, params: GenerationParams | None = None) -> Iterator[str]:
        """The character speaks again: a new reply after the chat so far, with no message of
        the user's (a front end's empty Send)."""
        history = self.history()
        stream = self.agent.reply(history, params, self._recall(_latest_text(history)))
        visible = self.messages()
        _, reply_id = self.chats.begin_turn(self.id, None)
        return self._generate(reply_id, stream, after_id=visible[-1].id if visible else None)

    def continue_reply(self, params: GenerationParams | None = None) -> Iterator[str]:
        """Continue the chat's last reply where it stops: streams only the new text, and the
        stored reply grows by it (Continue in a front end)."""
        visible = self.messages()
        last = visible[-1] if visible else None
        if last is None or last.role != "assistant" or not last.content.strip():
            raise InvalidInput(
                "nothing to continue: the chat's last message is not the character's; send a "
                "message instead"
            )
        history = self.history()
        memory = self._recall(_latest_text(history))
        stream = self.agent.reply(history, params, memory, continuing=True)
        self.chats.set_status([last.id], "incomplete")  # complete again once it has grown
        return self._generate(last.id, stream, prefix=last.content)

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

    def _generate(
        self,
        reply_id: int,
        stream: ReplyStream | ChosenReplyStream,
        learn: tuple[int | None, str] | None = None,
        *,
        prefix: str = "",
        after_id: int | None = None,
    ) -> Iterator[str]:
        """Stream ``stream`` into the reply ``reply_id``; with ``prefix`` (a continuation) the
        reply's text is ``prefix`` followed by the new text."""
        self.last_attempts = stream.attempts  # the tries the reply took, and what the guard did
        try:
            for piece in stream:
                # Stored before it is handed on: whatever a user (or a client) has seen is in the
                # database even if the process is killed the next moment. A checkpoint costs
                # ~50 us (no fsync, see ChatRepository.save_partial), far below a token's time.
                self.chats.save_partial(reply_id, prefix + stream.text)
                yield piece
        except BaseException as exc:
            # Ctrl-C, a closed consumer (GeneratorExit) or a backend failure: keep what arrived.
            reason = "cancelled" if isinstance(exc, KeyboardInterrupt | GeneratorExit) else "error"
            unchanged = bool(prefix) and not stream.text
            self._interrupt(reply_id, prefix + stream.text, reason, unchanged=unchanged)
            raise
        if not stream.text:
            # Empty even after the agent's warmer retry: nothing to keep as a reply. It stays an
            # incomplete message (hidden from prompts, which skip empty ones), and the caller
            # hears that it failed instead of getting an empty "complete" reply. (A reply that
            # was to be continued keeps its text and is complete again, as before.)
            self._interrupt(reply_id, prefix, "empty", unchanged=bool(prefix))
            raise EmptyReply()
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
        # A retried reply keeps the note its try was given: the next prompt shows it again, so
        # the backend's cache (which holds that try) still covers the reply.
        note = None if prefix else stream.retry_note
        self.chats.complete_reply(reply_id, prefix + stream.text, stats, note=note)
        self.last_ranked = []
        if isinstance(stream, ChosenReplyStream):
            self.last_ranked = list(stream.ranked)
            if after_id is not None:
                # Regenerate shows them one by one before it generates again.
                keep_candidates(self.swipes, self.id, after_id, stream)
        self.last_reply = Reply(
            reply_id,
            prefix + stream.text,
            True,
            stream.finish_reason,
            stream.ttft_ms,
            stream.duration_ms,
            stats.prompt_tokens,
            stats.completion_tokens,
            stats.cached_tokens,
            stream.shown_ms,
        )
        if learn is not None:
            self.learn(*learn)

    def _interrupt(self, reply_id: int, text: str, reason: str, *, unchanged: bool = False) -> None:
        """Keep ``text`` of a reply that did not finish. ``unchanged``: a continuation that
        added nothing, whose reply is complete again, as it was."""
        if unchanged:
            self.chats.set_status([reply_id], "complete")
            self.last_reply = Reply(reply_id, text, True, reason, None, None)
            return
        self.chats.interrupt_reply(reply_id, text, reason)
        self.last_reply = Reply(reply_id, text, False, reason, None, None)

    def _speaker(self, role: str) -> str:
        if role != "user":
            return self.character_name
        return speaker_label(self.agent.user_name, language=self.agent.builder.language)

    def learn(self, message_id: int | None, text: str) -> None:
        """Memory's after-turn work for the user's message ``text``.

        :meth:`send` does this itself; call it for messages added another way (an import). The
        reply is already stored, so a failure here (say the backend went away while
        summarizing) is reported in ``memory_error``, never raised."""
        if self.memory is None:
            return
        from personae.memory.rolling import Message as Folded  # see _attach_memory

        conversation = self._conversation()
        first_user = next((i for i, m in enumerate(conversation) if m.role == "user"), 0)
        pending = [
            # What the character said before the user's first message is the greeting.
            Folded(m.id, self._speaker(m.role), m.content, setting=i < first_user)
            for i, m in enumerate(conversation)
        ]
        room = self.agent.builder.history_room(self.agent.params.max_tokens, reserve=MEMORY_RESERVE)
        try:
            self.last_learned = self.memory.after_turn(
                text, user_message_id=message_id, pending=pending, room=max(room, 1)
            )
            self.memory_error = None
        except PersonaeError as exc:
            self.memory_error = str(exc)
        if self.last_learned is not None and self.last_learned.facts:
            self._sync_user_name()  # "my name is Ana": the next reply says Ana


def _latest_text(history: list[Turn]) -> str:
    """What memory searches with when no new user message came: the user's latest message,
    else the latest message of all."""
    for turn in reversed(history):
        if turn.role == "user":
            return turn.content
    return history[-1].content if history else ""
