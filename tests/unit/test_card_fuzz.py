"""R2: card readers fail only with CardError (one non-empty line), whatever the input."""

from __future__ import annotations

import base64
import io
import json
import zipfile
import zlib
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from personae.characters import Character, card_bytes, read_card_bytes
from personae.characters.formats import charx, json_card
from personae.errors import CardError
from tests.unit.test_card_formats import chunk, full_card, make_zip, text, tiny_png

FUZZ = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

json_leaf = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
json_value = st.recursive(
    json_leaf,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
CARD_FIELDS = [
    "name",
    "description",
    "first_mes",
    "alternate_greetings",
    "tags",
    "extensions",
    "character_book",
    "nickname",
    "creator_notes_multilingual",
    "source",
    "group_only_greetings",
    "creation_date",
    "assets",
]
ENTRY_FIELDS = [
    "keys",
    "content",
    "enabled",
    "insertion_order",
    "case_sensitive",
    "use_regex",
    "constant",
    "selective",
    "secondary_keys",
    "priority",
    "position",
    "id",
    "extensions",
]
BOOK_FIELDS = ["scan_depth", "token_budget", "recursive_scanning", "entries", "extensions", "name"]


def fails_cleanly(action: Callable[[], object]) -> None:
    """Run ``action``; success is fine, and so is a CardError with a one-line message."""
    try:
        action()
    except CardError as exc:
        message = str(exc)
        assert message.strip(), "empty error message"
        assert "\n" not in message and "\r" not in message


V2_PNG = card_bytes(Character.from_card_dict(full_card("v2")), "png", tiny_png())
V3_CHARX = card_bytes(Character.from_card_dict(full_card("v3")), "charx", tiny_png())
V3_JSON = json.dumps(full_card("v3")).encode()


@FUZZ
@given(st.integers(min_value=0, max_value=len(V2_PNG)))
def test_truncated_png(cut: int) -> None:
    fails_cleanly(lambda: read_card_bytes(V2_PNG[:cut]))


@FUZZ
@given(st.lists(st.tuples(st.integers(0, len(V2_PNG) - 1), st.integers(1, 255)), max_size=6))
def test_flipped_png_bytes(flips: list[tuple[int, int]]) -> None:
    data = bytearray(V2_PNG)
    for index, mask in flips:
        data[index] ^= mask
    fails_cleanly(lambda: read_card_bytes(bytes(data)))


@FUZZ
@given(st.binary(max_size=300), st.sampled_from([b"tEXt", b"zTXt", b"iTXt"]))
def test_garbage_card_chunk(value: bytes, kind: bytes) -> None:
    png = tiny_png((kind, b"chara\0" + value))
    fails_cleanly(lambda: read_card_bytes(png))


@FUZZ
@given(st.text(alphabet="ABCDEFGHabcdefgh0123456789+/=-_ \n!", max_size=200))
def test_bad_base64(value: str) -> None:
    png = tiny_png((b"tEXt", b"ccv3\0" + value.encode()))
    fails_cleanly(lambda: read_card_bytes(png))


@FUZZ
@given(st.binary(max_size=200))
def test_base64_of_random_bytes(raw: bytes) -> None:
    png = tiny_png(text("chara", raw))
    fails_cleanly(lambda: read_card_bytes(png))


@FUZZ
@given(st.lists(st.tuples(st.binary(min_size=4, max_size=4), st.binary(max_size=40)), max_size=6))
def test_random_chunk_sequences(chunks: list[tuple[bytes, bytes]]) -> None:
    body = b"".join(chunk(kind, data) for kind, data in chunks)
    fails_cleanly(lambda: read_card_bytes(b"\x89PNG\r\n\x1a\n" + body))


@FUZZ
@given(json_value)
def test_arbitrary_json_as_card(value: Any) -> None:
    fails_cleanly(lambda: Character.from_card_dict(value))
    fails_cleanly(lambda: read_card_bytes(json.dumps(value).encode()))


@FUZZ
@given(st.sampled_from(CARD_FIELDS), json_value, st.sampled_from(["v1", "v2", "v3"]))
def test_wrong_types_in_card_fields(field: str, value: Any, spec: str) -> None:
    card = full_card(spec)
    target = card if spec == "v1" else card["data"]
    target[field] = value

    def check() -> None:
        character = Character.from_card_dict(card)
        # Whatever was accepted must also survive every writer and come back.
        for fmt in ("json", "png", "charx"):
            read_card_bytes(card_bytes(character, fmt))

    fails_cleanly(check)


@FUZZ
@given(st.sampled_from(ENTRY_FIELDS + BOOK_FIELDS), json_value)
def test_wrong_types_in_lorebook(field: str, value: Any) -> None:
    card = full_card("v2")
    book = card["data"]["character_book"]
    (book["entries"][0] if field in ENTRY_FIELDS else book)[field] = value
    fails_cleanly(lambda: read_card_bytes(json.dumps(card).encode()))


@FUZZ
@given(st.integers(min_value=1, max_value=3000), st.sampled_from(["[", '{"a":']))
def test_deeply_nested_json(depth: int, opener: str) -> None:
    closer = "]" if opener == "[" else "}"
    nested = opener * depth + "1" + closer * depth
    raw = (
        '{"spec":"chara_card_v2","data":{"name":"A","extensions":{"x":' + nested + "}}}"
    ).encode()
    fails_cleanly(lambda: read_card_bytes(raw))
    fails_cleanly(lambda: read_card_bytes(tiny_png(text("chara", raw))))


@settings(max_examples=20, deadline=None)
@given(st.integers(min_value=1, max_value=4), st.sampled_from(["description", "first_mes"]))
def test_huge_fields(megabytes: int, field: str) -> None:
    card = full_card("v2")
    card["data"][field] = "x" * (megabytes * 1024 * 1024)
    raw = json.dumps(card).encode()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(json_card, "MAX_JSON_BYTES", 1024 * 1024)
        with pytest.raises(CardError, match="MiB"):
            read_card_bytes(raw)


@FUZZ
@given(st.binary(max_size=400))
def test_random_bytes(data: bytes) -> None:
    fails_cleanly(lambda: read_card_bytes(data))
    fails_cleanly(lambda: read_card_bytes(b"PK\x03\x04" + data))
    fails_cleanly(lambda: read_card_bytes(b"\x89PNG\r\n\x1a\n" + data))


zip_names = st.lists(
    st.sampled_from(["a", "b", ".", "..", "/", "\\", ":", "한", "card.json", "assets/", "C:"]),
    max_size=6,
).map("".join)


@FUZZ
@given(
    st.dictionaries(zip_names, st.binary(max_size=50), max_size=5),
    st.booleans(),
    st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2]),
)
def test_random_zip_files(files: dict[str, bytes], with_card: bool, method: int) -> None:
    if with_card:
        files = {**files, "card.json": V3_JSON}
    files = {name: body for name, body in files.items() if name}
    data = make_zip(files, method)
    fails_cleanly(lambda: read_card_bytes(data))


