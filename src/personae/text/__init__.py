"""Ground-floor text helpers every layer may use (nothing here imports the rest of personae)."""

from personae.text.language import (
    KOREAN_SHARE,
    Language,
    detect_language,
    hangul_share,
    has_hangul,
    is_hangul,
)

__all__ = ["KOREAN_SHARE", "Language", "detect_language", "hangul_share", "has_hangul", "is_hangul"]
