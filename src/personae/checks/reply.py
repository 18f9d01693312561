"""One reply, checked: :func:`check_reply` gives every fidelity flag and score of a reply.

It is built to run inside a chat turn (the next issue makes these checks the verifiers of
best-of-N): rules and n-gram sets only, no model, the card's side prepared once
(:class:`CardReference`) and each text's n-grams cached. ``benchmarks/bench_fidelity_cost.py``
measures what one call costs on a 12-turn history.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from personae.characters.card import Character
from personae.characters.macros import expand_macros
from personae.checks import breaks, speech
from personae.checks import language as lang_checks
from personae.checks.assistant_speak import detect_assistant_speak
from personae.checks.overlap import (
    NO_OVERLAP,
    Overlap,
    compare,
    copy_reason,
    echo_reason,
    normalized,
    said_back_sentence,
    units,
    user_repeat_reason,
)
from personae.checks.style import (
    StyleProfile,
    length_fit,
    length_ratio,
    typical_length,
)
from personae.text import Language, detect_language

FLAGS: dict[str, str] = {
    "copy_previous": "copies an earlier reply of the character (opening, long run or most of it)",
    "copy_greeting": "copies the greeting (first_mes)",
    "copy_examples": "copies a line of the card's example dialogue (either speaker's)",
    "copy_card": "recites the card: its description (the character's profile, third person), "
    "personality, scenario, instructions to the model or lorebook entries",
    "verbatim_repeat": "the same reply (normalised) as an earlier one",
    "echo_user": "repeats the user's message (opens with it, or is mostly it)",
    "copy_user": "repeats an earlier message of the user's (is mostly it, or says one of its "
    "sentences back whole)",
    "ai_disclosure": "says it is an AI / language model / names its maker",
    "assistant_speak": "a chat assistant's service phrase (offer of help, 'feel free to ask')",
    "ooc_refusal": "an assistant-style refusal",
    "speaks_as_user": "writes the user's lines or actions",
    "user_placeholder": "calls the user 'User' / '{{user}}' instead of their name",
    "note_speak": "opens with a bracketed note, as the prompt's instructions are written",
    "empty": "no words at all",
    "cut_off": "stops mid-sentence",
    "wrong_language": "not in the language the user wrote in",
    "code_switch": "words of the other script inside the reply (names and loans aside)",
    "anachronism": "on an anachronism probe, uses the modern concept knowingly",
}
"""Every flag :func:`check_reply` can raise, with what it means."""

SCORES: dict[str, str] = {
    "previous_overlap": "largest share of the reply's n-grams found in one earlier reply",
    "greeting_overlap": "share of the reply's n-grams found in the greeting",
    "example_overlap": "largest share of the reply's n-grams found in one example line",
    "user_overlap": "share of the reply's n-grams found in the user's message",
    "style_similarity": "character 1-3-gram cosine with the character's example lines "
    "(same language only)",
    "length_ratio": "reply length over the median length of the character's example lines",
    "length_fit": "min(ratio, 1/ratio): 1 at the typical length, 0.5 at half or twice it",
}
"""Every score :func:`check_reply` gives, with what it means."""

Message = Mapping[str, Any]

REPEAT_MIN = {"en": 3, "ko": 8}
"""A verbatim repeat needs a reply of at least 3 words (8 Hangul letters, about 3 Korean words):
a one- or two-word answer ("Yes.", "Indeed, Watson.", "네, 그렇사옵니다") may well recur; the
issue's repeats were whole sentences."""


@dataclass(frozen=True)
class ExampleLine:
    """One turn of the card's example dialogue: ``speaker`` is "char" or "user"."""

    speaker: str
    text: str


@dataclass(frozen=True)
class CardReference:
    """What replies are compared against, prepared once per card and user name."""

    name: str
    greeting: str
    examples: tuple[ExampleLine, ...]
    style: StyleProfile
    voice_language: Language
    typical_length: float
    known_words: frozenset[str]
    description: str = ""
    # The card's other text that the model reads but the character never says: (label, text)
    # for its personality, scenario, system prompt and post-history instructions.
    instructions: tuple[tuple[str, str], ...] = ()

    @classmethod
    def from_character(cls, character: Character, user_name: str = "User") -> CardReference:
        """From a card: its greeting and example dialogue with ``{{char}}``/``{{user}}``
        expanded, the character's example lines as its voice (the greeting when there are none)."""
        return _reference(
            character.name,
            character.first_mes,
            character.mes_example,
            character.description,
            user_name,
            _instructions(character),
        )

    @classmethod
    def from_fields(
        cls,
        *,
        name: str,
        first_mes: str = "",
        mes_example: str = "",
        description: str = "",
        user_name: str = "User",
        instructions: Mapping[str, str] | None = None,
    ) -> CardReference:
        """From the card fields a transcript carries (cached: a corpus repeats its cards);
        ``instructions`` maps any of :data:`INSTRUCTION_FIELDS` to its text."""
        given = instructions or {}
        fields = tuple((k, given[k]) for k in INSTRUCTION_FIELDS if given.get(k, "").strip())
        return _reference(name, first_mes, mes_example, description, user_name, fields)


