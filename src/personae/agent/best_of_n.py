"""Best-of-N, self-refine and auto replies (see :mod:`personae.settings.reply`).

:class:`ChosenReplyStream` has the interface of :class:`~personae.agent.agent.ReplyStream`, so
a :class:`~personae.agent.chat.Chat` stores and streams it the same way. How the user sees text
promptly: the candidates are generated together (one reading of the prompt, decoded in parallel
slots), each through its own reply filter and reply guard as it streams, and nothing is shown
until the verifiers have chosen: the wait is the slowest candidate's time (bounded by the time
budget), which a front end shows as a "choosing…" state; then the chosen reply arrives at once.
``shown_ms`` measures it (benchmarks/bench_strategies.py compares it with ``single``).

A candidate whose opening fails the guards is not dropped: it is ranked with the rest on its raw
text (the verifiers fail it at the same gate). When the guards fail every candidate's opening,
the round is tried again as a single reply is (warmer, told what went wrong; on the last try the
guards skip a failed opening instead), so a draft of ``refine`` is at least as well guarded as a
``single`` reply; ``auto`` refines the best when every candidate still fails a gate. Refining
writes the reply again with a note after the user's message that shows the draft and what the
verifiers found wrong; the prompt before it is unchanged, so the backend's cache covers it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from personae.agent.attempts import Attempt, StreamRecord, merged_usage, retry_params
from personae.agent.guards import MAX_RETRIES, ReplyGuard
from personae.agent.prompt import AssembledPrompt
from personae.agent.stops import ReplyFilter
from personae.agent.verifiers import Candidate, Ranked, ReplyContext, Verifiers
from personae.backends.base import GenerationParams, Message, Usage
from personae.backends.candidates import stream_candidates
from personae.characters import entry_text, expand_macros
from personae.settings.reply import ReplyStrategy

if TYPE_CHECKING:
    # Annotation only: the agent makes these streams (personae.agent.agent imports this module).
    from personae.agent.agent import Agent

# How many characters of a draft a refine note quotes (a reply is a few hundred), at least
# (else there is no refining), and of the verifiers' reasons.
DRAFT_CHARS = 1200
MIN_DRAFT_CHARS = 40
PROBLEM_CHARS = 600
# Once a candidate is complete, the others may write this many times its tokens, and at least
# MIN_GRACE_TOKENS more, before they end at their last whole sentence (see _hold_no_longer).
GRACE = 1.5
MIN_GRACE_TOKENS = 24

_REFINE_NOTE = {
    "en": (
        "[A draft of {{char}}'s reply: «{draft}». What is wrong with it: {problems}. Write "
        "{{char}}'s reply again: keep what is good, fix these, and do not copy the draft.]"
    ),
    "ko": (
        "[{{char}}의 답 초안: «{draft}». 고칠 점: {problems}. {{char}}의 답을 다시 쓰세요. "
        "좋은 점은 살리고 고칠 점은 고치되, 초안을 그대로 베끼지 마세요.]"
    ),
}


@dataclass
class _Candidate:
    """One candidate as it streams: its filter, its guard, and what each let through."""

    filter: ReplyFilter
    guard: ReplyGuard
    raw: str = ""  # the filtered text, guard or not (ranked when the guard failed it)
    finish: str | None = None
    failed: bool = False  # the guard failed its opening: the rest is not fed
    cut: bool = False  # the guard ended it at a failed later sentence
    tokens: int = 0

    @property
    def done(self) -> bool:
        return self.finish is not None

    def text(self) -> str:
        return self.raw.strip() if self.failed else self.guard.released.strip()


class ChosenReplyStream(StreamRecord):
    """A reply chosen among candidates (``best-of-n``, ``auto``) or refined (``refine``).
    Iterate for its text; afterwards ``ranked`` holds every candidate of the round the reply
    was chosen from, best first (``rounds``: every round's), with the verifiers' scores, and
    ``alternatives`` the texts of the others (the turn's swipes)."""

    continues: str | None = None

    def __init__(
        self,
        agent: Agent,
        prompt: AssembledPrompt,
        params: GenerationParams,
        *,
        strategy: ReplyStrategy,
        verifiers: Verifiers,
        context: ReplyContext,
    ) -> None:
        super().__init__()
        self.prompt = prompt
        self.strategy = strategy
        self._agent = agent
        self._params = params
        self._verifiers = verifiers
        self._context = context
        self.ranked: list[Ranked] = []
        self.rounds: list[list[Ranked]] = []
        self.chosen_ms: float | None = None
        self._tokens = 0

    @property
    def retry_note(self) -> str:
        """Always "": a chosen reply is stored without its round's note (a refine note quotes a
        draft, which later prompts should not show; candidates run on several slots anyway)."""
        return ""

    @property
    def others(self) -> list[Ranked]:
        """The candidates not chosen, best first, each text once, none empty."""
        seen = {self._shown.strip()}
        out = []
        for r in self.ranked:
            text = r.candidate.text.strip()
            if text and text not in seen:
                seen.add(text)
                out.append(r)
        return out

    @property
    def alternatives(self) -> list[str]:
        """The texts of :attr:`others`: the turn's swipes."""
        return [r.candidate.text.strip() for r in self.others]

    def __iter__(self) -> Iterator[str]:
        self._begin()
        name = self.strategy.name
        n = self.strategy.candidates
        note = ""
        best: Ranked | None = None
        rounds = self.strategy.rounds if name in ("refine", "auto") else 0
        for round_no in range(rounds + 1):
            params = self._params
            if round_no:
                seed = None if params.seed is None else params.seed + 100 * round_no
                params = params.model_copy(update={"seed": seed})
            ranked = self._round(params, n, note)
            self.rounds.append(ranked)
            if ranked and (best is None or _better(ranked[0], best)):
                best = ranked[0]
                self.ranked = ranked
            if best is None or best.passed or self._spent():
                break
            if name == "best-of-n":
                break
            # refine (and auto when every candidate failed a gate): the best draft again,
            # with what the verifiers found wrong; one candidate a round from here on.
            note = self._refine_note(best)
            if not note:
                break  # no room beside the prompt for even a short draft
            n = 1
            self.retried = True
        self.chosen_ms = (time.perf_counter() - self._start) * 1000
        text = best.candidate.text.strip() if best is not None else ""
        if text:
            self.shown_ms = (time.perf_counter() - self._start) * 1000
            self._shown = text
            yield text
        self.finish_reason = (best.candidate.finish_reason if best else None) or "stop"
        if self.finish_reason not in ("stop", "length"):
            self.finish_reason = "stop"
        self.usage = merged_usage(self.attempts)
        self.duration_ms = (time.perf_counter() - self._start) * 1000

    def _spent(self) -> bool:
        budget = self.strategy.token_budget
        if budget is not None and self._tokens >= budget:
            return True
        limit = self.strategy.time_budget_s
        return limit is not None and time.perf_counter() - self._start >= limit

    def _new_guard(self, context: ReplyContext, last: bool) -> ReplyGuard:
        agent = self._agent
        return ReplyGuard(
            agent.character, agent.user_name, context.user, context.history, last_attempt=last
        )

    def _round(self, params: GenerationParams, n: int, note: str) -> list[Ranked]:
        """``n`` candidates (with ``note`` after the user's message), ranked. As in a single
        reply, when the guards fail every candidate's opening the round is tried again, warmer
        and told what went wrong, at most :data:`~personae.agent.guards.MAX_RETRIES` times; on
        the last try the guards skip a failed opening rather than fail it."""
        context = self._context
        if note:
            # The note quotes the draft: a rewrite that copies the draft, or says the note back
            # (the 1.5B's 홍길동 did), is a copy of an earlier message, for the guard and the
            # verifiers alike.
            context = replace(context, history=[*context.history, Message("assistant", note)])
        notes = [note] if note else []
        tried = 0
        try_params = params
        while True:
            last = tried == MAX_RETRIES
            states = self._try(try_params, n, notes, context, last=last)
            if last or self._spent() or any(s.text() and not s.failed for s in states):
                break
            flags = tuple(dict.fromkeys(f for s in states for e in s.guard.events for f in e.flags))
            nudge = self._agent.retry_note(
                flags, context.language, self.prompt, self._params.max_tokens
            )
            if (
                note
                and nudge
                and not self._agent.note_fits(
                    note + "\n\n" + nudge, self.prompt, self._params.max_tokens
                )
            ):
                nudge = ""  # the refine note took the room: it says what to fix anyway
            tried += 1
            self.retried = True
            notes = [x for x in (note, nudge) if x]
            # Warmer, as a single reply's retry; seeds past the ones the last try's candidates
            # used (candidate i samples with seed + i).
            seed = None if params.seed is None else params.seed + n * tried
            try_params = retry_params(params, tried).model_copy(update={"seed": seed})
        return self._rank(states, context)

    def _try(
        self,
        params: GenerationParams,
        n: int,
        notes: Sequence[str],
        context: ReplyContext,
        *,
        last: bool,
    ) -> list[_Candidate]:
        """One request for ``n`` candidates, each through its filter and guard."""
        agent = self._agent
        messages = [*self.prompt.messages, *(Message("system", x) for x in notes)]
        states = [
            _Candidate(
                ReplyFilter(agent.character.name, agent.user_name), self._new_guard(context, last)
            )
            for _ in range(n)
        ]
        usages: dict[int, Usage] = {}
        stream = stream_candidates(agent.backend, messages, params, n)
        try:
            for chunk in stream:
                state = states[chunk.candidate]
                if chunk.text and not state.done:
                    if self.ttft_ms is None:
                        self.ttft_ms = (time.perf_counter() - self._start) * 1000
                    state.tokens += 1
                    self._tokens += 1
                    self._feed(state, state.filter.feed(chunk.text))
                    if state.filter.stopped and not state.done:
                        self._end(state, "stop")
                if chunk.finish_reason and not state.done:
                    self._feed(state, state.filter.finish())
                    self._end(state, chunk.finish_reason)
                if chunk.usage is not None:
                    # Per candidate, or (llama.cpp) the whole request's on the last one.
                    usages[chunk.candidate] = chunk.usage
                if chunk.text:
                    self._hold_no_longer(states)
                if _settled(states) or self._spent():
                    break
        finally:
            close = getattr(stream, "close", None)
            if close is not None:
                close()
        for state in states:
            if not state.done:  # out of budget: judged on the whole sentences it has
                self._end(state, "length")
        for i, state in enumerate(states):
            # "failed": the guards failed its opening (it is still ranked, last).
            outcome = "failed" if state.failed else ("cut" if state.cut else "shown")
            if state.finish == "error":
                outcome = "error"
            self.attempts.append(Attempt(outcome, usages.get(i), list(state.guard.events)))
        return states

    def _hold_no_longer(self, states: Sequence[_Candidate]) -> None:
        """Once one candidate is complete and usable, the others get :data:`GRACE` times its
        tokens (at least :data:`MIN_GRACE_TOKENS` more) to finish; one still writing then ends at
        its last whole sentence. A round otherwise lasts as long as its longest candidate: on
        Korean probes, where the 1.5B's replies vary most in length, best-of-4 took 2.3x
        single's wall time waiting for them."""
        firsts = [s.tokens for s in states if (s.done or s.cut) and not s.failed and s.text()]
        if not firsts:
            return
        limit = max(math.ceil(min(firsts) * GRACE), min(firsts) + MIN_GRACE_TOKENS)
        for state in states:
            if not (state.done or state.cut or state.failed) and state.tokens >= limit:
                self._end(state, "length")  # the verifiers see it was ended: cut_off if so

    def _feed(self, state: _Candidate, shown: str) -> None:
        if not shown or state.done:
            return
        state.raw += shown
        if state.failed or state.cut:
            return
        _, decision = state.guard.feed(shown)
        if decision == "retry":
            state.failed = True
        elif decision == "cut":
            state.cut = True

    def _end(self, state: _Candidate, finish: str) -> None:
        if not state.failed and not state.cut:
            _, decision = state.guard.finish(truncated=finish == "length")
            state.failed = decision == "retry"
            state.cut = decision == "cut"
        state.finish = finish

    def _rank(self, states: Sequence[_Candidate], context: ReplyContext) -> list[Ranked]:
        candidates: list[Candidate] = []
        for state in states:
            text = state.text()
            if text and state.finish != "error":
                candidates.append(Candidate(text, "stop" if state.cut else state.finish))
        if not candidates:
            return []
        return self._verifiers.rank(candidates, context)

    def _refine_note(self, draft: Ranked) -> str:
        language = "ko" if self._context.language == "ko" else "en"
        agent = self._agent
        problems = "; ".join(s.reason for s in draft.scores if not s.passed or s.value < 0.5) or (
            f"{agent.character.name}답지 않음"
            if language == "ko"
            else f"it does not sound like {agent.character.name}"
        )
        # The macros first, then the draft and the problems: str.format would have turned the
        # template's {{char}} into a literal "{char}" before expand_macros saw it.
        template = expand_macros(
            _REFINE_NOTE[language], char=agent.character.name, user=agent.builder.prompt_user
        )
        # The note goes beside a prompt that was built to fit: it gets what room is left (a
        # Korean draft costs a small model's tokenizer several tokens a syllable).
        text = draft.candidate.text.strip()[:DRAFT_CHARS]
        while True:
            quoted = text if text == draft.candidate.text.strip() else text + "…"
            note = template.replace("{problems}", problems[:PROBLEM_CHARS]).replace(
                "{draft}", quoted
            )
            if agent.note_fits(note, self.prompt, self._params.max_tokens):
                return note
            if len(text) < MIN_DRAFT_CHARS:
                return ""
            text = text[: len(text) // 2]


def _settled(states: Sequence[_Candidate]) -> bool:
    """Whether a try has all it will use: every candidate finished or ended by its guard (a cut
    one's text is final; a failed one ranks last), and one that was not failed is complete; or
    every candidate failed its opening, and the round tries again. Waiting on for a failed
    candidate's end costs the whole try's time (one request decodes them all) and changes
    nothing. (On a round's last try the guards skip a failed opening instead of failing it.)"""
    usable = [s for s in states if not s.failed]
    if not usable:
        return True
    return all(s.done or s.cut or s.failed for s in states) and any(s.done or s.cut for s in usable)


def _better(a: Ranked, b: Ranked) -> bool:
    """Whether ``a`` beats ``b`` across rounds: passing every gate first, then the total."""
    return (a.passed, a.total) > (b.passed, b.total)


def reply_context(agent: Agent, prompt: AssembledPrompt, *, language: str) -> ReplyContext:
    """What the verifiers check a reply of ``agent`` against, from its ``prompt``."""
    messages = prompt.messages
    newest = max((i for i, m in enumerate(messages) if m.role == "user"), default=None)
    user = messages[newest].content if newest is not None else ""
    history = list(messages[:newest]) if newest is not None else list(messages)
    return ReplyContext(
        character=agent.character,
        user_name=agent.user_name,
        user=user,
        history=history,
        language="ko" if language == "ko" else "en",
        recalled=(prompt.note,) if prompt.note.strip() else (),
        lore=tuple(entry_text(e) for e in prompt.lore),
    )


__all__ = ["ChosenReplyStream", "reply_context"]
