"""Ground-floor text helpers every layer may use (nothing here imports the rest of personae)."""

from personae.text.language import (
    KOREAN_SHARE,
    Language,
    detect_language,
    hangul_share,
    has_hangul,
    is_hangul,
    letter_count,
)
from personae.text.markup import ACTION, without_actions
from personae.text.sentences import complete_length, split_sentences

__all__ = [
    "ACTION",
    "complete_length",
    "KOREAN_SHARE",
    "Language",
    "detect_language",
    "hangul_share",
    "has_hangul",
    "is_hangul",
    "letter_count",
    "split_sentences",
    "without_actions",
]
