"""Cards embedded in PNG images: base64 JSON in ``tEXt`` chunks ``chara`` (V2) / ``ccv3`` (V3).

Chunks are parsed here (length, type, CRC) rather than with an imaging library: a card reader
must survive hostile files, and only the chunk layer matters for cards. Readers prefer
``ccv3``; keywords match case-insensitively; ``zTXt``/``iTXt`` are tolerated because some
tools compress long text. Writers drop every old card chunk and insert new ones before ``IEND``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import zlib

from personae.characters.card import Character, SpecVersion
from personae.characters.formats.json_card import (
    MAX_JSON_BYTES,
    encode_json,
    export_card_dict,
    parse_card_json,
)
from personae.errors import CardError

SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_PNG_BYTES = 100 * 1024 * 1024
# A card's base64 text is 4/3 of its JSON; more than that cannot be a card we would accept.
MAX_TEXT_BYTES = MAX_JSON_BYTES * 4 // 3 + 64
_CARD_KEYWORDS = ("ccv3", "chara")  # in order of preference
_TEXT_TYPES = (b"tEXt", b"zTXt", b"iTXt")

Chunk = tuple[bytes, bytes]  # (type, data)


def is_png(data: bytes) -> bool:
    return data[:8] == SIGNATURE


def chunks(png: bytes) -> list[Chunk]:
    """Every chunk up to and including ``IEND``, with bounds and CRCs checked."""
    if not is_png(png):
        raise CardError("not a PNG file (bad signature); give a PNG, JSON or CHARX card")
    if len(png) > MAX_PNG_BYTES:
        raise CardError(f"PNG is larger than {MAX_PNG_BYTES // 1024 // 1024} MiB; shrink the image")
    view = memoryview(png)
    found: list[Chunk] = []
    pos = len(SIGNATURE)
    while True:
        if pos + 8 > len(png):
            raise CardError("truncated PNG: it ends before its IEND chunk; re-download the file")
        length = int.from_bytes(png[pos : pos + 4], "big")
        kind = png[pos + 4 : pos + 8]
        if not (kind.isascii() and kind.isalpha()):
            raise CardError(f"corrupt PNG: invalid chunk type at byte {pos + 4}; re-export it")
        name = kind.decode("ascii")
        end = pos + 12 + length
        if length > 0x7FFFFFFF or end > len(png):
            raise CardError(f"truncated PNG: chunk {name!r} runs past the end of the file")
        data = bytes(view[pos + 8 : pos + 8 + length])
        stored = int.from_bytes(png[end - 4 : end], "big")
        if zlib.crc32(kind + data) != stored:
            raise CardError(f"corrupt PNG: CRC mismatch in chunk {name!r}; re-download the file")
        if not found and kind != b"IHDR":
            raise CardError("corrupt PNG: the first chunk is not IHDR; re-export the image")
        found.append((kind, data))
        if kind == b"IEND":
            return found
        pos = end


def _inflate(data: bytes, what: str) -> bytes:
    inflater = zlib.decompressobj()
    try:
        out = inflater.decompress(data, MAX_TEXT_BYTES + 1)
    except zlib.error:
        raise CardError(f"corrupt PNG: the compressed {what} chunk cannot be inflated") from None
    if len(out) > MAX_TEXT_BYTES:
        raise CardError(f"the {what} chunk inflates to more than a card may hold; refused")
    if not inflater.eof:
        raise CardError(f"corrupt PNG: the compressed {what} chunk is cut off")
    return out


def _text_chunk(kind: bytes, data: bytes) -> tuple[str, bytes] | None:
    """``(keyword, text bytes)`` of a text chunk, or None when it is malformed or unknown."""
    keyword, sep, rest = data.partition(b"\0")
    if not sep or not 1 <= len(keyword) <= 79:
        return None
    name = keyword.decode("latin-1")
    if name.lower() not in _CARD_KEYWORDS:
        return None
    if kind == b"tEXt":
        return name, rest
    if kind == b"zTXt":
        return name, _inflate(rest[1:], name) if rest[:1] == b"\0" else b""
    # iTXt: compression flag, method, language tag \0, translated keyword \0, text.
    if len(rest) < 2:
        return None
    flag, body = rest[0], rest[2:]
    parts = body.split(b"\0", 2)
    if len(parts) < 3:
        return None
    return name, _inflate(parts[2], name) if flag else parts[2]


def _is_card_chunk(kind: bytes, data: bytes) -> bool:
    if kind not in _TEXT_TYPES:
        return False
    keyword = data.partition(b"\0")[0]
    return keyword.decode("latin-1").lower() in _CARD_KEYWORDS


def _decode_text(keyword: str, value: bytes) -> Character:
    source = f"the PNG {keyword!r} chunk"
    if len(value) > MAX_TEXT_BYTES:
        raise CardError(f"{source} is larger than a card may be; refused")
    stripped = value.strip()
    if stripped.startswith(b"{"):
        # A few tools store the JSON itself rather than base64 of it.
        return parse_card_json(stripped, source=source)
    compact = b"".join(stripped.split())
    compact += b"=" * (-len(compact) % 4)
    try:
        raw = base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        raise CardError(f"{source} is not valid base64; the card data is damaged") from None
    return parse_card_json(raw, source=source)


def read_png_card(png: bytes) -> tuple[Character, bytes]:
    """The character in ``png`` and the image without its card chunks."""
    found = chunks(png)
    texts: dict[str, tuple[str, bytes]] = {}
    kept: list[Chunk] = []
    for kind, data in found:
        if _is_card_chunk(kind, data):
            parsed = _text_chunk(kind, data)
            if parsed is not None:
                texts.setdefault(parsed[0].lower(), parsed)
        else:
            kept.append((kind, data))
    candidates = [texts[k] for k in _CARD_KEYWORDS if k in texts]
    if not candidates:
        raise CardError(
            "this PNG holds no character card (no 'chara' or 'ccv3' text chunk); "
            "export the card again with its data embedded"
        )
    try:
        character = _decode_text(*candidates[0])
    except CardError:
        if len(candidates) == 1:
            raise
        # A broken ccv3 next to an intact chara still yields the character for old readers.
        character = _decode_text(*candidates[1])
    return character, assemble(kept)


def _chunk_bytes(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data).to_bytes(4, "big")
    return len(data).to_bytes(4, "big") + kind + data + crc


def assemble(found: list[Chunk]) -> bytes:
    """PNG bytes from chunks (which must end with IEND)."""
    return SIGNATURE + b"".join(_chunk_bytes(kind, data) for kind, data in found)


def _text(keyword: str, payload: dict[str, object]) -> Chunk:
    encoded = base64.b64encode(encode_json(payload))
    return b"tEXt", keyword.encode("latin-1") + b"\0" + encoded


def png_card_bytes(
    character: Character, image: bytes | None = None, spec: SpecVersion | None = None
) -> bytes:
    """``image`` (or a generated placeholder) with the card embedded."""
    if image is None:
        image = placeholder_png(character.name)
    elif not is_png(image):
        raise CardError("the image is not a PNG; convert it to PNG before embedding a card")
    kept = [(kind, data) for kind, data in chunks(image) if not _is_card_chunk(kind, data)]
    if spec is None:
        spec = "v3" if character.spec == "chara_card_v3" else "v2"
    new = [_text("chara", export_card_dict(character, "v2"))]
    if spec == "v3":
        new.append(_text("ccv3", export_card_dict(character, "v3")))
    return assemble(kept[:-1] + new + kept[-1:])


_PALETTE = (
    (0x3B, 0x5B, 0x8C),
    (0x6A, 0x4C, 0x93),
    (0x2E, 0x7D, 0x6B),
    (0x9C, 0x4F, 0x3D),
    (0x4A, 0x6F, 0x28),
    (0x8A, 0x3E, 0x6C),
    (0x33, 0x6E, 0x8F),
    (0x7A, 0x5C, 0x2E),
)


def placeholder_png(seed: str = "", size: int = 256) -> bytes:
    """A square avatar: a light head-and-shoulders silhouette on a colour picked from ``seed``."""
    digest = hashlib.sha256(seed.encode("utf-8", "replace")).digest()
    bg = _PALETTE[digest[0] % len(_PALETTE)]
    fg = tuple(c + (255 - c) * 11 // 20 for c in bg)
    bg_px, fg_px = bytes(bg), bytes(fg)
    half = size / 2
    head_y, head_r = size * 0.39, size * 0.17
    body_y, body_rx, body_ry = size * 0.98, size * 0.35, size * 0.31
    rows = []
    for y in range(size):
        row = bytearray(bg_px * size)
        cy = y + 0.5
        for centre_y, rx, ry in ((head_y, head_r, head_r), (body_y, body_rx, body_ry)):
            dy = (cy - centre_y) / ry
            if dy * dy < 1:
                reach = rx * (1 - dy * dy) ** 0.5
                left, right = max(0, round(half - reach)), min(size, round(half + reach))
                row[left * 3 : right * 3] = fg_px * (right - left)
        rows.append(b"\0" + bytes(row))
    header = size.to_bytes(4, "big") * 2 + bytes((8, 2, 0, 0, 0))
    pixels = zlib.compress(b"".join(rows), 9)
    return assemble([(b"IHDR", header), (b"IDAT", pixels), (b"IEND", b"")])
