"""Every line a book or a script gives its people, with who says it: the entry point.

:func:`extract_lines` reads prose (quoted speech, speakers from the narration: see
:mod:`.attribution`) or, when the text is a script of ``Name: line`` turns, the turns
(:func:`personae.text.dialogue.split_turns`, the one parser of those). :func:`read_book` reads
a file with the bounds and errors a command needs; :func:`character_lines` picks the
character's lines, or says who does speak.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

from personae.errors import InvalidInput, NotFound
from personae.experience.from_text.attribution import Answer, ExtractedLine, attribute
from personae.experience.from_text.names import Cast
from personae.experience.from_text.quotes import find_quotes, paragraphs
from personae.text import Language, detect_language
from personae.text.dialogue import split_turns

MAX_BYTES = 20_000_000
MAX_UTTERANCE = 4_000
MAX_NAME = 80
MAX_ALIASES = 32
_SCRIPT_SHARE = 0.4

Kind = Literal["prose", "script"]


@dataclass(frozen=True, slots=True)
class Extraction:
    """What a text gives: every utterance (``lines``, in order, the character's and everyone
    else's), whether it was read as prose or a script, its language, and who the character
    and the narrator are (canonical names)."""

    lines: list[ExtractedLine]
    kind: Kind
    language: Language
    character: str
    narrator: str
    aliases: tuple[str, ...] = ()

    def speakers(self) -> Counter[str]:
        """Lines per attributed speaker."""
        return Counter(line.speaker for line in self.lines if line.speaker is not None)

    def methods(self, speaker: str | None = None) -> Counter[str]:
        """Lines per attribution method (``how``), of ``speaker`` or of everyone."""
        return Counter(
            line.how for line in self.lines if speaker is None or line.speaker == speaker
        )

    def of_character(self) -> list[ExtractedLine]:
        return [line for line in self.lines if line.speaker == self.character]


def read_book(path: str | Path) -> str:
    """The text of a UTF-8 file, refused before it is read when it is larger than
    :data:`MAX_BYTES`, and when it is empty."""
    path = Path(path)
    if not path.exists():
        raise NotFound(f"file not found: {path}")
    if not path.is_file():
        raise InvalidInput(f"{path} is not a file")
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise InvalidInput(
            f"{path} is {size / 1e6:.1f} MB, more than the limit of {MAX_BYTES / 1e6:.0f} MB: "
            "give one book (or one part of it) at a time"
        )
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput(
            f"{path} is not UTF-8 text ({exc.reason} at byte {exc.start}); "
            "convert it first, e.g. with iconv"
        ) from None
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror or exc}") from None
    if not text.strip():
        raise InvalidInput(f"{path} is empty: give a novel, a story or a script")
    return text


def _check_name(value: str, what: str) -> str:
    name = " ".join(value.split())
    if not name:
        raise InvalidInput(f"{what} is empty: give the name the text uses, e.g. Holmes")
    if len(name) > MAX_NAME:
        raise InvalidInput(f"{what} is {len(name)} characters long; names are at most {MAX_NAME}")
    return name


def looks_like_script(text: str) -> bool:
    """Whether ``text`` is mostly ``Name: line`` turns (a script, a transcript, a chat log)
    rather than prose."""
    filled = sum(1 for line in text.splitlines() if line.strip())
    turns = sum(1 for turn in split_turns(text) if turn is not None)
    return turns >= 2 and turns >= _SCRIPT_SHARE * filled


def _clip(text: str) -> str:
    if len(text) <= MAX_UTTERANCE:
        return text
    cut = text[:MAX_UTTERANCE]
    return cut[: cut.rfind(" ")] + " …" if " " in cut else cut + "…"


def _script_lines(text: str, cast: Cast) -> list[ExtractedLine]:
    out: list[ExtractedLine] = []
    prev: tuple[str, str] | None = None
    prev_other: tuple[str, str] | None = None
    at = 0
    for turn in split_turns(text, [cast.character]):
        if turn is None:
            prev = prev_other = None
            continue
        speaker = cast.canonical(turn[0].strip("#"))
        body = turn[1]
        found = text.find(body[:40], at)
        at = found if found >= 0 else at
        if prev is not None and prev[0] == speaker:
            answered = prev_other
        else:
            answered, prev_other = prev, prev
        prev = (speaker, body)
        out.append(
            ExtractedLine(
                speaker=speaker,
                text=body,
                offset=at,
                how="script",
                answers=Answer(*answered) if answered else None,
            )
        )
    return out


def extract_lines(
    text: str,
    character: str,
    aliases: list[str] | tuple[str, ...] = (),
    *,
    narrator: str | None = None,
    language: Language | None = None,
) -> Extraction:
    """Every utterance in ``text`` with its speaker, ``character``'s (known also by
    ``aliases``: "Sherlock Holmes", "my companion") under the name ``character``.

    ``narrator`` names the first-person narrator ("I" in "said I"; Watson in the Sherlock
    Holmes stories; the character itself in a memoir); without it the narrator is
    "Narrator". ``language`` defaults to the text's. Lines longer than
    :data:`MAX_UTTERANCE` characters are cut there. Never raises for odd text; bad arguments
    (an empty name, too many aliases) are :class:`InvalidInput`.
    """
    character = _check_name(character, "the character's name")
    if len(aliases) > MAX_ALIASES:
        raise InvalidInput(f"{len(aliases)} aliases given; at most {MAX_ALIASES}")
    clean = [_check_name(a, "an alias") for a in aliases]
    if narrator is not None:
        narrator = _check_name(narrator, "the narrator's name")
    language = language or detect_language(text[:200_000])
    cast = Cast(character, clean, narrator=narrator, language=language)
    if narrator is not None and cast.is_character(narrator):
        cast.narrator = cast.character  # the character tells the story
    if looks_like_script(text):
        kind: Kind = "script"
        lines = _script_lines(text, cast)
    else:
        kind = "prose"
        pars = paragraphs(text)
        lines = attribute(pars, find_quotes(text, pars), cast, book=text)
    lines = [replace(line, text=_clip(line.text)) for line in lines if line.text.strip()]
    return Extraction(lines, kind, language, cast.character, cast.narrator, tuple(clean))


def character_lines(extraction: Extraction, source: str) -> list[ExtractedLine]:
    """The character's lines; when it has none, an :class:`InvalidInput` that lists who
    does speak in ``source``."""
    mine = extraction.of_character()
    if mine:
        return mine
    if not extraction.lines:
        raise InvalidInput(
            f"{source} has no quoted speech (“…”, \"…\", 「…」) and no 'Name: line' turns: "
            "give a novel, a story or a script"
        )
    counts = extraction.speakers()
    if not counts:
        raise InvalidInput(
            f"{source} has {len(extraction.lines)} quotations but no speaker could be told "
            "from the narration: try a script ('Name: line') instead"
        )
    listing = ", ".join(f"{name} ({n})" for name, n in counts.most_common(8))
    more = ", …" if len(counts) > 8 else ""
    raise InvalidInput(
        f"{extraction.character!r} speaks no line in {source}; names that do: {listing}{more} "
        "(give the name the text uses, or add --alias)"
    )


__all__ = [
    "MAX_BYTES",
    "MAX_UTTERANCE",
    "Extraction",
    "character_lines",
    "extract_lines",
    "looks_like_script",
    "read_book",
]
