"""One fidelity check per candidate, shared by the rule verifiers.

``fidelity``, ``anachronism``, ``style`` and ``length`` all read the same
:func:`personae.checks.check_reply` result; it is computed once per candidate and
turn and kept in the :class:`~personae.agent.verifiers.base.ReplyContext` (four verifiers, one
check). The card's reference is prepared once per character and user name
(:class:`~personae.checks.CardReference` is cached by its fields), the history
converted once per turn, and every history text's n-grams are cached by the fidelity module
itself, so a candidate pays only for its own text.
"""

from __future__ import annotations

from dataclasses import dataclass

from personae.agent.verifiers.base import MAX_TEXT, Candidate, ReplyContext
from personae.checks import CardReference, ReplyCheck, check_reply, speech

MAX_HISTORY = 64
"""History messages compared (the greetings and the last 64): a prompt holds far fewer, and a
caller's runaway history must not make a check cost more than a turn."""
_TAIL = 400  # the end of a capped candidate, where a cut-off shows


@dataclass(frozen=True)
class Turn:
    """What every candidate of one turn is checked against."""

    card: CardReference
    history: tuple[dict[str, str], ...]
    user: str


def capped(text: str, limit: int = MAX_TEXT) -> str:
    return text if len(text) <= limit else text[:limit]


def turn(context: ReplyContext) -> Turn:
    """The turn's prepared reference (once per context)."""
    found = context.memo("turn")
    if found is not None:
        return found  # type: ignore[no-any-return]
    messages = [
        {"role": m.role, "content": capped(m.content)}
        for m in context.history
        if m.role in ("user", "assistant")
    ]
    first_user = next((i for i, m in enumerate(messages) if m["role"] == "user"), len(messages))
    if len(messages) > first_user + MAX_HISTORY:
        messages = messages[:first_user] + messages[-MAX_HISTORY:]
    card = CardReference.from_character(context.character, context.user_name)
    return context.remember("turn", Turn(card, tuple(messages), capped(context.user)))  # type: ignore[no-any-return]


def check(candidate: Candidate, context: ReplyContext) -> ReplyCheck:
    """``candidate``'s fidelity check (once per candidate text and finish reason)."""
    key = ("check", candidate.text, candidate.finish_reason)
    found = context.memo(key)
    if found is not None:
        return found  # type: ignore[no-any-return]
    prepared = turn(context)
    text = capped(candidate.text)
    result = check_reply(
        text,
        user=prepared.user,
        history=prepared.history,
        card=prepared.card,
        language=context.language,
        user_name=context.user_name,
        finish_reason=candidate.finish_reason,
        probe_terms=[capped(t, 200) for t in context.probe_terms[:64]],
    )
    if len(text) < len(candidate.text):
        # The cap cut the text mid-sentence: whether it is cut off is read from its real end.
        result.hits.pop("cut_off", None)
        cut = speech.cut_off(candidate.text[-_TAIL:], candidate.finish_reason)
        if cut:
            result.hits["cut_off"] = cut
    return context.remember(key, result)  # type: ignore[no-any-return]