@FUZZ
@given(st.integers(min_value=0, max_value=len(V3_CHARX)))
def test_truncated_charx(cut: int) -> None:
    fails_cleanly(lambda: read_card_bytes(V3_CHARX[:cut]))


@FUZZ
@given(st.lists(st.tuples(st.integers(0, len(V3_CHARX) - 1), st.integers(1, 255)), max_size=4))
def test_flipped_charx_bytes(flips: list[tuple[int, int]]) -> None:
    data = bytearray(V3_CHARX)
    for index, mask in flips:
        data[index] ^= mask
    fails_cleanly(lambda: read_card_bytes(bytes(data)))


@settings(max_examples=25, deadline=None)
@given(
    st.integers(min_value=1, max_value=8),
    st.sampled_from(["card.json", "assets/icon/images/main.png", "assets/other.bin"]),
)
def test_zip_bombs(factor: int, name: str) -> None:
    # Caps shrunk so each bomb is cheap to build; the real caps are tested in test_card_formats.
    cap = 64 * 1024
    bomb = b"\0" * (cap * factor + 1)
    files = {"card.json": V3_JSON, name: bomb}
    data = make_zip(files)
    assert len(data) < len(bomb) // 20  # it really is a bomb
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(charx, "MAX_ENTRY_BYTES", cap)
        patch.setattr(charx, "MAX_TOTAL_BYTES", cap * 2)
        patch.setattr(charx, "MAX_JSON_BYTES", cap)
        with pytest.raises(CardError) as info:
            read_card_bytes(data)
    assert "\n" not in str(info.value)


@FUZZ
@given(st.binary(max_size=64))
def test_compressed_text_chunk_bombs(tail: bytes) -> None:
    payload = zlib.compress(base64.b64encode(tail) + b"A" * 200_000)
    png = tiny_png((b"zTXt", b"chara\0\0" + payload))
    with pytest.MonkeyPatch.context() as patch:
        from personae.characters.formats import png as png_module

        patch.setattr(png_module, "MAX_TEXT_BYTES", 50_000)
        fails_cleanly(lambda: read_card_bytes(png))


def test_charx_of_every_spec_round_trips() -> None:
    for spec in ("v1", "v2", "v3"):
        data = card_bytes(Character.from_card_dict(full_card(spec)), "charx")
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            assert json.loads(archive.read("card.json"))["spec"] == "chara_card_v3"
