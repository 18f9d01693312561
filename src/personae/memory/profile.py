"""The user profile (the "individualized persona", Letta's ``human`` block).

Durable facts about the user — name, age, home, work, likes, allergies, family — found in chat
messages by rules (:func:`extract_facts`) or by a model (:func:`extract_facts_llm`), merged with
what is already known (:func:`merge_facts`), stored as memories (:func:`profile_drafts`) and
shown to the character (:func:`profile_block`).

**Stored value convention.** A fact is stored as a memory of kind ``'fact'`` whose ``label`` is
the fact's label and whose ``text`` is a sentence rendered from a fixed template per label and
language: ``"The user's name is Ana."``, ``"사용자의 이름: 아나"``. The value is *not* stored
separately; :func:`fact_value` recovers it by parsing the text with the same templates, so
``fact_value(stored) == fact.value`` for every fact this module makes. A text edited by hand into
a shape no template knows is its own value (minus a ``"…: "`` heading and a final period), so
merging still compares something sensible.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from personae.backends.base import Backend, GenerationParams, Message, collect
from personae.errors import InvalidInput
from personae.memory import profile_rules
from personae.memory.bank import Draft
from personae.text.tokens import estimate_tokens

SINGLE_VALUED = ("name", "age", "birthday", "hometown", "lives_in", "job", "workplace", "partner",
                 "school")  # fmt: skip
MULTI_VALUED = ("allergy", "family", "pet", "likes", "dislikes", "fear", "hobby", "plan", "other")
LABELS = SINGLE_VALUED + MULTI_VALUED  # also the order of the profile block
LANGUAGES = ("en", "ko")
MAX_VALUE = 60
IMPORTANCE: dict[str, float] = {
    **dict.fromkeys(LABELS, 5.0),
    **dict.fromkeys(("name", "allergy"), 9.0),
    **dict.fromkeys(("job", "lives_in", "family", "pet", "partner"), 7.0),
    **dict.fromkeys(("age", "birthday", "hometown", "workplace", "school"), 6.0),
}
# The facts are the user's, and the model is addressed as "you" (당신) by the system prompt: the
# heading says whose they are, or a small model says "I keep bees" as its own (issue 14).
HEADINGS = {
    "en": "What you know about {{user}} (the person you talk to, not you):",
    "ko": "{{user}}(대화 상대, 당신이 아님)에 대해 아는 것:",
}

# label: (English sentence, Korean heading). Kin labels and a few values have other shapes.
# fmt: off
_TEMPLATES = {
    "name": ("The user's name is {v}.", "사용자의 이름: "),
    "age": ("The user is {v} years old.", "사용자의 나이: "),
    "birthday": ("The user's birthday is {v}.", "사용자의 생일: "),
    "hometown": ("The user is from {v}.", "사용자의 고향: "),
    "lives_in": ("The user lives in {v}.", "사용자가 사는 곳: "),
    "job": ("The user is {a}{v}.", "사용자의 직업: "),
    "workplace": ("The user works at {v}.", "사용자의 직장: "),
    "partner": ("The user's partner is {v}.", "사용자의 연인·배우자: "),
    "school": ("The user studies at {v}.", "사용자의 학교: "),
    "allergy": ("The user is allergic to {v}.", "사용자의 알레르기: "),
    "family": ("The user's family includes {v}.", "사용자의 가족: "),
    "pet": ("The user's pets include {v}.", "사용자의 반려동물: "),
    "likes": ("The user likes {v}.", "사용자가 좋아하는 것: "),
    "dislikes": ("The user dislikes {v}.", "사용자가 싫어하는 것: "),
    "fear": ("The user is afraid of {v}.", "사용자가 무서워하는 것: "),
    "hobby": ("The user's hobbies include {v}.", "사용자의 취미: "),
    "plan": ("The user plans {v}.", "사용자의 계획: "),
    "other": ("About the user: {v}.", "사용자에 대한 사실: "),
}
# fmt: on
_EN = {label: en for label, (en, _) in _TEMPLATES.items()}
_KO = {label: ko for label, (_, ko) in _TEMPLATES.items()}
_EN_ALT = {"age": "The user's age: {v}.", "plan": "The user's plans: {v}."}
_EN_KIN_NAMED = "The user's {rel} is called {name}."
_EN_KIN_HAS = "The user has {a}{v}."
_KIN_LABELS = ("family", "pet", "partner")
_KIN_NOUN = re.compile(profile_rules.KIN, re.I)


def check_language(language: object) -> str:
    """``'en'`` or ``'ko'`` (``'en-US'``, ``'KO'`` … accepted); anything else is InvalidInput."""
    if isinstance(language, str):
        base = language.strip().lower().replace("_", "-").split("-")[0]
        if base in LANGUAGES:
            return base
    raise InvalidInput(f"unknown language {language!r}: use 'en' or 'ko'", param="language")


def clean_value(label: str, value: str) -> str:
    """One line, no surrounding quotes or final punctuation; no leading article where the
    template adds its own; an age is its number."""
    value = " ".join(unicodedata.normalize("NFKC", str(value)).split()).strip(" \"'`.,;:!?")
    if label in ("job", *_KIN_LABELS):
        value = re.sub(r"^(?:an?|the)\s+", "", value, flags=re.I)
    if label == "age" and (
        years := re.fullmatch(r"(\d{1,3})\s*(?:years?(?: old)?|yo|살|세)", value)
    ):
        value = years.group(1)
    return value


def _kin_split(value: str) -> tuple[str, str] | None:
    found = _KIN_NOUN.match(value)
    if found is None or (found.end() < len(value) and value[found.end()] != " "):
        return None
    return found.group(0), value[found.end() :].strip()


def _article(value: str) -> str:
    first = value.split()[0].lower()
    if first.isdigit() or first in ("two", "three", "four", "five", "some", "several", "many"):
        return ""
    return "an " if first[0] in "aeiou" else "a "


def render(label: str, value: str, language: str) -> str:
    """The stored sentence for ``value`` (already cleaned) under ``label``."""
    if language == "ko":
        return _KO[label] + value + ("살" if label == "age" and value.isdigit() else "")
    if label in _KIN_LABELS and (kin := _kin_split(value)):
        rel, name = kin
        if name:
            return _EN_KIN_NAMED.format(rel=rel, name=name)
        return _EN_KIN_HAS.format(a=_article(rel), v=rel)
    if label == "job" and value.endswith(" for a living"):  # "tunes pianos for a living"
        return f"The user {value}."
    if label == "family" and re.match(
        r"(?:eldest|oldest|youngest|middle|second|third|only) ", value
    ):
        return f"The user is the {value}."
    if (label == "age" and not value.isdigit()) or (
        label == "plan" and not re.match(r"(?:to|on)\s", value, re.I)
    ):
        return _EN_ALT[label].format(v=value)
    return _EN[label].format(v=value, a=_article(value))


def _pattern(template: str) -> re.Pattern[str]:
    text = re.escape(template).replace(r"\{a\}", "(?:an? )?")
    return re.compile("^" + text.replace(r"\{v\}", "(?P<v>.+)") + "$")


_PARSE: dict[str, list[re.Pattern[str]]] = {
    label: [_pattern(t) for t in (_EN[label], _EN_ALT.get(label)) if t] for label in LABELS
}
_PARSE_KIN = re.compile(r"^The user's (?P<rel>.+?) is called (?P<name>.+)\.$")
_PARSE_HAS = re.compile(r"^The user has (?:an? )?(?P<v>.+)\.$")


class FactItem(Protocol):
    """What merging and the block need of a stored memory (a MemoryItem has all of it)."""

    @property
    def id(self) -> int: ...
    @property
    def label(self) -> str: ...
    @property
    def text(self) -> str: ...


def fact_value(item: FactItem) -> str:
    """The value a stored fact says (see the module notes for the convention)."""
    text = " ".join(item.text.split())
    label = item.label
    if label in _KIN_LABELS:
        if (kin := _PARSE_KIN.match(text)) and _kin_split(kin.group("rel")) == (kin["rel"], ""):
            return f"{kin['rel']} {kin['name']}"
        if (has := _PARSE_HAS.match(text)) and _kin_split(has.group("v")):
            return has.group("v")
    for pattern in _PARSE.get(label, []):
        if found := pattern.match(text):
            return found.group("v")
    prefix = _KO.get(label, "")
    if prefix and text.startswith(prefix):
        value = text[len(prefix) :]
        return value[:-1] if label == "age" and re.fullmatch(r"\d+살", value) else value
    heading = re.match(r"^[^:]{1,40}:\s*(.+?)\.?$", text)
    return heading.group(1) if heading else text.rstrip(".")


@dataclass(frozen=True)
class Fact:
    """One thing known about the user: ``label`` from :data:`LABELS`, a short ``value`` and the
    third-person sentence ``text`` that is stored and shown."""

    label: str
    value: str
    text: str

    def __post_init__(self) -> None:
        if self.label not in LABELS:
            raise InvalidInput(
                f"unknown fact label {self.label!r}: use one of {', '.join(LABELS)}", param="label"
            )
        value = " ".join(str(self.value).split())
        text = " ".join(str(self.text).split())
        if not value or not text:
            raise InvalidInput("a fact needs a value and a text", param="value")
        if len(value) > MAX_VALUE:
            raise InvalidInput(f"a fact's value is at most {MAX_VALUE} characters", param="value")
        object.__setattr__(self, "value", value)
        object.__setattr__(self, "text", text)

    @classmethod
    def of(cls, label: str, value: str, *, language: str = "en") -> Fact:
        """A fact with its sentence rendered in ``language`` from the label's template."""
        lang = check_language(language)
        if label not in LABELS:
            raise InvalidInput(
                f"unknown fact label {label!r}: use one of {', '.join(LABELS)}", param="label"
            )
        clean = clean_value(label, value)
        return cls(label, clean, render(label, clean, lang) if clean else "")

    @property
    def single_valued(self) -> bool:
        return self.label in SINGLE_VALUED


