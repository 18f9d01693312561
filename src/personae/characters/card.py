"""The character card as a pydantic model, faithful to Character Card V2 and V3.

Every model allows unknown fields (``extra="allow"``) and every ``extensions`` dict is kept
verbatim, because the card ecosystem stores tool-specific data there and the spec forbids
dropping it. Reading goes through :meth:`Character.from_card_dict`, which accepts V1, V2 and V3
shapes and turns every problem into a :class:`~personae.errors.CardError`.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from personae.characters._parse import normalise_card
from personae.characters.lorebook import validate_lorebook
from personae.characters.lorebook_model import Lorebook, drop_none
from personae.characters.macros import expand_macros
from personae.errors import CardError

SpecName = Literal["chara_card_v2", "chara_card_v3"]
SpecVersion = Literal["v2", "v3"]
Speaker = Literal["char", "user"]

_SPEC_FOR = {"v2": "chara_card_v2", "v3": "chara_card_v3"}
_VERSION_FOR = {"v2": "2.0", "v3": "3.0"}
_START = re.compile(r"<start>", re.IGNORECASE)
_V3_OPTIONAL: tuple[str, ...] = (
    *("nickname", "creator_notes_multilingual", "source"),
    *("creation_date", "modification_date"),
)


class CardAsset(BaseModel):
    """A V3 asset reference (``embeded://``, ``ccdefault:``, a URL or a data URI)."""

    model_config = ConfigDict(extra="allow")

    type: str = ""
    uri: str = ""
    name: str = ""
    ext: str = ""


class Character(BaseModel):
    """A character card's ``data`` (V2 fields plus V3 additions) and the spec it came from."""

    model_config = ConfigDict(extra="allow")

    name: str
    description: str = ""
    personality: str = ""
    scenario: str = ""
    first_mes: str = ""
    mes_example: str = ""
    creator_notes: str = ""
    system_prompt: str = ""
    post_history_instructions: str = ""
    alternate_greetings: list[str] = Field(default_factory=list)
    character_book: Lorebook | None = None
    tags: list[str] = Field(default_factory=list)
    creator: str = ""
    character_version: str = ""
    extensions: dict[str, Any] = Field(default_factory=dict)
    # V3 additions.
    nickname: str | None = None
    creator_notes_multilingual: dict[str, str] | None = None
    source: list[str] | None = None
    group_only_greetings: list[str] = Field(default_factory=list)
    creation_date: int | None = None
    modification_date: int | None = None
    assets: list[CardAsset] | None = None
    # Not part of ``data``: which envelope the card was read from, so a V3 card stays V3.
    spec: SpecName = "chara_card_v2"

    @classmethod
    def from_card_dict(cls, obj: Any) -> Character:
        """Build a character from a decoded card: V1 (flat), V2 or V3.

        Sloppy but unambiguous values are repaired (``null`` strings become ``""``, numbers in
        string lists become strings); anything else raises :class:`CardError` naming the field.
        A lorebook with an uncompilable regex key raises :class:`LorebookError`.
        """
        data, spec = normalise_card(obj)
        try:
            character = cls.model_validate({**data, "spec": spec})
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"])
            raise CardError(
                f"card field 'data.{where}' is invalid ({first['msg']}); fix it in the card"
            ) from None
        if character.character_book is not None:
            validate_lorebook(character.character_book)
        return character

    def to_card_dict(self, spec: SpecVersion | None = None) -> dict[str, Any]:
        """The full card ``{"spec", "spec_version", "data"}``.

        ``spec`` defaults to the spec the card was read as. A V2 export of a V3 card keeps the
        V3-only fields that are set: V2 readers ignore unknown ``data`` keys, and keeping them
        makes V3 → V2 → V3 lossless.
        """
        if spec is None:
            spec = "v3" if self.spec == "chara_card_v3" else "v2"
        if spec not in _SPEC_FOR:
            raise CardError(f"unknown card spec {spec!r}; use 'v2' or 'v3'")
        data = drop_none(
            self.model_dump(exclude={"spec", "character_book", "assets"}), _V3_OPTIONAL
        )
        if spec == "v2" and not self.group_only_greetings:
            del data["group_only_greetings"]
        if self.character_book is not None:
            data["character_book"] = self.character_book.to_dict()
        if self.assets is not None:
            data["assets"] = [asset.model_dump() for asset in self.assets]
        return {"spec": _SPEC_FOR[spec], "spec_version": _VERSION_FOR[spec], "data": data}

    def greetings(self) -> list[str]:
        """Every opening message: ``first_mes``, then ``alternate_greetings``; blanks skipped."""
        return [text for text in [self.first_mes, *self.alternate_greetings] if text.strip()]

    def example_blocks(self) -> list[str]:
        """The raw example chats in ``mes_example``, split at ``<START>`` (any case), trimmed."""
        return [block.strip() for block in _START.split(self.mes_example) if block.strip()]

    def example_dialogues(
        self, char: str | None = None, user: str = "User"
    ) -> list[list[tuple[Speaker, str]]]:
        """Each example chat as ``(speaker, text)`` turns, speaker ``"char"`` or ``"user"``.

        A line starting with ``{{char}}:``, ``<BOT>:`` or the character's name opens a
        character turn; ``{{user}}:``, ``<USER>:`` or ``user`` opens a user turn; other lines
        continue the previous turn. Macros in the text are expanded with ``char``/``user``.
        """
        char_name = self.name if char is None else char
        return [_parse_block(block, char_name, user) for block in self.example_blocks()]


def _speaker_pattern(macros: str, name: str) -> re.Pattern[str]:
    alternatives = macros + (f"|{re.escape(name.strip())}" if name.strip() else "")
    return re.compile(rf"\s*(?:{alternatives})\s*:", re.IGNORECASE)


def _parse_block(block: str, char: str, user: str) -> list[tuple[Speaker, str]]:
    # Macro prefixes are tried before names so that a character literally named "User" still
    # gets its `{{user}}:` lines right.
    patterns: list[tuple[re.Pattern[str], Speaker]] = [
        (_speaker_pattern(r"\{\{char\}\}|<bot>", ""), "char"),
        (_speaker_pattern(r"\{\{user\}\}|<user>", ""), "user"),
        (_speaker_pattern(r"(?!)", char), "char"),
        (_speaker_pattern(r"(?!)", user), "user"),
    ]
    turns: list[tuple[Speaker, list[str]]] = []
    for line in block.splitlines():
        speaker: Speaker | None = None
        rest = line
        for pattern, who in patterns:
            match = pattern.match(line)
            if match:
                speaker, rest = who, line[match.end() :]
                break
        if speaker is not None:
            turns.append((speaker, [rest]))
        elif turns:
            turns[-1][1].append(line)
        else:
            # Narration before anyone speaks reads as the character setting the scene.
            turns.append(("char", [line]))
    result: list[tuple[Speaker, str]] = []
    for speaker, lines in turns:
        text = expand_macros("\n".join(lines), char=char, user=user).strip()
        if text:
            result.append((speaker, text))
    return result
