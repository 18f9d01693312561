"""Play the fidelity conversation set through the real :class:`~personae.agent.Chat`.

Each conversation runs in a fresh, throwaway library (a temporary database with the bundled
characters; never the user's data) with every memory on, exactly as `personae chat` runs: the
user's name set per conversation, the character's greeting first, each scripted user message
sent with :meth:`Chat.send`, so memory learns from it and the next prompt is what a user's
would be. Every reply becomes one transcript record (:data:`RECORD_KEYS`), the input of the
fidelity scorer.

Model calls go through :class:`ReplayCache`, a file of every request's answer keyed by the
model and the exact request (messages and sampling), so an interrupted run continues where it
stopped, on another machine too, and a change to how prompts are built is played afresh rather
than answered from the cache. What the reply cost (time to first token, prompt tokens processed
past the model's prompt cache) is kept with it, so a replayed turn reports the numbers of the
run that made it.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from personae.agent import Chat
from personae.agent.tokens import token_counter
from personae.backends.base import Backend, Chunk, GenerationParams, Message, Usage, collect
from personae.backends.sampling import default_params as model_defaults
from personae.characters import expand_macros
from personae.checks import INSTRUCTION_FIELDS
from personae.errors import ContextOverflow, EmptyReply
from personae.evaluation.cache import ResultCache
from personae.evaluation.tasks.fidelity_set import Conversation
from personae.evaluation.tasks.fidelity_transcripts import write_transcripts
from personae.memory.bank import MemoryBank
from personae.memory.manager import MemorySettings
from personae.settings.reply import ReplyStrategy
from personae.store import CharacterRepository, Database
from personae.store.library import install_bundled

# A reply cap that lets the 1.5B play the whole set in well under an hour on 2 cores (~7 s of
# generation a reply at ~23 tok/s) while leaving room for a full in-character answer.
DEFAULT_MAX_TOKENS = 160
DEFAULT_SEED = 0
RECORD_KEYS = (
    "conversation",
    "character",
    "language",
    "model",
    "turn",
    "user_name",
    "user",
    "reply",
    "finish_reason",
    "history",
    "card",
    "probe",
    "probe_terms",
    "ttft_ms",
    "prompt_tokens_processed",
    "attempts",
    "guard",
)


def default_params(
    model: str | None = None, max_tokens: int = DEFAULT_MAX_TOKENS, seed: int = DEFAULT_SEED
) -> GenerationParams:
    """The sampling a user of ``model`` gets by default (its catalogue defaults, see
    :func:`personae.backends.sampling.default_params`), with a fixed seed so a rerun plays the
    same."""
    return model_defaults(model, max_tokens=max_tokens, seed=seed)


@dataclass
class _Request:
    """One call through the cache: what it answered and what it cost."""

    purpose: str  # "reply" (the character's) or "memory" (summaries, reflections)
    hit: bool
    value: dict[str, Any]


class ReplayCache:
    """A backend wrapper that answers a request it has seen from ``path`` and records every
    new one there (text, finish reason, usage, time to first token, duration)."""

    name: ClassVar[str] = "replay-cache"
    supports_prefill = False  # a warm-up must not be cached as a reply

    def __init__(self, inner: Backend, path: str | Path) -> None:
        self.inner = inner
        self.model = inner.model
        self.n_ctx = getattr(inner, "n_ctx", None)
        self.results = ResultCache(path)
        self._count = token_counter(inner)
        self.log: list[_Request] = []
        self.purpose = "reply"
        self.context: dict[str, Any] = {}  # the conversation and turn, kept with each row
        self._last_hit: tuple[Sequence[Message], GenerationParams] | None = None

    @property
    def hits(self) -> int:
        return sum(r.hit for r in self.log)

    @property
    def misses(self) -> int:
        return sum(not r.hit for r in self.log)

    def count_tokens(self, text: str) -> int:
        return self._count(text)

    def key(self, messages: Sequence[Message], params: GenerationParams) -> str:
        payload = json.dumps(
            [[m.role, m.content, m.prefix] for m in messages] + [params.model_dump(mode="json")],
            ensure_ascii=False,
        )
        return hashlib.sha256(f"{self.model}\n{payload}".encode()).hexdigest()

    def stream(self, messages: Sequence[Message], params: GenerationParams) -> Iterator[Chunk]:
        key = self.key(messages, params)
        stored = self.results.get(key)
        if stored is not None:
            self.log.append(_Request(self.purpose, True, stored))
            self._last_hit = (messages, params)
            return self._replay(stored)
        return self._record(key, messages, params)

    @staticmethod
    def _replay(value: dict[str, Any]) -> Iterator[Chunk]:
        if value["text"]:
            yield Chunk(text=value["text"])
        usage = value.get("usage")
        yield Chunk(finish_reason=value["finish_reason"], usage=Usage(**usage) if usage else None)

    def _record(
        self, key: str, messages: Sequence[Message], params: GenerationParams
    ) -> Iterator[Chunk]:
        if self._last_hit is not None:
            # Resuming after replayed turns: the model never saw them, so its prompt cache is
            # cold. Processing the last replayed prompt first (one token generated) brings it
            # close to where an unbroken run would be, so prompt tokens processed stay honest.
            collect(self.inner.stream(self._last_hit[0], GenerationParams(max_tokens=1)))
            self._last_hit = None
        value: dict[str, Any] = {**self.context, "purpose": self.purpose}
        parts: list[str] = []
        start = time.perf_counter()
        ttft: float | None = None
        finish, usage = "stop", None
        stream = self.inner.stream(messages, params)
        complete = False
        try:
            for chunk in stream:
                if chunk.text:
                    if ttft is None:
                        ttft = (time.perf_counter() - start) * 1000
                    parts.append(chunk.text)
                if chunk.is_final:
                    finish, usage = chunk.finish_reason or "stop", chunk.usage
                yield chunk
            complete = True
        except GeneratorExit:
            # The caller stopped early (the reply filter cut a user line): what arrived is what
            # it saw, and replaying it ends the reply at the same place.
            complete = True
            raise
        finally:
            close = getattr(stream, "close", None)
            if close is not None:
                close()
            if complete:  # a backend failure is not an answer to keep
                value.update(
                    text="".join(parts),
                    finish_reason=finish,
                    usage=_usage_dict(usage),
                    ttft_ms=ttft,
                    duration_ms=(time.perf_counter() - start) * 1000,
                )
                self.results.put(key, value)
                self.log.append(_Request(self.purpose, False, value))


def _usage_dict(usage: Usage | None) -> dict[str, Any] | None:
    if usage is None:
        return None
    return {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "cached_tokens": usage.cached_tokens,
        "prompt_ms": usage.prompt_ms,
        "generation_ms": usage.generation_ms,
    }


class _PlayedChat(Chat):
    """A :class:`Chat` whose memory work after a reply is marked as such in the cache's log, so
    the reply's own requests can be told from the summaries and reflections that follow."""

    def learn(self, message_id: int | None, text: str) -> None:
        backend = self.agent.backend
        if not isinstance(backend, ReplayCache):
            super().learn(message_id, text)
            return
        backend.purpose = "memory"
        try:
            super().learn(message_id, text)
        finally:
            backend.purpose = "reply"


