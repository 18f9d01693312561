"""Drafting a card from extracted lines with a scripted model: good JSON, and every kind of
malformed reply falling back to the rules, never a crash."""

from __future__ import annotations

import json

import pytest

from personae.characters import Character
from personae.errors import BackendError
from personae.experience.from_text import draft_card, extract_lines, parse_json_object
from tests.support.scripted import ScriptedBackend

BOOK = """\
Captain Dace kept the lighthouse at Pellow Point, and Mrs. Garrow kept the inn below it.

“The lamp wants oil again,” said Captain Dace. “The lamp always wants oil.”

“Then buy oil,” said Mrs. Garrow.

“With what money? The Board has paid nothing since March.”

“The Board never pays,” she said.

Captain Dace climbed the stairs of the lighthouse. “Pellow Point has had a light for a
hundred years,” said he, “and it will have one tonight.”

“You are a stubborn old man,” said Mrs. Garrow.

“Stubborn men keep ships off the rocks.”

Later, at the inn, Mrs. Garrow counted the money in the till. Pellow Point was quiet.

“Oil for the lighthouse,” said Captain Dace, “and a pie for the keeper.”

“The Board will pay for the pie too, I suppose?” said Mrs. Garrow.
"""

PROFILE = {
    "description": "Captain Dace keeps the lighthouse at Pellow Point.",
    "personality": "stubborn, dutiful, dry",
    "scenario": "{{user}} climbs the lighthouse stairs at dusk.",
    "first_mes": "Mind the stairs. The lamp wants oil.",
}


def found() -> object:
    return extract_lines(BOOK, "Dace", ["Captain Dace"])


def test_a_good_reply_makes_the_card() -> None:
    backend = ScriptedBackend().enqueue(
        "```json\n" + json.dumps(PROFILE) + "\n```\nHope this helps!",
        json.dumps({"Pellow Point": "The headland where Dace keeps the light."}),
    )
    drafted = draft_card(found(), BOOK, title="The Light", backend=backend)  # type: ignore[arg-type]
    card = drafted.character
    assert card.description == PROFILE["description"]
    assert card.first_mes == PROFILE["first_mes"]
    assert set(drafted.from_model) >= {"description", "personality", "scenario", "first_mes"}
    # The examples are Dace's own lines with the line each answers, never the model's.
    assert "{{char}}: With what money? The Board has paid nothing since March." in card.mes_example
    assert "{{user}}: Then buy oil." in card.mes_example
    book = card.character_book
    assert book is not None
    entry = next(e for e in book.entries if e.name == "Pellow Point")
    assert (
        entry.content == "The headland where Dace keeps the light." and "Pellow Point" in entry.keys
    )
    assert "Pellow Point" in backend.calls[0][0][0].content  # the names reach the prompt
    # The card is a valid card: it survives export and import.
    again = Character.from_card_dict(json.loads(json.dumps(card.to_card_dict())))
    assert again.character_book is not None and again.mes_example == card.mes_example


@pytest.mark.parametrize(
    ("replies", "reason"),
    [
        (["I cannot do that."], "no JSON"),
        (["", ""], "nothing"),
        (['{"name": "Dace", "bio": "x"}', "{}"], "empty or missing"),
        (['{"description": 5, "personality": ["a"], "first_mes": null}', "[]"], "empty"),
        ([json.dumps({k: "한국어 설명입니다" for k in PROFILE}), "{}"], "language"),
        ([BackendError("boom"), BackendError("boom")], "the model failed"),
        (["{description: half}", "{Pellow"], "no JSON"),
    ],
)
def test_malformed_replies_fall_back_to_rules(replies: list[object], reason: str) -> None:
    backend = ScriptedBackend().enqueue(*replies)
    drafted = draft_card(found(), BOOK, title="The Light", backend=backend)  # type: ignore[arg-type]
    card = drafted.character
    assert "description" in drafted.fallback and reason in drafted.fallback["description"]
    assert "Dace" in card.description and "The Light" in card.description
    assert card.first_mes  # one of Dace's own lines
    assert card.mes_example.startswith("<START>")
    Character.from_card_dict(card.to_card_dict())


def test_no_model_is_rules_only() -> None:
    drafted = draft_card(found(), BOOK, title="The Light", backend=None)  # type: ignore[arg-type]
    assert drafted.from_model == [] and drafted.fallback["description"] == "no model"
    assert drafted.character.extensions["personae"]["from_text"]["lines"] >= 5


def test_korean_book_gets_a_korean_prompt() -> None:
    book = "“등대에 기름이 필요하오.” 하고 선장이 말했다.\n\n“돈이 없어요.”라고 그녀가 대답했다.\n"
    backend = ScriptedBackend().enqueue("not json", "not json")
    extraction = extract_lines(book, "선장")
    drafted = draft_card(extraction, book, title="등대", backend=backend)
    assert "한국어로" in backend.calls[0][0][0].content
    assert "선장" in drafted.character.description


def test_a_reply_cut_off_by_the_token_limit_keeps_what_it_has() -> None:
    cut = '{"description": "Captain Dace keeps the light.", "personality": "stubborn, dry'
    backend = ScriptedBackend().enqueue(cut, "{}")
    drafted = draft_card(found(), BOOK, title="The Light", backend=backend)  # type: ignore[arg-type]
    assert drafted.character.description == "Captain Dace keeps the light."
    assert drafted.character.personality == "stubborn, dry"
    assert "scenario" in drafted.fallback and drafted.replies[0] == cut


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"a": 1}', {"a": 1}),
        ('Sure! ```json\n{"a": "b",}\n``` done', {"a": "b"}),
        ('{"broken": } then {"a": 2}', {"a": 2}),
        ("[1, 2]", None),
        ("", None),
    ],
)
def test_parse_json_object(text: str, expected: object) -> None:
    assert parse_json_object(text) == expected
