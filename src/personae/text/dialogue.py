"""Speaker-tagged dialogue, one turn per line: the one parser of ``Name: text`` lines.

It reads the formats scripts, transcripts, chat logs and cards use: ``Name: …``, ``Name：…``,
``Name「…」``, ``#Person1#: …`` (DialogSum), ``{{char}}: …`` / ``<USER>: …``. A speaker tag is
recognised only at the start of a line and only when what precedes the colon looks like a name —
short, no sentence punctuation, capitalised words — so that prose such as "He paused and said:
go", a time ("10:30") or a URL never starts a turn. Summarization (:mod:`personae.summarization`)
and the character's imported lines (:mod:`personae.memory.lines`) both split with
:func:`split_turns`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from personae.errors import InvalidInput

MAX_NAME = 40
CHAR, USER = "{{char}}", "{{user}}"

_MACRO_TAG = re.compile(r"(?:\{\{\s*(char|user)\s*\}\}|<(bot|user)>)\s*[:：]\s*", re.IGNORECASE)
_DIALOGSUM_TAG = re.compile(r"#\s*([^#\s][^#]{0,38})#\s*[:：]\s*")
_START = re.compile(r"<start>", re.IGNORECASE)
_STAGE = re.compile(r"\([^()]*\)|\[[^\[\]]*\]|（[^（）]*）|【[^【】]*】|〔[^〔〕]*〕")
_NAME_NOTE = re.compile(r"(.*?\S)\s*[(（][^()（）]*[)）]")  # "HOLMES (V.O.)" → "HOLMES"
_ABBREVIATION = re.compile(r"(?:[^\W\d_]{1,3}\.)+")  # Mr.  Dr.  J.  U.S.
_OPENERS = {"「": "」", "『": "』", "“": "”"}
_WRAPS = {**_OPENERS, '"': '"'}
_NOT_NAME = frozenset('?!,;:"“”…。！？，；、|/\\<>{}[]=+*&^%$@~`#「」『』')


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_PARTICLES = _words(
    "of the de del della da di du des van von der den la le el al bin ibn y and in on"
)
# Labels that look like names at a line start but head notes, not turns.
_LABELS = _words(
    "note notes nb ps p.s warning caution tip hint example e.g i.e source chapter scene act "
    "title date time setting location summary translation update edit answer question url "
    "http https ftp mailto tel 참고 주의 장면 제목"
)
_KO_ENDINGS = tuple("다요까니지네죠")


def fold_name(name: str) -> str:
    """A speaker name for comparing: case, spacing and DialogSum's ``#…#`` ignored."""
    return " ".join(name.strip().strip("#").split()).casefold()


def speaker_matches(speaker: str, speakers: Iterable[str]) -> bool:
    """Whether ``speaker`` is one of ``speakers`` (case and spacing ignored; ``#Person1#``
    matches ``Person1``)."""
    folded = fold_name(speaker)
    return any(folded == fold_name(s) for s in speakers)


def _is_name(name: str, known: frozenset[str]) -> bool:
    if fold_name(name) in known:
        return True
    if not name or len(name) > MAX_NAME or any(ch in _NOT_NAME for ch in name):
        return False
    if not any(ch.isalpha() for ch in name) or fold_name(name).rstrip(".") in _LABELS:
        return False
    words = name.split()
    if len(words) > 5:
        return False
    for word in words:
        if "." in word and not _ABBREVIATION.fullmatch(word):
            return False
    if len(words) == 1:
        return True
    if any("\uac00" <= ch <= "\ud7a3" for ch in name):
        # Korean names carry no spaces, or one ("홍 길동"); a verb ending means a sentence.
        return len(words) == 2 and not words[-1].endswith(_KO_ENDINGS)
    # Several words: each capitalised (or caseless), bar particles — "The Man in Black" is a
    # name, "He paused and said" is prose.
    return all(w[0].isupper() or not w[0].islower() or w.lower() in _PARTICLES for w in words)