INSTRUCTION_FIELDS = ("personality", "scenario", "system_prompt", "post_history_instructions")
"""The card fields, besides the description, that a reply must not recite."""


MAX_LORE_ENTRIES = 64
"""Lorebook entries compared with a reply (a card's book is rarely larger)."""


def _instructions(character: Character) -> tuple[tuple[str, str], ...]:
    fields = tuple(
        (k, text) for k in INSTRUCTION_FIELDS if (text := getattr(character, k, "")).strip()
    )
    # The book's entries reach the prompt as background notes; the 1.5B's 춘향 answered "당신
    # AI죠?" with one of them, word for word ("[월매: 춘향의 아버지는 성 참판이었으나 …").
    book = character.character_book
    lore = [e.content for e in (book.entries if book else []) if e.enabled and e.content.strip()]
    return fields + tuple(("lorebook", text) for text in lore[:MAX_LORE_ENTRIES])


@functools.lru_cache(maxsize=256)
def _reference(
    name: str,
    first_mes: str,
    mes_example: str,
    description: str,
    user_name: str,
    instructions: tuple[tuple[str, str], ...] = (),
) -> CardReference:
    card = Character(name=name, first_mes=first_mes, mes_example=mes_example)
    examples = tuple(
        ExampleLine(speaker, text)
        for block in card.example_dialogues(user=user_name)
        for speaker, text in block
        if text.strip()
    )
    own = [e.text for e in examples if e.speaker == "char"]
    greeting = expand_macros(first_mes, char=name, user=user_name)
    voice = own or ([greeting] if greeting.strip() else [])
    known = lang_checks.words_of([name, user_name, description, greeting, mes_example])
    return CardReference(
        name,
        greeting,
        examples,
        StyleProfile.of(voice),
        detect_language(" ".join(voice)),
        typical_length(voice),
        known,
        expand_macros(description, char=name, user=user_name),
        tuple((k, expand_macros(t, char=name, user=user_name)) for k, t in instructions),
    )


@dataclass(frozen=True)
class ReplyCheck:
    """The fidelity of one reply: ``hits`` maps each raised flag to its evidence (an excerpt
    and the rule), ``scores`` holds every score (NaN where it does not apply)."""

    hits: dict[str, str]
    scores: dict[str, float]
    language: Language
    reply_language: Language

    def flagged(self, flag: str) -> bool:
        """Whether ``flag`` (one of :data:`FLAGS`) was raised."""
        if flag not in FLAGS:
            raise KeyError(f"unknown fidelity flag {flag!r}")
        return flag in self.hits

    @property
    def flags(self) -> dict[str, bool]:
        """Every flag of :data:`FLAGS`, raised or not."""
        return {name: name in self.hits for name in FLAGS}

    def as_dict(self) -> dict[str, Any]:
        return {
            "language": self.language,
            "reply_language": self.reply_language,
            "flags": self.flags,
            "evidence": dict(self.hits),
            "scores": {k: (None if math.isnan(v) else v) for k, v in self.scores.items()},
        }


def _role_content(message: Message) -> tuple[str, str]:
    return str(message.get("role", "")), str(message.get("content", ""))


