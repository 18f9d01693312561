"""The ``fidelity`` verifier: the fidelity flags of each candidate (copy, repeat, echo, AI
disclosure, assistant-speak, refusal, speaking as the user, placeholder, wrong language, empty,
cut-off, code-switch), the same checks the reply guards apply while a reply streams.

A candidate fails the gate on any flag the guards would not show as an opening
(:data:`personae.agent.guards.OPENING_FLAGS`), on an empty reply, and on a character broken in
half (U+FFFD, which the guards never show either). Its value falls with each flag by the flag's
severity (:data:`SEVERITY`).
"""

from __future__ import annotations

from collections.abc import Sequence

from personae.agent.guards import OPENING_FLAGS
from personae.agent.verifiers.base import Candidate, ReplyContext, Score, one_line
from personae.agent.verifiers.checks import capped, check
from personae.checks import language as lang_checks
from personae.text import without_actions

GATES: frozenset[str] = frozenset((*OPENING_FLAGS, "empty", "broken_text"))
"""Flags that fail the gate: what a user sees at once."""

# How much of the value each flag takes away: the value is the product of (1 - severity) over
# the flags raised, so it stays in 0..1 and every further flag lowers it. The order follows
# what the flag does to the scene, not how often it is raised:
#  - nothing to read (empty) or unreadable text (broken) leaves no reply at all;
#  - saying it is an AI ends the fiction outright, an assistant's refusal nearly as much;
#  - the same reply again, writing the user's part, or another language than the user's are
#    failures every reader notices in the first line;
#  - a copied earlier reply or greeting and an echo of the user read as a stuck model, but the
#    reply may still answer; a copied example line is the card's own voice, so a little less;
#  - one service phrase ("도와드릴까요?") in an otherwise in-character reply, and "User" for the
#    user's name, are jarring but local;
#  - a cut-off reply can be continued (not a gate), and a stray word of the other script
#    (precision-first, often a name or a loan) costs least.
SEVERITY: dict[str, float] = {
    "empty": 1.0,
    "broken_text": 0.9,
    "ai_disclosure": 0.8,
    "ooc_refusal": 0.7,
    "verbatim_repeat": 0.7,
    "speaks_as_user": 0.6,
    "wrong_language": 0.6,
    "copy_previous": 0.5,
    "copy_greeting": 0.5,
    "echo_user": 0.5,
    "copy_user": 0.5,
    "copy_examples": 0.4,
    "copy_card": 0.5,
    "note_speak": 0.5,
    "assistant_speak": 0.4,
    "user_placeholder": 0.3,
    "cut_off": 0.3,
    "code_switch": 0.15,
}


def flags_of(candidate: Candidate, context: ReplyContext) -> dict[str, str]:
    """The fidelity flags ``candidate`` raises, with their evidence, as the guards read them
    (the anachronism flag is the ``anachronism`` verifier's)."""
    hits = {k: v for k, v in check(candidate, context).hits.items() if k != "anachronism"}
    if "wrong_language" in hits and not lang_checks.wrong_language(
        without_actions(capped(candidate.text)), context.language
    ):
        # As in the guards: stage directions in the card's language around speech in the
        # user's (Mina's "*She smiles.*" before Korean words) are not the wrong language.
        del hits["wrong_language"]
    if "\ufffd" in candidate.text:
        hits["broken_text"] = "U+FFFD in the reply (a character cut in half)"
    return hits


class FidelityVerifier:
    """Scores candidates by their fidelity flags; a gate on the guards' opening flags."""

    name = "fidelity"

    def score(self, candidates: Sequence[Candidate], context: ReplyContext) -> list[Score]:
        out = []
        for candidate in candidates:
            hits = flags_of(candidate, context)
            value = 1.0
            for flag in hits:
                value *= 1.0 - SEVERITY.get(flag, 0.3)
            passed = not any(flag in GATES for flag in hits)
            reason = (
                "; ".join(f"{flag}: {one_line(evidence, 120)}" for flag, evidence in hits.items())
                or "no flags"
            )
            out.append(Score(self.name, max(0.0, value), passed, reason))
        return out
