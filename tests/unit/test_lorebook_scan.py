"""Attached books scanned with the card's own under one budget, and `explain_scan`'s reasons."""

from __future__ import annotations

from personae.characters import Lorebook, activate_entries
from personae.characters.lorebook_scan import explain_scan, merge_lorebooks, with_lorebooks
from tests.support.factories import entry, make_book, make_character


def words(text: str) -> int:
    return len(text.split())


def test_merge_keeps_card_settings_and_entry_order() -> None:
    card = make_book(entry(["moor"], "Foggy moor."), token_budget=10, name="Card")
    extra = make_book(entry(["hound"], "A hound."), scan_depth=7, token_budget=500)
    more = make_book(entry(["lamp"], "A lamp."), recursive_scanning=True)
    merged = merge_lorebooks(card, [extra, more])
    assert merged is not None and merged.name == "Card"
    assert [e.keys[0] for e in merged.entries] == ["moor", "hound", "lamp"]
    assert (merged.token_budget, merged.scan_depth, merged.recursive_scanning) == (10, 7, True)
    assert merge_lorebooks(card, []) is card
    assert merge_lorebooks(None, []) is None
    alone = merge_lorebooks(None, [extra])
    assert alone is not None and alone.token_budget == 500


def test_one_budget_across_the_card_and_attached_books() -> None:
    card = make_book(entry(["moor"], "one two three four", priority=5), token_budget=6)
    extra = make_book(entry(["hound"], "five six seven", priority=1))
    merged = merge_lorebooks(card, [extra])
    assert merged is not None
    active = activate_entries(merged, ["the hound on the moor"], count_tokens=words)
    assert [e.keys[0] for e in active] == ["moor"]  # 4 + 3 > 6: the lower priority goes


def test_with_lorebooks_copies_the_character() -> None:
    holmes = make_character()
    played = with_lorebooks(holmes, [make_book(entry(["hound"], "A hound."))])
    assert holmes.character_book is None
    assert played.character_book is not None and played.character_book.entries[0].keys == ["hound"]
    assert with_lorebooks(holmes, []) is holmes


def test_explain_reports_key_constant_secondary_recursion_and_budget() -> None:
    card = make_book(
        entry([], "Victorian London.", constant=True, comment="Era"),
        entry(["hound"], "The hound haunts the moor.", comment="Hound"),
        entry(["moor"], "Grimpen Mire lies on the moor.", comment="Moor"),
        entry(["lamp"], "A lamp.", selective=True, secondary_keys=["oil", "night"]),
        entry(["nothing"], "Never."),
        entry(["Baskerville"], "word " * 50, comment="Long"),
        recursive_scanning=True,
        token_budget=30,
    )
    found = explain_scan(
        card, [], ["A hound with a lamp at night, Baskerville"], count_tokens=words
    ).activated
    by = {f.entry.comment or f.entry.keys[0]: f for f in found}
    assert set(by) == {"Era", "Hound", "Moor", "lamp", "Long"}
    assert by["Era"].reason == "constant" and by["Era"].key is None
    assert (by["Hound"].reason, by["Hound"].key) == ("key", "hound")
    assert (by["Moor"].reason, by["Moor"].key) == ("recursion", "moor")
    assert by["lamp"].secondary_keys == ("night",)
    assert by["Long"].kept is False and by["Long"].tokens == 50
    assert all(f.kept for f in found if f.entry.comment != "Long")


def test_explain_says_which_book_an_entry_is_from() -> None:
    card = make_book(entry(["moor"], "Foggy."))
    extra = make_book(entry(["x"], "X."), entry(["hound"], "A hound."))
    found = explain_scan(card, [extra], ["the hound on the moor"], count_tokens=words).activated
    assert [(f.book, f.index, f.key) for f in found] == [(0, 0, "moor"), (1, 1, "hound")]
    only = explain_scan(None, [extra], ["hound"], count_tokens=words).activated
    assert [(f.book, f.index) for f in only] == [(0, 1)]
    assert explain_scan(None, [], ["hound"], count_tokens=words).activated == []
    assert explain_scan(Lorebook(), [], ["hound"], count_tokens=words).activated == []


def test_explain_reports_decorators_and_regex_keys_that_ran_out_of_time() -> None:
    book = make_book(
        entry(["never-said"], "@@activate\nAlways here."),
        entry(["/(a+)+$/"], "Catastrophic."),
        entry(["/b[0-9]+/i"], "A regex key."),
    )
    text = "a" * 30 + "!" + " B42"
    report = explain_scan(book, [], [text], count_tokens=words)
    assert [(f.reason, f.key) for f in report.activated] == [
        ("constant", None),
        ("key", "/b[0-9]+/i"),
    ]
    assert list(report.skipped) in ([], ["/(a+)+$/"])  # the regex engine may well be quick
