"""Card files: JSON, PNG and CHARX round trips, PNG chunk rules, CHARX safety, file handling."""

from __future__ import annotations

import base64
import codecs
import copy
import io
import json
import struct
import zipfile
import zlib
from pathlib import Path
from typing import Any

import pytest

from personae.characters import (
    CardFormat,
    Character,
    card_bytes,
    placeholder_png,
    read_card,
    read_card_bytes,
    write_card,
)
from personae.characters.formats import charx, json_card
from personae.errors import CardError

# A small independent PNG chunk reader/writer, so the code under test is not its own oracle.
SIG = b"\x89PNG\r\n\x1a\n"


def chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def parse(png: bytes) -> list[tuple[bytes, bytes]]:
    """Chunks of a PNG, asserting signature, bounds and every CRC."""
    assert png[:8] == SIG
    pos, out = 8, []
    while pos < len(png):
        (length,) = struct.unpack(">I", png[pos : pos + 4])
        kind = png[pos + 4 : pos + 8]
        data = png[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", png[pos + 8 + length : pos + 12 + length])
        assert len(data) == length
        assert crc == zlib.crc32(kind + data), f"bad CRC in {kind!r}"
        out.append((kind, data))
        pos += 12 + length
    assert out[0][0] == b"IHDR" and out[-1] == (b"IEND", b"")
    return out


def tiny_png(*extra: tuple[bytes, bytes]) -> bytes:
    """A valid 1x1 RGB PNG; ``extra`` chunks go between IDAT and IEND."""
    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    body = chunk(b"IHDR", header) + chunk(b"IDAT", pixels)
    body += b"".join(chunk(kind, data) for kind, data in extra)
    return SIG + body + chunk(b"IEND", b"")


def text(keyword: str, card: dict[str, Any] | bytes) -> tuple[bytes, bytes]:
    raw = card if isinstance(card, bytes) else json.dumps(card).encode()
    return b"tEXt", keyword.encode("latin-1") + b"\0" + base64.b64encode(raw)


def texts(png: bytes) -> dict[str, Any]:
    """Decoded card text chunks by keyword (in file order, duplicates as a list)."""
    found: dict[str, Any] = {}
    for kind, data in parse(png):
        key, _, value = data.partition(b"\0")
        if kind == b"tEXt" and key.lower() in (b"chara", b"ccv3"):
            found.setdefault(key.decode("latin-1"), []).append(json.loads(base64.b64decode(value)))
    return found


# --- round trips ---------------------------------------------------------------------------

NESTED = {"vendor": {"deep": {"list": [1, {"x": None, "y": [True, 2.5]}]}, "s": "한글"}}


def full_card(spec: str) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "Aria",
        "description": "Keeper of the {{char}} light. 등대지기.",
        "personality": "calm",
        "scenario": "Storm.",
        "first_mes": "Welcome, {{user}}.",
        "mes_example": "<START>\n{{user}}: Hi\n{{char}}: Hello.",
    }
    if spec == "v1":
        return {**data, "talkativeness": "0.5"}
    data.update(
        {
            "creator_notes": "n",
            "system_prompt": "{{original}} Be brief.",
            "post_history_instructions": "",
            "alternate_greetings": ["Oh, hi."],
            "tags": ["sea"],
            "creator": "me",
            "character_version": "2",
            "extensions": copy.deepcopy(NESTED),
            "x_unknown_data_key": {"kept": True},
            "character_book": {
                "name": "Lore",
                "extensions": copy.deepcopy(NESTED),
                "entries": [
                    {
                        "keys": ["등대", "light"],
                        "content": "The light.",
                        "extensions": copy.deepcopy(NESTED),
                        "enabled": True,
                        "insertion_order": 1,
                        "use_regex": False,
                        "secondary_keys": [],
                        "x_entry_extra": [1, 2],
                    }
                ],
            },
        }
    )
    if spec == "v2":
        return {"spec": "chara_card_v2", "spec_version": "2.0", "data": data}
    data.update(
        {
            "nickname": "Ari",
            "group_only_greetings": ["Hello all."],
            "creation_date": 1,
            "source": ["personae-test"],
        }
    )
    return {"spec": "chara_card_v3", "spec_version": "3.0", "data": data}


def meaning(character: Character) -> dict[str, Any]:
    # CHARX adds an icon asset entry and is always V3: compare what the card says, not envelope.
    card = character.to_card_dict("v3")
    card["data"].pop("assets", None)
    return card


