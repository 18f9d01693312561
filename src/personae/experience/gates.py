"""Quality gates: the rules an experience passes before it is kept.

Each gate names the reason an experience is dropped (when several fail, the first in
:data:`REASONS` is the one counted).
Structure: turns parsed at all (``unparsable``), the character not reciting the prompt's own
instructions (``copies_prompt``), enough of them (``too_few_turns``), the
character speaking (``no_character_turn``) to someone (``no_other_party``), the scene centred
on the character (``not_centred``: under a third of the turns), its length (``too_short``,
``too_long``). Character: the project's break detector on the character's turns — an AI
disclosure (``ai_disclosure``), an out-of-character refusal (``refusal``), a chat assistant's
service phrase in its mouth ("How can I help you today?", ``assistant_speak``), the character
writing another person's lines (``speaks_as_other``), using a modern thing knowingly
(``anachronism``: the protective topic's terms, and in every scene the unmistakably modern
terms the profile itself never mentions). Language: a Korean character's experience is Korean
(``wrong_language``). Loops: a turn that nearly repeats an earlier one, or one speaker opening
most turns alike (``repetitive``).
Near-duplicates of other experiences and PII are handled where experiences are kept
(:mod:`.build`), since they depend on what was kept before.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from personae.checks.assistant_speak import detect_assistant_speak
from personae.checks.breaks import (
    detect_ai_disclosure,
    detect_anachronism,
    detect_refusal,
    detect_user_impersonation,
)
from personae.experience.dedupe import shingles
from personae.experience.interaction import Interaction, Turn
from personae.experience.prompts import instruction_windows
from personae.text import Language, detect_language

MIN_TURNS = 4
MIN_CHARACTER_WORDS = {"en": 40, "ko": 25}  # Korean words carry their particles: fewer, longer
MAX_CHARS = 12_000
CENTRED_SHARE = 1 / 3
# The order a dropped experience's reason is chosen in: breaking character first (the most
# telling), then the wrong language, then the shape of the scene.
REASONS = (
    "unparsable",
    "copies_prompt",
    "ai_disclosure",
    "refusal",
    "assistant_speak",
    "speaks_as_other",
    "anachronism",
    "wrong_language",
    "too_few_turns",
    "no_character_turn",
    "no_other_party",
    "not_centred",
    "too_short",
    "too_long",
    "repetitive",
)
REPEAT_SIMILARITY = 0.7


@dataclass(frozen=True)
class GateRules:
    """What the gates need to know about the character: its name, language, and the terms
    that would betray knowledge it cannot have."""

    name: str
    language: Language
    era_terms: tuple[str, ...] = ()
    min_turns: int = MIN_TURNS


@dataclass(frozen=True)
class Verdict:
    reasons: tuple[str, ...]
    score: float  # among the passing candidates of one scene, the richest is kept

    @property
    def passed(self) -> bool:
        return not self.reasons


def _speaks_as_other(interaction: Interaction, name: str) -> bool:
    others = list(dict.fromkeys(t.speaker for t in interaction.other_turns))[:6]
    for turn in interaction.character_turns:
        for other in others:
            if detect_user_impersonation(turn.text, user_name=other, char_name=name):
                return True
    return False


def _same_openings(interaction: Interaction) -> bool:
    """One speaker opens most of their turns (at least three) with the same two words: the
    1.5B's "I know, but …" or "Yes, that is true." to every line, a tic fine-tuning would
    teach."""
    openings: dict[str, Counter[str]] = {}
    turns: Counter[str] = Counter()
    for turn in interaction.turns:
        turns[turn.speaker] += 1
        words = re.findall(r"\w+", turn.text.casefold())
        if len(words) >= 4:
            openings.setdefault(turn.speaker, Counter())[" ".join(words[:2])] += 1
    for speaker, counted in openings.items():
        top = counted.most_common(1)[0][1]
        if top >= 3 and top > turns[speaker] / 2:
            return True
    return False


def _repeats(interaction: Interaction) -> bool:
    """A turn that (nearly) repeats an earlier one, or turns that all open alike: small
    models loop, and a loop taught by fine-tuning is a loop learnt."""
    if _same_openings(interaction):
        return True
    seen: list[set[str]] = []
    for turn in interaction.turns:
        grams = shingles(turn.text)
        if not grams:
            continue
        for earlier in seen:
            if len(grams & earlier) / len(grams | earlier) >= REPEAT_SIMILARITY:
                return True
        seen.append(grams)
    return False


def _anachronistic(
    interaction: Interaction, era: Sequence[str], topic_terms: Sequence[str]
) -> bool:
    """In an ordinary scene no modern thing may appear at all (the scene's world would be
    wrong, not only the character); in a protective one the stranger names the modern thing,
    and the character may echo the words it heard but not show it knows more."""
    if not topic_terms:
        whole = "\n".join([interaction.background, *(t.text for t in interaction.turns)])
        return bool(era) and detect_anachronism(whole, era) is not None
    asked = "\n".join(t.text for t in interaction.other_turns)
    terms = [*topic_terms, *era]
    return any(
        detect_anachronism(t.text, terms, question=asked) for t in interaction.character_turns
    )


def judge(
    interaction: Interaction, rules: GateRules, *, topic_terms: Sequence[str] = ()
) -> Verdict:
    """Every gate ``interaction`` fails (in :data:`REASONS` order), and its richness."""
    reasons: list[str] = []
    turns = interaction.turns
    own = interaction.character_turns
    others = interaction.other_turns
    if not turns:
        return Verdict(("unparsable",), 0.0)
    if len(turns) < rules.min_turns:
        reasons.append("too_few_turns")
    if not any(t.action == "speaking" for t in own):
        reasons.append("no_character_turn")
    if not others:
        reasons.append("no_other_party")
    if own and len(own) / len(turns) < CENTRED_SHARE:
        reasons.append("not_centred")
    own_text = "\n".join(t.text for t in own)
    words = len(own_text.split())
    if own and words < MIN_CHARACTER_WORDS[rules.language]:
        reasons.append("too_short")
    if sum(len(t.text) for t in turns) + len(interaction.background) > MAX_CHARS:
        reasons.append("too_long")
    windows = instruction_windows(rules.language)
    if any(w in " ".join(t.text.casefold().split()) for t in own for w in windows):
        reasons.append("copies_prompt")
    said = [t.text for t in own if t.action == "speaking"]
    if any(detect_ai_disclosure(text) for text in said):
        reasons.append("ai_disclosure")
    if any(detect_refusal(text) for text in said):
        reasons.append("refusal")
    if any(detect_assistant_speak(t.text) for t in own):
        reasons.append("assistant_speak")
    if _speaks_as_other(interaction, rules.name):
        reasons.append("speaks_as_other")
    if _anachronistic(interaction, rules.era_terms, topic_terms):
        reasons.append("anachronism")
    everything = "\n".join(t.text for t in turns)
    if detect_language(everything, rules.language) != rules.language or (
        own_text and detect_language(own_text, rules.language) != rules.language
    ):
        reasons.append("wrong_language")
    if _repeats(interaction):
        reasons.append("repetitive")
    thinks = any(t.action == "thinking" for t in own)
    score = min(len(own), 12) + (2.0 if thinks else 0.0) + min(words, 400) / 100
    return Verdict(tuple(r for r in REASONS if r in reasons), score)


def offending_turn(
    interaction: Interaction, reason: str, rules: GateRules, topic_terms: Sequence[str] = ()
) -> Turn | None:
    """The character's first turn that breaks the gate ``reason`` (anachronism, AI disclosure,
    refusal, assistant speech) on its own; None for other reasons."""
    asked = "\n".join(t.text for t in interaction.other_turns)
    terms = [*topic_terms, *rules.era_terms]
    tests: dict[str, Callable[[Turn], bool]] = {
        "anachronism": lambda t: (
            bool(terms) and detect_anachronism(t.text, terms, question=asked) is not None
        ),
        "ai_disclosure": lambda t: t.action == "speaking" and bool(detect_ai_disclosure(t.text)),
        "refusal": lambda t: t.action == "speaking" and bool(detect_refusal(t.text)),
        "assistant_speak": lambda t: bool(detect_assistant_speak(t.text)),
    }
    test = tests.get(reason)
    if test is None:
        return None
    return next((t for t in interaction.character_turns if test(t)), None)


def unknown_terms(profile_text: str, terms: Sequence[str]) -> tuple[str, ...]:
    """The unmistakably modern ``terms`` (the bundled list, :func:`.prompts.era_terms`) that
    the profile never mentions: a character whose own profile speaks of computers may say
    "computer"; one whose profile does not, may not, in any scene."""
    folded = profile_text.casefold()
    return tuple(sorted({t for t in terms if t.casefold() not in folded}))


__all__ = ["REASONS", "GateRules", "Verdict", "judge", "unknown_terms"]