def check_reply(
    reply: str,
    *,
    user: str,
    history: Sequence[Message],
    card: CardReference,
    language: Language | None = None,
    user_name: str = "User",
    finish_reason: str | None = None,
    probe_terms: Iterable[str] = (),
) -> ReplyCheck:
    """Check one reply of ``card``'s character to the user's message ``user``.

    ``history`` is everything before ``user`` as ``{"role", "content"}`` messages, the greeting
    first; assistant messages before the first user message count as greetings (compared under
    ``copy_greeting``, not ``copy_previous``). ``language`` is the language the user wrote in
    (detected from ``user`` when None). ``probe_terms`` turn on the anachronism check.
    """
    expected: Language = language or detect_language(user)
    reply_language = detect_language(reply, default=expected)
    hits: dict[str, str] = {}
    scores: dict[str, float] = {}
    n_grams = len(units(reply, reply_language).grams)

    def copy_check(flag: str, sources: Iterable[tuple[str, str]]) -> float:
        best: Overlap = NO_OVERLAP
        for label, source in sources:
            o = compare(reply, source, reply_language)
            reason = copy_reason(o, reply_language, n_grams)
            if reason and flag not in hits:
                hits[flag] = f"{label}: {reason}: “{o.excerpt[:160]}”"
            if o.containment > best.containment:
                best = o
        return best.containment

    greetings: list[str] = []
    earlier: list[tuple[int, str]] = []
    seen_user = False
    for role, content in map(_role_content, history):
        if role == "user":
            seen_user = True
        elif role == "assistant" and content.strip():
            if seen_user:
                earlier.append((len(earlier) + 1, content))
            else:
                greetings.append(content)
    if card.greeting.strip() and card.greeting not in greetings:
        greetings.append(card.greeting)

    if speech.is_empty(reply):
        hits["empty"] = "no words"
    else:
        scores["previous_overlap"] = copy_check(
            "copy_previous", ((f"reply {i}", text) for i, text in reversed(earlier))
        )
        scores["greeting_overlap"] = copy_check(
            "copy_greeting", (("greeting", g) for g in greetings)
        )
        scores["example_overlap"] = copy_check(
            "copy_examples",
            (
                ("the user's example line" if e.speaker == "user" else "example line", e.text)
                for e in card.examples
            ),
        )
        card_text = (
            [("the card's description", card.description)] if card.description.strip() else []
        )
        card_text += [(f"the card's {k.replace('_', ' ')}", t) for k, t in card.instructions]
        if card_text:
            # Natural replies never share 8 words / 16 letters with the card's description
            # (0 of the 300 hand-written long-chat replies); the 1.5B reciting "저의 성격은
            # 따뜻하고 설득력 있으며 이상이 높다" does (1 reply in 91 on each run), and its Mina
            # recited her post-history instructions ("[Language: reply in the language of …").
            copy_check("copy_card", card_text)
        mine = normalized(reply)
        if len(units(reply, reply_language).tokens) < REPEAT_MIN[reply_language]:
            mine = ""  # "Yes." twice is an answer, not a stuck model
        for label, text in [
            *(("greeting", g) for g in greetings),
            *((f"reply {i}", t) for i, t in earlier),
        ]:
            if mine and normalized(text) == mine:
                hits["verbatim_repeat"] = f"the same as {label}: “{reply.strip()[:160]}”"
                break
        echo = compare(reply, user, reply_language)
        scores["user_overlap"] = echo.containment
        reason = echo_reason(echo, reply_language, n_grams, len(units(user, reply_language).tokens))
        said_back = said_back_sentence(reply, user, reply_language)
        if reason:
            hits["echo_user"] = f"{reason}: “{echo.excerpt[:160]}”"
        elif said_back:
            hits["echo_user"] = f"opens with one of the user's sentences: “{said_back[:160]}”"
        users = [c for r, c in map(_role_content, history) if r == "user" and c.strip()]
        for i in range(len(users) - 1, -1, -1):
            repeated = user_repeat_reason(reply, users[i], reply_language, n_grams)
            if repeated:
                back = len(users) - i
                hits["copy_user"] = f"the user's message {back} before this one: {repeated}"
                break

    for flag, hit in (
        ("ai_disclosure", breaks.detect_ai_disclosure(reply)),
        ("assistant_speak", detect_assistant_speak(reply)),
        ("ooc_refusal", breaks.detect_refusal(reply)),
        ("speaks_as_user", breaks.detect_user_impersonation(reply, user_name, card.name)),
    ):
        if hit is not None:
            hits[flag] = f"{hit.rule}: “{hit.excerpt}”"
    terms = list(probe_terms)
    if terms:
        hit = breaks.detect_anachronism(reply, terms, question=user)
        if hit is not None:
            hits["anachronism"] = f"{hit.rule}: “{hit.excerpt}”"
    note = speech.note_speak(reply)
    if note:
        hits["note_speak"] = f"“{note}”"
    placeholder = speech.user_placeholder(reply, user_name)
    if placeholder:
        hits["user_placeholder"] = f"“{placeholder}”"
    cut = speech.cut_off(reply, finish_reason)
    if cut:
        hits["cut_off"] = cut
    found = lang_checks.wrong_language(reply, expected)
    if found:
        hits["wrong_language"] = f"user wrote {expected}, reply is {found}: “{reply.strip()[:80]}”"
    allowed = card.known_words | lang_checks.words_of(
        [user_name, user, *(content for _, content in map(_role_content, history))]
    )
    switched = lang_checks.code_switch(reply, allowed)
    if switched:
        hits["code_switch"] = ", ".join(dict.fromkeys(switched))

    # Character n-grams of two scripts share nothing: Sherlock answering in Korean has no
    # style score against his English lines (NaN, left out of the means), not a zero.
    comparable = card.style.norm and reply_language == card.voice_language
    scores["style_similarity"] = card.style.similarity(reply) if comparable else math.nan
    ratio = length_ratio(reply, card.typical_length)
    scores["length_ratio"] = ratio
    scores["length_fit"] = length_fit(ratio)
    for name in SCORES:
        scores.setdefault(name, math.nan)
    return ReplyCheck({k: hits[k] for k in FLAGS if k in hits}, scores, expected, reply_language)


def copied_sources(
    reply: str, history: Sequence[Message], language: Language | None = None
) -> tuple[int, ...]:
    """Where in ``history`` (indices of its ``{"role", "content"}`` messages) the character's
    messages are that ``reply`` copies, by the thresholds of ``copy_previous``/``copy_greeting``
    or word for word: all of them, not only the first that :func:`check_reply` names. The
    reply guards hide these from a retry (:mod:`personae.agent.guards`)."""
    reply_language = detect_language(reply, default=language or "en")
    n_grams = len(units(reply, reply_language).grams)
    mine = normalized(reply)
    found = []
    for i, (role, content) in enumerate(map(_role_content, history)):
        if role != "assistant" or not content.strip():
            continue
        reason = copy_reason(compare(reply, content, reply_language), reply_language, n_grams)
        if reason or (mine and normalized(content) == mine):
            found.append(i)
    return tuple(found)
