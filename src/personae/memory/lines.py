"""The character's own lines (ChatHaruhi's idea): example dialogue and imported script lines,
stored as ``line`` memories so that each turn can retrieve a few as demonstrations of voice.

:func:`parse_script` reads speaker-tagged text in the formats scripts, transcripts and cards
use, one turn per line (``Name: …``, ``Name：…``, ``Name「…」``, ``#Person1#: …``,
``{{char}}: …``); :func:`lines_for` collects a card's example lines (plus a script's);
:func:`sync_card_lines` and :func:`import_lines` put them in a :class:`MemoryBank`.

A speaker tag is recognised only at the start of a line and only when what precedes the colon
looks like a name — short, no sentence punctuation, capitalised words — so that prose such as
"He paused and said: go", a time ("10:30") or a URL never starts a turn.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from personae.characters.card import Character
from personae.characters.macros import expand_macros
from personae.errors import InvalidInput
from personae.memory.bank import Draft, MemoryBank
from personae.privacy import redact

MAX_LINES = 50_000
MAX_NAME = 40
BATCH = 256
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


@dataclass(frozen=True)
class ScriptLine:
    """One turn: who said it, what they said, and the previous turn by someone else
    (``"Watson: Where were you?"``) or None."""

    speaker: str
    text: str
    context: str | None = None


def _fold(name: str) -> str:
    return " ".join(name.strip().strip("#").split()).casefold()


def speaker_matches(speaker: str, speakers: Iterable[str]) -> bool:
    """Whether ``speaker`` is one of ``speakers`` (case and spacing ignored; ``#Person1#``
    matches ``Person1``)."""
    folded = _fold(speaker)
    return any(folded == _fold(s) for s in speakers)


def _is_name(name: str, known: frozenset[str]) -> bool:
    if _fold(name) in known:
        return True
    if not name or len(name) > MAX_NAME or any(ch in _NOT_NAME for ch in name):
        return False
    if not any(ch.isalpha() for ch in name) or _fold(name).rstrip(".") in _LABELS:
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
        return dialogsum.group(1).strip(), line[dialogsum.end() :]
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
            if _fold(name) in known or not any(w[0].islower() for w in words):
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


def parse_script(text: str, *, speakers: Sequence[str] | None = None) -> list[ScriptLine]:
    """Speaker-tagged turns in ``text``, in order, each with the previous turn by another
    speaker as context.

    A line without a tag continues the current turn (joined with a space); a blank line ends
    it, and untagged lines after that are narration and skipped. Stage directions alone on a
    line (``(He sighs.)``, ``[Exit]``) are skipped; ``<START>`` begins a new scene (no context
    carries over). ``{{char}}``/``<BOT>`` and ``{{user}}``/``<USER>`` tags become the speakers
    ``{{char}}`` and ``{{user}}``. With ``speakers``, those names are recognised whatever their
    shape and only their lines are returned (matched case-insensitively); everyone's lines
    still serve as context. Never raises.
    """
    known = frozenset(_fold(s) for s in speakers or () if s.strip())
    return _parse(text, known, keep=known or None)


def _turns(text: str, known: frozenset[str]) -> list[tuple[str, str] | None]:
    """The turns of ``text`` as ``(speaker, text)``, with None where a scene starts."""
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
        elif current is not None and not _STAGE.fullmatch(line):
            current[1].append(line)
    close()
    return turns


def _parse(
    text: str,
    known: frozenset[str],
    *,
    keep: frozenset[str] | None,
    aliases: frozenset[str] = frozenset(),
) -> list[ScriptLine]:
    def who(speaker: str) -> str:  # names in ``aliases`` are one person (the character)
        folded = _fold(speaker)
        return CHAR if folded in aliases else folded

    lines: list[ScriptLine] = []
    prev: tuple[str, str] | None = None
    prev_other: tuple[str, str] | None = None  # the latest turn by someone other than prev's
    for turn in _turns(text, known):
        if turn is None:
            prev = prev_other = None
            continue
        speaker, body = turn
        if prev is not None and who(prev[0]) == who(speaker):
            context = prev_other
        else:
            context, prev_other = prev, prev
        prev = turn
        if keep is None or _fold(speaker) in keep:
            shown = f"{context[0]}: {context[1]}" if context else None
            lines.append(ScriptLine(speaker, body, shown))
    return lines


def default_speakers(character: Character) -> list[str]:
    """Who counts as the character: the name, the nickname, and the first and last word of a
    name of several (so "Sherlock Holmes" also matches ``Holmes:`` and ``Sherlock:``)."""
    names = [character.name, character.nickname or ""]
    words = [w for w in character.name.split() if not w.endswith(".")]
    if len(character.name.split()) > 1 and words:
        names += [words[0], words[-1]]
    seen: dict[str, str] = {}
    for name in names:
        if name.strip():
            seen.setdefault(_fold(name), name.strip())
    return list(seen.values())


def lines_for(
    character: Character,
    script: str | None = None,
    *,
    speakers: Sequence[str] | None = None,
    user: str = "User",
    examples: bool = True,
    keep_others: bool = False,
) -> list[ScriptLine]:
    """The character's lines from its card's example dialogue (each ``<START>`` block on its
    own; ``{{char}}``/``{{user}}`` become the names) and then from ``script``.

    ``speakers`` defaults to :func:`default_speakers`. ``examples=False`` reads only the
    script; ``keep_others=True`` returns every speaker's lines (to show what a script holds).
    """
    wanted = list(speakers) if speakers else default_speakers(character)
    sources = character.example_blocks() if examples else []
    if script is not None:
        sources.append(script)

    def expand(text: str) -> str:
        return expand_macros(text, char=character.name, user=user)

    known = frozenset(_fold(s) for s in wanted)
    aliases = frozenset(_fold(s) for s in [CHAR, *default_speakers(character)])
    names = [expand(s) for s in wanted]
    out: list[ScriptLine] = []
    for source in sources:
        for raw in _parse(source, known, keep=None, aliases=aliases):
            context = expand(raw.context) if raw.context else None
            line = ScriptLine(expand(raw.speaker), expand(raw.text), context)
            if keep_others or speaker_matches(line.speaker, names):
                out.append(line)
    return out


def line_drafts(character_id: str, lines: Sequence[ScriptLine], *, source: str) -> list[Draft]:
    """``line`` memories of ``character_id``, each the exchange as a prompt shows it:
    ``"{context}\\n{speaker}: {text}"`` (or just ``"{speaker}: {text}"``), labelled by speaker."""
    return [
        Draft(
            kind="line",
            text=(f"{line.context}\n" if line.context else "") + f"{line.speaker}: {line.text}",
            user_id=None,
            character_id=character_id,
            label=line.speaker,
            source=source,
        )
        for line in lines
    ]


def spoken_part(text: str, speaker: str | None) -> str:
    """A stored line without the context it was indexed with: only ``speaker``'s own line.

    A line memory reads ``"{context}\n{speaker}: {text}"`` so that a search matches the
    exchange; a prompt shows only what the character said, because a recalled user line under
    "things {{char}} has said" reads as the character's and gets replayed (issue 14)."""
    if speaker:
        at = text.rfind(f"\n{speaker}: ")
        if at >= 0:
            return text[at + 1 :].strip()
    return text.strip()


