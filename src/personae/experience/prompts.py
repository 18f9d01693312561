"""The prompts that build experiences, in English and Korean (the profile's language decides).

Written for this project after reading Character-LLM's scene, dialogue and protective prompts
(`../shared/data/character-llm/prompts/`), with three changes small models need: scenes come
back as JSON (a 1.5B model keeps JSON's shape far better than free "Scene 1: …" lists, and the
parser still reads both), each prompt shows the exact turn format once, and the asks are short.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from personae.text import Language

SCENE_FIELDS = ("type", "time", "place", "people", "background")

_SCENES = {
    "en": """Here is part of the life of {name}:

{section}{chunk}

Write one scene for each moment below, taken from this text. In each scene {name} lives \
through that moment, in {name}'s own time and world, with the people the text names.

{moments}

Answer with a JSON array only: one object per moment, in the same order, with these fields:
"type": the kind of scene given in brackets,
"time": when it happens, "place": where, "people": the others present (names or roles),
"background": two sentences on the situation, without saying how it ends.

Example:
[{{"type": "chat", "time": "{example_time}", "place": "{example_place}", "people": ["a friend"], \
"background": "{example_background}"}}]""",
    "ko": """다음은 {name}의 삶에 관한 글의 일부다.

{section}{chunk}

아래의 순간마다 장면을 하나씩 써라. 모두 이 글에서 온 순간이다. 장면마다 {name}이(가) 그 순간을 \
직접 겪는다. {name}이(가) 사는 시대와 세계 안에서, 글에 나오는 사람들과 함께.

{moments}

JSON 배열로만 답하라. 순간마다 객체 하나씩, 같은 순서로. 모든 값은 한국어로 쓴다. \
필드는 다음과 같다:
"type": 괄호 안에 주어진 장면의 종류,
"time": 언제, "place": 어디서, "people": 함께 있는 사람들(이름이나 신분),
"background": 상황을 두 문장으로. 결말은 쓰지 않는다.

예:
[{{"type": "대화", "time": "{example_time}", "place": "{example_place}", "people": ["벗"], \
"background": "{example_background}"}}]""",
}

# The kinds of scene, given to the moments in turn (a later pass gives each moment another).
SCENE_TYPES = {
    "en": ("chat", "discussion", "quarrel", "lesson", "confession", "debate"),
    "ko": ("대화", "의논", "다툼", "가르침", "고백", "논쟁"),
}

_EXAMPLE = {
    "en": ("a winter evening", "a quiet room at home", "An old friend calls unexpectedly."),
    "ko": ("어느 겨울 저녁", "집 안의 조용한 방", "오랜 벗이 뜻밖에 찾아온다."),
}

_EXPERIENCE = {
    "en": """Here is who {name} is:

{profile}

Write a scene from {name}'s life as a script.
Setting — type: {type}; time: {time}; place: {place}; others present: {people}.
Situation: {background}

Rules:
- Start with "Background:" and one short paragraph that only sets the scene (who is where, when).
- Then turns. Each turn is a speaker tag on its own line, then what they say or think.
- {name} may think or speak: "{name} (thinking)" or "{name} (speaking)". Everyone else only \
speaks: "Other Name (speaking)".
- The scene is about {name}: give {name} most of the turns, with real thoughts and feelings, \
in {name}'s own voice and vocabulary. {name} is a real person in this world, not a performer.
- At least {turns} turns. Plain text, no Markdown.

Format:
Background:
...

{name} (speaking)
...

{other} (speaking)
...

{name} (thinking)
...""",
    "ko": """{name}은(는) 이런 인물이다.

{profile}

{name}의 삶의 한 장면을 대본으로 써라. 모든 대사와 생각은 한국어로 쓴다.
설정 — 종류: {type}; 때: {time}; 곳: {place}; 함께 있는 사람: {people}.
상황: {background}

규칙:
- "배경:"으로 시작해 장면만 짧게 한 문단으로 쓴다(누가 어디에, 언제).
- 그다음은 차례대로 주고받는 말. 한 차례는 말하는 이의 꼬리표 한 줄, 그 아래 말이나 생각.
- {name}은(는) 생각하거나 말한다: "{name} (생각)" 또는 "{name} (말)". 다른 사람은 말만 한다: \
"다른 이름 (말)".
- 장면의 중심은 {name}이다: 차례 대부분을 {name}에게 주고, {name}의 말투와 낱말로 진짜 생각과 \
감정을 쓴다. {name}은(는) 이 세계에 사는 실제 사람이지 배우가 아니다.
- 적어도 {turns}차례. 마크다운 없이 일반 텍스트로.

