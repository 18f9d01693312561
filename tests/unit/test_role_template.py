"""Demographic personas from a role line: parsing, the card it writes, bad input."""

from __future__ import annotations

import re
from typing import Any

import pytest

from personae.characters import Character, card_bytes, character_from_role, read_card_bytes
from personae.characters._dialects import DIALECTS
from personae.characters._mbti import MBTI
from personae.characters.role_template import josa
from personae.errors import InvalidInput

UNFILLED = re.compile(r"(?<!\{)\{[a-z_]+\}(?!\})")


def template(character: Character) -> dict[str, Any]:
    info: dict[str, Any] = character.extensions["personae"]["template"]
    return info


def assert_complete(character: Character) -> None:
    for text in (
        character.description,
        character.personality,
        character.scenario,
        character.first_mes,
        character.mes_example,
        character.system_prompt,
    ):
        assert text.strip()
        assert not UNFILLED.search(text), text
    assert "{{original}}" in character.system_prompt
    assert len(character.example_blocks()) == 2
    for dialogue in character.example_dialogues(user="U"):
        assert [speaker for speaker, _ in dialogue] == ["user", "char", "user", "char"]
    assert "demographic" in character.tags


def test_english_role() -> None:
    role = "retired Korean math teacher, ENFJ"
    character = character_from_role(role)
    assert_complete(character)
    info = template(character)
    assert info["language"] == "en"
    assert (info["mbti"], info["dialect"], info["age_group"]) == ("ENFJ", None, "senior")
    assert info["retired"] is True
    assert info["occupation"] == "retired Korean math teacher"
    assert character.extensions["personae"]["role"] == role
    assert "-" in character.name  # a romanised Korean name for a Korean character
    assert "retired Korean math teacher" in character.description
    assert "I was a math teacher" in character.mes_example
    assert character.tags == ["demographic", "en", "ENFJ"]


HANGUL = re.compile(r"[가-힣]")
LATIN_WORD = re.compile(r"[A-Za-z]{2,}")


def assert_korean_throughout(character: Character) -> None:
    """Greeting and example dialogue in Korean: no English word but the card's macros."""
    for text in (character.first_mes, character.mes_example, character.description):
        bare = re.sub(r"\{\{(?:char|user)\}\}|<START>|[A-Z]{4}", "", text)
        assert HANGUL.search(bare) and not LATIN_WORD.search(bare), text


@pytest.mark.parametrize(
    ("role", "occupation"),
    [
        # Issue 14: this role got an English card, and Korean questions got English replies.
        ("retired Korean math teacher, ENFJ, Busan dialect", "은퇴한 수학 교사"),
        ("retired math teacher who speaks Korean", "은퇴한 수학 교사"),
        ("fisherman from Busan, Jeolla dialect", "부산 출신의 어부"),
        ("fisherman with a thick Jeolla accent", "어부"),
        # A Korean-written role whose one segment names both the speech and the person: the
        # person was dropped with the dialect words ("동네 주민").
        ("부산 사투리 쓰는 은퇴한 수학 선생님, ENFJ", "은퇴한 수학 선생님"),
    ],
)
def test_a_korean_role_gets_a_korean_card(role: str, occupation: str) -> None:
    character = character_from_role(role)
    assert_complete(character)
    assert template(character)["language"] == "ko"
    assert template(character)["occupation"] == occupation
    assert HANGUL.search(character.name)
    assert_korean_throughout(character)


@pytest.mark.parametrize(
    "role", ["Korean math teacher", "Busan fisherman", "Victorian governess", "librarian, INTP"]
)
def test_an_english_role_stays_english(role: str) -> None:
    # A Korean place or nationality alone does not ask for Korean speech.
    character = character_from_role(role)
    assert template(character)["language"] == "en"
    for text in (character.first_mes, character.mes_example):
        assert not HANGUL.search(text), text


def test_an_occupation_the_glossary_lacks_stays_as_written() -> None:
    character = character_from_role("astronaut, Jeju dialect")
    assert template(character)["language"] == "ko"
    assert "astronaut" in character.description  # not dropped, not guessed
    assert HANGUL.search(character.first_mes)


def test_the_english_card_of_a_dialect_speaker_is_still_there_when_asked_for() -> None:
    character = character_from_role("retired Korean math teacher, Busan dialect", language="en")
    assert template(character)["language"] == "en"
    assert "아이가" in character.system_prompt


def test_korean_joseon_role() -> None:
    character = character_from_role("조선 시대 한양의 약재상, ISTJ, 충청도 사투리")
    assert_complete(character)
    info = template(character)
    assert (info["language"], info["mbti"], info["dialect"], info["era"]) == (
        "ko",
        "ISTJ",
        "chungcheong",
        "joseon",
    )
    assert "약재상으로" in character.mes_example
    assert "허우" in character.mes_example  # the historical register of the dialect
    assert "하오체" in character.system_prompt
    assert "조선 시대 한양의 약재상" in character.description
    assert re.search(r"[가-힣]", character.name)


def test_korean_particles_follow_the_name() -> None:
    vowel = character_from_role("서울 카페 바리스타", name="민수")
    consonant = character_from_role("서울 카페 바리스타", name="영숙")
    assert "{{char}}예요" in vowel.first_mes and "{{char}}가" in vowel.first_mes
    assert "{{char}}이에요" in consonant.first_mes and "{{char}}이" in consonant.first_mes
    latin = character_from_role("서울 카페 바리스타", name="Mina")
    assert "{{char}}이(가)" in latin.first_mes


