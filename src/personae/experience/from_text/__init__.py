"""A character from a novel or a script (issue 17): the lines it speaks, attributed from the
narration (:func:`extract_lines`), and a card drafted from them (:func:`draft_card`).

    book = read_book("adventures.txt")
    found = extract_lines(book, "Holmes", ["Sherlock Holmes", "my companion"], narrator="Watson")
    lines = character_lines(found, "adventures.txt")   # InvalidInput names who does speak
    card = draft_card(found, book, title="Adventures", backend=backend).character
"""

from personae.experience.from_text.attribution import Answer, ExtractedLine
from personae.experience.from_text.draft import DraftedCard, draft_card, parse_json_object
from personae.experience.from_text.entities import Entity, recurring_entities
from personae.experience.from_text.extract import (
    MAX_BYTES,
    MAX_UTTERANCE,
    Extraction,
    character_lines,
    extract_lines,
    looks_like_script,
    read_book,
)

__all__ = [
    "MAX_BYTES",
    "MAX_UTTERANCE",
    "Answer",
    "DraftedCard",
    "Entity",
    "ExtractedLine",
    "Extraction",
    "character_lines",
    "draft_card",
    "extract_lines",
    "looks_like_script",
    "parse_json_object",
    "read_book",
    "recurring_entities",
]
