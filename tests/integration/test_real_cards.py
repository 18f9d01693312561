"""Real character cards from SillyTavern's content repository (../shared/data/cards), read,
round-tripped through every format and checked for lost data. Skipped when the data is absent."""

from __future__ import annotations

import base64
import json
import struct
from pathlib import Path
from typing import Any

import pytest

from personae.characters import (
    CardFormat,
    Character,
    activate_entries,
    card_bytes,
    read_card,
    read_card_bytes,
    validate_lorebook,
)

CARDS = (Path(__file__).parents[2] / ".." / "shared" / "data" / "cards").resolve()
PNGS = sorted(CARDS.glob("*.png")) if CARDS.is_dir() else []


def raw_chara(path: Path) -> dict[str, Any]:
    """The card JSON exactly as stored, decoded independently of the code under test."""
    data = path.read_bytes()
    pos, found = 8, {}
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        if kind == b"tEXt":
            key, _, value = body.partition(b"\0")
            found[key.decode("latin-1").lower()] = json.loads(base64.b64decode(value))
        pos += 12 + length
    return found.get("ccv3") or found["chara"]


def meaning(character: Character) -> dict[str, Any]:
    card = character.to_card_dict("v3")
    card["data"].pop("assets", None)
    return card


pytestmark = pytest.mark.skipif(not PNGS, reason=f"no real cards in {CARDS}")


@pytest.fixture(params=PNGS, ids=[p.name for p in PNGS])
def card_path(request: pytest.FixtureRequest) -> Path:
    path: Path = request.param
    return path


def test_loads(card_path: Path) -> None:
    loaded = read_card(card_path)
    assert loaded.format == "png"
    assert loaded.character.name.strip()
    assert loaded.image is not None and loaded.image.startswith(b"\x89PNG")
    assert b"chara" not in loaded.image[-64:]
    if loaded.character.character_book is not None:
        validate_lorebook(loaded.character.character_book)


def test_data_matches_the_stored_json(card_path: Path) -> None:
    raw = raw_chara(card_path)
    character = read_card(card_path).character
    data = raw.get("data", raw)
    for field in ("name", "description", "personality", "scenario", "first_mes", "mes_example"):
        assert getattr(character, field) == (data.get(field) or "")
    assert character.extensions == data.get("extensions", {})
    assert_kept(data, character.to_card_dict()["data"], "data")


def assert_kept(stored: Any, exported: Any, where: str) -> None:
    """Everything stored is exported unchanged; the exporter may only add spec defaults."""
    if isinstance(stored, dict):
        for key, value in stored.items():
            if value is not None:
                assert key in exported, f"{where}.{key} was dropped"
                assert_kept(value, exported[key], f"{where}.{key}")
    elif isinstance(stored, list):
        assert len(stored) == len(exported), where
        for index, (a, b) in enumerate(zip(stored, exported, strict=True)):
            assert_kept(a, b, f"{where}[{index}]")
    else:
        assert stored == exported, where


@pytest.mark.parametrize("fmt", ["json", "png", "charx"])
def test_round_trip(card_path: Path, fmt: CardFormat) -> None:
    original = read_card(card_path)
    once = read_card_bytes(card_bytes(original.character, fmt, original.image))
    assert meaning(once.character) == meaning(original.character)
    assert once.character.extensions == original.character.extensions
    book, again_book = original.character.character_book, once.character.character_book
    if book is not None:
        assert again_book is not None
        assert [e.extensions for e in again_book.entries] == [e.extensions for e in book.entries]
    if fmt != "json":
        assert once.image == original.image
    twice = read_card_bytes(card_bytes(once.character, fmt, once.image, assets=once.assets))
    assert twice.character.to_card_dict() == once.character.to_card_dict()


def test_write_to_disk_and_back(card_path: Path, tmp_path: Path) -> None:
    from personae.characters import write_card

    original = read_card(card_path)
    for suffix in ("png", "json", "charx"):
        path = write_card(original.character, tmp_path / f"copy.{suffix}", image=original.image)
        assert meaning(read_card(path).character) == meaning(original.character)


def test_lorebooks_activate(card_path: Path) -> None:
    character = read_card(card_path).character
    book = character.character_book
    if book is None or not book.entries:
        pytest.skip("card has no lorebook")
    first_key = next(key for entry in book.entries for key in entry.keys if key.strip())
    found = activate_entries(book, [f"tell me about {first_key}"], count_tokens=len)
    assert found