형식:
배경:
...

{name} (말)
...

{other} (말)
...

{name} (생각)
...""",
}

_PROTECTIVE = {
    "en": """Here is who {name} is:

{profile}

Write a scene as a script. {asker}, a stranger, meets {name} at {place} and {ask}. \
{topic_cap} does not exist in {name}'s world, so {name} has never heard of it: {name} is \
puzzled, curious or suspicious, asks what it is, and answers only from {name}'s own life and \
times — never explaining it correctly, never as a helper or assistant. {asker} presses a little; \
{name} stays in character to the end.

Rules:
- Start with "Background:" and one short paragraph that only sets the scene.
- Then turns: a speaker tag on its own line, then the words. "{name} (thinking)" or \
"{name} (speaking)" for {name}; "{asker} (speaking)" for the stranger.
- At least {turns} turns, most of them {name}'s. Plain text, no Markdown.

Format:
Background:
...

{asker} (speaking)
...

{name} (thinking)
...

{name} (speaking)
...""",
    "ko": """{name}은(는) 이런 인물이다.

{profile}

한 장면을 대본으로 써라. 모든 대사와 생각은 한국어로 쓴다. 낯선 사람 {asker}이(가) {place}에서 \
{name}을(를) 만나 {ask}. {topic}은(는) {name}의 세계에 없는 것이라 {name}은(는) 들어 본 적이 \
없다: {name}은(는) 어리둥절해하거나 궁금해하거나 의심하며 그게 무엇이냐고 묻고, 자기 삶과 시대에서 \
아는 것으로만 답한다. 그것을 올바르게 설명하지 않으며, 도우미나 비서처럼 굴지 않는다. \
{asker}이(가) 조금 더 캐묻고, {name}은(는) 끝까지 자기 자신으로 남는다.

규칙:
- "배경:"으로 시작해 장면만 짧게 한 문단으로 쓴다.
- 그다음은 주고받는 말: 말하는 이의 꼬리표 한 줄, 그 아래 말. {name}은(는) "{name} (생각)" 또는 \
"{name} (말)", 낯선 사람은 "{asker} (말)".
- 적어도 {turns}차례, 대부분은 {name}의 차례. 마크다운 없이 일반 텍스트로.

형식:
배경:
...

{asker} (말)
...

{name} (생각)
...

