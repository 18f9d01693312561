"""What the reply says about itself and who speaks: empty and cut-off replies, a placeholder
where the user's name should be. The assistant and character-break phrase rules live in
:mod:`personae.checks.breaks` (one copy, shared with the roleplay breaks task)."""

from __future__ import annotations

import re

from personae.text import has_hangul

_WORD = re.compile(r"[^\W_]")
# A reply ends as a sentence ends: terminal punctuation, a closing quote, bracket or action
# mark, or a tilde/music note as chat writers use them.
_SENTENCE_END = re.compile(r"[.!?…。！？\"'”’)\]*~♪」』]\s*$")
# A Korean sentence often ends on its verb ending with no full stop at all.
_KO_FINAL = re.compile(r"(?:다|요|오|까|네|지|죠|소|라|야|게|군|구나|나|걸|세|자|어|아)\s*$")
# Punctuation that only ever comes before more text.
# (Only opening quotes that differ from closing ones: a straight '"' may close a quotation.)
_DANGLING = re.compile(r"[,;:\-–—(\[“‘「『]\s*$")

# "User", "{{user}}", "<USER>", "사용자님": the prompt's placeholder reached the reply. "User"
# must be capitalised and not follow an article ("the user of this device" is English).
_PLACEHOLDER = re.compile(
    r"\{\{\s*user\s*\}\}|<user>"
    r"|(?<![Tt]he )(?<![Aa] )(?<![Aa]ny )(?<![Ee]very )\bUser\b(?![- ]?(?:manual|name|guide|s\b))"
    r"|(?<![가-힣])(?:사용자|유저)(?:님|씨)",
    re.I,
)
_PLACEHOLDER_CASED = re.compile(r"\bUser\b")


# A reply that opens with a bracketed note: "[Language: …", "[설명: …", "[No, I am not an AI, nor
# am I an assistant. …]". The prompt's instructions and notes are written so; a character's
# speech and actions never are. Short brackets ("[smiles]", "[한양의 누각]") are left alone.
_NOTE = re.compile(r"^\s*\[([^\]\n]*)")
NOTE_MIN_CHARS = 24


def note_speak(reply: str) -> str | None:
    """The opening of ``reply`` when it is a bracketed note (a label and a colon inside the
    bracket, or at least :data:`NOTE_MIN_CHARS` characters of it), else None. Every reply
    that opened with such a note in the stored fidelity transcripts (27 of 546) recited the
    prompt or was broken; none of the 300 hand-written replies opens with one."""
    match = _NOTE.match(reply)
    if not match:
        return None
    inside = match.group(1)
    labelled = re.match(r"[^:：]{1,30}[:：]", inside) is not None
    if not labelled and len(inside.strip()) < NOTE_MIN_CHARS:
        return None
    return reply.strip()[:80]


def is_empty(reply: str) -> bool:
    """No letter or digit at all: nothing was said (blank, or only punctuation)."""
    return _WORD.search(reply) is None


def cut_off(reply: str, finish_reason: str | None) -> str | None:
    """Why the reply looks cut off, or None.

    Two signs, both precise: the model hit its token limit (``finish_reason == "length"``)
    and the text does not end as a sentence ends; or the text ends on punctuation that only
    ever comes before more words (a comma, a colon, an open quote or dash), whatever the
    finish reason. A reply that stopped on a stop string at a sentence end is not cut off.
    """
    text = reply.rstrip()
    if not text:
        return None
    if _DANGLING.search(text):
        return f"ends with {text[-1]!r}: …{text[-40:]}"
    if finish_reason == "length" and not _SENTENCE_END.search(text):
        if has_hangul(text[-3:]) and _KO_FINAL.search(text):
            return None
        return f"token limit reached mid-sentence: …{text[-40:]}"
    return None


def user_placeholder(reply: str, user_name: str) -> str | None:
    """The placeholder the reply calls the user by ("Holmes looks at User"), or None.

    A ``user_name`` of "User" is personae's old default for a user who gave no name (the issue's
    "Holmes looks at User with interest" came from exactly that), not a name anyone chose, so it
    is reported too. ``user_name`` is kept for the day a check needs the real name."""
    del user_name
    for match in _PLACEHOLDER.finditer(reply):
        word = match.group(0)
        if word.casefold() == "user" and not _PLACEHOLDER_CASED.fullmatch(word):
            continue  # "user" in lower case is an ordinary noun
        start, end = max(0, match.start() - 30), min(len(reply), match.end() + 30)
        return " ".join(reply[start:end].split())
    return None
