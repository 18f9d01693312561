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
from personae.text.dialogue import split_turns


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
    """Split ``text`` into speaker turns (:func:`personae.text.dialogue.split_turns`, strict: a
    line in no turn is an error naming it; ``<START>`` and stage directions are skipped).
    Raises :class:`InvalidInput` when no turn has a speaker."""
    turns = [Turn(t[0], t[1]) for t in split_turns(text, strict=True) if t is not None]
    if not turns:
        raise InvalidInput(
            "the dialogue is empty: write one turn per line, each starting with its speaker "
            "('#Person1#: …' or 'Name: …')"
        )
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
