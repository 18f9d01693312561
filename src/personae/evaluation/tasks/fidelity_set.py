"""The fidelity suite's fixed conversation set: scripted user turns, one JSON file a conversation.

The set (``evaluation/data/fidelity/*.json``, written for this project) is what every change to
prompts, sampling, training and test-time strategies is judged on (issue 14): each bundled
character and two role-template characters (one Korean, one English) get at least
:data:`MIN_TURNS` user turns that give the user's name early, ask "are you an AI", ask about
modern technology, answer "ok", pour out a long emotional message, ask what the user said
earlier, and (in some conversations) switch language.

A conversation file::

    {"id": "sherlock-en", "character": "sherlock",          # a bundled id, or instead
     "role": "retired lighthouse keeper, INFP",             # a role template
     "role_language": "ko",                                  # optional, as `card new --language`
     "language": "en", "user_name": "User", "note": "...",
     "turns": [{"user": "...", "language": "en", "probe": "ai" | null,
                "terms": [...],     # modern_tech: words that show the modern thing known
                "answers": [...]}]} # recall: what a reply that remembers contains

The loader checks the structure (a bad file is one :class:`InvalidInput` line naming the file
and the field); :func:`coverage_problems` checks the coverage rules, which the bundled set meets
and a user's own, smaller set need not.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from personae.characters import Character, bundled_characters, character_from_role
from personae.errors import InvalidInput

LANGUAGES = ("en", "ko")
# Probe tags a user turn may carry: what a scorer looks at that reply for.
PROBES = ("name", "ai", "modern_tech", "short", "long_emotional", "recall", "switch")
# Every conversation of the bundled set has each of these; "switch" only some of them.
REQUIRED_PROBES = ("name", "ai", "modern_tech", "short", "long_emotional", "recall")
MIN_TURNS = 12
# Bundled characters of another era: their modern-technology turns list anachronism terms.
PERIOD_CHARACTERS = ("sherlock", "elizabeth", "hong-gildong", "chunhyang")
_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
_MAX_FILE_BYTES = 1_000_000


@dataclass(frozen=True)
class ScriptedTurn:
    """One user message of the script, with its language and what it probes (if anything)."""

    user: str
    language: str
    probe: str | None = None
    terms: tuple[str, ...] | None = None
    answers: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Conversation:
    """A scripted conversation with one character: a bundled one or a role template."""

    id: str
    language: str
    user_name: str
    turns: tuple[ScriptedTurn, ...]
    character: str | None = None
    role: str | None = None
    role_language: str | None = None
    note: str = ""

    @property
    def plays(self) -> str:
        """What the conversation plays, for listings: the character id or the role."""
        return self.character or f"role: {self.role}"

    def role_character(self) -> Character | None:
        """The role-template card, built as `personae card new --role` builds it; None for a
        bundled character."""
        if self.role is None:
            return None
        return character_from_role(self.role, language=self.role_language)  # type: ignore[arg-type]


def bundled_set_dir() -> Path:
    """The folder of the bundled conversation set."""
    return Path(str(resources.files("personae.evaluation") / "data" / "fidelity"))


def load_set(path: str | Path | None = None) -> list[Conversation]:
    """The conversations of a set folder (every ``*.json`` in it, by file name) or of one file;
    the bundled set when ``path`` is None."""
    where = Path(path) if path is not None else bundled_set_dir()
    if where.is_dir():
        files = sorted(where.glob("*.json"))
        if not files:
            raise InvalidInput(f"{where}: no conversation files (*.json) in this folder")
    elif where.is_file():
        files = [where]
    else:
        raise InvalidInput(f"{where}: no such conversation file or folder")
    conversations = [load_conversation(f) for f in files]
    seen: set[str] = set()
    for c in conversations:
        if c.id in seen:
            raise InvalidInput(f"{where}: two conversations have the id {c.id!r}; rename one")
        seen.add(c.id)
    return conversations


def load_conversation(path: str | Path) -> Conversation:
    """One conversation file; a file that is not one is an :class:`InvalidInput` naming it."""
    path = Path(path)
    try:
        if path.stat().st_size > _MAX_FILE_BYTES:
            raise InvalidInput(f"{path}: a conversation file is at most {_MAX_FILE_BYTES} bytes")
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"{path}: cannot read the conversation file ({exc})") from exc
    except ValueError as exc:
        raise InvalidInput(f"{path}: not JSON ({exc}); fix the file") from exc
    try:
        return parse_conversation(raw)
    except InvalidInput as exc:
        raise InvalidInput(f"{path}: {exc}") from exc


def parse_conversation(raw: Any) -> Conversation:
    """Check and convert one conversation's JSON object (see the module notes)."""
    if not isinstance(raw, dict):
        raise InvalidInput("a conversation is a JSON object")
    conv_id = _text(raw, "id")
    if not _ID.match(conv_id):
        raise InvalidInput(f"id {conv_id!r}: use lower-case letters, digits and '-'")
    language = _language(raw.get("language"), "language")
    character, role = raw.get("character"), raw.get("role")
    if (character is None) == (role is None):
        raise InvalidInput('give exactly one of "character" (a bundled id) and "role"')
    if character is not None:
        known = bundled_characters()
        if character not in known:
            raise InvalidInput(
                f"character {character!r} is not a bundled character; use one of "
                f'{", ".join(known)}, or give a "role" instead'
            )
    role_language = raw.get("role_language")
    if role_language is not None:
        role_language = _language(role_language, "role_language")
    turns = raw.get("turns")
    if not isinstance(turns, list) or not turns:
        raise InvalidInput('"turns" must be a non-empty list of user turns')
    return Conversation(
        id=conv_id,
        language=language,
        user_name=_text(raw, "user_name"),
        turns=tuple(_turn(t, i) for i, t in enumerate(turns, start=1)),
        character=None if character is None else _text(raw, "character"),
        role=None if role is None else _text(raw, "role"),
        role_language=role_language,
        note=str(raw.get("note") or ""),
    )


