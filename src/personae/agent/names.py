"""What the character calls the user.

The name comes, in this order, from what the user set (``--user``, ``user_name`` in the config,
``PERSONAE_USER``, the server's ``user`` or a message's ``name``), from the user's profile ("my
name is Ana" stored as a fact), else a neutral word that never reads as a name in a reply:
"you" in English, "당신" in Korean (by the card's language). "User", the old default that every
stored chat without a name still holds, counts as not set: a character that says "Holmes looks
at User" has been handed a placeholder, not a name.

Where the name labels a speaker (``{{user}}:`` lines in example dialogue, transcripts for
summaries) a neutral word would read badly ("you: Hello"), so a neutral name labels the speaker
with :data:`SPEAKER_LABELS` instead; stop strings and the reply filter still know "User:".
"""

from __future__ import annotations

PLACEHOLDER_USER_NAME = "User"
NEUTRAL_USER_NAMES = {"en": "you", "ko": "당신"}
SPEAKER_LABELS = {"en": "User", "ko": "사용자"}
_PLACEHOLDERS = frozenset({"user", "{{user}}", "<user>", "사용자"})


def is_placeholder(name: str | None) -> bool:
    """True for no name at all or a stand-in ("User", "{{user}}", "사용자") that is not one."""
    return name is None or not name.strip() or name.strip().casefold() in _PLACEHOLDERS


def is_neutral(name: str) -> bool:
    """True when ``name`` is one of the neutral words :func:`resolve_user_name` falls back to."""
    return name in NEUTRAL_USER_NAMES.values()


def resolve_user_name(given: str | None, *, language: str, profile_name: str | None = None) -> str:
    """The name to put for ``{{user}}``: ``given`` unless it is a placeholder, else the
    ``profile_name`` the user told memory, else the neutral word of ``language``."""
    if not is_placeholder(given):
        assert given is not None  # is_placeholder(None) is True
        return given.strip()
    if not is_placeholder(profile_name):
        assert profile_name is not None
        return profile_name.strip()
    return NEUTRAL_USER_NAMES.get(language, NEUTRAL_USER_NAMES["en"])


def speaker_label(name: str, *, language: str) -> str:
    """How a line of the user's is labelled in a transcript: the name, unless it is neutral."""
    if is_neutral(name) or is_placeholder(name):
        return SPEAKER_LABELS.get(language, SPEAKER_LABELS["en"])
    return name