# Card lines are shared by every user of the character, so ``{{user}}`` stays a macro in them and
# each chat says it with its own name (issue 14: "Your tan, User." came back in recalled lines).
# The tag in the digest makes lines indexed before, with "User" written in, stale: re-indexed.
USER_MACRO = "{{user}}"
_INDEX_VERSION = "user-macro\n"


def card_source(character: Character) -> str:
    """The source that marks lines indexed from this version of the card's examples."""
    keyed = _INDEX_VERSION + character.mes_example
    digest = hashlib.sha256(keyed.encode("utf-8")).hexdigest()
    return f"card:{digest[:12]}"


def _fresh(bank: MemoryBank, drafts: Iterable[Draft], have: set[str]) -> list[Draft]:
    """``drafts`` less repeats and those whose stored text is in ``have``; compared as the bank
    will store them (trimmed and redacted), so a line that redaction changed still matches."""
    out: list[Draft] = []
    for draft in drafts:
        text = draft.text.strip()
        stored = redact(text, bank.policy).text if bank.policy is not None else text
        if stored and stored not in have:
            have.add(stored)
            out.append(draft)
    return out


Progress = Callable[[int, int], None]


def _store(bank: MemoryBank, drafts: Sequence[Draft], progress: Progress | None) -> int:
    # In batches, each its own transaction: an interrupted import keeps what it stored, and
    # running it again adds only the rest (duplicates are skipped).
    for start in range(0, len(drafts), BATCH):
        bank.remember(drafts[start : start + BATCH])
        if progress is not None:
            progress(min(start + BATCH, len(drafts)), len(drafts))
    return len(drafts)


def sync_card_lines(bank: MemoryBank, character_id: str, character: Character) -> int:
    """Index the card's example lines once per version of ``mes_example``: when lines from
    this version are there, nothing happens; otherwise lines from earlier versions are deleted
    and this version's added. Returns how many were added."""
    source = card_source(character)
    existing = bank.repo.partition(None, character_id, ["line"])
    if any(item.source == source for item in existing):
        return 0
    stale = [item.id for item in existing if item.source.startswith("card:")]
    if stale:
        bank.forget(stale)
    drafts = line_drafts(character_id, lines_for(character, user=USER_MACRO), source=source)
    # Repeats within the card are dropped; a line also imported from a script stays, so the
    # card's lines are complete whatever else the character has.
    return _store(bank, _fresh(bank, drafts, set()), None)


def check_size(count: int, what: str = "the script") -> None:
    """Refuse more than :data:`MAX_LINES` lines, naming ``what``."""
    if count > MAX_LINES:
        raise InvalidInput(
            f"{what} has {count:,} lines, more than the limit of {MAX_LINES:,}: "
            "split it into smaller files and import each"
        )


def new_lines(
    bank: MemoryBank, character_id: str, lines: Sequence[ScriptLine], *, source: str
) -> list[Draft]:
    """The drafts :func:`import_lines` would add: ``lines`` less those the character already
    has (same text) and repeats within ``lines``."""
    check_size(len(lines), "the import")
    have = {item.text for item in bank.repo.partition(None, character_id, ["line"])}
    return _fresh(bank, line_drafts(character_id, lines, source=source), have)


def import_lines(
    bank: MemoryBank,
    character_id: str,
    lines: Sequence[ScriptLine],
    *,
    source: str,
    progress: Progress | None = None,
) -> int:
    """Add imported lines to ``character_id``'s, skipping exact duplicates of lines it already
    has; returns how many were added. ``progress(done, total)`` is called after each batch."""
    return _store(bank, new_lines(bank, character_id, lines, source=source), progress)
