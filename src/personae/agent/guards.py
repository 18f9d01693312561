"""Reply guards: a reply is checked sentence by sentence *before* the user sees it (issue 14).

Small models restart their previous reply, replay the greeting, echo the user, say they are an
AI or answer a Korean message in English. The fidelity checks find all of that in a finished
reply (:func:`personae.checks.check_reply`); here the same checks run while the
reply streams, so that what is shown has passed them:

- text is released a sentence at a time: each sentence is held back until it is complete and
  the reply so far, with it, passes the checks (:data:`OPENING_FLAGS` for the opening,
  :data:`LATER_FLAGS` after it);
- if the *opening* fails, nothing has been shown: the attempt is cancelled and the reply is
  generated again (another seed, a little warmer, told what went wrong; the last try also
  without the recent replies the tries copied, which :class:`GuardEvent` names), at most
  :data:`MAX_RETRIES` times; on the last try a failed opening is skipped and the reply starts
  at the next sentence that passes, or, if none does (or only a scrap is left), the first
  opening is shown after all (an answer is better than none);
- if a *later* sentence fails (the model drifts into its previous reply halfway through, or
  into English), the reply is cut before it: what was shown stays, and that is the reply.

A check of the reply so far costs well under a millisecond for a chat's few earlier replies
(benchmarks/bench_fidelity_cost.py), against the tens of milliseconds a token takes on the CPU.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from personae.backends.base import Message
from personae.characters import Character
from personae.checks import CardReference, check_reply, copied_sources
from personae.checks import language as lang_checks
from personae.text import Language, complete_length, detect_language, letter_count, without_actions

# Flags that make an opening worth a second try: each is a failure a user sees at once.
OPENING_FLAGS = (
    "copy_previous",
    "copy_greeting",
    "copy_examples",
    "copy_card",
    "verbatim_repeat",
    "echo_user",
    "copy_user",
    "ai_disclosure",
    "assistant_speak",
    "ooc_refusal",
    "wrong_language",
    "user_placeholder",
    "speaks_as_user",
    "note_speak",
)
# Flags whose source is one of the prompt's messages (the greeting or an earlier reply).
COPY_FLAGS = ("copy_previous", "copy_greeting", "verbatim_repeat")
# Flags that end a reply at the sentence that raises them (it is never shown).
LATER_FLAGS = (
    "copy_previous",
    "copy_greeting",
    "copy_examples",
    "copy_card",
    "echo_user",
    "copy_user",
    "ai_disclosure",
    "assistant_speak",
    "wrong_language",
    "speaks_as_user",
)
MAX_RETRIES = 2
# An opening is judged once it has this many letters (a lone "*nods*" or "Hm." says too
# little); until then sentences are held together.
OPENING_LETTERS = {"en": 24, "ko": 10}

Decision = Literal["show", "retry", "cut"]
# How overlap.copy_reason and echo_reason word a share-of-phrases finding.
_SHARE = "of its phrases are"


@dataclass
class GuardEvent:
    """What the guard did on one attempt: ``action`` ("retry" or "cut"), why, and where."""

    action: str
    flags: tuple[str, ...]
    evidence: str
    # For a copy: which of the prompt's messages (indices into the guard's ``history``) the
    # failed text copies; the next try does not see them (see ReplyStream).
    sources: tuple[int, ...] = ()


@dataclass
class ReplyGuard:
    """Checks one reply of ``character`` to ``user`` against ``history`` (the prompt's
    messages before the user's newest one). Feed it the cleaned text as it streams."""

    character: Character
    user_name: str
    user: str
    history: Sequence[Message]
    last_attempt: bool = False
    events: list[GuardEvent] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._card = CardReference.from_character(self.character, self.user_name)
        self._history = [
            {"role": m.role, "content": m.content}
            for m in self.history
            if m.role in ("user", "assistant")
        ]
        self._language = detect_language(self.user, default=self._card.voice_language)
        self.released = ""
        self._pending = ""
        self._fallback: tuple[str, tuple[str, ...]] | None = None

    @property
    def language(self) -> Language:
        """The language the reply is checked for: the user's."""
        return self._language

    def _problems(self, text: str, flags: Sequence[str]) -> tuple[tuple[str, ...], str, bool]:
        """The flags of ``flags`` that ``text`` raises, their evidence, and whether every one
        of them is only a share of phrases (see :func:`~personae.checks.overlap
        .copy_reason`), which more text can bring under the threshold."""
        check = check_reply(
            text,
            user=self.user,
            history=self._history,
            card=self._card,
            language=self._language,
            user_name=self.user_name,
            finish_reason="stop",
        )
        found = tuple(f for f in flags if f in check.hits)
        if "wrong_language" in found and not lang_checks.wrong_language(
            without_actions(text), self._language
        ):
            # Stage directions in the card's language around speech in the user's (Mina's
            # "*She smiles.*" before Korean words) are not a reply in the wrong language.
            found = tuple(f for f in found if f != "wrong_language")
        evidence = [f"{f}: {check.hits[f]}" for f in found]
        shares = bool(found) and all(_SHARE in check.hits[f] for f in found)
        if "\ufffd" in text:
            # A character cut in half (a sampler pushed the model off the rest of its bytes):
            # never shown, whatever else holds.
            found, shares = (*found, "broken_text"), False
            evidence.append("broken_text: U+FFFD in the reply")
        return found, "; ".join(evidence), shares

    def feed(self, piece: str) -> tuple[str, Decision]:
        """Take the next cleaned ``piece``; return what may be shown now and the decision:
        "show" (go on), "retry" (the opening failed: cancel and try again) or "cut" (end the
        reply here; what is returned is its last text)."""
        self._pending += piece
        ready = complete_length(self._pending)
        if not ready:
            return "", "show"
        return self._judge(ready, final=False)

    def finish(self, *, truncated: bool = False) -> tuple[str, Decision]:
        """The stream ended: judge what is still held back. ``truncated``: it ended at the
        token limit, so an unfinished last sentence is left out when there are whole ones
        (a reply that stops mid-word reads as broken; ``continue`` writes on from the last
        whole sentence)."""
        whole = complete_length(self._pending)
        if truncated and (self.released or whole) and self._pending[whole:].strip():
            left = self._pending[whole:].strip()
            self.events.append(GuardEvent("trim", (), f"unfinished at the token limit: “{left}”"))
            self._pending = self._pending[:whole]
        if not self.released and not self._pending.strip() and self._fallback is not None:
            return self._show_fallback()
        if not self._pending.strip():
            # Trailing whitespace: shown after text (it may matter to a continuation).
            shown = self._pending if self.released else ""
            self._pending = ""
            self.released += shown
            return shown, "show"
        return self._judge(len(self._pending), final=True)

    def _judge(self, upto: int, *, final: bool) -> tuple[str, Decision]:
        candidate = self._pending[:upto]
        opening = not self.released
        too_short = _spoken_letters(candidate) < OPENING_LETTERS[self._language]
        if opening and not final and too_short:
            # Too little to judge yet (a lone "*nods*" has no language): held with the next.
            return "", "show"
        if opening and final and too_short and self._fallback is not None:
            # All that is left after a skipped opening is a scrap ("안", a stray quotation
            # mark, a lone action): the first opening says more.
            return self._show_fallback()
        flags, evidence, shares = self._problems(
            self.released + candidate, OPENING_FLAGS if opening else LATER_FLAGS
        )
        if flags and shares and not final:
            # Only "most of its phrases are the user's/the source's": a share that the rest
            # of the reply may still dilute (a quotation of the user opening a longer answer).
            # Held, and judged again with the next sentence.
            return "", "show"
        if not flags:
            return self._release(upto)
        if not opening:
            self.events.append(GuardEvent("cut", flags, evidence))
            self._pending = ""
            return "", "cut"
        sources = self._sources(candidate) if any(f in COPY_FLAGS for f in flags) else ()
        if not self.last_attempt:
            self.events.append(GuardEvent("retry", flags, evidence, sources))
            self._pending = ""
            return "", "retry"
        # The last try: its failed opening is skipped (the next sentence may open it well),
        # and kept in case nothing better comes, for a reply is never left empty.
        self.events.append(GuardEvent("skip", flags, evidence, sources))
        if self._fallback is None:
            self._fallback = (candidate, flags)
        self._pending = self._pending[upto:]
        if final:
            return self._show_fallback()
        return "", "show"

    def _sources(self, text: str) -> tuple[int, ...]:
        """The messages of ``history`` that ``text`` copies (all of them)."""
        messages = [{"role": m.role, "content": m.content} for m in self.history]
        return copied_sources(text, messages, self._language)

    def _release(self, upto: int) -> tuple[str, Decision]:
        shown = self._pending[:upto]
        if not self.released:
            shown = shown.lstrip()  # a skipped opening leaves the space before the next one
        self._pending = self._pending[upto:]
        self.released += shown
        return shown, "show"

    def _show_fallback(self) -> tuple[str, Decision]:
        """Nothing passed on the last try: show its first opening after all."""
        assert self._fallback is not None
        text, _ = self._fallback
        self._pending = text
        return self._release(len(text))


# What a retry is told, after the user's message, about the try it replaces (by what failed).
_RETRY_NOTES: dict[str, dict[str, str]] = {
    "en": {
        "copy": "[Your last try repeated earlier words. Answer {{user}}'s last message with new "
        "words of your own.]",
        "echo": "[Do not repeat {{user}}'s words back; answer them as {{char}}.]",
        "role": "[You are {{char}}, a person in this story, not an AI or an assistant, and not "
        "{{user}}. Answer as {{char}}.]",
        "language": "[Answer in English.]",
    },
    "ko": {
        "copy": "[방금 답은 앞에서 한 말을 되풀이했습니다. "
        "{{user}}의 마지막 말에 새로운 말로 답하세요.]",
        "echo": "[{{user}}의 말을 그대로 따라 하지 말고 {{char}}로서 답하세요.]",
        "role": "[당신은 이 이야기 속 사람 {{char}}입니다. "
        "AI나 도우미가 아니고 {{user}}도 아닙니다. {{char}}로서 답하세요.]",
        "language": "[한국어로 답하세요.]",
    },
}
_RETRY_GROUPS = {
    "copy_previous": "copy",
    "copy_greeting": "copy",
    "copy_examples": "copy",
    "copy_card": "copy",
    "verbatim_repeat": "copy",
    "echo_user": "echo",
    "copy_user": "echo",
    "ai_disclosure": "role",
    "assistant_speak": "role",
    "ooc_refusal": "role",
    "speaks_as_user": "role",
    "user_placeholder": "role",
    "note_speak": "role",
    "wrong_language": "language",
}


def retry_note(flags: Sequence[str], language: str) -> str:
    """The system note a retry gets after the user's message: what the failed try did wrong
    (macros ``{{char}}``/``{{user}}`` left for the caller). Empty when nothing applies."""
    notes = _RETRY_NOTES["ko" if language == "ko" else "en"]
    groups = dict.fromkeys(_RETRY_GROUPS[f] for f in flags if f in _RETRY_GROUPS)
    return " ".join(notes[g] for g in groups)


def _spoken_letters(text: str) -> int:
    """Letters outside ``*action*`` markup."""
    return letter_count(without_actions(text))


__all__ = [
    "COPY_FLAGS",
    "LATER_FLAGS",
    "MAX_RETRIES",
    "OPENING_FLAGS",
    "GuardEvent",
    "ReplyGuard",
    "retry_note",
]
