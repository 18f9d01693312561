"""Cards as JSON files: UTF-8 (a BOM is tolerated), at most :data:`MAX_JSON_BYTES`."""

from __future__ import annotations

import codecs
import json
import math
from typing import Any

from personae.characters.card import Character, SpecVersion
from personae.errors import CardError

MAX_JSON_BYTES = 20 * 1024 * 1024
# The character's V1 fields, which SillyTavern also writes at the top level of V2/V3 cards and
# which V1-only readers (e.g. aichar) look for there; without them such readers see a blank card.
V1_FIELDS = ("name", "description", "personality", "scenario", "first_mes", "mes_example")


def _finite(literal: str) -> float:
    value = float(literal)
    if not math.isfinite(value):
        raise CardError(f"card JSON has the number {literal[:20]} which is out of range")
    return value


def _no_constants(literal: str) -> Any:
    raise CardError(f"card JSON contains {literal}, which is not valid JSON; use a number")


def decode_card_json(data: bytes, *, source: str = "card JSON") -> Any:
    """Decode bytes to a JSON value with the size, encoding and nesting checks cards need."""
    if len(data) > MAX_JSON_BYTES:
        raise CardError(
            f"{source} is {len(data) // 1024 // 1024} MiB; cards over "
            f"{MAX_JSON_BYTES // 1024 // 1024} MiB are refused (remove embedded images from it)"
        )
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CardError(
            f"{source} is not valid UTF-8 (bad byte at offset {exc.start}); re-save it as UTF-8"
        ) from None
    try:
        return json.loads(text, parse_float=_finite, parse_constant=_no_constants)
    except RecursionError:
        raise CardError(f"{source} is nested too deeply to be a card") from None
    except json.JSONDecodeError as exc:
        raise CardError(
            f"{source} is not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
        ) from None
    except ValueError as exc:  # e.g. an integer with more digits than Python will convert
        reason = str(exc).splitlines()[0][:80]
        raise CardError(f"{source} is not usable JSON ({reason})") from None


def parse_card_json(data: bytes, *, source: str = "card JSON") -> Character:
    """A character from card JSON bytes (V1, V2 or V3)."""
    return Character.from_card_dict(decode_card_json(data, source=source))


def encode_json(value: Any, *, indent: int | None = None) -> bytes:
    """UTF-8 JSON bytes; text that cannot be encoded (lone surrogates) is a CardError."""
    separators = (",", ": ") if indent is not None else (",", ":")
    try:
        return json.dumps(value, ensure_ascii=False, indent=indent, separators=separators).encode(
            "utf-8"
        )
    except UnicodeEncodeError:
        raise CardError(
            "the card contains text that is not valid Unicode (a lone surrogate); remove it"
        ) from None
    except (ValueError, RecursionError, TypeError) as exc:
        raise CardError(f"the card cannot be written as JSON ({exc}); fix its extensions") from None


def export_card_dict(character: Character, spec: SpecVersion | None = None) -> dict[str, Any]:
    """The card as files carry it: :meth:`Character.to_card_dict` plus, at the top level, the
    V1 fields and the old fields SillyTavern writes beside them (``creatorcomment``, ``tags``,
    and ``talkativeness``/``fav`` when the card's extensions hold them). Readers take ``data``
    whenever it is there, so the copies change nothing on import."""
    card = character.to_card_dict(spec)
    data: dict[str, Any] = card["data"]
    legacy: dict[str, Any] = {name: data[name] for name in V1_FIELDS}
    legacy["creatorcomment"] = data["creator_notes"]
    legacy["tags"] = list(data["tags"])
    for name in ("talkativeness", "fav"):
        if name in character.extensions:
            legacy[name] = character.extensions[name]
    return {"spec": card["spec"], "spec_version": card["spec_version"], **legacy, "data": data}


def card_json_bytes(character: Character, spec: SpecVersion | None = None) -> bytes:
    """The card as pretty-printed UTF-8 JSON (keeps Korean readable, not ``\\uXXXX``), with
    the V1 fields at the top level as well (see :func:`export_card_dict`)."""
    return encode_json(export_card_dict(character, spec), indent=2)