@pytest.mark.parametrize("spec", ["v1", "v2", "v3"])
@pytest.mark.parametrize("fmt", ["json", "png", "charx"])
def test_round_trip_preserves_meaning_and_extensions(spec: str, fmt: CardFormat) -> None:
    original = Character.from_card_dict(full_card(spec))
    loaded = read_card_bytes(card_bytes(original, fmt))
    assert loaded.format == fmt
    assert meaning(loaded.character) == meaning(original)
    if spec != "v1":
        assert loaded.character.extensions == NESTED
        book = loaded.character.character_book
        assert book is not None and book.extensions == NESTED
        assert book.entries[0].extensions == NESTED
        assert book.entries[0].model_extra == {"x_entry_extra": [1, 2]}
    if fmt != "charx":
        assert loaded.character.spec == original.spec
    # And a second trip changes nothing at all.
    again = read_card_bytes(card_bytes(loaded.character, fmt, loaded.image, assets=loaded.assets))
    assert again.character.to_card_dict() == loaded.character.to_card_dict()


def test_json_output_is_pretty_utf8() -> None:
    raw = card_bytes(Character(name="춘향"), "json")
    assert "춘향".encode() in raw and raw.startswith(b"{\n")


V1_FIELDS = ("name", "description", "personality", "scenario", "first_mes", "mes_example")


def v1_view(card: dict[str, Any]) -> dict[str, Any]:
    """What a V1-only reader (aichar and the like) sees: the top-level fields, nothing else."""
    return {name: card.get(name, "") for name in V1_FIELDS}


def exported_cards(character: Character, spec: str) -> list[dict[str, Any]]:
    """Every card JSON an export writes: the JSON file, and each PNG text chunk."""
    found = [json.loads(card_bytes(character, "json", spec=spec))]
    chunks = texts(card_bytes(character, "png", spec=spec))
    return found + [card for cards in chunks.values() for card in cards]


@pytest.mark.parametrize("spec", ["v2", "v3"])
def test_exports_carry_the_v1_fields_at_the_top_level(spec: str) -> None:
    original = Character.from_card_dict(full_card(spec))
    original.extensions["talkativeness"] = "0.7"
    cards = exported_cards(original, spec)
    assert len(cards) == (2 if spec == "v2" else 3)
    for card in cards:
        assert v1_view(card) == {name: card["data"][name] for name in V1_FIELDS}
        assert v1_view(card)["name"] == "Aria" and v1_view(card)["first_mes"]
        assert card["creatorcomment"] == card["data"]["creator_notes"]
        assert card["tags"] == ["sea"] and card["talkativeness"] == "0.7"
        assert card["spec"] in ("chara_card_v2", "chara_card_v3")


def test_data_wins_over_the_top_level_copies() -> None:
    card = {**full_card("v2"), "name": "Stale", "description": "old", "first_mes": "old"}
    character = Character.from_card_dict(card)
    assert (character.name, character.description) == (
        "Aria",
        full_card("v2")["data"]["description"],
    )
    # And a round trip through every writer keeps data as it was (the copies are regenerated).
    for fmt in ("json", "png"):
        again = read_card_bytes(card_bytes(character, fmt)).character
        assert again.to_card_dict() == character.to_card_dict()


# --- PNG -----------------------------------------------------------------------------------


def test_v2_png_has_only_chara_and_v3_has_both() -> None:
    v2 = Character.from_card_dict(full_card("v2"))
    found = texts(card_bytes(v2, "png"))
    assert list(found) == ["chara"]
    assert found["chara"][0]["spec"] == "chara_card_v2"
    v3 = Character.from_card_dict(full_card("v3"))
    found = texts(card_bytes(v3, "png"))
    assert sorted(found) == ["ccv3", "chara"]
    assert found["ccv3"][0]["spec"] == "chara_card_v3"
    assert found["chara"][0]["spec"] == "chara_card_v2"
    assert found["chara"][0]["data"]["nickname"] == "Ari"


def test_ccv3_is_preferred_over_chara() -> None:
    png = tiny_png(text("chara", full_card("v2")), text("ccv3", {**full_card("v3")}))
    png_reversed = tiny_png(text("ccv3", full_card("v3")), text("chara", full_card("v2")))
    for data in (png, png_reversed):
        assert read_card_bytes(data).character.spec == "chara_card_v3"