def _norm(value: str) -> str:
    value = unicodedata.normalize("NFKC", value).casefold()
    value = re.sub(r"^(?:an?|the)\s+", "", value)
    return " ".join(re.sub(r"[^\w\s]", " ", value).split())


def _dedupe(facts: list[Fact]) -> list[Fact]:
    seen: set[tuple[str, str]] = set()
    out = []
    for fact in facts:
        key = (fact.label, _norm(fact.value))
        if key not in seen:
            seen.add(key)
            out.append(fact)
    return out


def extract_facts(text: str, *, language: str | None = None) -> list[Fact]:
    """Facts the user states about themselves in one message, by rules (no model; English and
    Korean). ``language`` picks one rule set; None runs both. Questions, negations,
    hypotheticals, reported speech and text in quotes or ``*actions*`` give nothing."""
    if not isinstance(text, str):
        raise InvalidInput("extract_facts needs the message text as a string", param="text")
    lang = None if language is None else check_language(language)
    facts = []
    for label, value, found_in in profile_rules.find(text, lang):
        try:
            facts.append(Fact.of(label, value, language=found_in))
        except InvalidInput:
            continue  # a value the rules let through but a fact cannot hold (too long)
    return _dedupe(facts)


# -- model-based extraction ---------------------------------------------------------------------

