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

__all__ = [
    "ACTION",
    "KOREAN_SHARE",
    "Language",
    "detect_language",
    "hangul_share",
    "has_hangul",
    "is_hangul",
    "letter_count",
    "without_actions",
]