@pytest.mark.parametrize("keyword", ["Chara", "CHARA", "CcV3"])
def test_keywords_match_case_insensitively(keyword: str) -> None:
    loaded = read_card_bytes(tiny_png(text(keyword, full_card("v2"))))
    assert loaded.character.name == "Aria"


def test_writing_replaces_old_card_chunks_and_inserts_before_iend() -> None:
    stale = {"spec": "chara_card_v2", "data": {"name": "Stale"}}
    image = tiny_png(
        (b"tEXt", b"Comment\0keep me"),
        text("CHARA", stale),
        text("ccv3", stale),
        (b"zTXt", b"chara\0\0" + zlib.compress(base64.b64encode(json.dumps(stale).encode()))),
        (b"eXIf", b"MM\0*"),
    )
    out = card_bytes(Character.from_card_dict(full_card("v3")), "png", image)
    chunks = parse(out)
    kinds = [kind for kind, _ in chunks]
    assert kinds == [b"IHDR", b"IDAT", b"tEXt", b"eXIf", b"tEXt", b"tEXt", b"IEND"]
    assert chunks[2][1] == b"Comment\0keep me"
    found = texts(out)
    assert len(found["chara"]) == 1 and len(found["ccv3"]) == 1
    assert found["chara"][0]["data"]["name"] == "Aria"
    assert "CHARA" not in found


def test_read_returns_image_without_card_chunks() -> None:
    base = tiny_png((b"tEXt", b"Comment\0hi"))
    loaded = read_card_bytes(card_bytes(Character(name="A"), "png", base))
    assert loaded.image == base


def test_placeholder_is_a_valid_256px_png() -> None:
    png = placeholder_png("Mina")
    chunks = parse(png)
    width, height = struct.unpack(">II", chunks[0][1][:8])
    assert (width, height) == (256, 256)
    raw = zlib.decompress(chunks[1][1])
    assert len(raw) == 256 * (1 + 256 * 3)
    assert placeholder_png("Mina") == png
    written = card_bytes(Character(name="Mina"), "png")
    assert parse(written)[0] == chunks[0]


@pytest.mark.parametrize(
    "make",
    [
        lambda raw: (b"zTXt", b"chara\0\0" + zlib.compress(base64.b64encode(raw))),
        lambda raw: (b"iTXt", b"chara\0\0\0en\0\0" + base64.b64encode(raw)),
        lambda raw: (b"iTXt", b"chara\0\1\0\0\0" + zlib.compress(base64.b64encode(raw))),
        lambda raw: (b"tEXt", b"chara\0" + raw),  # raw JSON instead of base64
        lambda raw: (b"tEXt", b"chara\0" + base64.b64encode(raw).rstrip(b"=") + b"\n"),
    ],
)
def test_other_text_chunk_forms_are_tolerated(make: Any) -> None:
    raw = json.dumps(full_card("v2")).encode()
    assert read_card_bytes(tiny_png(make(raw))).character.name == "Aria"


def test_broken_ccv3_falls_back_to_chara() -> None:
    png = tiny_png((b"tEXt", b"ccv3\0!!!not base64!!!"), text("chara", full_card("v2")))
    assert read_card_bytes(png).character.name == "Aria"


def one_line_card_error(data: bytes, match: str = "") -> str:
    with pytest.raises(CardError) as info:
        read_card_bytes(data)
    message = str(info.value)
    assert message and "\n" not in message
    assert match.lower() in message.lower()
    return message


def test_png_failures_are_card_errors() -> None:
    good = tiny_png(text("chara", full_card("v2")))
    one_line_card_error(tiny_png(), "no character card")
    one_line_card_error(good[:-20], "truncated")
    flipped = bytearray(good)
    flipped[40] ^= 0xFF
    one_line_card_error(bytes(flipped), "")
    one_line_card_error(tiny_png((b"tEXt", b"chara\0@@@@")), "base64")
    one_line_card_error(tiny_png(text("chara", b"\xff\xfe{}")), "UTF-8")
    one_line_card_error(tiny_png(text("chara", b"{not json")), "JSON")
    one_line_card_error(tiny_png(text("chara", b"[1, 2]")), "object")
    one_line_card_error(tiny_png((b"zTXt", b"chara\0\0garbage")), "inflate")
    one_line_card_error(good[:8] + chunk(b"IDAT", b"") + good[8:], "IHDR")