_LLM_SYSTEM = {
    "en": (
        "You pick out lasting facts that the user states about themselves in a chat message. "
        "Answer with one fact per line as `label: value`, using only these labels: "
        f"{', '.join(LABELS)}. Keep each value to a few words, in the message's language. "
        "Leave out questions, negations, wishes, hypotheticals and facts about other people. "
        "If there are none, answer `none`."
    ),
    "ko": (
        "채팅 메시지에서 사용자가 자기 자신에 대해 말한 오래 가는 사실을 찾으세요. 한 줄에 하나씩 "
        f"`label: value` 형식으로 답하고, label은 다음 중 하나만 쓰세요: {', '.join(LABELS)}. "
        "value는 메시지의 언어로 몇 단어만 쓰세요. 질문, 부정, 바람, 가정, 다른 사람에 대한 "
        "사실은 빼세요. 없으면 `none`이라고 답하세요."
    ),
}
_LLM_USER = {
    "en": 'Example: "I\'m Jo and I hate mushrooms." → name: Jo\ndislikes: mushrooms\n\n'
    "Message:\n{text}\n\nFacts:",
    "ko": '예: "저는 조라고 해요. 버섯을 싫어해요." → name: 조\ndislikes: 버섯\n\n'
    "메시지:\n{text}\n\n사실:",
}
_ALIASES = {
    "lives": "lives_in", "location": "lives_in", "residence": "lives_in", "like": "likes",
    "dislike": "dislikes", "allergies": "allergy", "pets": "pet", "hobbies": "hobby",
    "occupation": "job", "profession": "job", "plans": "plan", "fears": "fear",
}  # fmt: skip
_LINE = re.compile(r"^[-*•\d.)\s]*\**\s*([A-Za-z][A-Za-z _-]{1,19}?)\s*\**\s*[:：=]\s*(.+)$")
_EMPTY = {"none", "unknown", "n/a", "na", "-", "없음", "모름", "null"}


