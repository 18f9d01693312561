"""Read and write character cards as JSON, PNG (embedded ``chara``/``ccv3``) or CHARX.

Every malformed input raises :class:`~personae.errors.CardError` with a one-line message;
nothing else escapes a reader. The format is sniffed from the bytes, not trusted from the name.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, get_args

from personae.characters.card import Character, SpecVersion
from personae.characters.formats.charx import (
    MAX_TOTAL_BYTES,
    charx_bytes,
    is_zip,
    read_charx,
)
from personae.characters.formats.json_card import card_json_bytes, parse_card_json
from personae.characters.formats.png import (
    MAX_PNG_BYTES,
    is_png,
    placeholder_png,
    png_card_bytes,
    read_png_card,
)
from personae.errors import CardError

CardFormat = Literal["json", "png", "charx"]
FORMATS: tuple[str, ...] = get_args(CardFormat)
MAX_CARD_FILE_BYTES = max(MAX_PNG_BYTES, MAX_TOTAL_BYTES)
_OTHER_IMAGES = {
    b"\xff\xd8\xff": "JPEG",
    b"RIFF": "WebP",
    b"GIF8": "GIF",
}


@dataclass
class LoadedCard:
    """A card read from a file: the character, its avatar image and where it came from.

    ``assets`` holds the other files of a CHARX archive by path, so re-exporting is lossless.
    """

    character: Character
    image: bytes | None
    format: CardFormat
    assets: dict[str, bytes] = field(default_factory=dict)


def read_card_bytes(data: bytes, *, filename: str = "") -> LoadedCard:
    """Read a card from bytes; ``filename`` only improves the error messages."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise CardError(f"card data must be bytes, got {type(data).__name__}")
    data = bytes(data)
    label = filename or "the card"
    if not data.strip():
        raise CardError(f"{label} is empty; choose a card file (.png, .json or .charx)")
    if is_png(data):
        character, image = read_png_card(data)
        return LoadedCard(character, image, "png")
    if is_zip(data):
        character, icon, files = read_charx(data)
        return LoadedCard(character, icon, "charx", files)
    suffix = Path(filename).suffix.lower()
    for magic, kind in _OTHER_IMAGES.items():
        if data.startswith(magic):
            raise CardError(
                f"{label} is a {kind} image; cards are read from PNG, JSON or CHARX files"
            )
    if suffix in (".png", ".charx", ".zip"):
        raise CardError(f"{label} is not a {suffix[1:].upper()} file; it may be damaged")
    return LoadedCard(parse_card_json(data, source=label), None, "json")


def read_capped_file(
    path: str | os.PathLike[str], what: str, error: type[CardError] = CardError
) -> tuple[bytes, str]:
    """A card-sized file's bytes and name, refusing one over :data:`MAX_CARD_FILE_BYTES` before
    it is all in memory; ``what`` ("card", "lorebook") names the file in ``error``."""
    target = Path(path)
    try:
        with target.open("rb") as handle:
            data = handle.read(MAX_CARD_FILE_BYTES + 1)
    except OSError as exc:
        raise error(
            f"cannot read {what} file {str(target)!r}: {exc.strerror or exc}; check the path"
        ) from None
    if len(data) > MAX_CARD_FILE_BYTES:
        raise error(f"{what} file {target.name!r} is too large to be a {what}")
    return data, target.name


def read_card(path: str | os.PathLike[str]) -> LoadedCard:
    """Read a card file (PNG, JSON or CHARX; the format is sniffed from the content)."""
    data, name = read_capped_file(path, "card")
    return read_card_bytes(data, filename=name)


def _check_format(fmt: object) -> CardFormat:
    if fmt not in FORMATS:
        raise CardError(f"unknown card format {fmt!r}; use one of: {', '.join(FORMATS)}")
    return fmt  # type: ignore[return-value]


def card_bytes(
    character: Character,
    fmt: CardFormat | str,
    image: bytes | None = None,
    *,
    spec: SpecVersion | None = None,
    assets: dict[str, bytes] | None = None,
) -> bytes:
    """The card in ``fmt``. PNG embeds into ``image`` (a placeholder when None); CHARX is
    always V3 and stores ``image`` as the main icon plus ``assets``; JSON ignores both."""
    if not isinstance(character, Character):
        raise CardError(f"expected a Character, got {type(character).__name__}")
    kind = _check_format(fmt)
    if image is not None and not isinstance(image, bytes):
        raise CardError(f"image must be bytes, got {type(image).__name__}")
    if kind == "json":
        return card_json_bytes(character, spec)
    if kind == "png":
        return png_card_bytes(character, image, spec)
    return charx_bytes(character, image, assets)


def write_card(
    character: Character,
    path: str | os.PathLike[str],
    fmt: CardFormat | str | None = None,
    image: bytes | None = None,
    *,
    spec: SpecVersion | None = None,
    assets: dict[str, bytes] | None = None,
) -> Path:
    """Write the card to ``path`` atomically; ``fmt`` defaults to the file's suffix."""
    target = Path(path)
    if fmt is None:
        fmt = target.suffix.lower().lstrip(".")
    payload = card_bytes(character, fmt, image, spec=spec, assets=assets)
    # A sibling temp file (opened with the umask's permissions, unlike mkstemp's 0600) and a
    # rename: a reader never sees half a card, and a failed write leaves the old one intact.
    temp = target.with_name(f".{target.name}.{secrets.token_hex(6)}.tmp")
    try:
        try:
            with temp.open("xb") as out:
                out.write(payload)
            os.replace(temp, target)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise CardError(
            f"cannot write card file {str(target)!r}: {exc.strerror or exc}; check the folder"
        ) from None
    return target


__all__ = [
    "FORMATS",
    "CardFormat",
    "LoadedCard",
    "card_bytes",
    "placeholder_png",
    "read_card",
    "read_card_bytes",
    "write_card",
]
