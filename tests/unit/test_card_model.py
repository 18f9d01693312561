"""Character.from_card_dict / to_card_dict: V1, V2, V3 and the sloppy cards real tools write."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from personae.characters import Character, Lorebook, LoreEntry
from personae.errors import CardError

NESTED_EXT = {"tool": {"deep": {"list": [1, {"x": None}], "flag": True}}, "talkativeness": "0.5"}


def v2_card(**data: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "name": "Aria",
        "description": "A lighthouse keeper.",
        "personality": "calm",
        "scenario": "A stormy night.",
        "first_mes": "Welcome, {{user}}.",
        "mes_example": "<START>\n{{user}}: Hi\n{{char}}: Hello.",
        "creator_notes": "notes",
        "system_prompt": "",
        "post_history_instructions": "",
        "alternate_greetings": ["Oh, it's you."],
        "tags": ["sea"],
        "creator": "me",
        "character_version": "1",
        "extensions": copy.deepcopy(NESTED_EXT),
    }
    base.update(data)
    return {"spec": "chara_card_v2", "spec_version": "2.0", "data": base}


def test_v2_fields_are_read() -> None:
    character = Character.from_card_dict(v2_card())
    assert character.name == "Aria"
    assert character.alternate_greetings == ["Oh, it's you."]
    assert character.extensions == NESTED_EXT
    assert character.spec == "chara_card_v2"


def test_v2_round_trip_is_exact() -> None:
    card = v2_card(unknown_field={"kept": [1, 2]})
    assert Character.from_card_dict(card).to_card_dict() == card


def test_v1_flat_card_is_upgraded() -> None:
    v1 = {
        "name": "Old",
        "description": "d",
        "personality": "p",
        "scenario": "s",
        "first_mes": "hi",
        "mes_example": "",
        "creatorcomment": "from ST",
        "talkativeness": "0.5",
    }
    character = Character.from_card_dict(v1)
    assert (character.name, character.first_mes, character.creator_notes) == (
        "Old",
        "hi",
        "from ST",
    )
    assert character.spec == "chara_card_v2"
    # Unknown V1 keys ride along in data so nothing is lost.
    assert character.to_card_dict()["data"]["talkativeness"] == "0.5"


def test_sillytavern_hybrid_prefers_data() -> None:
    card = v2_card(name="From data", description="inside")
    card.update({"name": "Top level", "description": "outside", "tags": "", "chat": "x"})
    character = Character.from_card_dict(card)
    assert (character.name, character.description) == ("From data", "inside")
    assert "chat" not in character.to_card_dict()["data"]


def v3_card() -> dict[str, Any]:
    card = v2_card()
    card["spec"], card["spec_version"] = "chara_card_v3", "3.0"
    card["data"].update(
        {
            "nickname": "Ari",
            "creator_notes_multilingual": {"ko": "메모"},
            "source": ["https://example.invalid/aria"],
            "group_only_greetings": ["Hello, all of you."],
            "creation_date": 1700000000,
            "modification_date": 1700000500,
            "assets": [{"type": "icon", "uri": "ccdefault:", "name": "main", "ext": "png"}],
        }
    )
    return card


def test_v3_round_trip_is_exact() -> None:
    card = v3_card()
    character = Character.from_card_dict(card)
    assert character.spec == "chara_card_v3"
    assert character.nickname == "Ari"
    assert character.to_card_dict() == card


def test_v3_exported_as_v2_keeps_v3_fields_and_comes_back() -> None:
    character = Character.from_card_dict(v3_card())
    as_v2 = character.to_card_dict("v2")
    assert (as_v2["spec"], as_v2["spec_version"]) == ("chara_card_v2", "2.0")
    assert as_v2["data"]["nickname"] == "Ari"
    again = Character.from_card_dict(as_v2)
    assert again.to_card_dict("v3") == v3_card()


def test_v2_export_omits_empty_v3_fields() -> None:
    data = Character(name="Plain").to_card_dict("v2")["data"]
    for key in ("nickname", "group_only_greetings", "assets", "source", "creation_date"):
        assert key not in data
    v3 = Character(name="Plain").to_card_dict("v3")["data"]
    assert v3["group_only_greetings"] == []


def test_unknown_spec_version_argument_is_card_error() -> None:
    with pytest.raises(CardError, match="v2"):
        Character(name="x").to_card_dict("v9")  # type: ignore[arg-type]


def test_lorebook_round_trip_keeps_unknown_fields() -> None:
    book = {
        "name": "World",
        "scan_depth": 4,
        "extensions": {"a": {"b": [1]}},
        "entries": [
            {
                "keys": ["castle"],
                "content": "A castle.",
                "extensions": {"position": 1, "depth": 4},
                "enabled": True,
                "insertion_order": 5,
                "use_regex": False,
                "id": 3,
                "vendor_thing": {"x": 1},
                "secondary_keys": [],
            }
        ],
    }
    card = v2_card(character_book=book)
    out = Character.from_card_dict(card).to_card_dict()
    assert out["data"]["character_book"] == book


# --- leniency: sloppy but unambiguous values are repaired ----------------------------------


def test_null_strings_and_number_tags_are_repaired() -> None:
    character = Character.from_card_dict(
        v2_card(description=None, tags=[1, "two", 3.5, None], character_version=2)
    )
    assert character.description == ""
    assert character.tags == ["1", "two", "3.5"]
    assert character.character_version == "2"


def test_comma_separated_keys_and_tags_become_lists() -> None:
    book = {"entries": [{"keys": "a, b ,c", "content": "x"}]}
    character = Character.from_card_dict(v2_card(tags="x, y", character_book=book))
    assert character.tags == ["x", "y"]
    assert character.character_book is not None
    assert character.character_book.entries[0].keys == ["a", "b", "c"]


def test_entry_defaults_and_st_positions() -> None:
    book = {
        "entries": [
            {"keys": ["a"], "content": "x", "position": 0, "enabled": None, "insertion_order": "7"},
            {"keys": ["b"], "content": "y", "position": 4, "constant": 1},
        ]
    }
    entries = Character.from_card_dict(v2_card(character_book=book)).character_book.entries  # type: ignore[union-attr]
    assert entries[0].position == "before_char"
    assert entries[0].enabled is True
    assert entries[0].insertion_order == 7
    assert entries[1].position is None
    assert entries[1].constant is True


def test_world_info_dict_entries_are_accepted_in_order() -> None:
    book = {"entries": {"1": {"keys": ["b"], "content": "B"}, "0": {"keys": ["a"], "content": "A"}}}
    character = Character.from_card_dict(v2_card(character_book=book))
    assert [e.content for e in character.character_book.entries] == ["A", "B"]  # type: ignore[union-attr]


# --- errors name the field -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "path"),
    [
        ("alternate_greetings", "hello", "data.alternate_greetings"),
        ("alternate_greetings", [{"a": 1}], "data.alternate_greetings"),
        ("description", ["x"], "data.description"),
        ("extensions", [], "data.extensions"),
        ("character_book", "book", "data.character_book"),
        ("character_book", {"entries": 5}, "data.character_book.entries"),
        ("character_book", {"entries": [{"keys": {}}]}, "data.character_book.entries[0].keys"),
        ("character_book", {"entries": [{"enabled": "maybe"}]}, "entries[0].enabled"),
        ("character_book", {"scan_depth": "deep"}, "data.character_book.scan_depth"),
        ("creation_date", "yesterday", "data.creation_date"),
        ("assets", [1], "data.assets[0]"),
        ("creator_notes_multilingual", {"ko": []}, "creator_notes_multilingual.ko"),
    ],
)
def test_wrong_types_raise_card_error_naming_the_field(field: str, value: Any, path: str) -> None:
    with pytest.raises(CardError) as info:
        Character.from_card_dict(v2_card(**{field: value}))
    assert path in str(info.value)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    "card",
    [
        [],
        "card",
        None,
        {},
        {"spec": "chara_card_v2"},
        {"spec": "chara_card_v2", "data": []},
        {"spec": "chara_card_v7", "data": {"name": "x"}},
        {"spec": ["list"], "data": {"name": "x"}},
        {"spec": "chara_card_v2", "data": {"name": "   "}},
        {"name": float("nan")},
        {"name": "x", "extensions": {"bad": {1, 2}}},
        {"name": "x", "extensions": {1: "non-string key"}},
    ],
)
def test_non_cards_raise_card_error(card: Any) -> None:
    with pytest.raises(CardError):
        Character.from_card_dict(card)


def test_deep_nesting_is_refused() -> None:
    deep: Any = "leaf"
    for _ in range(500):
        deep = {"d": deep}
    with pytest.raises(CardError, match="nested"):
        Character.from_card_dict(v2_card(extensions=deep))


def test_regex_looking_key_loads_as_text_but_an_overlong_key_fails_at_load() -> None:
    # As in SillyTavern, only a /pattern/ key is a regex: "(unclosed" is text, not an error.
    book = {"entries": [{"keys": ["(unclosed"], "content": "x", "use_regex": True, "name": "Ok"}]}
    assert Character.from_card_dict(v2_card(character_book=book)).character_book is not None
    book = {"entries": [{"keys": ["k" * 1001], "content": "x", "name": "Bad"}]}
    with pytest.raises(CardError, match="1,000|1000"):
        Character.from_card_dict(v2_card(character_book=book))


def test_data_spec_key_does_not_clash_with_our_field() -> None:
    character = Character.from_card_dict(v2_card(spec="weird"))
    assert character.spec == "chara_card_v2"


# --- greetings and examples ---------------------------------------------------------------


def test_greetings_skip_blank() -> None:
    character = Character(name="A", first_mes="Hi", alternate_greetings=["", "Yo", "  "])
    assert character.greetings() == ["Hi", "Yo"]
    assert Character(name="A").greetings() == []


def test_example_blocks_split_case_insensitively() -> None:
    text = "intro line\n<START>\n{{user}}: a\n<start>\n\n<Start>\n{{char}}: b\n<START>  "
    assert Character(name="A", mes_example=text).example_blocks() == [
        "intro line",
        "{{user}}: a",
        "{{char}}: b",
    ]


def test_example_dialogues_parse_speakers_and_continuations() -> None:
    text = (
        "<START>\n{{user}}: Hello {{char}}\n{{char}}: Hi, {{user}}.\nSecond line.\n"
        "<BOT>: bot tag\n<USER>: user tag\nAria: by name\nDana: user by name\n"
        "<START>\n*She waves.*\n{{char}}: after narration"
    )
    dialogues = Character(name="Aria", mes_example=text).example_dialogues(user="Dana")
    assert dialogues[0] == [
        ("user", "Hello Aria"),
        ("char", "Hi, Dana.\nSecond line."),
        ("char", "bot tag"),
        ("user", "user tag"),
        ("char", "by name"),
        ("user", "user by name"),
    ]
    assert dialogues[1] == [("char", "*She waves.*"), ("char", "after narration")]


def test_example_dialogues_macro_prefix_beats_names() -> None:
    character = Character(name="User", mes_example="{{user}}: question\n{{char}}: answer")
    assert character.example_dialogues(user="Bob") == [[("user", "question"), ("char", "answer")]]


def test_models_are_plain_pydantic() -> None:
    entry = LoreEntry(keys=["k"], content="c")
    book = Lorebook(entries=[entry])
    assert book.to_dict()["entries"][0] == {
        "keys": ["k"],
        "content": "c",
        "enabled": True,
        "insertion_order": 100,
        "use_regex": False,
        "secondary_keys": [],
        "extensions": {},
    }