@pytest.mark.parametrize("mbti", sorted(MBTI))
def test_every_mbti_type_is_detected_in_both_languages(mbti: str) -> None:
    english = character_from_role(f"night-shift nurse, {mbti.lower()}-A")
    korean = character_from_role(f"야간 간호사, {mbti}")
    assert template(english)["mbti"] == template(korean)["mbti"] == mbti
    assert MBTI[mbti].traits_en in english.description
    assert MBTI[mbti].traits_ko in korean.description


@pytest.mark.parametrize(
    ("role", "dialect"),
    [
        ("부산 사투리 쓰는 어부", "gyeongsang"),
        ("택시 기사, 경상도 말씨", "gyeongsang"),
        ("국밥집 사장, 전라도 사투리", "jeolla"),
        ("광주 사투리 쓰는 화가", "jeolla"),
        ("농부, 충청도 사투리", "chungcheong"),
        ("해녀, 제주 방언", "jeju"),
        ("아나운서, 서울말", "seoul"),
        ("은행원, 표준어", "seoul"),
        ("fisherman, Jeolla dialect", "jeolla"),
        ("diver, Jeju accent", "jeju"),
        ("부산 어부", "gyeongsang"),  # the place implies the speech
        ("Busan fisherman, Jeolla dialect", "jeolla"),  # an explicit dialect wins
        ("librarian", None),
    ],
)
def test_dialect_detection(role: str, dialect: str | None) -> None:
    assert template(character_from_role(role))["dialect"] == dialect


@pytest.mark.parametrize("dialect", sorted(DIALECTS))
@pytest.mark.parametrize("era", ["", "조선 시대 "])
def test_every_dialect_and_register_writes_a_complete_card(dialect: str, era: str) -> None:
    name = DIALECTS[dialect].name_ko
    character = character_from_role(f"{era}대장장이, ESTP, {name}")
    assert_complete(character)
    assert template(character)["dialect"] == dialect
    assert "{{user}}" in character.scenario


@pytest.mark.parametrize(
    ("role", "era", "register_word"),
    [
        ("조선소 용접공", None, "일한 지"),  # 조선소 is a shipyard, not the Joseon era
        ("1980년대 서울 택시 기사", "1980s", "일한 지"),
        ("Victorian governess", "victorian", "traveller"),
        ("medieval blacksmith", "medieval", "traveller"),
        ("고려 시대 도공", "goryeo", "하오"),
    ],
)
def test_era_detection(role: str, era: str | None, register_word: str) -> None:
    character = character_from_role(role)
    assert template(character)["era"] == era
    assert register_word in character.mes_example + character.first_mes + character.system_prompt


@pytest.mark.parametrize(
    ("role", "age", "group", "gender"),
    [
        ("70세 할머니, 떡집 주인", 70, "senior", "female"),
        ("40대 회사원 아저씨", None, "middle", "male"),
        ("teenage skateboarder", None, "teen", None),
        ("35-year-old firefighter, she/her", 35, "middle", "female"),
        ("young fisherman", None, "young", "male"),
    ],
)
def test_age_and_gender_hints(role: str, age: int | None, group: str, gender: str | None) -> None:
    info = template(character_from_role(role))
    assert (info["age"], info["age_group"], info["gender"]) == (age, group, gender)


def test_language_override_and_explicit_name() -> None:
    korean = character_from_role("lighthouse keeper", language="ko", name="등대지기 박씨")
    assert template(korean)["language"] == "ko" and korean.name == "등대지기 박씨"
    assert re.search(r"[가-힣]", korean.first_mes)
    english = character_from_role("등대지기", language="en")
    assert template(english)["language"] == "en"
    assert "Don't just stand" in english.first_mes


def test_thinking_types_advise_and_feeling_types_comfort() -> None:
    thinker = character_from_role("engineer, INTJ")
    feeler = character_from_role("engineer, INFJ")
    assert "one piece at a time" in thinker.mes_example
    assert "isn't all your fault" in feeler.mes_example


def test_same_role_same_card_and_it_round_trips() -> None:
    first = character_from_role("제주 해녀, ESFJ, 제주 사투리")
    assert (
        first.to_card_dict() == character_from_role("제주 해녀, ESFJ, 제주 사투리").to_card_dict()
    )
    for fmt in ("json", "png", "charx"):
        loaded = read_card_bytes(card_bytes(first, fmt))
        assert loaded.character.extensions == first.extensions
        assert loaded.character.mes_example == first.mes_example


def test_extra_segments_are_kept_in_the_description() -> None:
    character = character_from_role("baker, loves jazz, ISFP, has three cats")
    assert "loves jazz; has three cats" in character.description
    assert template(character)["occupation"] == "baker"


def test_whitespace_is_normalised() -> None:
    character = character_from_role("  night   guard ,  INTP  ")
    assert character.extensions["personae"]["role"] == "night guard , INTP"


def test_josa() -> None:
    assert josa("민수", "이", "가") == "가"
    assert josa("영숙", "이", "가") == "이"
    assert josa("Mina", "은", "는") == "은(는)"
    assert josa("", "을", "를") == "을(를)"


@pytest.mark.parametrize(
    ("role", "kwargs", "param"),
    [
        ("", {}, "role"),
        ("   \n ", {}, "role"),
        (None, {}, "role"),
        (123, {}, "role"),
        ("x" * 301, {}, "role"),
        ("!!! ???", {}, "role"),
        ("baker", {"language": "fr"}, "language"),
        ("baker", {"name": ""}, "name"),
        ("baker", {"name": "  "}, "name"),
        ("baker", {"name": "n" * 81}, "name"),
        ("baker", {"name": 5}, "name"),
    ],
)
def test_bad_input(role: Any, kwargs: dict[str, Any], param: str) -> None:
    with pytest.raises(InvalidInput) as info:
        character_from_role(role, **kwargs)
    assert info.value.param == param
    assert "\n" not in str(info.value)
