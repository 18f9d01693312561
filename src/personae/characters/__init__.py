"""Characters: cards (V1/V2/V3 in JSON, PNG, CHARX), macros, lorebooks, role templates and the
bundled starter characters."""

from __future__ import annotations

from personae.characters.bundled import bundled_characters
from personae.characters.card import CardAsset, Character, Speaker, SpecName, SpecVersion
from personae.characters.formats import (
    CardFormat,
    LoadedCard,
    card_bytes,
    placeholder_png,
    read_card,
    read_card_bytes,
    write_card,
)
from personae.characters.lorebook import (
    DEFAULT_SCAN_DEPTH,
    activate_entries,
    entry_decorators,
    entry_text,
    validate_lorebook,
)
from personae.characters.lorebook_model import Lorebook, LoreEntry, Position
from personae.characters.macros import expand_macros
from personae.characters.role_template import character_from_role

__all__ = [
    "DEFAULT_SCAN_DEPTH",
    "CardAsset",
    "CardFormat",
    "Character",
    "LoadedCard",
    "LoreEntry",
    "Lorebook",
    "Position",
    "Speaker",
    "SpecName",
    "SpecVersion",
    "activate_entries",
    "bundled_characters",
    "card_bytes",
    "character_from_role",
    "entry_decorators",
    "entry_text",
    "expand_macros",
    "placeholder_png",
    "read_card",
    "read_card_bytes",
    "validate_lorebook",
    "write_card",
]
