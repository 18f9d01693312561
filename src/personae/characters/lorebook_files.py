"""Reading a lorebook from a file: a World Info JSON file, a card's ``character_book`` saved on
its own, or a character card (PNG, JSON, CHARX) whose embedded book is taken. The format is
sniffed from the bytes; every problem is a one-line
:class:`~personae.characters.worldinfo.WorldInfoError` (or the card reader's ``CardError``)."""

from __future__ import annotations

import os
from pathlib import Path

from personae.characters.card import Character
from personae.characters.formats import read_capped_file, read_card_bytes
from personae.characters.formats.charx import is_zip
from personae.characters.formats.json_card import decode_card_json
from personae.characters.formats.png import is_png
from personae.characters.lorebook_model import Lorebook
from personae.characters.worldinfo import WorldInfoError, world_info_to_lorebook

MAX_WORLD_INFO_BYTES = 10 * 1024 * 1024


def read_lorebook_bytes(data: bytes, *, filename: str = "") -> Lorebook:
    """A lorebook from a file's bytes: a World Info JSON file, a card's ``character_book`` saved
    on its own, or a character card (PNG, JSON or CHARX) whose embedded book is taken.
    ``filename`` names the book when the file does not, and improves the error messages."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise WorldInfoError(f"lorebook data must be bytes, got {type(data).__name__}")
    data = bytes(data)
    label = filename or "the lorebook"
    stem = Path(filename).stem if filename else None
    if not data.strip():
        raise WorldInfoError(f"{label} is empty; choose a World Info JSON file")
    if is_png(data) or is_zip(data):
        return _card_lorebook(read_card_bytes(data, filename=filename).character)
    if len(data) > MAX_WORLD_INFO_BYTES:
        raise WorldInfoError(
            f"{label} is {len(data) / 1024 / 1024:.1f} MiB; World Info files over "
            f"{MAX_WORLD_INFO_BYTES // 1024 // 1024} MiB are refused (split the book)"
        )
    obj = decode_card_json(data, source=label)
    if isinstance(obj, dict) and ("spec" in obj or "data" in obj or "first_mes" in obj):
        return _card_lorebook(Character.from_card_dict(obj))
    if isinstance(obj, list) or (isinstance(obj, dict) and "entries" in obj):
        return world_info_to_lorebook(obj, name=stem)
    raise WorldInfoError(
        f"{label} is neither a World Info file nor a character card: a World Info file is a "
        "JSON object with 'entries'"
    )


def _card_lorebook(character: Character) -> Lorebook:
    book = character.character_book
    if book is None or not book.entries:
        raise WorldInfoError(
            f"the card of {character.name!r} has no lorebook entries to import; "
            "import the card itself with `personae card import`"
        )
    return book.model_copy(update={"name": book.name or f"{character.name}'s lorebook"})


def read_lorebook(path: str | os.PathLike[str]) -> Lorebook:
    """A lorebook from a file (see :func:`read_lorebook_bytes`)."""
    data, name = read_capped_file(path, "lorebook", WorldInfoError)
    return read_lorebook_bytes(data, filename=name)
