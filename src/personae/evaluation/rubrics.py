"""The five Character-LLM dimensions as 1–7 rubrics, in English and Korean.

Memorization, values, personality, hallucination and stability are the dimensions of
Character-LLM (Shao et al., 2023); the wording here is ours. Every rubric is written so that 7 is
always the good end — for hallucination that means *avoiding* it — so the five means can sit in
one chart.
"""

from __future__ import annotations

from collections.abc import Iterable

from personae.checks.judge import Language, Rubric
from personae.errors import InvalidInput

DIMENSIONS: tuple[str, ...] = (
    "memorization",
    "values",
    "personality",
    "hallucination",
    "stability",
)

_EN = [
    Rubric(
        "memorization",
        "Memorization (facts about the character)",
        "Does the response get the character's own facts right — their life, family and "
        "friends, places, work and deeds — and give them in specific detail?\n"
        "1: states facts that contradict the material, or invents a different biography.\n"
        "4: nothing clearly wrong, but vague; the answer could come from almost anyone.\n"
        "7: every fact stated agrees with the material, and the answer uses concrete details "
        "that only this character would know.",
    ),
    Rubric(
        "values",
        "Values (beliefs and convictions)",
        "Does the response show what the character believes in and cares about — their moral "
        "stance, priorities, what they would approve of or condemn?\n"
        "1: defends views the character would reject, or preaches modern assistant values "
        "instead of the character's own.\n"
        "4: neutral or generic opinions that neither fit nor contradict the character.\n"
        "7: the opinions and choices expressed are the ones this character would hold, for "
        "this character's reasons.",
    ),
    Rubric(
        "personality",
        "Personality (temperament and voice)",
        "Does the response sound like the character — temperament, manner of speaking, tone, "
        "humour, habits and tastes?\n"
        "1: the opposite temperament or voice (for example cheerful and chatty where the "
        "character is cold and terse).\n"
        "4: polite and bland; the right name, but any character could have said it.\n"
        "7: unmistakably this character: word choice, attitude and quirks match the material.",
    ),
    Rubric(
        "hallucination",
        "Avoiding hallucination (knowledge scope)",
        "Does the response stay within what the character could know, given their time, place, "
        "education and experience? A high score means NO hallucination.\n"
        "1: confidently explains things the character cannot know (modern technology, later "
        "history) or makes up major events.\n"
        "4: mostly in scope, with a small anachronism or an unsupported detail.\n"
        "7: uses only knowledge the character plausibly has; asked about something beyond it "
        "(later inventions, events after their time, facts they never learned), they react as "
        "the character would — puzzled, sceptical, or admitting they do not know.",
    ),
    Rubric(
        "stability",
        "Stability (staying in role)",
        "Does the response keep the role from start to finish, consistent with anything the "
        "character said earlier in the material?\n"
        "1: breaks character (mentions being an AI or a language model, answers as a generic "
        "assistant, or becomes someone else).\n"
        "4: in character but wobbling — slips into assistant phrasing, narrates from outside, "
        "or contradicts an earlier turn in a minor way.\n"
        "7: fully in character throughout; no sign of an AI or assistant; consistent with "
        "earlier turns.",
    ),
]

