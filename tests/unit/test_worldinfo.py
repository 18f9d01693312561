"""World Info files (SillyTavern's standalone lorebooks) to personae's Lorebook and back: every
field kept, SillyTavern's defaults, the other shapes a book comes in, and bad files."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from personae.characters import Lorebook, LoreEntry, card_bytes, placeholder_png
from personae.characters._parse import is_world_info
from personae.characters.lorebook_files import (
    MAX_WORLD_INFO_BYTES,
    read_lorebook,
    read_lorebook_bytes,
)
from personae.characters.worldinfo import (
    MAX_CONTENT_CHARS,
    MAX_ENTRIES,
    MAX_KEYS_PER_ENTRY,
    WorldInfoError,
    lorebook_to_world_info,
    world_info_bytes,
    world_info_to_lorebook,
)
from personae.errors import PersonaeError
from tests.support.factories import entry, make_book, make_character


def st_entry(uid: int, **fields: Any) -> dict[str, Any]:
    """An entry as SillyTavern writes it: every field of its new-entry template, plus the newer
    fields this version of personae has no name for."""
    base: dict[str, Any] = {
        "uid": uid,
        "key": ["dragon", "wyrm"],
        "keysecondary": ["fire"],
        "comment": "Dragons",
        "content": "Dragons breathe fire over Eldoria.",
        "constant": False,
        "vectorized": False,
        "selective": True,
        "selectiveLogic": 3,
        "addMemo": True,
        "order": 120,
        "position": 4,
        "disable": False,
        "excludeRecursion": True,
        "preventRecursion": False,
        "delayUntilRecursion": 0,
        "probability": 80,
        "useProbability": True,
        "depth": 2,
        "group": "beasts",
        "groupOverride": False,
        "groupWeight": 100,
        "scanDepth": 5,
        "caseSensitive": True,
        "matchWholeWords": False,
        "useGroupScoring": None,
        "automationId": "",
        "role": 1,
        "sticky": 2,
        "cooldown": None,
        "delay": None,
        "displayIndex": 0,
        "triggers": ["normal"],
        "characterFilter": {"isExclude": False, "names": ["Holmes"], "tags": []},
        "ignoreBudget": False,
    }
    base.update(fields)
    return base


def st_world(*entries: dict[str, Any], **top: Any) -> dict[str, Any]:
    return {"entries": {str(e["uid"]): e for e in entries}, **top}


def test_round_trip_keeps_every_field() -> None:
    world = st_world(
        st_entry(0),
        st_entry(7, key=["Eldoria"], comment="", constant=True, disable=True, position=0),
        originalData={"entries": []},
    )
    book = world_info_to_lorebook(copy.deepcopy(world))
    assert lorebook_to_world_info(book) == world
    # ... and through the store's JSON form too.
    again = Lorebook.model_validate(json.loads(json.dumps(book.to_dict())))
    assert lorebook_to_world_info(again) == world


def test_fields_map_to_the_names_personae_scans_with() -> None:
    book = world_info_to_lorebook(st_world(st_entry(3)))
    [e] = book.entries
    assert e.id == 3 and e.keys == ["dragon", "wyrm"] and e.secondary_keys == ["fire"]
    assert e.comment == "Dragons" and e.insertion_order == 120 and e.enabled
    assert e.selective is True and e.constant is False
    # position 4 (at depth) has no V2 slot: after_char, with the exact slot kept.
    assert e.position == "after_char" and e.extensions["position"] == 4
    ext = e.extensions
    assert ext["scan_depth"] == 5 and ext["case_sensitive"] is True
    assert ext["match_whole_words"] is False and ext["selectiveLogic"] == 3
    assert ext["exclude_recursion"] is True and ext["group"] == "beasts"
    assert ext["world_info"]["characterFilter"]["names"] == ["Holmes"]


def test_missing_fields_get_sillytavern_defaults() -> None:
    book = world_info_to_lorebook({"entries": {"0": {"key": ["a"], "content": "A."}}})
    [e] = book.entries
    assert (e.id, e.enabled, e.constant, e.selective) == (0, True, False, True)
    assert e.insertion_order == 100 and e.position == "before_char"
    [out] = lorebook_to_world_info(book)["entries"].values()
    assert out["probability"] == 100 and out["depth"] == 4 and out["position"] == 0
    assert out["disable"] is False and out["scanDepth"] is None


def test_a_list_of_entries_and_a_bare_list_are_accepted() -> None:
    listed = world_info_to_lorebook({"entries": [{"key": "a, b", "content": "x"}]})
    bare = world_info_to_lorebook([{"key": ["a", "b"], "content": "x"}])
    assert listed.entries[0].keys == bare.entries[0].keys == ["a", "b"]


def test_card_character_book_saved_alone_is_read_as_a_card_book() -> None:
    book = make_book(entry(["moor"], "The moor is foggy.", insertion_order=5), scan_depth=3)
    read = world_info_to_lorebook(book.to_dict())
    assert read.entries[0].keys == ["moor"] and read.scan_depth == 3


def test_personae_book_survives_world_info_and_back() -> None:
    book = make_book(
        entry(["moor"], "Foggy.", name="Moor", priority=4, use_regex=True, case_sensitive=True),
        entry(["hound"], "A hound.", extensions={"risu": {"x": 1}}, id="not-a-number"),
        scan_depth=3,
        token_budget=200,
        recursive_scanning=True,
        name="Baskerville",
    )
    world = lorebook_to_world_info(book)
    assert [e["uid"] for e in world["entries"].values()] == [0, 1]
    back = world_info_to_lorebook(world)
    assert (back.name, back.scan_depth, back.token_budget, back.recursive_scanning) == (
        "Baskerville",
        3,
        200,
        True,
    )
    first, second = back.entries
    assert (first.name, first.priority, first.use_regex, first.case_sensitive) == (
        "Moor",
        4,
        True,
        True,
    )
    assert second.extensions["risu"] == {"x": 1}


def test_uids_stay_when_free_and_are_assigned_when_not() -> None:
    book = make_book(entry(["a"], "A", id=5), entry(["b"], "B", id=5), entry(["c"], "C"))
    assert list(lorebook_to_world_info(book)["entries"]) == ["5", "0", "1"]


def test_is_world_info_tells_a_world_from_a_card() -> None:
    assert is_world_info(st_world(st_entry(0)))
    assert is_world_info([{"key": ["a"]}])
    assert not is_world_info(make_character().to_card_dict())
    assert not is_world_info({"name": "Holmes", "first_mes": "Hi"})


def test_read_lorebook_bytes_takes_a_card_files_book(tmp_path: Path) -> None:
    character = make_character(character_book=make_book(entry(["moor"], "Foggy.")))
    png = card_bytes(character, "png", placeholder_png("H", size=8))
    book = read_lorebook_bytes(png, filename="holmes.png")
    assert book.entries[0].keys == ["moor"] and book.name == "Holmes's lorebook"
    card_json = json.dumps(character.to_card_dict()).encode()
    assert read_lorebook_bytes(card_json).entries[0].content == "Foggy."
    with pytest.raises(WorldInfoError, match="no lorebook entries"):
        read_lorebook_bytes(json.dumps(make_character().to_card_dict()).encode())


def test_file_name_names_the_book(tmp_path: Path) -> None:
    path = tmp_path / "Eldoria.json"
    path.write_bytes(world_info_bytes(world_info_to_lorebook(st_world(st_entry(0)))))
    assert read_lorebook(path).name == "Eldoria"
    named = tmp_path / "x.json"
    named.write_text(json.dumps(st_world(st_entry(0), name="Given")))
    assert read_lorebook(named).name == "Given"


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        (b"", "empty"),
        (b"{not json", "not valid JSON"),
        (b"\xff\xfe", "UTF-8"),
        (b"[" * 50_000 + b"]" * 50_000, "nested"),
        (b'{"entries": 5}', "must be an object keyed by uid or a list"),
        (b'{"entrees": {}}', "neither a World Info file nor a character card"),
        (b'"just a string"', "neither"),
        (b'{"entries": {"0": [1, 2]}}', "entry 0 is not an object"),
        (b'{"entries": {"0": {"uid": 0, "key": {"a": 1}}}}', "'key' must be a list of strings"),
        (b'{"entries": {"0": {"comment": "X", "content": ["no"]}}}', "entry 0 ('X'): 'content'"),
        (b'{"entries": {"0": {"constant": "maybe"}}}', "'constant' must be true or false"),
        (b'{"entries": {"0": {"order": "first"}}}', "'order' must be a whole number"),
        (b'{"entries": {"0": {"position": 9}}}', "'position' must be a number from 0 to 6"),
        (b'{"entries": {"0": {"content": "x", "probability": NaN}}}', "NaN"),
        (b'{"entries": {}, "scan_depth": "deep"}', "'scan_depth' must be a whole number"),
        (b'{"entries": {"0": {"key": ["a"]}}, "entries2": 1, "extensions": 3}', "an object"),
    ],
)
def test_bad_files_are_one_line_errors(data: bytes, needle: str) -> None:
    with pytest.raises(PersonaeError) as info:
        read_lorebook_bytes(data, filename="w.json")
    assert needle in str(info.value) and "\n" not in str(info.value)


def test_limits() -> None:
    many = {"entries": {str(i): {"key": ["k"], "content": "c"} for i in range(MAX_ENTRIES + 1)}}
    with pytest.raises(WorldInfoError, match="split it"):
        world_info_to_lorebook(many)
    long = {"entries": {"0": {"comment": "Big", "content": "x" * (MAX_CONTENT_CHARS + 1)}}}
    with pytest.raises(WorldInfoError, match="'Big'.*characters of content"):
        world_info_to_lorebook(long)
    keys = {"entries": {"0": {"key": [f"k{i}" for i in range(MAX_KEYS_PER_ENTRY + 1)]}}}
    with pytest.raises(WorldInfoError, match="keys"):
        world_info_to_lorebook(keys)
    with pytest.raises(WorldInfoError, match="longer than"):
        world_info_to_lorebook({"entries": {"0": {"key": ["k" * 5000]}}})
    huge = b'{"entries": {}, "pad": "' + b"x" * MAX_WORLD_INFO_BYTES + b'"}'
    with pytest.raises(WorldInfoError, match="MiB"):
        read_lorebook_bytes(huge)


def test_wrong_types_to_public_functions() -> None:
    with pytest.raises(WorldInfoError):
        read_lorebook_bytes("text")  # type: ignore[arg-type]
    with pytest.raises(WorldInfoError):
        lorebook_to_world_info({"entries": {}})  # type: ignore[arg-type]
    with pytest.raises(WorldInfoError, match="not a World Info file"):
        world_info_to_lorebook({"spec": "chara_card_v2", "entries": {}})
    with pytest.raises(WorldInfoError, match="cannot read"):
        read_lorebook("/no/such/world.json")


def test_export_is_pretty_utf8_json() -> None:
    book = make_book(LoreEntry(keys=["홍길동"], content="조선의 의적."))
    text = world_info_bytes(book).decode("utf-8")
    assert "홍길동" in text and text.startswith("{\n")


def test_a_world_info_file_given_as_a_card_says_where_it_belongs(tmp_path: Path) -> None:
    from personae.characters import Character, read_card_bytes
    from personae.errors import CardError

    for world in (st_world(st_entry(0)), [st_entry(0)]):
        with pytest.raises(CardError, match="personae lorebook import"):
            Character.from_card_dict(world)
        with pytest.raises(CardError, match="World Info lorebook, not a character card"):
            read_card_bytes(json.dumps(world).encode(), filename="world.json")
