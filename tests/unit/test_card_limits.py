"""Cards too large to be real, and text that is not text: refused at import with an error that
names the field (a 10 MB description cost the server 14 s of CPU on every request; a lone
surrogate in a card was a 500 on the server and a traceback from `personae card import`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from personae.characters import Character, read_card, read_card_bytes
from personae.characters._keys import MAX_KEY_CHARS
from personae.characters._parse import (
    MAX_CARD_CHARS,
    MAX_ENTRIES,
    MAX_GREETINGS,
    MAX_KEYS,
    MAX_SHORT_CHARS,
    MAX_TEXT_CHARS,
)
from personae.cli import cli
from personae.errors import CardError
from tests.support.rest import error_of, upload
from tests.support.server import make_app

REAL_CARDS = (Path(__file__).parents[2] / ".." / "shared" / "data" / "cards").resolve()


def card(**data: Any) -> dict[str, Any]:
    return {"spec": "chara_card_v2", "spec_version": "2.0", "data": {"name": "Aria", **data}}


def book(*entries: dict[str, Any]) -> dict[str, Any]:
    return {"entries": list(entries)}


def lore(content: str = "Lore.", keys: list[str] | None = None) -> dict[str, Any]:
    return {"keys": keys or ["k"], "content": content}


LONG = "x" * (MAX_TEXT_CHARS + 1)


@pytest.mark.parametrize(
    ("data", "field", "cap"),
    [
        ({"description": LONG}, "data.description", MAX_TEXT_CHARS),
        ({"personality": LONG}, "data.personality", MAX_TEXT_CHARS),
        ({"scenario": LONG}, "data.scenario", MAX_TEXT_CHARS),
        ({"first_mes": LONG}, "data.first_mes", MAX_TEXT_CHARS),
        ({"mes_example": LONG}, "data.mes_example", MAX_TEXT_CHARS),
        ({"system_prompt": LONG}, "data.system_prompt", MAX_TEXT_CHARS),
        ({"post_history_instructions": LONG}, "data.post_history_instructions", MAX_TEXT_CHARS),
        ({"alternate_greetings": ["hi", LONG]}, "data.alternate_greetings[1]", MAX_TEXT_CHARS),
        ({"group_only_greetings": [LONG]}, "data.group_only_greetings[0]", MAX_TEXT_CHARS),
        ({"name": "A" * (MAX_SHORT_CHARS + 1)}, "data.name", MAX_SHORT_CHARS),
        ({"nickname": "A" * (MAX_SHORT_CHARS + 1)}, "data.nickname", MAX_SHORT_CHARS),
        (
            {"character_book": book(lore(), lore(LONG))},
            "data.character_book.entries[1].content",
            MAX_TEXT_CHARS,
        ),
        (
            {"character_book": book(lore(keys=["k", "y" * (MAX_KEY_CHARS + 1)]))},
            "data.character_book.entries[0].keys[1]",
            MAX_KEY_CHARS,
        ),
    ],
)
def test_a_field_over_its_cap_is_named(data: dict[str, Any], field: str, cap: int) -> None:
    with pytest.raises(CardError) as caught:
        Character.from_card_dict(card(**data))
    message = str(caught.value)
    assert f"'{field}'" in message and f"{cap:,}" in message


@pytest.mark.parametrize(
    ("data", "field", "cap"),
    [
        (
            {"alternate_greetings": ["hi"] * (MAX_GREETINGS + 1)},
            "alternate_greetings",
            MAX_GREETINGS,
        ),
        ({"character_book": book(*[lore()] * (MAX_ENTRIES + 1))}, "entries", MAX_ENTRIES),
        ({"character_book": book(lore(keys=["k"] * (MAX_KEYS + 1)))}, "keys", MAX_KEYS),
    ],
)
def test_counts_over_their_caps(data: dict[str, Any], field: str, cap: int) -> None:
    with pytest.raises(CardError, match=rf"{field}' has {cap + 1:,} .*over the {cap:,}"):
        Character.from_card_dict(card(**data))


def test_the_whole_card_has_a_cap() -> None:
    # Extensions are kept whole and never capped field by field, so they count in the total.
    chunk = "z" * (MAX_TEXT_CHARS - 10)
    extensions = {f"tool{i}": chunk for i in range(MAX_CARD_CHARS // len(chunk) + 1)}
    with pytest.raises(CardError, match="too large: over 4,000,000 characters"):
        Character.from_card_dict(card(extensions=extensions))


def test_up_to_the_caps_is_fine() -> None:
    at_cap = "x" * MAX_TEXT_CHARS
    character = Character.from_card_dict(
        card(
            description=at_cap,
            alternate_greetings=["hi"] * MAX_GREETINGS,
            character_book=book(lore(at_cap, ["k"] * MAX_KEYS), *[lore()] * (MAX_ENTRIES - 1)),
        )
    )
    assert len(character.description) == MAX_TEXT_CHARS
    assert character.character_book is not None
    assert len(character.character_book.entries) == MAX_ENTRIES


@pytest.mark.skipif(not REAL_CARDS.is_dir(), reason="no reference cards beside the project")
def test_no_real_card_is_refused() -> None:
    cards = sorted(REAL_CARDS.glob("*.png"))
    assert cards
    for path in cards:
        assert read_card(path).character.name


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ('{"name": "A\\ud800"}', "name"),
        (
            '{"spec": "chara_card_v2", "data": {"name": "A", "scenario": "\\udc00x"}}',
            "data.scenario",
        ),
        ('{"name": "A", "tags": ["ok", "\\ud83d"]}', "tags[1]"),
        ('{"name": "A", "extensions": {"\\ud800": 1}}', "a key of extensions"),
    ],
)
def test_lone_surrogates_are_named(raw: str, field: str) -> None:
    with pytest.raises(CardError, match="lone UTF-16 surrogate") as caught:
        read_card_bytes(raw.encode())
    assert field in str(caught.value)


def test_a_surrogate_pair_is_one_character_and_fine() -> None:
    loaded = read_card_bytes(b'{"name": "A", "description": "\\ud83d\\ude00"}')
    assert loaded.character.description == "\U0001f600"


def test_cli_import_of_a_card_with_a_lone_surrogate_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{"name": "Broken\\ud800", "description": "x"}', encoding="ascii")
    result = CliRunner().invoke(cli, ["card", "import", str(path)], catch_exceptions=False)
    assert result.exit_code == 1
    err = result.stderr.strip()
    assert err.startswith("error:") and "\n" not in err and "lone UTF-16 surrogate" in err
    listed = CliRunner().invoke(cli, ["card", "list", "--json"], catch_exceptions=False)
    assert "Broken" not in listed.stdout


def test_the_server_refuses_a_10_mb_description_quickly(tmp_path: Path) -> None:
    huge = json.dumps(card(description="The detective looks at the clue. " * 300_000)).encode()
    with TestClient(make_app(tmp_path)) as client:
        error = error_of(upload(client, huge, "application/json"), 400)
        assert error["code"] == "invalid_card" and "'data.description'" in error["message"]
        assert "aria" not in {c["id"] for c in client.get("/api/characters").json()["data"]}
