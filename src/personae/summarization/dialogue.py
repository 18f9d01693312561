"""Dialogues as the summarizer sees them: speaker-tagged turns.

Input can be DialogSum style (``#Person1#: Hello``), chat-log style (``Alice: Hello``), or a
stored chat (:func:`chat_dialogue`: what was said, without the greeting that set the scene).
Speaker tags are kept as written: summaries that name speakers the way the dialogue does score
better and read better.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from personae.errors import InvalidInput
from personae.text import detect_language

_TAGGED = re.compile(r"^\s*(#[^#\n]{1,40}#)\s*[:：]\s*(.*)$")
_NAMED = re.compile(r"^\s*([^\s:：#][^:：\n]{0,39}?)\s*[:：]\s*(.+)$")


@dataclass(frozen=True)
class Turn:
    speaker: str
    text: str

    def line(self) -> str:
        return f"{self.speaker}: {self.text}"


@dataclass(frozen=True)
class Dialogue:
    turns: tuple[Turn, ...]

    @property
    def speakers(self) -> list[str]:
        return list(dict.fromkeys(t.speaker for t in self.turns))

    def text(self) -> str:
        return "\n".join(t.line() for t in self.turns)

    @property
    def language(self) -> str:
        return text_language(" ".join(t.text for t in self.turns))


def text_language(text: str) -> str:
    """'ko' when the letters are mostly Hangul, else 'en' (personae.text.detect_language)."""
    return detect_language(text)


def parse_dialogue(text: str) -> Dialogue:
    """Split ``text`` into speaker turns. A line without a ``Speaker:`` prefix continues the
    previous turn. Raises :class:`InvalidInput` when no turn has a speaker."""
    turns: list[Turn] = []
    for raw in text.replace("\r\n", "\n").split("\n"):
        line = raw.strip()
        if not line:
            continue
        match = _TAGGED.match(line) or _NAMED.match(line)
        if match and match.group(2).strip():
            turns.append(Turn(match.group(1).strip(), match.group(2).strip()))
        elif match:
            continue  # a speaker with nothing said
        elif turns:
            last = turns[-1]
            turns[-1] = Turn(last.speaker, f"{last.text} {line}")
        else:
            raise InvalidInput(
                "the dialogue must have one turn per line, each starting with its speaker "
                f"('#Person1#: …' or 'Name: …'); this line has none: {line[:60]!r}"
            )
    if not turns:
        raise InvalidInput("the dialogue is empty")
    return Dialogue(tuple(turns))


def dialogue_from_messages(messages: Sequence[tuple[str, str]]) -> Dialogue:
    """``[(speaker, text), …]`` (e.g. a stored chat) → a :class:`Dialogue`; empty texts skipped."""
    turns = tuple(Turn(s, t.strip()) for s, t in messages if t.strip())
    if not turns:
        raise InvalidInput("the chat has no messages to summarize")
    return Dialogue(turns)


# A reply's opening stage direction: "*Holmes does not rise from his armchair.* Sit down."
_LEADING_ACTION = re.compile(r"^\s*(?:\*[^*\n]+\*\s*)+")


def chat_dialogue(messages: Sequence[tuple[str, str]], *, character: str, user: str) -> Dialogue:
    """A stored chat's ``[(role, text), …]`` (role ``'user'`` or ``'assistant'``, oldest first)
    as the dialogue to summarize: what was said, not how the scene was set.

    The character's messages before the user's first one are the greeting (scene-setting
    written by the card's author: issue 14's Sherlock "summary" was its stage direction), so
    they are left out, and a reply's opening ``*stage direction*`` is dropped when words
    follow it. A chat with nothing said yet is :class:`InvalidInput`."""
    turns: list[Turn] = []
    for role, text in messages:
        if role == "user":
            speaker = user
        elif role == "assistant" and turns:
            speaker = character
            said = _LEADING_ACTION.sub("", text).strip()
            text = said or text  # a reply that is all action keeps it: it is what happened
        else:
            continue  # the greeting (and anything else before the user spoke)
        if text.strip():
            turns.append(Turn(speaker, " ".join(text.split())))
    if not turns:
        raise InvalidInput(
            "nothing to summarize yet: the chat has only the greeting; send a message first"
        )
    return Dialogue(tuple(turns))
