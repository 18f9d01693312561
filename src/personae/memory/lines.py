"""The character's own lines (ChatHaruhi's idea): example dialogue and imported script lines,
stored as ``line`` memories so that each turn can retrieve a few as demonstrations of voice.

:func:`parse_script` reads speaker-tagged text (scripts, transcripts, cards; split by
:func:`personae.text.dialogue.split_turns`) into lines with their context; :func:`lines_for`
collects a card's example lines (plus a script's); :func:`sync_card_lines` and
:func:`import_lines` put them in a :class:`MemoryBank`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from personae.characters.card import Character
from personae.characters.macros import expand_macros
from personae.errors import InvalidInput
from personae.memory.bank import Draft, MemoryBank
from personae.privacy import redact
from personae.text.dialogue import CHAR, fold_name, speaker_matches, split_turns

MAX_LINES = 50_000
BATCH = 256


@dataclass(frozen=True)
class ScriptLine:
    """One turn: who said it, what they said, and the previous turn by someone else
    (``"Watson: Where were you?"``) or None."""

    speaker: str
    text: str
    context: str | None = None


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
    known = frozenset(fold_name(s) for s in speakers or () if s.strip())
    return _parse(text, known, keep=known or None)


def _parse(
    text: str,
    known: frozenset[str],
    *,
    keep: frozenset[str] | None,
    aliases: frozenset[str] = frozenset(),
) -> list[ScriptLine]:
    def who(speaker: str) -> str:  # names in ``aliases`` are one person (the character)
        folded = fold_name(speaker)
        return CHAR if folded in aliases else folded

    lines: list[ScriptLine] = []
    prev: tuple[str, str] | None = None
    prev_other: tuple[str, str] | None = None  # the latest turn by someone other than prev's
    for turn in split_turns(text, known):
        if turn is None:
            prev = prev_other = None
            continue
        speaker, body = turn
        if len(speaker) > 2 and speaker[0] == speaker[-1] == "#":
            speaker = speaker[1:-1]  # DialogSum's #Person1#: a line's speaker is Person1
            turn = (speaker, body)
        if prev is not None and who(prev[0]) == who(speaker):
            context = prev_other
        else:
            context, prev_other = prev, prev
        prev = turn
        if keep is None or fold_name(speaker) in keep:
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
            seen.setdefault(fold_name(name), name.strip())
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

    known = frozenset(fold_name(s) for s in wanted)
    aliases = frozenset(fold_name(s) for s in [CHAR, *default_speakers(character)])
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
    if _has_source(bank, character_id, source):
        return 0
    # The first chats of a character often start together (several users, several server
    # processes): one of them indexes the lines, the others find them there.
    with bank.db.exclusive(f"card-lines:{character_id}"):
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


def _has_source(bank: MemoryBank, character_id: str, source: str) -> bool:
    return any(i.source == source for i in bank.repo.partition(None, character_id, ["line"]))


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