@dataclass
class PlayedConversation:
    """The records of one played conversation and what playing it cost."""

    conversation: Conversation
    records: list[dict[str, Any]] = field(default_factory=list)
    wall_s: float = 0.0
    # Seconds the model worked for this conversation, as recorded when each call was made: the
    # same when the run is replayed from the cache (wall_s is this run's own time).
    model_s: float = 0.0
    hits: int = 0
    misses: int = 0
    memory_errors: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # turns refused before the model ran


MakeBank = Callable[[Database], Any]


def play_conversation(
    conversation: Conversation,
    backend: ReplayCache,
    *,
    params: GenerationParams | None = None,
    n_ctx: int | None = None,
    make_bank: MakeBank | None = None,
    strategy: ReplyStrategy | None = None,
) -> PlayedConversation:
    """Play ``conversation`` in a fresh temporary library and return its transcript records.

    ``make_bank`` builds the memory bank for the temporary database (default: the real one,
    with the bundled embedder); tests pass one with a stand-in embedder."""
    params = params or default_params(backend.model)
    played = PlayedConversation(conversation)
    hits, misses, mark = backend.hits, backend.misses, len(backend.log)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="personae-fidelity-") as tmp:
        db = Database(Path(tmp) / "fidelity.db")
        try:
            install_bundled(db)
            role_card = conversation.role_character()
            if role_card is not None:
                character_id = CharacterRepository(db).add(role_card, source="role")
            else:
                character_id = CharacterRepository(db).find(str(conversation.character)).id
            bank = make_bank(db) if make_bank else MemoryBank(db)
            chat = _PlayedChat.start(
                db,
                character_id,
                backend,
                user_name=conversation.user_name,
                params=params,
                n_ctx=n_ctx,
                memory=bank,
                memory_settings=MemorySettings(),
                strategy=strategy,
            )
            card = _card(chat, conversation.user_name)
            for number, turn in enumerate(conversation.turns, start=1):
                backend.context = {"conversation": conversation.id, "turn": number}
                history = _visible_history(chat)
                try:
                    reply, finish, stats = _play_turn(chat, backend, turn.user)
                except ContextOverflow as exc:
                    # What a user would meet too (the card and the message do not fit): the
                    # turn is recorded as an error with no reply and the chat goes on.
                    played.errors.append(f"turn {number}: {exc}")
                    reply, finish = "", "error"
                    stats = {
                        "ttft_ms": None,
                        "prompt_tokens_processed": None,
                        "attempts": [],
                        "guard": [],
                    }
                played.records.append(
                    {
                        "conversation": conversation.id,
                        "character": chat.stored.id,
                        "language": turn.language,
                        "model": backend.model,
                        "turn": number,
                        "user_name": conversation.user_name,
                        "user": turn.user,
                        "reply": reply,
                        "finish_reason": finish,
                        "history": history,
                        "card": card,
                        "probe": turn.probe,
                        "probe_terms": list(turn.terms) if turn.terms is not None else None,
                        **stats,
                    }
                )
                if chat.memory_error:
                    played.memory_errors.append(f"turn {number}: {chat.memory_error}")
        finally:
            backend.context = {}
            db.close()
    played.wall_s = time.perf_counter() - start
    played.hits, played.misses = backend.hits - hits, backend.misses - misses
    played.model_s = (
        sum(float(r.value.get("duration_ms") or 0.0) for r in backend.log[mark:]) / 1000
    )
    return played


