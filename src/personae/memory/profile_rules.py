"""Rules that find facts the user states about themselves, in English and Korean chat messages.

Precision over recall. Most rules fire only on a clause that *starts* with the user as subject
("I …", "my …"; in Korean "저는 …" or no subject at all), that is not a question, not negated,
not hypothetical and not reported speech, and whose value passes a shape check: a capitalised
name, a place with capitals, a job from a list, an object that is not a pronoun. A few shapes
are found inside a clause ("a letter from my sister Winifred", "우리 집 강아지 콩떡이가"), and a
message's earlier mention of a relative or pet lets "His name is Pilchard" / "이름이 서윤인데"
name it. A hypothetical or hearsay opening drops the sentence; in a later clause it drops that
clause only. Text in quotes, brackets or ``*actions*`` is skipped: in a role-play chat that is
usually the user's character speaking, not the user. :func:`find` returns ``(label, value,
language)`` triples.

This module splits text into sentences and runs the rules; the English ones are in
:mod:`profile_rules_en`, the Korean ones in :mod:`profile_rules_ko`, the rule-table helpers both
use in :mod:`profile_rules_base`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator

from personae.memory.profile_rules_en import KIN, english
from personae.memory.profile_rules_ko import korean

__all__ = ["KIN", "find", "sentences"]

MAX_CHARS = 8000  # a pasted document is not a chat message; its tail is not read


# -- sentences (both languages) -----------------------------------------------------------------

_LAUGH = re.compile(r"[ㅋㅎㅠㅜ]{2,}|[~♡♥]+|\^\^")  # before NFKC, which rewrites these jamo
_ASIDE = re.compile(r"\"[^\"\n]*\"|\*[^*\n]*\*|\([^)\n]*\)|\[[^\]\n]*\]|「[^」\n]*」|『[^』\n]*』")
_BREAK = re.compile(r"(?<=[.!?。])\s+|[\n。]+")
_ABBREV = re.compile(r"(?:^|\s)(?:mr|mrs|ms|dr|st|jr|sr|mt|prof|no|vs|etc|ave)\.$", re.I)
_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"'})


def sentences(text: str) -> Iterator[tuple[str, bool]]:
    """``(sentence without its closing punctuation, is_question)`` pairs."""
    if len(text) > MAX_CHARS:  # keep whole sentences: a cut one could end in half a word
        text = text[: max(text.rfind(end, 0, MAX_CHARS) for end in ".!?。\n") + 1]
    text = unicodedata.normalize("NFKC", _LAUGH.sub("\n", text)).translate(_QUOTES)
    merged: list[str] = []
    for part in _BREAK.split(_ASIDE.sub("\n", text)):
        if merged and _ABBREV.search(merged[-1]):
            merged[-1] += " " + part
        else:
            merged.append(part)
    for raw in merged:
        sentence = " ".join(raw.split())
        body = sentence.rstrip(".!?…, ")
        if body:
            yield body, "?" in sentence[len(body) :]


def find(text: str, language: str | None) -> list[tuple[str, str, str]]:
    """Every ``(label, value, language)`` the rules find in ``text``. ``language`` None runs
    both rule sets: each matches only its own script."""
    out: list[tuple[str, str, str]] = []
    mentioned: list[str] = []  # relatives and pets spoken of so far, for "His name is …"
    earlier: list[str] = []  # the sentences before, for what "their stings" are
    for sentence, question in sentences(text):
        earlier.append(sentence)
        if question:
            continue
        if language in (None, "en"):
            found = english(sentence, mentioned, " ".join(earlier[-3:-1]))
            out += [(label, value, "en") for label, value in found]
        if language in (None, "ko"):
            out += [(label, value, "ko") for label, value in korean(sentence, mentioned)]
    return out