def _turn(raw: Any, number: int) -> ScriptedTurn:
    where = f"turn {number}"
    if not isinstance(raw, dict):
        raise InvalidInput(f"{where}: a turn is a JSON object with user, language and probe")
    try:
        user = _text(raw, "user")
        language = _language(raw.get("language"), "language")
    except InvalidInput as exc:
        raise InvalidInput(f"{where}: {exc}") from exc
    probe = raw.get("probe")
    if probe is not None and probe not in PROBES:
        raise InvalidInput(f"{where}: probe {probe!r} is not one of {', '.join(PROBES)} (or null)")
    return ScriptedTurn(
        user=user,
        language=language,
        probe=probe,
        terms=_words(raw.get("terms"), f"{where}: terms"),
        answers=_words(raw.get("answers"), f"{where}: answers"),
    )


def _text(raw: dict[str, Any], key: str) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f'"{key}" must be a non-empty string')
    return value


def _language(value: Any, key: str) -> str:
    if value not in LANGUAGES:
        raise InvalidInput(f'"{key}" must be one of {", ".join(LANGUAGES)}, not {value!r}')
    return str(value)


def _words(value: Any, where: str) -> tuple[str, ...] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(w, str) and w.strip() for w in value):
        raise InvalidInput(f"{where} must be a list of non-empty strings")
    return tuple(value)


def coverage_problems(conversation: Conversation) -> list[str]:
    """What the conversation lacks of the set's coverage rules (empty: none)."""
    problems = []
    if len(conversation.turns) < MIN_TURNS:
        problems.append(f"{len(conversation.turns)} turns, fewer than {MIN_TURNS}")
    present = {t.probe for t in conversation.turns}
    problems += [f"no {p!r} turn" for p in REQUIRED_PROBES if p not in present]
    for number, turn in enumerate(conversation.turns, start=1):
        if turn.probe == "switch" and turn.language == conversation.language:
            problems.append(f"turn {number} is a switch in the conversation's own language")
        if turn.probe == "recall" and not turn.answers:
            problems.append(f"turn {number} is a recall question without answers")
        if (
            turn.probe == "modern_tech"
            and conversation.character in PERIOD_CHARACTERS
            and not turn.terms
        ):
            problems.append(f"turn {number}: a period character's modern_tech turn has no terms")
    return problems


def select(conversations: Sequence[Conversation], character: str | None) -> list[Conversation]:
    """The conversations that play ``character`` (a character id, a conversation id, or the
    start of one); all of them when ``character`` is None."""
    if character is None:
        return list(conversations)
    wanted = character.strip().lower()
    chosen = [
        c for c in conversations if wanted in (c.id, c.character) or c.id.startswith(wanted + "-")
    ]
    if not chosen:
        raise InvalidInput(
            f"no conversation in the set plays {character!r}; choose one of: "
            + ", ".join(_names(conversations))
        )
    return chosen


def _names(conversations: Iterable[Conversation]) -> list[str]:
    return sorted({c.character or c.id for c in conversations})