def _grounded(value: str, source: str) -> bool:
    """At least half of the value's words start as some word of the message does, so a
    small model cannot slip in the prompt's example or an invented fact."""
    words = [w for w in re.findall(r"\w+", value.casefold()) if w not in ("a", "an", "the")]
    if not words:
        return False
    haystack = source.casefold()
    hits = sum(1 for w in words if w[: 2 if re.match(r"[가-힣]", w) else 4] in haystack)
    return hits * 2 >= len(words)


def parse_fact_lines(reply: str, *, language: str, source: str | None = None) -> list[Fact]:
    """Facts from a model's ``label: value`` lines: unknown labels, empty or long values and
    (given ``source``) values not grounded in the message are dropped. Never raises on junk."""
    lang = check_language(language)
    facts = []
    for raw in reply.splitlines()[:40]:
        found = _LINE.match(raw.strip().replace("`", ""))
        if found is None:
            continue
        label = "_".join(found.group(1).lower().replace("-", " ").split())
        label = _ALIASES.get(label, label)
        value = found.group(2).strip().strip("*\"'“”").strip()
        if label not in LABELS or value.casefold().rstrip(".") in _EMPTY:
            continue
        if len(value) > MAX_VALUE or (source is not None and not _grounded(value, source)):
            continue
        try:
            facts.append(Fact.of(label, value, language=lang))
        except InvalidInput:
            continue
    return _dedupe(facts)


def extract_facts_llm(
    backend: Backend,
    text: str,
    *,
    language: str,
    params: GenerationParams | None = None,
) -> list[Fact]:
    """Facts a model finds in one message (prompted in ``language``), parsed strictly by
    :func:`parse_fact_lines`. Bad output gives ``[]``; a failing backend still raises."""
    lang = check_language(language)
    if not isinstance(text, str) or not text.strip():
        return []
    messages = [
        Message("system", _LLM_SYSTEM[lang]),
        Message("user", _LLM_USER[lang].format(text=text.strip()[:2000])),
    ]
    params = params or GenerationParams(max_tokens=160, temperature=0.0, top_k=1)
    reply, _ = collect(backend.stream(messages, params))
    return parse_fact_lines(reply, language=lang, source=text)


# -- merging, storing and showing ---------------------------------------------------------------


@dataclass(frozen=True)
class ProfileChange:
    """What to do with the stored profile: ``add`` new facts, ``replace`` the memory with this
    id by this fact, and ``remove`` memories the new facts contradict (a dislike of what the
    user now says they like)."""

    add: list[Fact]
    replace: list[tuple[int, Fact]]
    unchanged: int
    remove: list[int] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.add or self.replace or self.remove)


_OPPOSITE = {"likes": "dislikes", "dislikes": "likes"}


