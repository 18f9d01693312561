"""A card's own lorebook together with the books attached to it, and why a scan activates what
it does.

**One budget.** Attached books are scanned with the card's book as one book
(:func:`merge_lorebooks`): the card's entries first, then each attached book's, in attachment
order. ``scan_depth``, ``token_budget`` and ``recursive_scanning`` are the card book's where it
sets them, else the first attached book's that does; so the card author's budget holds however
many books a user attaches, and recursion can cross from one book into another.

**Why.** :func:`explain_scan` reports, for each entry a text activates, whether it is constant,
which key matched (and which secondary keys), or that it came in by recursion, and whether the
token budget kept it. It asks :func:`~personae.characters.lorebook.activate_entries` itself —
one key at a time — so the explanation can never disagree with what a chat does.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from personae.characters.card import Character, Lorebook, LoreEntry
from personae.characters.lorebook import activate_entries, entry_text

Reason = Literal["constant", "key", "recursion"]
_SETTINGS = ("scan_depth", "token_budget", "recursive_scanning")


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
    key: str | None  # the primary key that matched (None for constant entries)
    secondary_keys: tuple[str, ...]  # secondary keys that matched too (selective entries)
    tokens: int  # what the entry's text costs against the budget
    kept: bool  # False: activated, but the token budget left it out


def _alone(entry: LoreEntry, depth: int | None, **change: Any) -> Lorebook:
    return Lorebook(scan_depth=depth, entries=[entry.model_copy(update=change)])


def explain_scan(
    card_book: Lorebook | None,
    attached: Sequence[Lorebook],
    messages: Sequence[str],
    *,
    count_tokens: Callable[[str], int],
) -> list[Activation]:
    """What ``messages`` (oldest first) activate in ``card_book`` plus ``attached`` and why,
    in prompt order; entries the budget drops are included with ``kept`` False."""
    merged = merge_lorebooks(card_book, attached)
    if merged is None or not merged.entries:
        return []
    books = [book for book in (card_book, *attached) if book is not None]
    origin = {
        id(entry): (b, i) for b, book in enumerate(books) for i, entry in enumerate(book.entries)
    }
    kept = {id(e) for e in activate_entries(merged, messages, count_tokens=count_tokens)}
    unlimited = merged.model_copy(update={"token_budget": None})
    active = activate_entries(unlimited, messages, count_tokens=count_tokens)
    depth = merged.scan_depth

    def fires(book: Lorebook, texts: Sequence[str]) -> bool:
        return bool(activate_entries(book, texts, count_tokens=count_tokens))

    found: list[Activation] = []
    for entry in active:
        reason: Reason = "key"
        key: str | None = None
        secondary: tuple[str, ...] = ()
        if fires(_alone(entry, depth), []):
            reason = "constant"
        else:
            plain = {"selective": False, "constant": False}
            key = next(
                (k for k in entry.keys if fires(_alone(entry, depth, keys=[k], **plain), messages)),
                None,
            )
            if key is None:
                # Not in the messages: another active entry's text brought it in.
                reason = "recursion"
                others = "\n".join(entry_text(e) for e in active if e is not entry)
                bare = {k: v for k, v in entry.extensions.items() if k != "scan_depth"}
                key = next(
                    (
                        k
                        for k in entry.keys
                        if fires(
                            _alone(
                                entry,
                                1,
                                keys=[k],
                                content=entry_text(entry),
                                extensions=bare,
                                **plain,
                            ),
                            [others],
                        )
                    ),
                    None,
                )
            elif entry.selective and entry.secondary_keys:
                secondary = tuple(
                    k
                    for k in entry.secondary_keys
                    if fires(_alone(entry, depth, keys=[k], **plain), messages)
                )
        book, index = origin.get(id(entry), (0, 0))
        found.append(
            Activation(
                entry=entry,
                book=book,
                index=index,
                reason=reason,
                key=key,
                secondary_keys=secondary,
                tokens=max(0, int(count_tokens(entry_text(entry)))),
                kept=id(entry) in kept,
            )
        )
    return found
