"""Per-turn notes: what the character is told just before the user's newest message.

A note gathers what changes from turn to turn — lorebook entries the chat triggered, what memory
recalled (the user's profile, their earlier words, the character's own lines) and, when the user
writes in another language than the card, which language to answer in. It is built from
:class:`NoteSection` s so that items can be compared one by one.

Notes *stay where they were given* (issue 14): the chat stores each turn's note with the user's
message, and later prompts show it again at the same place, so the prompt up to the newest
message is byte-identical to the one before and the backend's prompt cache covers it. A new
note then only carries what is not already in the prompt (:func:`fresh_sections`): an ordinary
turn adds a few dozen tokens, not the few hundred a repeated profile and repeated lore cost.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class NoteSection:
    """A heading and its items, joined by ``joiner``. ``repeat``: given every turn, even when
    an earlier note in the prompt already holds it (a reminder that only works when it is
    close to the reply, like the language to answer in)."""

    heading: str
    items: tuple[str, ...]
    joiner: str = "\n"
    repeat: bool = False

    def render(self) -> str:
        body = self.joiner.join(i.strip() for i in self.items if i.strip())
        if not body:
            return ""
        return f"{self.heading}\n{body}" if self.heading else body


def render_note(sections: Iterable[NoteSection]) -> str:
    """The note's text: each section that has items, separated by a blank line."""
    return "\n\n".join(text for s in sections if (text := s.render()))


def _core(item: str) -> str:
    """An item without its list dash and quotation marks: a recalled ``- "I keep bees."`` is
    already shown when the message that said "I keep bees." is in the prompt."""
    return item.strip().removeprefix("- ").strip().strip("\"“”'").strip()


# A core shorter than this is no sentence (a bare "x" is in any text).
MIN_SAID = 12


def _said(core: str, given: str) -> bool:
    return len(core) >= MIN_SAID and core in given


def fresh_sections(sections: Sequence[NoteSection], given: str) -> list[NoteSection]:
    """``sections`` less the items already in ``given`` (the prompt's text so far: the system
    message, the messages and the notes it already shows); a section left with no items is
    dropped."""
    fresh: list[NoteSection] = []
    for section in sections:
        if section.repeat:
            items = tuple(i for i in section.items if i.strip())
        else:
            items = tuple(
                i
                for i in section.items
                if i.strip() and i.strip() not in given and not _said(_core(i), given)
            )
        if items:
            fresh.append(NoteSection(section.heading, items, section.joiner, section.repeat))
    return fresh


def text_section(text: str) -> NoteSection | None:
    """A plain note text as one section (its blank-line-separated paragraphs are the items)."""
    parts = tuple(p.strip() for p in text.strip().split("\n\n") if p.strip())
    return NoteSection("", parts, "\n\n") if parts else None


__all__ = ["NoteSection", "fresh_sections", "render_note", "text_section"]


@dataclass(frozen=True)
class PromptMemory:
    """What memory adds to one prompt: ``summary`` of the turns before the history (placed
    after the system message) and this turn's recalled notes (placed with the lore):
    ``sections`` item by item, or ``recall`` as plain text."""

    summary: str = ""
    recall: str = ""
    sections: tuple[NoteSection, ...] = ()

    def note_sections(self) -> list[NoteSection]:
        if self.sections:
            return list(self.sections)
        plain = text_section(self.recall)
        return [plain] if plain else []
