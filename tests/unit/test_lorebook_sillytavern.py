"""Lorebooks of cards exported the way SillyTavern exports them, matched the way it matches them,
and regex keys from untrusted cards that must not freeze a scan (issue 13)."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from personae.characters import Character, Lorebook, activate_entries, read_card_bytes
from personae.characters._keys import MAX_REPEAT_EXPANSION, compile_key, repeat_expansion
from personae.characters.lorebook import MAX_SCAN_CHARS, scan_lorebook


def st_entry(uid: int, keys: list[str], content: str, **ext: Any) -> dict[str, Any]:
    """One character_book entry as SillyTavern's card export writes it (every entry has
    use_regex true, and its own options sit in extensions, null when unset)."""
    return {
        "id": uid,
        "keys": keys,
        "secondary_keys": [],
        "comment": f"entry {uid}",
        "content": content,
        "constant": False,
        "selective": True,
        "insertion_order": 100,
        "enabled": True,
        "position": "before_char",
        "use_regex": True,
        "extensions": {
            "position": 0,
            "exclude_recursion": False,
            "display_index": uid,
            "probability": 100,
            "useProbability": True,
            "depth": 4,
            "selectiveLogic": 0,
            "group": "",
            "group_override": False,
            "group_weight": 100,
            "prevent_recursion": False,
            "delay_until_recursion": False,
            "scan_depth": None,
            "match_whole_words": None,
            "use_group_scoring": False,
            "case_sensitive": None,
            "automation_id": "",
            "role": 0,
            "vectorized": False,
            "sticky": 0,
            "cooldown": 0,
            "delay": 0,
            **ext,
        },
    }


def st_card(*entries: dict[str, Any]) -> bytes:
    """A card file as SillyTavern exports it: V1 fields at the top level and in ``data``."""
    fields = {
        "name": "Grimbold",
        "description": "A dwarf of {{char}}'s clan.",
        "personality": "gruff",
        "scenario": "A tavern.",
        "first_mes": "*nods*",
        "mes_example": "",
    }
    card = {
        **fields,
        "creatorcomment": "",
        "avatar": "none",
        "chat": "Grimbold - 2024-9-28 @12h 00m 00s 000ms",
        "talkativeness": "0.5",
        "fav": False,
        "tags": [],
        "spec": "chara_card_v2",
        "spec_version": "2.0",
        "data": {
            **fields,
            "creator_notes": "",
            "system_prompt": "",
            "post_history_instructions": "",
            "tags": [],
            "creator": "",
            "character_version": "",
            "alternate_greetings": [],
            "extensions": {"talkativeness": "0.5", "fav": False, "world": "Grimbold's lore"},
            "group_only_greetings": [],
            "character_book": {"entries": list(entries), "name": "Grimbold's lore"},
        },
        "create_date": "2024-9-28 @12h 00m 00s 000ms",
    }
    return json.dumps(card).encode()


def load_book(*entries: dict[str, Any]) -> Lorebook:
    book = read_card_bytes(st_card(*entries), filename="grimbold.json").character.character_book
    assert book is not None
    return book


def fired(book: Lorebook, *messages: str) -> list[str]:
    found = activate_entries(book, list(messages), count_tokens=lambda text: len(text.split()))
    return [entry.content for entry in found]


# --- SillyTavern's key semantics ------------------------------------------------------------


def test_a_key_that_is_no_regex_does_not_fail_the_import() -> None:
    book = load_book(st_entry(0, ["*wink*"], "WINK"), st_entry(1, ["dragon"], "DRAGON"))
    assert fired(book, "She gives you a *wink* and smiles.") == ["WINK"]
    assert fired(book, "she winks") == []


@pytest.mark.parametrize(
    ("key", "unrelated", "itself"),
    [
        ("C++", "I like cheese.", "I write C++ for a living."),
        ("what?", "whale watching", "So, what? Nothing."),
        ("[Ironforge]", "Hello there", "Welcome to [Ironforge], traveller."),
        ("a.b", "acb and a-b", "file a.b here"),
    ],
)
def test_keys_with_regex_characters_match_only_themselves(
    key: str, unrelated: str, itself: str
) -> None:
    book = load_book(st_entry(0, [key], "LORE"))
    assert fired(book, unrelated) == []
    assert fired(book, itself) == ["LORE"]


def test_slash_keys_are_regular_expressions_with_their_own_flags() -> None:
    book = load_book(
        st_entry(0, ["/drag(on|ons)\\b/i"], "INSENSITIVE"),
        st_entry(1, ["/Forge/"], "SENSITIVE"),  # the entry's case option does not apply
        st_entry(2, ["/[unclosed/"], "PLAIN"),  # does not compile: plain text, as in ST
    )
    assert fired(book, "DRAGONS ahead") == ["INSENSITIVE"]
    assert fired(book, "the forge") == []
    assert fired(book, "the Forge") == ["SENSITIVE"]
    assert fired(book, "see /[unclosed/ there") == ["PLAIN"]


def test_whole_words_default_on_and_per_entry_off() -> None:
    book = load_book(
        st_entry(0, ["cat"], "DEFAULT"),
        st_entry(1, ["cat"], "SUBSTRING", match_whole_words=False),
        st_entry(2, ["홍길동"], "KOREAN"),
    )
    assert fired(book, "concatenate") == ["SUBSTRING"]
    assert fired(book, "a cat, sleeping") == ["DEFAULT", "SUBSTRING"]
    assert fired(book, "홍길동이 왔다") == ["KOREAN"]  # particles attach: no word boundary


def test_keys_of_several_words_match_anywhere_as_in_sillytavern() -> None:
    book = load_book(st_entry(0, ["New York"], "NY"))
    assert fired(book, "a New Yorker") == ["NY"]


def test_case_sensitivity_entry_extension_then_book_default() -> None:
    book = load_book(
        st_entry(0, ["Ironforge"], "DEFAULT"),
        st_entry(1, ["Ironforge"], "STRICT", case_sensitive=True),
    )
    assert fired(book, "ironforge") == ["DEFAULT"]
    assert fired(book, "Ironforge") == ["DEFAULT", "STRICT"]
    strict_book = book.model_copy(update={"extensions": {"case_sensitive": True}})
    assert fired(strict_book, "ironforge") == []
    loose = strict_book.model_copy(
        update={"entries": [e.model_copy(update={"case_sensitive": False}) for e in book.entries]}
    )
    assert fired(loose, "ironforge") == ["DEFAULT", "STRICT"]


def test_book_default_for_whole_words() -> None:
    book = load_book(st_entry(0, ["cat"], "CAT"))
    substring_book = book.model_copy(update={"extensions": {"match_whole_words": False}})
    assert fired(book, "concatenate") == []
    assert fired(substring_book, "concatenate") == ["CAT"]


def test_keys_are_trimmed_as_sillytavern_trims_them() -> None:
    book = load_book(st_entry(0, ["  dragon "], "DRAGON"))
    assert fired(book, "a dragon!") == ["DRAGON"]


# --- regex keys from untrusted cards --------------------------------------------------------

CATASTROPHIC = ["/(a+)+$/", "/(a|aa)+$/", "/(a|a)*$/", "/(.*a){25}$/", "/^(\\w+\\s?)*$/"]


def test_catastrophic_patterns_cannot_freeze_a_scan() -> None:
    book = load_book(
        *[st_entry(i, [key], f"BAD{i}") for i, key in enumerate(CATASTROPHIC)],
        st_entry(9, ["aaa"], "FINE", match_whole_words=False),
    )
    attack = "a" * 30 + "b"
    started = time.perf_counter()
    scan = scan_lorebook(book, [attack, attack * 200], count_tokens=len)
    elapsed = time.perf_counter() - started
    assert elapsed < 1.0, f"the scan took {elapsed:.2f} s"
    assert [entry.content for entry in scan.entries] == ["FINE"]
    assert scan.reasons == {len(CATASTROPHIC): "aaa"}
    assert "/(a|aa)+$/" in scan.skipped
    assert all("ms" in why or "used up" in why for why in scan.skipped.values())


def test_the_budget_is_per_scan_and_plain_keys_still_match() -> None:
    book = load_book(st_entry(0, ["/(a|aa)+$/"], "BAD"), st_entry(1, ["/a+b/"], "REGEX"))
    scan = scan_lorebook(book, ["a" * 30 + "b"], count_tokens=len, time_budget=0)
    assert scan.entries == [] and set(scan.skipped) == {"/(a|aa)+$/", "/a+b/"}
    assert fired(book, "xaab") == ["REGEX"]  # the next scan has its budget again


@pytest.mark.parametrize(
    "key",
    [
        "/(a{1000}){1000}/",
        "/x{4294967294}/",
        "/((a{100}){100}){100}/",
        "/(?:a{1000,}){100}/",
        "/" + "(" * 150 + "a" + ")" * 150 + "/",
    ],
)
def test_patterns_too_big_to_compile_are_refused_not_compiled(key: str) -> None:
    started = time.perf_counter()
    book = load_book(st_entry(0, [key], "HUGE"), st_entry(1, ["ok"], "OK"))
    scan = scan_lorebook(book, ["aaaa ok"], count_tokens=len)
    assert time.perf_counter() - started < 1.0
    assert [entry.content for entry in scan.entries] == ["OK"]
    assert "simplify it" in scan.skipped[key]


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("abc", 3),
        ("a{10}", 10),
        ("(ab){10}", 20),
        ("(a{10}){10}", 100),
        ("a{0,1000}", 1),
        ("[{]{5}", 5),
        ("\\{10}", 4),  # an escaped brace is no repeat
        ("\\p{L}{3}", 3),
        ("a{,5}", 5),  # not a JS repeat: literal characters
    ],
)
def test_repeat_expansion_estimate(pattern: str, expected: int) -> None:
    assert repeat_expansion(pattern) == expected
    assert MAX_REPEAT_EXPANSION >= 1000


def test_scan_reads_a_bounded_tail_of_the_messages() -> None:
    book = load_book(st_entry(0, ["needle"], "FAR"), st_entry(1, ["near"], "NEAR"))
    huge = "needle " + "x" * (MAX_SCAN_CHARS + 10) + " near"
    assert fired(book, huge) == ["NEAR"]


def test_compiled_keys_are_cached_per_options() -> None:
    assert compile_key("/a+/", False, True) is compile_key("/a+/", False, True)
    assert compile_key("Cat", True, True).needle == "Cat"
    assert compile_key("Cat", False, True).needle == "cat"


def test_card_import_does_not_hang_on_hostile_keys() -> None:
    card = json.loads(st_card(*[st_entry(i, [k], "x") for i, k in enumerate(CATASTROPHIC)]))
    started = time.perf_counter()
    character = Character.from_card_dict(card)
    assert time.perf_counter() - started < 1.0
    assert character.character_book is not None


def test_a_skipped_key_is_logged_once_not_every_turn(caplog: pytest.LogCaptureFixture) -> None:
    book = load_book(st_entry(0, ["/(a|aa)+$ logged once/"], "BAD"))
    for _ in range(3):
        scan = scan_lorebook(book, ["x"], count_tokens=len, time_budget=0)
        assert list(scan.skipped) == ["/(a|aa)+$ logged once/"]
    logged = [r for r in caplog.records if "logged once" in r.getMessage()]
    assert len(logged) == 1 and "Grimbold's lore" in logged[0].getMessage()
