"""The bundled starter characters: complete, valid, lossless and with working lorebooks."""

from __future__ import annotations

import json
import re
from importlib import resources

import pytest

from personae.characters import (
    Character,
    activate_entries,
    bundled_characters,
    card_bytes,
    read_card_bytes,
    validate_lorebook,
)

SLUGS = ["chunhyang", "elizabeth", "hong-gildong", "mina", "sherlock"]
KOREAN = {"chunhyang", "hong-gildong"}
HANGUL = re.compile(r"[가-힣]")


@pytest.fixture(scope="module")
def characters() -> dict[str, Character]:
    return bundled_characters()


def test_the_five_starters_are_there(characters: dict[str, Character]) -> None:
    assert sorted(characters) == SLUGS
    assert list(characters) == sorted(characters)


@pytest.mark.parametrize("slug", SLUGS)
def test_card_is_complete(characters: dict[str, Character], slug: str) -> None:
    character = characters[slug]
    assert character.spec == "chara_card_v2"
    for text in (character.description, character.personality, character.scenario):
        assert len(text) > 100
    assert 2 <= len(character.greetings()) <= 3
    assert "{{original}}" in character.system_prompt
    assert character.creator == "personae" and character.character_version
    blocks = character.example_blocks()
    assert 2 <= len(blocks) <= 3
    for block in blocks:
        assert "{{char}}:" in block and "{{user}}:" in block
    for dialogue in character.example_dialogues(user="Tester"):
        assert {speaker for speaker, _ in dialogue} == {"char", "user"}
        assert all("{{" not in text for _, text in dialogue)


@pytest.mark.parametrize("slug", SLUGS)
def test_lorebook_shape(characters: dict[str, Character], slug: str) -> None:
    book = characters[slug].character_book
    assert book is not None
    validate_lorebook(book)
    assert 4 <= len(book.entries) <= 8
    assert sum(1 for e in book.entries if e.constant) >= 1
    assert any(e.selective and e.secondary_keys for e in book.entries)
    if slug in KOREAN:
        assert all(HANGUL.search(" ".join(e.keys)) for e in book.entries)


@pytest.mark.parametrize("slug", sorted(KOREAN))
def test_korean_characters_enforce_period_speech(
    characters: dict[str, Character], slug: str
) -> None:
    character = characters[slug]
    assert HANGUL.search(character.first_mes)
    instructions = character.post_history_instructions
    assert "현대어" in instructions
    assert "하오체" in instructions or "하옵니다" in instructions


def test_mina_is_bilingual(characters: dict[str, Character]) -> None:
    mina = characters["mina"]
    assert HANGUL.search(mina.first_mes) and re.search(r"[A-Za-z]{4}", mina.first_mes)
    assert "language" in mina.post_history_instructions.lower()


@pytest.mark.parametrize(
    ("slug", "message", "expected"),
    [
        ("sherlock", "Tell me about Watson.", "Dr John H. Watson"),
        ("sherlock", "Would you play the violin for me?", "Stradivarius"),
        ("elizabeth", "Is Mr Collins your cousin?", "entail"),
        ("hong-gildong", "활빈당이 어디에 있소?", "의적 무리"),
        ("hong-gildong", "도술을 보여 주시오", "둔갑술"),
        ("chunhyang", "몽룡이는 언제 온다 하였소?", "전 남원 부사의 아들"),
        ("chunhyang", "새 사또가 온다는 소문이 있소", "변학도"),
        ("mina", "Do you have a cat?", "Bori"),
        ("mina", "커피 추천해 주세요", "흑임자 라떼"),
    ],
)
def test_lorebooks_fire_on_natural_messages(
    characters: dict[str, Character], slug: str, message: str, expected: str
) -> None:
    book = characters[slug].character_book
    assert book is not None
    found = activate_entries(book, [message], count_tokens=lambda t: len(t.split()))
    text = "\n".join(e.content for e in found)
    assert expected in text
    assert any(e.constant for e in found)


def test_selective_entries_need_their_second_key(characters: dict[str, Character]) -> None:
    book = characters["sherlock"].character_book
    assert book is not None
    found = activate_entries(book, ["a violin case"], count_tokens=len)
    assert all("Stradivarius" not in e.content for e in found)


@pytest.mark.parametrize("slug", SLUGS)
def test_files_are_lossless_and_round_trip(characters: dict[str, Character], slug: str) -> None:
    raw = resources.files("personae.characters").joinpath(f"bundled/{slug}.json").read_text("utf-8")
    assert characters[slug].to_card_dict() == json.loads(raw)
    for fmt in ("json", "png", "charx"):
        loaded = read_card_bytes(card_bytes(characters[slug], fmt))
        data = loaded.character.to_card_dict("v2")["data"]
        assert data == characters[slug].to_card_dict()["data"]


def test_each_call_returns_fresh_objects() -> None:
    first = bundled_characters()
    first["sherlock"].name = "changed"
    assert bundled_characters()["sherlock"].name == "Sherlock Holmes"