def _visible_history(chat: Chat) -> list[dict[str, str]]:
    """Everything a user sees before the next message, the greeting first."""
    return [
        {"role": m.role, "content": m.content}
        for m in chat.messages()
        if m.role in ("user", "assistant") and m.content.strip()
    ]


def _play_turn(
    chat: Chat, backend: ReplayCache, text: str
) -> tuple[str, str | None, dict[str, Any]]:
    """Send ``text``; returns the reply, its finish reason and what it cost."""
    mark = len(backend.log)
    try:
        for _ in chat.send(text):
            pass
        assert chat.last_reply is not None
        reply, finish = chat.last_reply.text, chat.last_reply.finish_reason
    except EmptyReply:
        # Empty even after the agent's retry: the chat goes on (an empty reply is not shown
        # to later prompts), and the scorer sees the empty reply it is meant to flag.
        reply, finish = "", "empty"
    asked = [r for r in backend.log[mark:] if r.purpose == "reply"]
    stats = _reply_stats(asked)
    # What the reply guards did: each try's outcome ("shown", "retry", "cut", "empty") and why.
    stats["attempts"] = [a.outcome for a in chat.last_attempts]
    stats["guard"] = [f"{e.action}: {e.evidence}" for a in chat.last_attempts for e in a.events]
    return reply, finish, stats


def _reply_stats(asked: Sequence[_Request]) -> dict[str, Any]:
    """Time to first token and prompt tokens processed, from the reply's recorded requests.

    What the user sees comes from the last request: an earlier one is the agent's first try,
    whose text the reply filter dropped (empty, or the user's line), so the user waited through
    all of it. Prompt tokens processed add up over the tries; a try cut short reports no usage,
    and then the count is unknown (None) rather than too small."""
    if not asked:
        return {"ttft_ms": None, "prompt_tokens_processed": None}
    waited = sum(float(r.value.get("duration_ms") or 0.0) for r in asked[:-1])
    first = asked[-1].value.get("ttft_ms")
    usages = [r.value.get("usage") for r in asked]
    processed = None
    if all(u and u.get("prompt_tokens") for u in usages):
        processed = sum(
            int(u["prompt_tokens"]) - int(u.get("cached_tokens") or 0) for u in usages if u
        )
    return {
        "ttft_ms": None if first is None else waited + float(first),
        "prompt_tokens_processed": processed,
    }


def _card(chat: Chat, user_name: str) -> dict[str, str]:
    """The card fields a scorer compares replies with, macros filled in as the model saw them."""
    character = chat.stored.character
    name = character.name

    def fill(text: str) -> str:
        return expand_macros(text or "", char=name, user=user_name)

    return {
        "name": name,
        "first_mes": fill(character.first_mes),
        "mes_example": fill(character.mes_example),
        "description": fill(character.description),
        **{k: fill(getattr(character, k)) for k in INSTRUCTION_FIELDS},
    }


def play_set(
    conversations: Sequence[Conversation],
    backend: ReplayCache,
    out_dir: str | Path,
    *,
    params: GenerationParams | None = None,
    n_ctx: int | None = None,
    make_bank: MakeBank | None = None,
    progress: Callable[[str], None] | None = None,
    label: str | None = None,
    strategy: ReplyStrategy | None = None,
) -> list[PlayedConversation]:
    """Play each conversation and write ``transcripts_<model>.jsonl`` and ``replies_<model>.md``
    under ``out_dir`` after each one (records of conversations not played now are kept)."""
    out = Path(out_dir)
    played = []
    for conversation in conversations:
        if progress:
            progress(f"{conversation.id} ({len(conversation.turns)} turns) …")
        result = play_conversation(
            conversation,
            backend,
            params=params,
            n_ctx=n_ctx,
            make_bank=make_bank,
            strategy=strategy,
        )
        played.append(result)
        write_transcripts(out, backend.model, result.records, label)
    return played