def merge_facts(existing: Sequence[FactItem], new: Sequence[Fact]) -> ProfileChange:
    """Merge newly found facts into stored ones. A single-valued label keeps one fact: a new
    value replaces the newest stored one (within one batch the last mention wins); a
    multi-valued label gains a fact unless that value (case, spacing and punctuation aside) is
    already there. A like of something stored as a dislike (or the reverse) removes it."""
    stored: dict[str, list[tuple[int, str]]] = {}
    for item in sorted(existing, key=lambda i: i.id):
        if item.label in LABELS and getattr(item, "kind", "fact") == "fact":
            stored.setdefault(item.label, []).append((item.id, _norm(fact_value(item))))
    add: dict[tuple[str, str], Fact] = {}
    replace: dict[int, Fact] = {}
    remove: list[int] = []
    unchanged = 0
    last = {f.label: f for f in new if f.single_valued}
    for fact in new:
        value = _norm(fact.value)
        rows = stored.get(fact.label, [])
        if fact.single_valued:
            if fact is not last[fact.label]:
                continue  # said again later in the same batch
            if rows and rows[-1][1] == value:
                unchanged += 1
            elif rows:
                replace[rows[-1][0]] = fact
            else:
                add[(fact.label, value)] = fact
            continue
        if (fact.label, value) in add or any(v == value for _, v in rows):
            unchanged += 1
            continue
        add[(fact.label, value)] = fact
        opposite = stored.get(_OPPOSITE.get(fact.label, ""), [])
        remove += [i for i, v in opposite if v == value and i not in remove]
    return ProfileChange(list(add.values()), list(replace.items()), unchanged, remove)


def profile_drafts(
    facts: Sequence[Fact],
    *,
    user_id: str,
    character_id: str | None,
    chat_id: int | None = None,
    source: str = "chat",
) -> list[Draft]:
    """Memories to store for ``facts``: kind ``'fact'``, the fact's label, an importance by
    label. ``character_id`` None keeps them for the user with every character."""
    if not user_id:
        raise InvalidInput("a profile fact must belong to a user: pass user_id", param="user_id")
    if chat_id is not None and character_id is None:
        raise InvalidInput("a chat-scoped fact needs its character too", param="character_id")
    return [
        Draft(
            "fact",
            fact.text,
            user_id,
            character_id,
            chat_id,
            label=fact.label,
            importance=IMPORTANCE[fact.label],
            source=source,
        )
        for fact in facts
    ]


def profile_block(
    items: Sequence[FactItem],
    *,
    language: str,
    limit_tokens: int | None = None,
    count_tokens: Callable[[str], int] | None = None,
) -> str:
    """The profile as prompt text: a heading and one ``- `` line per fact — the newest fact of
    each single-valued label first (in :data:`LABELS` order), then the multi-valued ones by
    label, newest first. Cut whole lines to ``limit_tokens``; ``""`` when nothing fits."""
    lang = check_language(language)
    facts = [
        i
        for i in items
        if i.label in LABELS and getattr(i, "kind", "fact") == "fact" and i.text.strip()
    ]
    facts.sort(key=lambda i: (getattr(i, "created_at", 0.0), i.id), reverse=True)
    lines: list[str] = []
    seen: set[tuple[str, str]] = set()
    for label in LABELS:
        for item in (f for f in facts if f.label == label):
            key = (label, _norm(fact_value(item)))
            if key not in seen:
                seen.add(key)
                lines.append("- " + " ".join(item.text.split()))
            if label in SINGLE_VALUED:
                break
    if not lines:
        return ""
    block = [HEADINGS[lang]]
    if limit_tokens is None:
        return "\n".join(block + lines)
    if count_tokens is None:
        count_tokens = estimate_tokens
    for line in lines:
        if count_tokens("\n".join([*block, line])) > limit_tokens:
            break
        block.append(line)
    return "\n".join(block) if len(block) > 1 else ""


def profile_name(items: Sequence[FactItem]) -> str | None:
    """The user's name as the profile knows it (the newest ``name`` fact), else None."""
    names = [i for i in items if i.label == "name" and getattr(i, "kind", "fact") == "fact"]
    if not names:
        return None
    newest = max(names, key=lambda i: (getattr(i, "created_at", 0.0), i.id))
    return fact_value(newest).strip() or None
