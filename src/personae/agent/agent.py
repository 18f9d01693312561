"""One character on one backend: history in, a streamed reply out. Nothing is stored here
(see :mod:`personae.agent.chat` for the stored conversation)."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator, Sequence

from personae.agent.attempts import Attempt, StreamRecord, merged_usage, retry_params
from personae.agent.best_of_n import ChosenReplyStream, reply_context
from personae.agent.guards import MAX_RETRIES, ReplyGuard, retry_note
from personae.agent.prompt import AssembledPrompt, PromptBuilder, Turn, card_language
from personae.agent.stops import ReplyFilter, stop_strings
from personae.agent.tokens import CachedCounter, token_counter
from personae.agent.verifiers import Verifiers
from personae.backends.base import Backend, GenerationParams, Message, collect
from personae.backends.sampling import for_language
from personae.characters import Character, expand_macros
from personae.characters.user_names import resolve_user_name
from personae.context.budget import MESSAGE_OVERHEAD
from personae.context.notes import PromptMemory
from personae.settings.reply import ReplyStrategy

DEFAULT_CTX = 4096


# A retry leaves out the replies its try copied only when the prompt after them is at most this
# many tokens (see ReplyStream._affordable): the previous reply, not one from far back.
HIDE_BUDGET = 320
# Tokens kept free beside a note added after a built prompt (a retry's or refine's): the
# prompt's count is an estimate of the chat template's.
NOTE_MARGIN = 32


class ReplyStream(StreamRecord):
    """Iterate for the reply's text as it arrives; afterwards ``text``, ``finish_reason``,
    ``usage`` and timings describe it. Breaking out early cancels generation.

    With ``guard`` (the default for a new reply, never for a continuation) the text is
    released a sentence at a time after the reply guards pass it (:mod:`personae.agent.guards`):
    a failed opening is generated again before anything is shown (the last try without the
    recent messages the tries copied), a failed later sentence ends the reply before it.
    ``attempts`` tells what happened."""

    def __init__(
        self,
        agent: Agent,
        prompt: AssembledPrompt,
        params: GenerationParams,
        *,
        continues: str | None = None,
        guard: bool = False,
    ) -> None:
        super().__init__()
        self.prompt = prompt
        self.continues = continues  # the text of the message this reply continues, if any
        self._agent = agent
        self._params = params
        self._guarded = guard and continues is None
        self._filter = self._new_filter()
        self._nudge = ""  # a retry's note on what the try before it did wrong
        # The prompt's messages that failed tries copied (the greeting, earlier replies): a
        # retry does not see them, so it cannot copy them again.
        self._hidden: set[int] = set()
        self._copied: set[int] = set()

    @property
    def retry_note(self) -> str:
        """The note the shown try was given after the user's message ("" for a first try): what
        the try before it did wrong. A chat stores it with the reply, so that later prompts show
        it at the same place and the backend's cache, which holds that try, still matches."""
        return self._nudge

    def __iter__(self) -> Iterator[str]:
        start = self._begin()
        params = self._params
        # One more try after an empty reply (as ever), MAX_RETRIES after a failed opening.
        empty_left, guard_left = 1, (MAX_RETRIES if self._guarded else 0)
        while True:
            self._filter = self._new_filter()
            guard = self._new_guard(last=guard_left == 0) if self._guarded else None
            attempt = Attempt("shown")
            self.attempts.append(attempt)
            self.finish_reason = None
            yield from self._attempt(params, start, guard, attempt)
            if guard is not None:
                attempt.events = list(guard.events)
            if attempt.outcome == "shown" and not self._shown:
                # Small models sometimes end at once (smollm2 does on some prompts, greedily,
                # every time) or open with the user's line, which the filter cuts: an empty
                # reply. Nothing was shown yet, so a warmer try costs only its own time.
                attempt.outcome = "empty"
            if attempt.outcome == "retry" and guard_left > 0:
                guard_left -= 1
            elif attempt.outcome == "empty" and empty_left > 0:
                empty_left -= 1
            else:
                break
            self.retried = True
            params = retry_params(self._params, len(self.attempts))
            if attempt.outcome == "retry" and attempt.events and guard is not None:
                self._nudge = self._retry_note(attempt.events[-1].flags, guard.language)
                self._copied.update(attempt.events[-1].sources)
                if guard_left == 0:
                    # The last try, after the retry notes did not stop the copying: it does not
                    # see what the tries before it copied (where that is cheap, see
                    # _affordable). Only here, since leaving a message out costs prefill now and
                    # again on the next turn.
                    self._hidden = self._affordable(sorted(self._copied))
        self.usage = merged_usage(self.attempts)
        self.finish_reason = self.finish_reason or "stop"
        self.duration_ms = (time.perf_counter() - start) * 1000

    def _affordable(self, sources: Sequence[int]) -> set[int]:
        """The copied messages a retry can do without cheaply: those with at most
        :data:`HIDE_BUDGET` tokens from them to the prompt's end. Leaving a message out makes the
        backend read everything after it again, for the retry and again for the next turn (its
        cache then holds the retry's prompt): an early reply in a long chat would cost seconds
        of prefill twice, so it stays, and the retry note alone says not to copy."""
        messages = self.prompt.messages
        count = self._agent.count_tokens
        tail = 0
        affordable: set[int] = set()
        for i in range(len(messages) - 1, -1, -1):
            tail += count(messages[i].content) + MESSAGE_OVERHEAD
            if tail > HIDE_BUDGET:
                break
            if i in sources:
                affordable.add(i)
        return affordable

    def _retry_note(self, flags: Sequence[str], language: str) -> str:
        return self._agent.retry_note(flags, language, self.prompt, self._params.max_tokens)

    def _new_filter(self) -> ReplyFilter:
        agent = self._agent
        return ReplyFilter(agent.character.name, agent.user_name, continues=self.continues)

    def _new_guard(self, last: bool) -> ReplyGuard:
        messages = self.prompt.messages
        newest = max((i for i, m in enumerate(messages) if m.role == "user"), default=None)
        user = messages[newest].content if newest is not None else ""
        history = messages[:newest] if newest is not None else messages
        return ReplyGuard(
            self._agent.character,
            self._agent.user_name,
            user,
            history,
            last_attempt=last,
        )

    def _release(
        self, shown: str, guard: ReplyGuard | None, attempt: Attempt, *, final: bool = False
    ) -> Iterator[str]:
        """Pass cleaned text through the guard; set ``attempt.outcome`` when it stops."""
        if guard is None:
            out, decision = shown, "show"
        elif final:
            out, decision = guard.feed(shown) if shown else ("", "show")
            if decision == "show":
                more, decision = guard.finish(truncated=self.finish_reason == "length")
                out += more
        else:
            out, decision = guard.feed(shown)
        if out:
            if self.shown_ms is None:
                self.shown_ms = (time.perf_counter() - self._start) * 1000
            self._shown += out
            yield out
        if decision != "show":
            attempt.outcome = decision

    def _attempt(
        self,
        params: GenerationParams,
        start: float,
        guard: ReplyGuard | None,
        attempt: Attempt,
    ) -> Iterator[str]:
        messages = [m for i, m in enumerate(self.prompt.messages) if i not in self._hidden]
        if self._nudge:
            messages = [*messages, Message("system", self._nudge)]
        stream = self._agent.backend.stream(messages, params)
        try:
            for chunk in stream:
                if chunk.text:
                    if self.ttft_ms is None:
                        self.ttft_ms = (time.perf_counter() - start) * 1000
                    shown = self._filter.feed(chunk.text)
                    if shown:
                        yield from self._release(shown, guard, attempt)
                        if attempt.outcome != "shown":
                            if attempt.outcome == "cut":
                                self.finish_reason = "stop"
                            return  # closing the backend's stream cancels generation
                    if self._filter.stopped:
                        # The model began writing the user's lines: end the reply here.
                        self.finish_reason = "stop"
                        break
                if chunk.is_final:
                    self.finish_reason = chunk.finish_reason
                    attempt.usage = chunk.usage
        finally:
            # Closing the backend's generator is what cancels generation when we stop early.
            close = getattr(stream, "close", None)
            if close is not None:
                close()
        yield from self._release(self._filter.finish(), guard, attempt, final=True)
        if attempt.outcome == "cut":
            self.finish_reason = "stop"


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
        guard: bool = False,
        strategy: ReplyStrategy | None = None,
        verifiers: Verifiers | None = None,
    ) -> None:
        self.character = character
        self.backend = backend
        # How a new reply is made (personae.settings.reply); continuations are always single.
        self.strategy = strategy or ReplyStrategy()
        self._verifiers = verifiers
        # Reply guards (personae.agent.guards): on in chats; off for tasks whose output is
        # meant to overlap the request (a restyled line, a summary).
        self.guard = guard
        # "User" (or no name) is a placeholder: the character says "you" instead.
        self.user_name = resolve_user_name(user_name, language=card_language(character))
        self.params = params or GenerationParams()
        self.count_tokens = CachedCounter(token_counter(backend))
        ctx = n_ctx or getattr(backend, "n_ctx", None) or DEFAULT_CTX
        self.builder = PromptBuilder(
            character, user_name=self.user_name, count_tokens=self.count_tokens, n_ctx=int(ctx)
        )

    def note_fits(self, note: str, prompt: AssembledPrompt, max_tokens: int) -> bool:
        """Whether a system ``note`` added after ``prompt`` (built to fit beside a reply of
        ``max_tokens``) still fits the context, with :data:`NOTE_MARGIN` to spare."""
        room = self.builder.n_ctx - prompt.prompt_tokens - max_tokens - NOTE_MARGIN
        return self.count_tokens(note) + MESSAGE_OVERHEAD <= room

    def retry_note(
        self, flags: Sequence[str], language: str, prompt: AssembledPrompt, max_tokens: int
    ) -> str:
        """What a retry is told about the try it replaces, whose guards raised ``flags`` (a
        system note after everything else, so the prompt before it, all cached, is unchanged),
        in the reply's ``language``; "" when nothing applies or it does not fit beside
        ``prompt`` (a card near the context's end: Korean on a small model's tokenizer)."""
        note = retry_note(flags, language)
        if not note:
            return ""
        note = expand_macros(note, char=self.character.name, user=self.builder.prompt_user)
        return note if self.note_fits(note, prompt, max_tokens) else ""

    @property
    def verifiers(self) -> Verifiers:
        """What ranks candidate replies (the rule verifiers unless others were given)."""
        if self._verifiers is None:
            self._verifiers = Verifiers.default()
        return self._verifiers

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
    ) -> ReplyStream | ChosenReplyStream:
        """Stream the next reply to ``history``; ``memory`` adds a summary and recalled notes.
        With ``continuing``, stream the rest of ``history``'s last message (the character's):
        only the new text, which may start with the space or line break that joins it on."""
        params = params or self.params
        prompt = self.builder.build(
            history, max_tokens=params.max_tokens, memory=memory, continuing=continuing
        )
        # The model's sampling for the language the reply is to be in (the user's).
        language = self.builder.reply_language(history)
        params = for_language(params, self.backend.model, language)
        stops = tuple(dict.fromkeys(stop_strings(self.user_name) + params.stop))
        if self.strategy.name != "single" and not continuing:
            return ChosenReplyStream(
                self,
                prompt,
                params.model_copy(update={"stop": stops}),
                strategy=self.strategy,
                verifiers=self.verifiers,
                context=reply_context(self, prompt, language=language),
            )
        continues = history[-1].content if continuing else None
        return ReplyStream(
            self,
            prompt,
            params.model_copy(update={"stop": stops}),
            continues=continues,
            guard=self.guard,
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
