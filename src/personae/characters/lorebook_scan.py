"""A card's own lorebook together with the books attached to it, and why a scan activates what
it does.

**One budget.** Attached books are scanned with the card's book as one book
(:func:`merge_lorebooks`): the card's entries first, then each attached book's, in attachment
order. ``scan_depth``, ``token_budget`` and ``recursive_scanning`` are the card book's where it
sets them, else the first attached book's that does; so the card author's budget holds however
many books a user attaches, and recursion can cross from one book into another.

**Why.** :func:`explain_scan` reports, for each entry a text activates, whether it is constant,
which key matched (and which secondary keys), or that it came in by recursion, and whether the
token budget kept it. It runs the very scan a chat runs
(:func:`~personae.characters.lorebook.scan_lorebook`), so the explanation cannot disagree with
what a chat does.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from personae.characters.card import Character
from personae.characters.lorebook import activate_entries, entry_text, scan_lorebook
from personae.characters.lorebook_model import Lorebook, LoreEntry

Reason = Literal["constant", "key", "recursion"]
_SETTINGS = ("scan_depth", "token_budget", "recursive_scanning")
_ALWAYS = ("constant", "@@activate")  # scan_lorebook's reasons for entries that need no key


def merge_lorebooks(card_book: Lorebook | None, attached: Sequence[Lorebook]) -> Lorebook | None:
    """One book holding ``card_book``'s entries and then each attached book's (see the module
    notes for whose settings apply). The entries are the books' own objects, not copies."""
    if not attached:
        return card_book
    books = [book for book in (card_book, *attached) if book is not None]
    settings: dict[str, Any] = {
        name: next((getattr(b, name) for b in books if getattr(b, name) is not None), None)
        for name in _SETTINGS
    }
    base = card_book if card_book is not None else Lorebook(name=attached[0].name)
    entries = [entry for book in books for entry in book.entries]
    return base.model_copy(update={**settings, "entries": entries})


def with_lorebooks(character: Character, attached: Sequence[Lorebook]) -> Character:
    """``character`` with ``attached`` books merged into its ``character_book`` (a copy; the
    character itself is unchanged), as a chat with those books attached plays it."""
    if not attached:
        return character
    merged = merge_lorebooks(character.character_book, attached)
    return character.model_copy(update={"character_book": merged})


@dataclass(frozen=True)
class Activation:
    """One entry a scan activated, and why."""

    entry: LoreEntry
    book: int  # which book: its index in [card book (when given), *attached]
    index: int  # the entry's index in that book
    reason: Reason
    key: str | None  # the primary key that matched, as written (None for constant entries)
    secondary_keys: tuple[str, ...]  # secondary keys that matched too (selective entries)
    tokens: int  # what the entry's text costs against the budget
    kept: bool  # False: activated, but the token budget left it out


@dataclass(frozen=True)
class ScanReport:
    """What :func:`explain_scan` found: the activated entries in prompt order, and the regex
    keys that counted as no match because they ran out of time (key -> why)."""

    activated: list[Activation] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)


def _secondary(
    entry: LoreEntry, depth: int | None, messages: Sequence[str], count: Callable[[str], int]
) -> tuple[str, ...]:
    """The secondary keys of ``entry`` found in ``messages``, each tested alone as a primary."""
    found = []
    for key in entry.secondary_keys:
        alone = entry.model_copy(update={"keys": [key], "selective": False, "constant": False})
        book = Lorebook(scan_depth=depth, entries=[alone])
        if activate_entries(book, messages, count_tokens=count):
            found.append(key)
    return tuple(found)


def explain_scan(
    card_book: Lorebook | None,
    attached: Sequence[Lorebook],
    messages: Sequence[str],
    *,
    count_tokens: Callable[[str], int],
) -> ScanReport:
    """What ``messages`` (oldest first) activate in ``card_book`` plus ``attached`` and why,
    in prompt order; entries the budget drops are included with ``kept`` False."""
    merged = merge_lorebooks(card_book, attached)
    if merged is None or not merged.entries:
        return ScanReport()
    books = [book for book in (card_book, *attached) if book is not None]
    origin = [(b, i) for b, book in enumerate(books) for i in range(len(book.entries))]
    scan = scan_lorebook(merged, messages, count_tokens=count_tokens)
    direct = scan.reasons
    if merged.recursive_scanning:
        # What the messages activate by themselves; the rest came in by recursion.
        plain = merged.model_copy(update={"recursive_scanning": False, "token_budget": None})
        direct = scan_lorebook(plain, messages, count_tokens=count_tokens).reasons
    kept = {id(entry) for entry in scan.entries}
    entries = merged.entries
    found: list[Activation] = []
    for index in sorted(scan.reasons, key=lambda i: (entries[i].insertion_order, i)):
        entry, why = entries[index], scan.reasons[index]
        reason: Reason = "constant"
        key: str | None = None
        secondary: tuple[str, ...] = ()
        if why not in _ALWAYS:
            reason, key = ("key" if index in direct else "recursion"), why
            if reason == "key" and entry.selective and entry.secondary_keys:
                secondary = _secondary(entry, merged.scan_depth, messages, count_tokens)
        book, at = origin[index]
        found.append(
            Activation(
                entry=entry,
                book=book,
                index=at,
                reason=reason,
                key=key,
                secondary_keys=secondary,
                tokens=max(0, int(count_tokens(entry_text(entry)))),
                kept=id(entry) in kept,
            )
        )
    return ScanReport(found, dict(scan.skipped))
