"""What the character calls the user.

The name comes, in this order, from what the user set (``--user``, ``user_name`` in the config,
``PERSONAE_USER``, the server's ``user`` or a message's ``name``), from the user's profile ("my
name is Ana" stored as a fact), else a neutral word that never reads as a name in a reply:
"you" in English, "당신" in Korean (by the card's language). "User", the old default that every
stored chat without a name still holds, counts as not set: a character that says "Holmes looks
at User" has been handed a placeholder, not a name.

"you" is right only where the character speaks or narrates to the user: the greeting and the
lines of example dialogue ("Holmes looks at you with interest"), where a vocative is dropped
("Your tan, {{user}}." → "Your tan."). In the instructions and the card's description and
scenario the model is itself "you" ("You are Holmes … never write {{user}}'s lines", "{{user}}
has climbed the stairs"), so there a neutral name reads as :data:`THIRD_PERSON` ("the user",
"상대방"): :func:`in_prompt_text`. Where the name labels a speaker (``{{user}}:`` lines in
example dialogue, transcripts for summaries) a neutral name labels the speaker with
:data:`SPEAKER_LABELS`; stop strings and the reply filter still know "User:".
"""

from __future__ import annotations

import re

from personae.characters.macros import expand_macros

PLACEHOLDER_USER_NAME = "User"
NEUTRAL_USER_NAMES = {"en": "you", "ko": "당신"}
SPEAKER_LABELS = {"en": "User", "ko": "사용자"}
THIRD_PERSON = {"en": "the user", "ko": "상대방"}
_MACRO = r"(?:\{\{user\}\}|<user>)"
_SENTENCE_START = re.compile(rf"(^|[.!?:]\s+|\n\s*|\*){_MACRO}", re.I)
# A ``{{user}}:`` / ``<USER>:`` speaker tag opening a line of example dialogue.
_USER_SPEAKER = re.compile(r"^([ \t]*)(?:\{\{user\}\}|<user>)(?=[ \t]*[:：])", re.I | re.M)
_VOCATIVE_AFTER = re.compile(rf",\s*{_MACRO}(?:\s?(?:님|씨))?(?=\s*[.!?…,;~\"*]|\s*$)", re.I | re.M)
_VOCATIVE_BEFORE = re.compile(
    rf"(^|\"|:\s|[.!?*]\s*)\s*{_MACRO}(?:\s?(?:님|씨))?\s*,\s*(\w?)", re.I | re.M
)
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


def in_prompt_text(name: str, *, language: str) -> str:
    """What ``{{user}}`` stands for in the instructions and the card's description, scenario and
    lore: the name, or :data:`THIRD_PERSON` for a neutral one (see the module notes)."""
    return THIRD_PERSON.get(language, THIRD_PERSON["en"]) if is_neutral(name) else name


def third_person_text(text: str, *, language: str) -> str:
    """``text`` with ``{{user}}`` opening a sentence written "The user" (English), so that the
    macro expanded with :func:`in_prompt_text` starts the sentence with a capital."""
    if language == "ko":
        return text
    return _SENTENCE_START.sub(lambda m: m.group(1) + "The user", text)


def without_vocatives(text: str) -> str:
    """``text`` with ``{{user}}`` used as a vocative left out ("Your tan, {{user}}." → "Your
    tan.", "{{user}}, sit down." → "Sit down."): a neutral name has no vocative form."""
    text = _VOCATIVE_AFTER.sub("", text)
    return _VOCATIVE_BEFORE.sub(lambda m: m.group(1) + m.group(2).upper(), text)


def speaker_label(name: str, *, language: str) -> str:
    """How a line of the user's is labelled in a transcript: the name, unless it is neutral."""
    if is_neutral(name) or is_placeholder(name):
        return SPEAKER_LABELS.get(language, SPEAKER_LABELS["en"])
    return name


def as_spoken(text: str, *, char: str, user: str, language: str) -> str:
    """``text`` the character says or narrates to the user (a greeting, example dialogue, a line
    of its own) with the macros expanded: with a neutral ``user``, ``{{user}}:`` speaker tags
    get :data:`SPEAKER_LABELS` ("you: Hello" would not read as the user's line) and vocatives
    are left out. The label is plain text, so expanding it after is safe."""
    label = speaker_label(user, language=language)
    if label != user:
        text = without_vocatives(_USER_SPEAKER.sub(lambda m: m.group(1) + label, text))
    return expand_macros(text, char=char, user=user)
