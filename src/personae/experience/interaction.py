"""An experience: a scene lived through, as Character-LLM writes it — a background paragraph,
then turns, each a speaker tag with an action on its own line and the words below it::

    Background:
    A winter evening at Baker Street …

    Sherlock Holmes (thinking)
    The mud on his boots is from …

    Lestrade (speaking)
    Holmes, a word.

The character may think or speak; everyone else speaks. The tag may also carry the words on
its own line ("Holmes (speaking): …"), use Korean actions ("홍길동 (말)", "(생각)") or bold
Markdown; all are read into one shape. Text with no action tags at all is read with the
project's one ``Name: text`` parser (:func:`personae.text.dialogue.split_turns`), every turn
spoken. This format is not that parser's: the action is part of the tag, and tags stand on
their own lines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

from personae.text.dialogue import fold_name, split_turns

Action = Literal["speaking", "thinking"]

_ACTIONS: dict[str, Action] = {
    "speaking": "speaking",
    "speak": "speaking",
    "speaks": "speaking",
    "says": "speaking",
    "saying": "speaking",
    "말": "speaking",
    "말하기": "speaking",
    "대사": "speaking",
    "thinking": "thinking",
    "thinks": "thinking",
    "think": "thinking",
    "thought": "thinking",
    "생각": "thinking",
    "속마음": "thinking",
}
_TAG = re.compile(
    r"^[ \t]*[*_#>-]*[ \t]*(?P<name>[^\n()（）:：*]{1,40}?)[ \t]*[(（][ \t]*"
    r"(?P<action>" + "|".join(sorted(_ACTIONS, key=len, reverse=True)) + r")[ \t]*[)）]"
    r"[ \t]*[*_]*[ \t]*[:：]?[ \t]*[*_]*[ \t]*(?P<rest>.*)$",
    re.I,
)
_BACKGROUND = re.compile(
    r"^[ \t]*[*_#]*[ \t]*(?:background|배경|setting)[ \t]*[*_]*[ \t]*[:：][ \t]*(.*)$", re.I
)
_LEADING_ACTION = re.compile(
    r"^[(（][ \t]*(" + "|".join(sorted(_ACTIONS, key=len, reverse=True)) + r")[ \t]*[)）][ \t:：]*",
    re.I,
)
MAX_TURN_CHARS = 2000
_BACKGROUND_NAMES = frozenset({"background", "배경", "setting"})


@dataclass(frozen=True)
class Turn:
    speaker: str
    action: Action
    text: str
    character: bool = False  # spoken or thought by the character the data is about

    def as_dict(self) -> dict[str, Any]:
        return {
            "speaker": self.speaker,
            "action": self.action,
            "text": self.text,
            "character": self.character,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Turn:
        action: Action = "thinking" if data.get("action") == "thinking" else "speaking"
        return cls(str(data["speaker"]), action, str(data["text"]), bool(data.get("character")))


@dataclass(frozen=True)
class Interaction:
    """A parsed experience. ``dropped_turns`` counts turns the format does not allow (another
    person's thoughts, empty turns), left out."""

    background: str
    turns: tuple[Turn, ...]
    dropped_turns: int = 0
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def character_turns(self) -> tuple[Turn, ...]:
        return tuple(t for t in self.turns if t.character)

    @property
    def other_turns(self) -> tuple[Turn, ...]:
        return tuple(t for t in self.turns if not t.character)


def is_character(speaker: str, names: tuple[str, ...]) -> bool:
    """Whether a speaker tag names the character: its full name or alias, a word of a Latin
    full name ("Holmes" for "Sherlock Holmes"), or a Korean name with or without spaces."""
    folded = fold_name(speaker)
    squashed = folded.replace(" ", "")
    for name in names:
        target = fold_name(name)
        if not target:
            continue
        if folded == target or squashed == target.replace(" ", ""):
            return True
        words = [w for w in target.split() if len(w) >= 3]
        if len(words) > 1 and folded in words:
            return True
    return False


def _finish(
    background: list[str], raw_turns: list[tuple[str, str, list[str]]], names: tuple[str, ...]
) -> Interaction:
    turns: list[Turn] = []
    dropped = 0
    for speaker, action_word, lines in raw_turns:
        text = "\n".join(line.strip() for line in lines if line.strip())
        text = text.strip().strip('"“”').strip()
        if not text:
            dropped += 1
            continue
        own = is_character(speaker, names)
        lead = _LEADING_ACTION.match(text)
        if lead:  # "Holmes: (thinking) …": the action written after the name's colon
            action_word, text = lead.group(1), text[lead.end() :].strip().strip('"“”').strip()
            if not text:
                dropped += 1
                continue
        action = _ACTIONS.get(action_word.lower(), "speaking")
        if action == "thinking" and not own:
            dropped += 1  # only the character's thoughts are data; others only speak
            continue
        turns.append(Turn(names[0] if own else speaker.strip(), action, text[:MAX_TURN_CHARS], own))
    scene = " ".join(" ".join(background).split()).strip("*_# ").strip()
    return Interaction(scene, tuple(turns), dropped)


def parse_interaction(text: str, names: tuple[str, ...]) -> Interaction:
    """The background and turns of a model's experience text; ``names`` are the character's
    name (first: the name turns are stored under) and aliases. Never raises: text with no
    turns gives an :class:`Interaction` without turns."""
    if not isinstance(text, str):
        return Interaction("", ())
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    background: list[str] = []
    raw_turns: list[tuple[str, str, list[str]]] = []
    in_background = False
    for line in lines:
        tag = _TAG.match(line)
        if tag:
            in_background = False
            raw_turns.append((tag.group("name").strip(), tag.group("action"), [tag.group("rest")]))
            continue
        head = _BACKGROUND.match(line)
        if head and not raw_turns:
            in_background = True
            background.append(head.group(1))
        elif raw_turns:
            raw_turns[-1][2].append(line)
        elif in_background:
            # The background paragraph runs to the first blank line after some text; chatter
            # before the header ("Sure! Here is the scene:") is not part of it.
            if line.strip():
                background.append(line)
            elif any(b.strip() for b in background):
                in_background = False
    if raw_turns:
        return _finish(background, raw_turns, names)
    # No action tags: a plain "Name: text" script, every turn spoken.
    plain = [t for t in split_turns(text, names) if t is not None]
    scene = [t for s, t in plain if fold_name(s) in _BACKGROUND_NAMES]
    said = [(s, "speaking", [t]) for s, t in plain if fold_name(s) not in _BACKGROUND_NAMES]
    return _finish(scene, said, names)


def without_last_turn(interaction: Interaction) -> Interaction:
    """``interaction`` less its last turn: what is left of a text cut off by the token limit
    (its last turn is unfinished)."""
    turns = interaction.turns[:-1]
    return Interaction(interaction.background, turns, interaction.dropped_turns + 1)


def render_interaction(interaction: Interaction, language: str = "en") -> str:
    """The experience in Character-LLM's text shape (English action words, as the format
    defines them; the words themselves stay in their language)."""
    head = "배경" if language == "ko" else "Background"
    parts = [f"{head}:\n{interaction.background}"] if interaction.background else []
    parts += [f"{t.speaker} ({t.action})\n{t.text}" for t in interaction.turns]
    return "\n\n".join(parts)


__all__ = [
    "Interaction",
    "Turn",
    "is_character",
    "parse_interaction",
    "render_interaction",
    "without_last_turn",
]