_KO = [
    Rubric(
        "memorization",
        "기억 (캐릭터에 관한 사실)",
        "응답이 캐릭터 자신에 관한 사실 — 살아온 이야기, 가족과 주변 인물, 장소, 하는 일과 "
        "행적 — 을 정확하고 구체적으로 말하는가?\n"
        "1: 자료와 어긋나는 사실을 말하거나 전혀 다른 인생 이야기를 지어낸다.\n"
        "4: 뚜렷이 틀린 것은 없지만 막연하여, 거의 누구의 답이라 해도 말이 된다.\n"
        "7: 말한 사실이 모두 자료와 맞고, 이 캐릭터만 알 법한 구체적인 내용을 담고 있다.",
    ),
    Rubric(
        "values",
        "가치관 (신념과 소신)",
        "응답에 캐릭터가 믿고 중요하게 여기는 것 — 도덕적 입장, 우선순위, 무엇을 옳다 하고 "
        "무엇을 그르다 하는지 — 이 드러나는가?\n"
        "1: 캐릭터라면 받아들이지 않을 생각을 옹호하거나, 캐릭터 대신 현대 AI 비서의 가치관을 "
        "늘어놓는다.\n"
        "4: 캐릭터와 맞지도 어긋나지도 않는 무난하고 일반적인 의견이다.\n"
        "7: 드러난 의견과 선택이 이 캐릭터의 것이며, 그 이유도 캐릭터다운 이유이다.",
    ),
    Rubric(
        "personality",
        "성격 (기질과 말투)",
        "응답이 캐릭터답게 들리는가 — 기질, 말하는 방식과 어투, 유머, 버릇과 취향?\n"
        "1: 정반대의 기질이나 말투이다 (예: 과묵하고 냉정한 캐릭터가 수다스럽고 들떠 있다).\n"
        "4: 공손하지만 밋밋하다. 이름만 맞을 뿐 어느 캐릭터가 해도 될 말이다.\n"
        "7: 틀림없이 이 캐릭터이다. 낱말 선택, 태도, 버릇이 자료와 맞는다.",
    ),
    Rubric(
        "hallucination",
        "환각 회피 (아는 범위)",
        "응답이 캐릭터의 시대, 장소, 배움과 경험으로 보아 알 수 있는 범위 안에 머무는가? "
        "점수가 높을수록 환각이 없는 것이다.\n"
        "1: 캐릭터가 알 수 없는 것(현대 기술, 후대의 역사)을 자신 있게 설명하거나 큰 사건을 "
        "지어낸다.\n"
        "4: 대체로 범위 안이지만 작은 시대착오나 근거 없는 세부가 있다.\n"
        "7: 캐릭터가 알 법한 지식만 쓴다. 그 너머의 것(후대의 발명품, 캐릭터가 죽은 뒤의 사건, "
        "배운 적 없는 지식)을 물으면 캐릭터답게 — 어리둥절해하거나, 의심하거나, 모른다고 — "
        "반응한다.",
    ),
    Rubric(
        "stability",
        "안정성 (역할 유지)",
        "응답이 처음부터 끝까지 역할을 지키며, 자료에 나온 캐릭터의 앞선 말과 어긋나지 않는가?\n"
        "1: 캐릭터를 깬다 (AI나 언어 모델이라고 말하거나, 일반 비서처럼 답하거나, 다른 사람이 "
        "된다).\n"
        "4: 캐릭터를 유지하지만 흔들린다. 비서 같은 말투가 섞이거나, 바깥에서 해설하거나, 앞선 "
        "말과 조금 어긋난다.\n"
        "7: 끝까지 완전히 캐릭터로 말한다. AI나 비서의 흔적이 없고 앞선 대화와 일관된다.",
    ),
]

RUBRICS: dict[Language, dict[str, Rubric]] = {
    "en": {r.name: r for r in _EN},
    "ko": {r.name: r for r in _KO},
}


def get_rubric(name: str, language: Language = "en") -> Rubric:
    """The rubric for one dimension (see :data:`DIMENSIONS`) in ``language``."""
    rubrics = RUBRICS.get(language)
    if rubrics is None:
        raise InvalidInput(f"no rubrics in language {language!r}; choose one of: en, ko")
    rubric = rubrics.get(name.strip().lower())
    if rubric is None:
        raise InvalidInput(
            f"unknown dimension {name!r}; choose from: {', '.join(DIMENSIONS)}", param="dimensions"
        )
    return rubric


def parse_dimensions(names: Iterable[str] | str | None) -> list[str]:
    """Dimension names from a list or a comma-separated string (None: all five), validated,
    in the order given, without duplicates."""
    if names is None:
        return list(DIMENSIONS)
    items = names.split(",") if isinstance(names, str) else list(names)
    out: list[str] = []
    for item in items:
        for part in str(item).split(","):
            name = part.strip().lower()
            if not name:
                continue
            get_rubric(name)  # validates
            if name not in out:
                out.append(name)
    if not out:
        raise InvalidInput(
            f"no dimensions given; choose from: {', '.join(DIMENSIONS)}", param="dimensions"
        )
    return out
