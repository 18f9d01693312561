"""Lorebook activation: keys, scan depth, regex, selective logic, recursion, budget, order."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from personae.characters import (
    DEFAULT_SCAN_DEPTH,
    Character,
    Lorebook,
    LoreEntry,
    activate_entries,
    entry_decorators,
    entry_text,
    validate_lorebook,
)
from personae.characters._keys import compile_key
from personae.errors import InvalidInput, LorebookError


def words(text: str) -> int:
    return len(text.split())


def entry(keys: list[str], content: str = "", **fields: Any) -> LoreEntry:
    return LoreEntry(
        keys=keys, content=content or f"lore about {keys[0] if keys else 'x'}", **fields
    )


def active(book: Lorebook, messages: list[str], **kwargs: Any) -> list[str]:
    found = activate_entries(book, messages, count_tokens=words, **kwargs)
    return [e.content for e in found]


def book_of(*entries: LoreEntry, **fields: Any) -> Lorebook:
    return Lorebook(entries=list(entries), **fields)


# --- keys ----------------------------------------------------------------------------------


def test_primary_key_activates_and_disabled_entries_never_do() -> None:
    book = book_of(entry(["dragon"], "A"), entry(["dragon"], "B", enabled=False))
    assert active(book, ["I saw a dragon"]) == ["A"]
    assert active(book, ["nothing here"]) == []


def test_case_insensitive_by_default_and_case_sensitive_when_asked() -> None:
    book = book_of(
        entry(["Paris"], "default"),
        entry(["Paris"], "strict", case_sensitive=True),
        entry(["Rome"], "ext-strict", extensions={"case_sensitive": True}),
    )
    assert active(book, ["we went to PARIS and ROME"]) == ["default"]
    assert active(book, ["Paris and Rome"]) == ["default", "strict", "ext-strict"]


@pytest.mark.parametrize(
    ("text", "hit"),
    [
        ("a cat sat", True),
        ("Cat's whiskers", True),
        ("cat.", True),
        ("(cat)", True),
        ("concatenate", False),
        ("cats", False),
        ("bobcat", False),
        ("cat_food", False),
        ("cat이 귀엽다", True),  # a Korean particle right after a Latin key still ends the word
    ],
)
def test_latin_keys_match_whole_words(text: str, hit: bool) -> None:
    book = book_of(entry(["cat"], "C"))
    assert active(book, [text]) == (["C"] if hit else [])


@pytest.mark.parametrize(
    "text",
    ["홍길동이 나타났다", "홍길동을 보았소", "그가 홍길동이오", "홍길동", "의적홍길동의 소문"],
)
def test_korean_keys_match_inside_words_with_particles(text: str) -> None:
    assert active(book_of(entry(["홍길동"], "H")), [text]) == ["H"]


def test_cjk_keys_match_as_substrings() -> None:
    book = book_of(entry(["東京"], "T"), entry(["さくら"], "S"))
    assert active(book, ["私は東京に住んでいる", "さくらが咲いた"]) == ["T", "S"]


def test_match_whole_words_extension_overrides() -> None:
    book = book_of(
        entry(["cat"], "substring", extensions={"match_whole_words": False}),
        entry(["cat"], "whole"),
    )
    assert active(book, ["concatenate"]) == ["substring"]


def test_multi_word_and_symbol_keys() -> None:
    book = book_of(entry(["Baker Street"], "B"), entry(["C++"], "C"), entry(["#tag"], "T"))
    assert active(book, ["221B baker street"]) == ["B"]
    assert active(book, ["I write C++ daily"]) == ["C"]
    assert active(book, ["see #tag"]) == ["T"]
    assert active(book, ["ABC++"]) == []
    assert active(book, ["C++x", "a#tag"]) == []  # a boundary on both sides, as SillyTavern


def test_empty_keys_never_match() -> None:
    book = book_of(LoreEntry(keys=["", "  "], content="never"), LoreEntry(keys=[], content="no"))
    assert active(book, ["anything at all"]) == []


# --- regex keys ----------------------------------------------------------------------------


def test_regex_keys_are_the_slash_form_only() -> None:
    book = book_of(
        entry([r"/colou?r/i"], "slash", use_regex=True),
        entry([r"colou?r"], "bare"),  # use_regex does not make a bare key a pattern
        entry([r"/^ship\s+\d+$/im"], "js", use_regex=True),
        entry([r"/SHOUT/"], "regex-cs"),  # a regex key's own flags decide its case
        entry([r"/(?<word>ab)\k<word>/"], "named"),
        scan_depth=5,
    )
    assert active(book, ["what COLOR", "shout", "first line\nShip 42"]) == ["slash", "js"]
    assert active(book, ["SHOUT abab"]) == ["regex-cs", "named"]
    assert active(book, ["the word colou?r itself"]) == ["bare"]


def test_slash_form_as_sillytavern_parses_it() -> None:
    book = book_of(
        entry(["/gr[ae]y/"], "regex"),
        entry(["/(/"], "bad pattern"),
        entry(["/a/b/"], "inner slash"),
        entry(["/x/q"], "bad flag"),
        entry(["/x/ii"], "twice"),
        entry(["/^hi/y"], "sticky"),
    )
    assert active(book, ["a grey day"]) == ["regex"]
    assert active(book, ["path /(/ here"]) == ["bad pattern"]
    assert active(book, ["see /a/b/ and /x/q"]) == ["inner slash", "bad flag"]
    assert active(book, ["hi there", "/x/ii"]) == ["twice", "sticky"]
    assert active(book, ["oh hi"]) == []


@pytest.mark.parametrize("odd", ["(unclosed", "/[a-/i", "*start", "a{99999999999}"])
def test_keys_that_are_no_valid_regex_are_plain_text(odd: str) -> None:
    book = book_of(entry(["fine"]), entry([odd], "odd", name="Odd", use_regex=True))
    validate_lorebook(book)
    assert active(book, [f"quote: {odd} ."]) == ["odd"]
    assert active(book, ["unclosed start a"]) == []


def test_card_with_odd_keys_loads() -> None:
    card = {
        "name": "A",
        "character_book": {"entries": [{"keys": ["["], "use_regex": True, "content": "L"}]},
    }
    book = Character.from_card_dict(card).character_book
    assert book is not None and active(book, ["[ here"]) == ["L"]


def test_overlong_key_is_rejected() -> None:
    with pytest.raises(LorebookError, match="longer"):
        validate_lorebook(book_of(entry(["x" * 5000])))


# --- selective -----------------------------------------------------------------------------


def test_selective_needs_a_secondary_match() -> None:
    book = book_of(entry(["violin"], "V", selective=True, secondary_keys=["play", "music"]))
    assert active(book, ["a violin case"]) == []
    assert active(book, ["play the violin"]) == ["V"]
    assert active(book, ["music"]) == []


def test_selective_without_secondary_keys_is_plain() -> None:
    # Real SillyTavern exports set selective=true with an empty secondary list.
    book = book_of(entry(["code"], "C", selective=True, secondary_keys=[]))
    assert active(book, ["write code"]) == ["C"]


def test_secondary_keys_ignored_unless_selective() -> None:
    book = book_of(entry(["code"], "C", secondary_keys=["python"]))
    assert active(book, ["write code"]) == ["C"]


@pytest.mark.parametrize(
    ("logic", "text", "hit"),
    [
        (1, "key a b", False),  # NOT ALL
        (1, "key a", True),
        (2, "key a", False),  # NOT ANY
        (2, "key", True),
        (3, "key a", False),  # AND ALL
        (3, "key b a", True),
    ],
)
def test_sillytavern_selective_logic(logic: int, text: str, hit: bool) -> None:
    book = book_of(
        entry(
            ["key"],
            "E",
            selective=True,
            secondary_keys=["a", "b"],
            extensions={"selectiveLogic": logic},
        )
    )
    assert active(book, [text]) == (["E"] if hit else [])


# --- constant, decorators, scan depth ------------------------------------------------------


def test_constant_entries_always_activate() -> None:
    book = book_of(
        entry([], "always", constant=True), entry([], "off", constant=True, enabled=False)
    )
    assert active(book, []) == ["always"]


def test_decorators() -> None:
    book = book_of(
        entry([], "@@activate\nforced"),
        entry(["key"], "@@dont_activate\nnever"),
        entry(["deep"], "@@scan_depth 5\n@@@fallback\nfar back"),
    )
    messages = ["deep", "1", "2", "3", "key"]
    found = activate_entries(book, messages, count_tokens=words)
    assert [entry_text(e) for e in found] == ["forced", "far back"]
    assert entry_decorators(found[1]) == {"scan_depth": "5"}
    assert entry_text(LoreEntry(content="no decorators\n@@not at top")) == (
        "no decorators\n@@not at top"
    )


def test_scan_depth_default_book_and_entry() -> None:
    messages = ["old dragon", "b", "c"]
    assert DEFAULT_SCAN_DEPTH == 2
    assert active(book_of(entry(["dragon"], "D")), messages) == []
    assert active(book_of(entry(["dragon"], "D"), scan_depth=3), messages) == ["D"]
    assert active(book_of(entry(["dragon"], "D"), scan_depth=99), messages) == ["D"]
    per_entry = entry(["dragon"], "D", extensions={"scan_depth": 3})
    assert active(book_of(per_entry), messages) == ["D"]
    assert active(book_of(entry(["c"], "C"), scan_depth=0), messages) == []


def test_keys_do_not_straddle_messages() -> None:
    assert active(book_of(entry(["ice cream"], "I")), ["ice", "cream"]) == []


# --- recursion -----------------------------------------------------------------------------


def chain_book(**fields: Any) -> Lorebook:
    return book_of(
        entry(["alpha"], "alpha mentions beta"),
        entry(["beta"], "beta mentions gamma"),
        entry(["gamma"], "gamma mentions delta"),
        entry(["delta"], "delta mentions alpha"),
        **fields,
    )


def test_recursion_follows_content_up_to_the_limit() -> None:
    assert active(chain_book(), ["alpha"]) == ["alpha mentions beta"]
    recursive = chain_book(recursive_scanning=True)
    assert len(active(recursive, ["alpha"])) == 4
    assert len(active(recursive, ["alpha"], max_recursion=1)) == 2
    assert len(active(recursive, ["alpha"], max_recursion=2)) == 3
    assert len(active(recursive, ["alpha"], max_recursion=0)) == 1


def test_recursion_flags_from_sillytavern() -> None:
    book = book_of(
        entry(["start"], "mentions stopper and excluded"),
        entry(["stopper"], "mentions hidden", extensions={"prevent_recursion": True}),
        entry(["hidden"], "H"),
        entry(["excluded"], "X", extensions={"exclude_recursion": True}),
        recursive_scanning=True,
    )
    assert active(book, ["start"]) == ["mentions stopper and excluded", "mentions hidden"]
    assert "X" in active(book, ["excluded"])


def test_recursion_can_complete_a_selective_match() -> None:
    book = book_of(
        entry(["sword"], "the sword is cursed"),
        entry(["blade", "sword"], "curse lore", selective=True, secondary_keys=["cursed"]),
        recursive_scanning=True,
    )
    assert active(book, ["a sword"]) == ["the sword is cursed", "curse lore"]


# --- budget and order ----------------------------------------------------------------------


def test_result_is_sorted_by_insertion_order_and_keeps_position() -> None:
    book = book_of(
        entry(["k"], "third", insertion_order=30, position="after_char"),
        entry(["k"], "first", insertion_order=10, position="before_char"),
        entry(["k"], "second-a", insertion_order=20),
        entry(["k"], "second-b", insertion_order=20),
    )
    found = activate_entries(book, ["k"], count_tokens=words)
    assert [e.content for e in found] == ["first", "second-a", "second-b", "third"]
    assert [e.position for e in found] == ["before_char", None, None, "after_char"]
    assert found[0] is book.entries[1]


def budget_book(**fields: Any) -> Lorebook:
    return book_of(
        entry(["k"], "low priority entry", priority=1, insertion_order=1),
        entry(["k"], "high priority entry", priority=9, insertion_order=2),
        entry(["k"], "mid priority entry", priority=5, insertion_order=3),
        **fields,
    )


def test_over_budget_drops_lowest_priority_first() -> None:
    assert len(active(budget_book(), ["k"])) == 3
    assert active(budget_book(), ["k"], token_budget=6) == [
        "high priority entry",
        "mid priority entry",
    ]
    assert active(budget_book(), ["k"], token_budget=3) == ["high priority entry"]
    assert active(budget_book(), ["k"], token_budget=0) == []
    assert active(budget_book(token_budget=3), ["k"]) == ["high priority entry"]
    assert len(active(budget_book(token_budget=3), ["k"], token_budget=100)) == 3


def test_book_budget_zero_means_no_budget() -> None:
    assert len(active(budget_book(token_budget=0), ["k"])) == 3


def test_budget_ties_drop_higher_insertion_order_then_non_constant() -> None:
    book = book_of(
        entry(["k"], "late", insertion_order=50),
        entry(["k"], "early", insertion_order=5),
        entry([], "const late", insertion_order=90, constant=True),
    )
    assert active(book, ["k"], token_budget=2) == ["const late"]
    assert active(book, ["k"], token_budget=3) == ["early", "const late"]
    assert len(active(book, ["k"], token_budget=4)) == 3


def test_constant_entries_are_subject_to_budget() -> None:
    book = book_of(
        entry([], "constant but low", constant=True, priority=0),
        entry(["k"], "keyed and high", priority=10),
    )
    assert active(book, ["k"], token_budget=3) == ["keyed and high"]


def test_oversized_entry_is_skipped_and_smaller_ones_still_fit() -> None:
    book = book_of(
        entry(["k"], "a very long and important entry " * 5, priority=10),
        entry(["k"], "small", priority=1),
    )
    assert active(book, ["k"], token_budget=5) == ["small"]


def test_budget_counts_text_without_decorators() -> None:
    book = book_of(entry(["k"], "@@depth 4 and many decorator words\nshort"))
    assert active(book, ["k"], token_budget=1) == ["@@depth 4 and many decorator words\nshort"]


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["a", "b", "c"]),
            st.integers(0, 3),
            st.integers(0, 50),
            st.booleans(),
            st.booleans(),
        ),
        max_size=12,
    ),
    st.lists(st.sampled_from(["a", "b", "c", "x y"]), max_size=5),
    st.none() | st.integers(0, 12),
)
def test_properties(
    specs: list[tuple[str, int, int, bool, bool]], messages: list[str], budget: int | None
) -> None:
    book = book_of(
        *[
            LoreEntry(
                keys=[key],
                content=f"{key} " * (size + 1),
                priority=size,
                insertion_order=order,
                constant=constant,
                enabled=enabled,
            )
            for key, size, order, constant, enabled in specs
        ],
        recursive_scanning=True,
    )
    first = activate_entries(book, messages, count_tokens=words, token_budget=budget)
    again = activate_entries(book, messages, count_tokens=words, token_budget=budget)
    assert first == again
    assert all(e.enabled for e in first)
    assert [e.insertion_order for e in first] == sorted(e.insertion_order for e in first)
    if budget is not None:
        assert sum(words(e.content) for e in first) <= budget
    for e in book.entries:
        if e.enabled and e.constant and budget is None:
            assert e in first


def test_many_entries_and_messages() -> None:
    # A sanity check of scale, not a timing assertion (speed lives in benchmarks/).
    entries = [entry([f"key{i}", f"키{i}번"], f"lore {i}") for i in range(200)]
    book = book_of(*entries, scan_depth=200)
    messages = [f"message {i} mentions key{i} and 키{i}번이" for i in range(200)]
    compile_key.cache_clear()
    first = activate_entries(book, messages, count_tokens=words)
    assert len(first) == 200
    activate_entries(book, messages, count_tokens=words)
    assert compile_key.cache_info().hits >= 400


# --- bad input -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [
        (("not a book", []), {}),
        ((Lorebook(), "a single string"), {}),
        ((Lorebook(), [1, 2]), {}),
        ((Lorebook(), ["x"]), {"count_tokens": "len"}),
        ((Lorebook(), ["x"]), {"token_budget": -1}),
        ((Lorebook(), ["x"]), {"max_recursion": -2}),
        ((Lorebook(), ["x"]), {"token_budget": "10"}),
    ],
)
def test_bad_arguments_are_invalid_input(args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    kwargs.setdefault("count_tokens", words)
    with pytest.raises(InvalidInput):
        activate_entries(*args, **kwargs)


def test_validate_rejects_negative_settings_and_non_books() -> None:
    with pytest.raises(LorebookError, match="scan_depth"):
        validate_lorebook(Lorebook(scan_depth=-1))
    with pytest.raises(LorebookError, match="token_budget"):
        validate_lorebook(Lorebook(token_budget=-5))
    with pytest.raises(InvalidInput):
        validate_lorebook({"entries": []})  # type: ignore[arg-type]
    validate_lorebook(Lorebook())