def _clean_name(raw: str) -> str:
    name = " ".join(raw.split())
    note = _NAME_NOTE.fullmatch(name)
    return note.group(1) if note else name


def _tag(line: str, known: frozenset[str]) -> tuple[str, str] | None:
    """``(speaker, rest)`` when ``line`` (stripped) opens a turn, else None."""
    macro = _MACRO_TAG.match(line)
    if macro:
        which = (macro.group(1) or macro.group(2)).lower()
        return (USER if which == "user" else CHAR), line[macro.end() :]
    dialogsum = _DIALOGSUM_TAG.match(line)
    if dialogsum:
        return f"#{dialogsum.group(1).strip()}#", line[dialogsum.end() :]
    colon = next((i for i, ch in enumerate(line) if ch in ":："), -1)
    if colon > 0:
        after = line[colon + 1 : colon + 2]
        # "10:30", "https://…", "ratio 3:1", "a:b" are not tags; "Name:text" in CJK is.
        if line[colon] == ":" and after and (after.isascii() and after.isalnum() or after in "/\\"):
            return None
        name = _clean_name(line[:colon])
        if _is_name(name, known):
            return name, line[colon + 1 :]
    opener = next((i for i, ch in enumerate(line) if ch in _OPENERS), -1)
    if opener > 0:
        name = _clean_name(line[:opener])
        if ":" not in name and "：" not in name and _is_name(name, known):
            # Without a colon, demand capitalised words even for one word: "He said “hi”".
            words = name.split()
            if fold_name(name) in known or not any(w[0].islower() for w in words):
                return name, line[opener:]
    return None


def _unwrap(text: str) -> str:
    """Drop one pair of quotes that wraps the whole text: 「…」, 『…』, “…”, "…"."""
    if len(text) >= 2 and text[0] in _WRAPS:
        close = _WRAPS[text[0]]
        inner = text[1:-1]
        if text.endswith(close) and close not in inner and text[0] not in inner:
            return inner.strip()
    if text[:1] in _OPENERS and _OPENERS[text[0]] not in text:
        return text[1:].strip()  # an unclosed quote (the script's typo): keep what was said
    return text


def split_turns(
    text: str, speakers: Iterable[str] = (), *, strict: bool = False
) -> list[tuple[str, str] | None]:
    """The turns of ``text`` as ``(speaker, text)``, in order, with None where a scene starts
    (``<START>``). Speakers are as written (``#Person1#``, ``Alice``, ``{{char}}``).

    A line without a tag continues the current turn (joined with a space); a blank line ends
    it, and untagged lines after that are narration, skipped. Stage directions alone on a line
    (``(He sighs.)``, ``[Exit]``) are skipped. Names in ``speakers`` are recognised whatever
    their shape. With ``strict``, a line that is in no turn is an :class:`InvalidInput` naming
    it (for input that must be a dialogue, like ``personae summarize``'s)."""
    known = frozenset(fold_name(s) for s in speakers if s.strip())
    turns: list[tuple[str, str] | None] = []
    current: tuple[str, list[str]] | None = None

    def close() -> None:
        nonlocal current
        if current is not None:
            body = _unwrap(" ".join(part for part in current[1] if part))
            if body and not _STAGE.fullmatch(body):
                turns.append((current[0], body))
        current = None

    for raw in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        line = raw.strip().lstrip("\ufeff").strip()
        if not line:
            close()
        elif _START.fullmatch(line):
            close()
            turns.append(None)
        elif (tag := _tag(line, known)) is not None:
            close()
            rest = tag[1].strip()
            current = (tag[0], [] if _STAGE.fullmatch(rest) else [rest])
        elif _STAGE.fullmatch(line):
            continue
        elif current is not None:
            current[1].append(line)
        elif strict:
            raise InvalidInput(
                "the dialogue must have one turn per line, each starting with its speaker "
                f"('#Person1#: …' or 'Name: …'); this line is in no turn: {line[:60]!r}"
            )
    close()
    return turns


__all__ = ["CHAR", "MAX_NAME", "USER", "fold_name", "speaker_matches", "split_turns"]
