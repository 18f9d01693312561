"""A character's profile, read and cut into chunks by meaning.

The profile is free text of any length — a biography, a wiki page, the card's own fields — in
Korean or English. The pipeline asks the model for scenes one chunk at a time, so a chunk must be
a unit of meaning: a section (a wiki ``== heading ==``, a Markdown ``#`` heading, a line that is
only a short title) starts a new chunk; paragraphs are kept whole and packed together up to the
budget; only a paragraph longer than the budget is cut, and then between sentences.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from personae.characters import Character
from personae.errors import InvalidInput, NotFound
from personae.text import Language, detect_language, split_sentences

MAX_PROFILE_CHARS = 2_000_000  # ~ a long book; a profile beyond it is a mistake, not a profile
MIN_PROFILE_CHARS = 40  # below this there is nothing to live through
CHUNK_CHARS = 1800  # ~450 tokens of English, ~900 of Korean: room for the scene prompt
_HEADING = re.compile(r"^\s*(?:={1,6}\s*(?P<wiki>[^=\n]+?)\s*={1,6}|#{1,6}\s+(?P<md>.+?))\s*$")


@dataclass(frozen=True)
class Chunk:
    """One piece of the profile: ``section`` is the heading it sits under ("" before any)."""

    index: int
    section: str
    text: str


@dataclass(frozen=True)
class Profile:
    """Who the data is about: ``name`` (as the experiences write it), the profile text, its
    language, and the card when one was given (its description leads the profile)."""

    name: str
    text: str
    language: Language
    card: Character | None = None

    @property
    def short_name(self) -> str:
        """The name the character's turns are tagged with: the card's nickname, else the
        first word of a Latin name ("Ludwig van Beethoven" → "Beethoven" is a card's job;
        here "Sherlock Holmes" → "Sherlock Holmes" stays whole when there is no card)."""
        if self.card is not None and self.card.nickname:
            return self.card.nickname.strip()
        return self.name


def card_text(card: Character) -> str:
    """The parts of a card that say who the character is, as profile text."""
    parts = [card.description, card.personality, card.scenario]
    text = "\n\n".join(p.strip() for p in parts if p and p.strip())
    return text.replace("{{char}}", card.name).replace("{{user}}", "the visitor")


def read_profile_file(path: str | Path) -> str:
    """The text of a profile file (UTF-8), bounded; a clear error when it is missing, empty
    or not text."""
    path = Path(path)
    if not path.exists():
        raise NotFound(f"profile file not found: {path}")
    if not path.is_file():
        raise InvalidInput(f"the profile {path} is not a file")
    size = path.stat().st_size
    if size > MAX_PROFILE_CHARS * 4:
        raise InvalidInput(
            f"the profile {path} is {size / 1e6:.1f} MB, more than this tool reads "
            f"({MAX_PROFILE_CHARS * 4 / 1e6:.0f} MB): cut it to the parts about the character"
        )
    try:
        return path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput(
            f"the profile {path} is not UTF-8 text ({exc.reason} at byte {exc.start}); "
            "convert it first, e.g. with iconv"
        ) from None


def make_profile(name: str, text: str = "", card: Character | None = None) -> Profile:
    """A :class:`Profile` of ``name`` from ``text`` and/or ``card`` (the card's fields first).
    Too little text, or too much, is an :class:`InvalidInput` that says what to do."""
    name = " ".join((name or "").split())
    if not name:
        raise InvalidInput("the character has no name: give a card with a name")
    body = "\n\n".join(p for p in (card_text(card) if card else "", (text or "").strip()) if p)
    if len(body) > MAX_PROFILE_CHARS:
        raise InvalidInput(
            f"the profile has {len(body):,} characters, more than {MAX_PROFILE_CHARS:,}: "
            "cut it to the parts about the character"
        )
    if len(body.strip()) < MIN_PROFILE_CHARS:
        raise InvalidInput(
            f"the profile of {name} is empty or too short ({len(body.strip())} characters): "
            "give --profile a biography or wiki text, or a card with a description"
        )
    return Profile(name=name, text=body, language=detect_language(body), card=card)


def _paragraphs(text: str) -> list[tuple[str, str]]:
    """``(section, paragraph)`` pairs, headings turned into the section of what follows."""
    out: list[tuple[str, str]] = []
    section = ""
    for block in re.split(r"\n\s*\n", text.replace("\r\n", "\n").replace("\r", "\n")):
        lines = [line.strip() for line in block.split("\n") if line.strip()]
        body: list[str] = []
        for line in lines:
            heading = _HEADING.match(line)
            if heading:
                if body:
                    out.append((section, " ".join(body)))
                    body = []
                section = (heading.group("wiki") or heading.group("md") or "").strip()
            else:
                body.append(line)
        if body:
            out.append((section, " ".join(body)))
    return out


def _cut(paragraph: str, budget: int) -> list[str]:
    """A paragraph longer than ``budget`` cut between sentences (a sentence longer than the
    budget is cut where it must be)."""
    pieces: list[str] = []
    current = ""
    for sentence in split_sentences(paragraph):
        while len(sentence) > budget:
            if current:
                pieces.append(current)
                current = ""
            pieces.append(sentence[:budget])
            sentence = sentence[budget:]
        if current and len(current) + 1 + len(sentence) > budget:
            pieces.append(current)
            current = sentence
        else:
            current = f"{current} {sentence}".strip()
    if current:
        pieces.append(current)
    return pieces


def chunk_profile(text: str, budget: int = CHUNK_CHARS) -> list[Chunk]:
    """``text`` in chunks of at most ``budget`` characters, cut by meaning (see the module
    docstring). Sections never share a chunk; a chunk under a fifth of the budget joins the
    one before it when they share a section."""
    if budget < 200:
        raise ValueError("budget must be at least 200 characters")
    chunks: list[tuple[str, str]] = []
    for section, paragraph in _paragraphs(text):
        for piece in _cut(paragraph, budget) if len(paragraph) > budget else [paragraph]:
            if (
                chunks
                and chunks[-1][0] == section
                and len(chunks[-1][1]) + 2 + len(piece) <= budget
            ):
                chunks[-1] = (section, f"{chunks[-1][1]}\n\n{piece}")
            else:
                chunks.append((section, piece))
    merged: list[tuple[str, str]] = []
    for section, body in chunks:
        small = len(body) < budget // 5
        if (
            merged
            and small
            and merged[-1][0] == section
            and len(merged[-1][1]) + len(body) <= budget * 1.2
        ):
            merged[-1] = (section, f"{merged[-1][1]}\n\n{body}")
        else:
            merged.append((section, body))
    return [Chunk(i, section, body) for i, (section, body) in enumerate(merged)]


__all__ = [
    "CHUNK_CHARS",
    "MAX_PROFILE_CHARS",
    "Chunk",
    "Profile",
    "card_text",
    "chunk_profile",
    "make_profile",
    "read_profile_file",
]