def test_bad_crc_is_reported_as_crc() -> None:
    good = bytearray(tiny_png(text("chara", full_card("v2"))))
    good[-5] ^= 0x01  # inside IEND's CRC
    one_line_card_error(bytes(good), "CRC")


def test_embedding_needs_a_png_image() -> None:
    with pytest.raises(CardError, match="PNG"):
        card_bytes(Character(name="A"), "png", b"\xff\xd8\xff\xe0 jpeg")


# --- CHARX ---------------------------------------------------------------------------------


def make_zip(files: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        for name, body in files.items():
            archive.writestr(name, body)
    return buffer.getvalue()


def test_charx_stores_icon_and_reads_it_back() -> None:
    icon = tiny_png()
    data = card_bytes(Character(name="A"), "charx", icon, assets={"assets/other/x.txt": b"hi"})
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = archive.namelist()
        card = json.loads(archive.read("card.json"))
    assert names[0] == "card.json"
    assert "assets/icon/images/main.png" in names
    assert card["spec"] == "chara_card_v3"
    assert card["data"]["assets"][0] == {
        "type": "icon",
        "uri": "embeded://assets/icon/images/main.png",
        "name": "main",
        "ext": "png",
    }
    loaded = read_card_bytes(data)
    assert loaded.image == icon
    assert loaded.assets["assets/other/x.txt"] == b"hi"


def test_charx_rewrite_replaces_the_old_icon() -> None:
    first = read_card_bytes(card_bytes(Character(name="A"), "charx", tiny_png()))
    jpeg = b"\xff\xd8\xff\xe0 pretend jpeg"
    second = read_card_bytes(card_bytes(first.character, "charx", jpeg, assets=first.assets))
    assert second.image == jpeg
    assert sorted(second.assets) == ["assets/icon/images/main.jpeg"]
    icons = [a for a in second.character.assets or [] if a.type == "icon"]
    assert len(icons) == 1


def test_charx_icon_found_without_asset_list() -> None:
    card = json.dumps({"spec": "chara_card_v3", "data": {"name": "A"}}).encode()
    data = make_zip({"card.json": card, "assets/icon/images/a.webp": b"RIFF....WEBP"})
    assert read_card_bytes(data).image == b"RIFF....WEBP"


def test_charx_without_icon_has_no_image() -> None:
    loaded = read_card_bytes(card_bytes(Character(name="A"), "charx"))
    assert loaded.image is None and loaded.assets == {}


def v3_json() -> bytes:
    return json.dumps(full_card("v3")).encode()


@pytest.mark.parametrize(
    ("files", "match"),
    [
        ({"other.json": b"{}"}, "card.json"),
        ({"card.json": b"not json"}, "JSON"),
        ({"card.json": b"{}", "../evil.txt": b"x"}, "outside"),
        ({"card.json": b"{}", "/abs.txt": b"x"}, "outside"),
        ({"card.json": b"{}", "a\\..\\b": b"x"}, "outside"),
        ({"card.json": b"{}", "C:/x": b"x"}, "outside"),
    ],
)
def test_charx_failures(files: dict[str, bytes], match: str) -> None:
    one_line_card_error(make_zip(files), match)


def test_not_a_zip_is_card_error() -> None:
    one_line_card_error(b"PK\x03\x04 this is not really a zip", "CHARX")
    one_line_card_error(make_zip({"card.json": v3_json()})[:-30], "CHARX")


def test_zip_bomb_entry_is_refused() -> None:
    bomb = make_zip(
        {"card.json": v3_json(), "assets/bomb.bin": b"\0" * (charx.MAX_ENTRY_BYTES + 1)}
    )
    assert len(bomb) < 200_000
    one_line_card_error(bomb, "MiB")


def test_total_size_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(charx, "MAX_TOTAL_BYTES", 20_000)
    files = {"card.json": v3_json(), **{f"assets/{i}.bin": b"\1" * 6000 for i in range(5)}}
    one_line_card_error(make_zip(files), "MiB")


def test_entry_count_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(charx, "MAX_ENTRIES", 3)
    files = {"card.json": v3_json(), **{f"assets/{i}": b"" for i in range(3)}}
    one_line_card_error(make_zip(files), "entries")


def test_lying_size_header_is_caught() -> None:
    body = b"A" * 5000
    data = make_zip({"card.json": v3_json(), "assets/x.bin": body})
    # Rewrite every "uncompressed size" field that says 5000 to say 10.
    lied = bytes(data).replace(struct.pack("<I", 5000), struct.pack("<I", 10))
    assert lied != bytes(data)
    one_line_card_error(lied, "")


def test_card_json_size_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(charx, "MAX_JSON_BYTES", 100)
    one_line_card_error(make_zip({"card.json": v3_json()}), "card.json")


def test_writer_refuses_unsafe_asset_names() -> None:
    with pytest.raises(CardError, match="outside"):
        card_bytes(Character(name="A"), "charx", assets={"../x": b""})


# --- JSON ----------------------------------------------------------------------------------


def test_json_bom_is_tolerated() -> None:
    data = codecs.BOM_UTF8 + json.dumps(full_card("v2")).encode()
    assert read_card_bytes(data).character.name == "Aria"


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (b"\xff\xfe\x00x", "UTF-8"),
        (b"{", "JSON"),
        (b'{"name": NaN}', "NaN"),
        (b'{"name": 1e999}', "range"),
        (b'{"name": "a", "n": ' + b"9" * 5000 + b"}", "JSON"),
        (b"[" * 100_000 + b"]" * 100_000, ""),
        (b'"just a string"', "object"),
        (b"   ", "empty"),
    ],
    ids=["utf8", "truncated", "nan", "inf", "huge-int", "deep", "string", "blank"],
)
def test_json_failures(data: bytes, match: str) -> None:
    one_line_card_error(data, match)


