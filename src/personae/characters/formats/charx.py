"""CHARX (Character Card V3): a zip with ``card.json`` at the root and optional asset files.

Archives come from strangers, so nothing in them is trusted: the number of entries, each
entry's size and the total size are capped while *reading* (never from header fields, which a
zip bomb lies in), and names that could escape a folder are refused outright.
"""

from __future__ import annotations

import io
import zipfile
from typing import Any

from personae.characters.card import Character
from personae.characters.formats.json_card import MAX_JSON_BYTES, encode_json, parse_card_json
from personae.errors import CardError

MAX_ENTRIES = 1000
MAX_ENTRY_BYTES = 50 * 1024 * 1024
MAX_TOTAL_BYTES = 100 * 1024 * 1024
CARD_NAME = "card.json"
_EMBEDDED = ("embeded://", "embedded://")  # the spec's spelling, and the obvious fix of it
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # same card, same bytes


def _mib(size: int) -> int:
    return size // 1024 // 1024


def is_zip(data: bytes) -> bool:
    return data[:4] in (b"PK\x03\x04", b"PK\x05\x06")


def check_name(name: str) -> str:
    """``name`` if it is a safe relative path inside the archive, else a CardError."""
    parts = name.split("/")
    if (
        not name
        or "\\" in name
        or "\0" in name
        or name.startswith("/")
        or ":" in parts[0]
        or any(part in ("..", ".") for part in parts)
    ):
        raise CardError(f"CHARX entry name {name[:80]!r} points outside the archive; refused")
    return name


def _open(data: bytes) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(io.BytesIO(data))
    # zipfile's failure modes are many and undocumented (BadZipFile, EOFError, OSError,
    # ValueError, struct errors...); for an untrusted upload they all mean "not a CHARX".
    except Exception as exc:
        raise CardError(f"not a valid CHARX file: the zip cannot be opened ({exc})") from None


def _read(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int, too_big: str) -> bytes:
    try:
        with archive.open(info) as handle:
            data = handle.read(limit + 1)
    except Exception as exc:  # see _open: unsupported compression, bad CRC, encryption...
        raise CardError(f"CHARX entry {info.filename[:80]!r} cannot be read ({exc})") from None
    if len(data) > limit:
        raise CardError(f"CHARX entry {info.filename[:80]!r} {too_big}; refused")
    return data


def _main_icon(character: Character, files: dict[str, bytes]) -> bytes | None:
    icons = [a for a in character.assets or [] if a.type == "icon"]
    icons.sort(key=lambda a: a.name != "main")
    for asset in icons:
        for prefix in _EMBEDDED:
            if asset.uri.startswith(prefix) and asset.uri[len(prefix) :] in files:
                return files[asset.uri[len(prefix) :]]
    if character.assets is None:
        fallback = sorted(name for name in files if name.startswith("assets/icon/"))
        if fallback:
            return files[fallback[0]]
    return None


def read_charx(data: bytes) -> tuple[Character, bytes | None, dict[str, bytes]]:
    """The character, its main icon (if embedded) and every other file by archive path."""
    archive = _open(data)
    with archive:
        infos = archive.infolist()
        if len(infos) > MAX_ENTRIES:
            raise CardError(f"CHARX has more than {MAX_ENTRIES} entries; refused")
        card_info = None
        for info in infos:
            check_name(info.filename)
            if info.filename == CARD_NAME:
                card_info = info
        if card_info is None:
            raise CardError("CHARX has no card.json at its root; it is not a character card")
        raw = _read(archive, card_info, MAX_JSON_BYTES, f"is over {_mib(MAX_JSON_BYTES)} MiB")
        total = len(raw)
        character = parse_card_json(raw, source="CHARX card.json")
        files: dict[str, bytes] = {}
        for info in infos:
            if info.is_dir() or info.filename == CARD_NAME or info.filename in files:
                continue
            if MAX_TOTAL_BYTES - total < MAX_ENTRY_BYTES:
                limit, why = (
                    MAX_TOTAL_BYTES - total,
                    f"takes the CHARX over {_mib(MAX_TOTAL_BYTES)} MiB",
                )
            else:
                limit, why = MAX_ENTRY_BYTES, f"is over {_mib(MAX_ENTRY_BYTES)} MiB"
            body = _read(archive, info, limit, why + " unpacked")
            total += len(body)
            files[info.filename] = body
    return character, _main_icon(character, files), files


def _ext(image: bytes) -> str:
    if image.startswith(b"\x89PNG"):
        return "png"
    if image.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if image[:4] == b"RIFF" and image[8:12] == b"WEBP":
        return "webp"
    if image[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if image[4:12] in (b"ftypavif", b"ftypavis"):
        return "avif"
    return "bin"


def charx_bytes(
    character: Character, image: bytes | None = None, assets: dict[str, bytes] | None = None
) -> bytes:
    """A CHARX archive: V3 ``card.json``, ``assets`` as given, and ``image`` as the main icon."""
    card = character.to_card_dict("v3")
    data: dict[str, Any] = card["data"]
    files = {check_name(name): body for name, body in (assets or {}).items()}
    files.pop(CARD_NAME, None)
    if image is not None:
        listed = [a for a in data.get("assets") or [] if isinstance(a, dict)]
        for asset in listed:
            if asset.get("type") == "icon" and asset.get("name") == "main":
                for prefix in _EMBEDDED:
                    if str(asset.get("uri", "")).startswith(prefix):
                        files.pop(str(asset["uri"])[len(prefix) :], None)
        ext = _ext(image)
        path = f"assets/icon/images/main.{ext}"
        files[path] = image
        others = [a for a in listed if not (a.get("type") == "icon" and a.get("name") == "main")]
        icon = {"type": "icon", "uri": f"embeded://{path}", "name": "main", "ext": ext}
        data["assets"] = [icon, *others]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, body in [(CARD_NAME, encode_json(card)), *sorted(files.items())]:
            info = zipfile.ZipInfo(name, _FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, body)
    return buffer.getvalue()