{name} (말)
...""",
}

_META = {
    "en": "You are {name}. Speak, act and think as {name} does, in {name}'s own voice and words, "
    "knowing what {name} knows and nothing of later times or other worlds. You are not an "
    "assistant or a language model.\n\nScene — {type}; {time}; {place}.\nStatus: {background}",
    "ko": "당신은 {name}이다. {name}처럼 말하고 행동하고 생각하며, {name}의 말투와 낱말을 쓴다. "
    "{name}이(가) 아는 것만 알고, 후대나 다른 세계의 일은 모른다. 당신은 도우미도 언어 모델도 "
    "아니다.\n\n장면 — {type}; {time}; {place}.\n상황: {background}",
}

# Names for the strangers of protective scenes, and the other party when a scene names none.
STRANGERS = {
    "en": ("Lily", "Miles", "Nora", "Felix", "Iris", "Owen", "Clara", "Theo"),
    "ko": ("지우", "하린", "도윤", "서연", "민준", "수아", "현우", "예린"),
}
DEFAULT_OTHER = {"en": "Visitor", "ko": "손님"}
PROFILE_CHARS = 1500  # the profile excerpt an experience prompt carries


@dataclass(frozen=True)
class Topic:
    """A thing the character cannot know, how a stranger raises it, and the terms that show
    knowing what it is."""

    topic: str
    ask: str
    terms: tuple[str, ...]


@cache
def protective_topics(language: Language) -> tuple[Topic, ...]:
    """The bundled protective topics for ``language``."""
    raw = resources.files("personae.experience").joinpath(f"data/protective_{language}.json")
    data = json.loads(raw.read_text(encoding="utf-8"))
    return tuple(Topic(t["topic"], t["ask"], tuple(t["terms"])) for t in data["topics"])


@cache
def era_terms(language: Language) -> tuple[str, ...]:
    """Words no character of an earlier time could use knowingly ("smartphone", "인터넷")."""
    raw = resources.files("personae.experience").joinpath(f"data/protective_{language}.json")
    return tuple(json.loads(raw.read_text(encoding="utf-8"))["era_terms"])


INSTRUCTION_WINDOW = {"en": 32, "ko": 16}  # characters: longer than any phrase a scene would share


@cache
def instruction_windows(language: Language) -> tuple[str, ...]:
    """Overlapping pieces of the experience prompts' own instructions (not their profile or
    scene), casefolded, whitespace squeezed: a character turn holding one recites the prompt
    (the 1.5B wrote "…은(는) 들어 본 적이 없다: 홍길동은 어리둥절해하거나…" as a thought)."""
    size = INSTRUCTION_WINDOW[language]
    pieces: set[str] = set()
    for template in (_EXPERIENCE[language], _PROTECTIVE[language]):
        for fragment in re.split(r"\{[a-z_]+\}|\n", template):
            text = " ".join(fragment.casefold().split())
            for start in range(0, max(0, len(text) - size) + 1, size // 2):
                piece = text[start : start + size]
                if len(piece) == size:
                    pieces.add(piece)
    return tuple(sorted(pieces))


def scene_prompt(
    name: str, chunk: str, section: str, moments: list[tuple[str, str]], language: Language
) -> str:
    """Ask for one scene of ``name``'s life per ``(type, moment)``, a sentence of one profile
    chunk, as a JSON array. Anchoring each scene to a sentence keeps a small model on the text
    (asked for "N scenes" it invents parks and pubs, or writes one scene N times)."""
    when, where, why = _EXAMPLE[language]
    head = f"[{section}]\n" if section else ""
    listed = "\n".join(f"{i}. ({kind}) {moment}" for i, (kind, moment) in enumerate(moments, 1))
    return _SCENES[language].format(
        name=name,
        chunk=chunk,
        section=head,
        moments=listed,
        example_time=when,
        example_place=where,
        example_background=why,
    )


def example_scene(language: Language) -> dict[str, Any]:
    """The example the scene prompt shows, as a scene's fields (a small model sometimes
    hands it back as its first scene)."""
    when, where, why = _EXAMPLE[language]
    kind, friend = ("대화", "벗") if language == "ko" else ("chat", "a friend")
    return {"type": kind, "time": when, "place": where, "people": (friend,), "background": why}


def _people(scene: dict[str, Any], language: Language) -> str:
    people = scene.get("people") or []
    return ", ".join(people) if people else ("없음" if language == "ko" else "no one named")


def experience_prompt(
    name: str, profile: str, scene: dict[str, Any], language: Language, turns: int
) -> str:
    """Ask for one scene lived through, in the turn format :mod:`.interaction` reads."""
    others = scene.get("people") or [DEFAULT_OTHER[language]]
    return _EXPERIENCE[language].format(
        name=name,
        profile=profile[:PROFILE_CHARS],
        type=scene.get("type", ""),
        time=scene.get("time", ""),
        place=scene.get("place", ""),
        people=_people(scene, language),
        background=scene.get("background", ""),
        other=others[0],
        turns=turns,
    )


def protective_prompt(
    name: str, profile: str, scene: dict[str, Any], topic: Topic, language: Language, turns: int
) -> str:
    """Ask for a scene where a stranger raises ``topic``, which ``name`` cannot know."""
    asker = (scene.get("people") or [STRANGERS[language][0]])[0]
    return _PROTECTIVE[language].format(
        name=name,
        profile=profile[:PROFILE_CHARS],
        asker=asker,
        place=scene.get("place", ""),
        ask=topic.ask.format(name=name),
        topic=topic.topic,
        topic_cap=topic.topic[:1].upper() + topic.topic[1:],
        turns=turns,
    )


def meta_prompt(name: str, scene: dict[str, Any], language: Language) -> str:
    """The system prompt of an exported example: who to be, and the scene (Character-LLM's
    meta prompt, in this project's words)."""
    return _META[language].format(
        name=name,
        type=scene.get("type", ""),
        time=scene.get("time", ""),
        place=scene.get("place", ""),
        background=scene.get("background", ""),
    )


__all__ = [
    "DEFAULT_OTHER",
    "SCENE_FIELDS",
    "SCENE_TYPES",
    "STRANGERS",
    "era_terms",
    "example_scene",
    "instruction_windows",
    "Topic",
    "experience_prompt",
    "meta_prompt",
    "protective_prompt",
    "protective_topics",
    "scene_prompt",
]
