"""One character on one backend: history in, a streamed reply out. Nothing is stored here
(see :mod:`personae.agent.chat` for the stored conversation)."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator, Sequence

from personae.agent.prompt import AssembledPrompt, PromptBuilder, PromptMemory, Turn, card_language
from personae.agent.stops import ReplyFilter, stop_strings
from personae.agent.tokens import CachedCounter, token_counter
from personae.backends.base import Backend, GenerationParams, Usage, collect
from personae.characters import Character
from personae.characters.user_names import resolve_user_name

DEFAULT_CTX = 4096


RETRY_TEMPERATURE = 0.8


def retry_params(params: GenerationParams) -> GenerationParams:
    """The second try after an empty reply: at least :data:`RETRY_TEMPERATURE`, the next seed."""
    seed = None if params.seed is None else params.seed + 1
    temperature = max(params.temperature, RETRY_TEMPERATURE)
    return params.model_copy(update={"temperature": temperature, "seed": seed})


class ReplyStream:
    """Iterate for the reply's text as it arrives; afterwards ``text``, ``finish_reason``,
    ``usage`` and timings describe it. Breaking out early cancels generation."""

    def __init__(
        self,
        agent: Agent,
        prompt: AssembledPrompt,
        params: GenerationParams,
        *,
        continues: str | None = None,
    ) -> None:
        self.prompt = prompt
        self.continues = continues  # the text of the message this reply continues, if any
        self._agent = agent
        self._params = params
        self._filter = self._new_filter()
        self.finish_reason: str | None = None
        self.usage: Usage | None = None
        self.ttft_ms: float | None = None
        self.duration_ms: float | None = None
        self.retried = False  # the first try gave an empty reply
        self._started = False

    @property
    def text(self) -> str:
        """The (cleaned) reply so far."""
        return self._filter.text

    @property
    def done(self) -> bool:
        return self.finish_reason is not None

    def __iter__(self) -> Iterator[str]:
        if self._started:
            raise RuntimeError("a reply stream can be iterated once")
        self._started = True
        start = time.perf_counter()
        yield from self._attempt(self._params, start)
        if not self._filter.text:
            # Small models sometimes end at once (smollm2 does on some prompts, greedily, every
            # time) or open with the user's line, which the filter cuts: an empty reply. Nothing
            # was shown yet, so one warmer try with another seed costs only its own time.
            self.retried = True
            self.finish_reason = None
            self._filter = self._new_filter()
            yield from self._attempt(retry_params(self._params), start)
        self.finish_reason = self.finish_reason or "stop"
        self.duration_ms = (time.perf_counter() - start) * 1000

    def _new_filter(self) -> ReplyFilter:
        agent = self._agent
        return ReplyFilter(agent.character.name, agent.user_name, continues=self.continues)

    def _attempt(self, params: GenerationParams, start: float) -> Iterator[str]:
        stream = self._agent.backend.stream(self.prompt.messages, params)
        try:
            for chunk in stream:
                if chunk.text:
                    if self.ttft_ms is None:
                        self.ttft_ms = (time.perf_counter() - start) * 1000
                    shown = self._filter.feed(chunk.text)
                    if shown:
                        yield shown
                    if self._filter.stopped:
                        # The model began writing the user's lines: end the reply here.
                        self.finish_reason = "stop"
                        break
                if chunk.is_final:
                    self.finish_reason = chunk.finish_reason
                    self.usage = chunk.usage
        finally:
            # Closing the backend's generator is what cancels generation when we stop early.
            close = getattr(stream, "close", None)
            if close is not None:
                close()
        tail = self._filter.finish()
        if tail:
            yield tail

    def read(self) -> str:
        """Consume the whole reply and return its text."""
        for _ in self:
            pass
        return self.text


class Agent:
    """Plays ``character`` on ``backend``. ``reply(history)`` streams the next message."""

    def __init__(
        self,
        character: Character,
        backend: Backend,
        *,
        user_name: str = "User",
        params: GenerationParams | None = None,
        n_ctx: int | None = None,
    ) -> None:
        self.character = character
        self.backend = backend
        # "User" (or no name) is a placeholder: the character says "you" instead.
        self.user_name = resolve_user_name(user_name, language=card_language(character))
        self.params = params or GenerationParams()
        self.count_tokens = CachedCounter(token_counter(backend))
        ctx = n_ctx or getattr(backend, "n_ctx", None) or DEFAULT_CTX
        self.builder = PromptBuilder(
            character, user_name=self.user_name, count_tokens=self.count_tokens, n_ctx=int(ctx)
        )

    def set_user_name(self, user_name: str | None, *, profile_name: str | None = None) -> str:
        """Call the user ``user_name`` (else ``profile_name``, else a neutral "you") from the
        next prompt on; returns the name used. The system message changes only if it does."""
        resolved = resolve_user_name(
            user_name, language=self.builder.language, profile_name=profile_name
        )
        if resolved != self.user_name:
            self.user_name = resolved
            self.builder.set_user_name(resolved)
        return resolved

    def prompt(
        self,
        history: Sequence[Turn],
        params: GenerationParams | None = None,
        memory: PromptMemory | None = None,
    ) -> AssembledPrompt:
        max_tokens = (params or self.params).max_tokens
        return self.builder.build(history, max_tokens=max_tokens, memory=memory)

    def reply(
        self,
        history: Sequence[Turn],
        params: GenerationParams | None = None,
        memory: PromptMemory | None = None,
        *,
        continuing: bool = False,
    ) -> ReplyStream:
        """Stream the next reply to ``history``; ``memory`` adds a summary and recalled notes.
        With ``continuing``, stream the rest of ``history``'s last message (the character's):
        only the new text, which may start with the space or line break that joins it on."""
        params = params or self.params
        prompt = self.builder.build(
            history, max_tokens=params.max_tokens, memory=memory, continuing=continuing
        )
        stops = tuple(dict.fromkeys(stop_strings(self.user_name) + params.stop))
        continues = history[-1].content if continuing else None
        return ReplyStream(
            self, prompt, params.model_copy(update={"stop": stops}), continues=continues
        )

    def warm_up(
        self, history: Sequence[Turn], memory: PromptMemory | None = None
    ) -> threading.Thread | None:
        """Process the prompt prefix in the background (backends with ``supports_prefill``),
        so the first reply of a resumed or new chat starts as fast as later ones. Returns the
        thread, or None when the backend has no prompt cache to fill."""
        if not getattr(self.backend, "supports_prefill", False):
            return None
        messages = self.builder.build(
            history, max_tokens=self.params.max_tokens, memory=memory
        ).messages
        params = GenerationParams(max_tokens=1, temperature=0.0)

        def fill() -> None:
            # Best effort: if this fails, the real request will report the problem.
            with contextlib.suppress(Exception):
                collect(self.backend.stream(messages, params))

        thread = threading.Thread(target=fill, name="personae-warm-up", daemon=True)
        thread.start()
        return thread