def test_json_size_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(json_card, "MAX_JSON_BYTES", 50)
    one_line_card_error(json.dumps(full_card("v2")).encode(), "MiB")


def test_other_image_types_are_named() -> None:
    one_line_card_error(b"\xff\xd8\xff\xe0rest", "JPEG")
    one_line_card_error(b"RIFF\0\0\0\0WEBPVP8 ", "WebP")


def test_suffix_mismatch_is_reported() -> None:
    with pytest.raises(CardError, match="not a PNG"):
        read_card_bytes(b'{"name": "A"}', filename="a.png")


def test_lone_surrogate_cannot_be_written() -> None:
    # Built directly: reading a card already refuses one (see test_card_limits).
    character = Character(name="A", description="\ud800")
    with pytest.raises(CardError, match="Unicode"):
        card_bytes(character, "json")


# --- files and argument checks -------------------------------------------------------------


@pytest.mark.parametrize("suffix", ["json", "png", "charx"])
def test_write_and_read_files(tmp_path: Path, suffix: str) -> None:
    character = Character.from_card_dict(full_card("v2"))
    path = write_card(character, tmp_path / f"aria.{suffix}")
    assert path.exists()
    assert [p.name for p in tmp_path.iterdir()] == [f"aria.{suffix}"]
    loaded = read_card(path)
    assert loaded.format == suffix
    assert meaning(loaded.character) == meaning(character)


def test_write_explicit_format_and_overwrite(tmp_path: Path) -> None:
    path = tmp_path / "card.bin"
    write_card(Character(name="One"), path, "json")
    write_card(Character(name="Two"), str(path), "png")
    assert read_card(path).character.name == "Two"


def test_file_errors_are_card_errors(tmp_path: Path) -> None:
    with pytest.raises(CardError, match="cannot read"):
        read_card(tmp_path / "missing.png")
    with pytest.raises(CardError, match="cannot read"):
        read_card(tmp_path)
    with pytest.raises(CardError, match="cannot write"):
        write_card(Character(name="A"), tmp_path / "no" / "dir.json")
    with pytest.raises(CardError, match="format"):
        write_card(Character(name="A"), tmp_path / "card.txt")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("args", "match"),
    [
        ((Character(name="A"), "gif"), "format"),
        ((Character(name="A"), None), "format"),
        (({"name": "A"}, "json"), "Character"),
        ((Character(name="A"), "png", "not bytes"), "bytes"),
    ],
)
def test_card_bytes_bad_arguments(args: tuple[Any, ...], match: str) -> None:
    with pytest.raises(CardError, match=match):
        card_bytes(*args)


def test_read_card_bytes_needs_bytes() -> None:
    with pytest.raises(CardError, match="bytes"):
        read_card_bytes("a string")  # type: ignore[arg-type]
    assert read_card_bytes(bytearray(b'{"name": "A"}')).character.name == "A"
