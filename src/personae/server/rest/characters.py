"""``/api/characters``: list, upload, read, replace, share, delete and download character cards.

An upload is the card file itself as the body (PNG with its ``chara``/``ccv3`` chunk, V1/V2/V3
JSON, or CHARX), sniffed from its bytes whatever its Content-Type says. With API keys a
character belongs to the key's user and is private unless shared; on an open server characters
have no owner and are always shared. Only a character's owner (or, on an open server, anyone)
may change or delete it. With keys, an upload's id is made in its owner's own space
(``twin--alice``), so that it never reveals which names other users' private characters have.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query
from starlette.requests import Request
from starlette.responses import Response

from personae.characters import card_bytes, read_card_bytes
from personae.characters.formats.png import is_png
from personae.memory.bank import MemoryBank
from personae.server.auth import get_caller
from personae.server.errors import APIError
from personae.server.rest.common import (
    CardRoute,
    CharacterId,
    LimitedRoute,
    editable_character,
    no_content,
    raw_body,
    url_id,
    visible_character,
)
from personae.server.rest.schemas import (
    CharacterDetail,
    CharacterList,
    SharedChange,
)
from personae.server.state import get_state
from personae.server.strategies import Strategies
from personae.store import CharacterRepository, StoredCharacter

router = APIRouter(route_class=LimitedRoute, tags=["characters"])
uploads = APIRouter(route_class=CardRoute, tags=["characters"])

DESCRIPTION_CHARS = 300
_BINARY = {"schema": {"type": "string", "format": "binary"}}
CARD_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "The card file: PNG with the card embedded, card JSON (V1, V2 or V3), "
        "or CHARX. The format is read from the bytes.",
        "content": {
            "image/png": _BINARY,
            "application/json": {"schema": {"type": "object"}},
            "application/zip": _BINARY,
            "application/octet-stream": _BINARY,
        },
    }
}
MEDIA_TYPES = {"png": "image/png", "json": "application/json", "charx": "application/zip"}
_IMAGE_TYPES = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF8", "image/gif"),
)


def summary(stored: StoredCharacter, viewer: str | None, strategies: Strategies) -> dict[str, Any]:
    c = stored.character
    strategy = strategies.for_character(stored.id)
    return {
        "id": stored.id,
        "name": c.name,
        "description": c.description[:DESCRIPTION_CHARS],
        "creator": c.creator,
        "tags": list(c.tags),
        "first_message": c.first_mes,
        "avatar_url": f"/api/characters/{url_id(stored.id)}/avatar" if stored.image else None,
        "owner_id": stored.owner_id,
        "shared": stored.shared,
        "editable": stored.editable_by(viewer),
        "created_at": stored.created_at,
        "updated_at": stored.updated_at,
        "reply": {"strategy": strategy.name, "n": strategy.candidates},
    }


def detail(stored: StoredCharacter, viewer: str | None, strategies: Strategies) -> dict[str, Any]:
    return {**summary(stored, viewer, strategies), "card": stored.character.to_card_dict()}


def image_type(image: bytes) -> str:
    for magic, media_type in _IMAGE_TYPES:
        if image.startswith(magic):
            return media_type
    if image[:4] == b"RIFF" and image[8:12] == b"WEBP":
        return "image/webp"
    return "application/octet-stream"


def attachment(filename: str) -> str:
    """A Content-Disposition for a download, with an ASCII name for old clients and the real
    (perhaps Hangul) one for the rest (RFC 6266)."""
    ext = filename.rpartition(".")[2]
    fallback = filename if filename.isascii() else f"character.{ext}"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


@router.get(
    "/characters",
    response_model=CharacterList,
    summary="List the characters you can use",
    description="Shared characters and your own private ones, by name.",
)
def list_characters(request: Request) -> dict[str, Any]:
    viewer = get_caller(request).viewer
    with get_state(request).database() as db:
        found = CharacterRepository(db).all(visible_to=viewer)
    strategies = get_state(request).workers.strategies
    return {"data": [summary(s, viewer, strategies) for s in found]}


@uploads.post(
    "/characters",
    status_code=201,
    response_model=CharacterDetail,
    summary="Add a character from a card file",
    description="The body is the card file itself (not a form). With API keys the character is "
    "yours, and private unless `shared=true`; on a server without keys it is always shared.",
    openapi_extra=CARD_BODY,
)
def add_character(
    request: Request,
    card: Annotated[bytes, Depends(raw_body)],
    shared: Annotated[
        bool | None, Query(description="Let every user see it (default: only you).")
    ] = None,
) -> dict[str, Any]:
    caller = get_caller(request)
    loaded = read_card_bytes(card, filename="the uploaded card")
    owner = caller.key_user
    with get_state(request).database() as db:
        repo = CharacterRepository(db)
        new_id = repo.add(
            loaded.character,
            image=loaded.image,
            source="upload",
            owner_id=owner,
            shared=True if owner is None else bool(shared),
            owner_scoped_id=owner is not None,
        )
        stored = repo.get(new_id)
    return detail(stored, caller.viewer, get_state(request).workers.strategies)


@router.get(
    "/characters/{character_id}",
    response_model=CharacterDetail,
    summary="A character, with its whole card",
)
def get_character(character_id: CharacterId, request: Request) -> dict[str, Any]:
    viewer = get_caller(request).viewer
    with get_state(request).database() as db:
        stored = visible_character(db, character_id, viewer)
    return detail(stored, viewer, get_state(request).workers.strategies)


@uploads.put(
    "/characters/{character_id}",
    response_model=CharacterDetail,
    summary="Replace a character's card",
    description="The body is the new card (usually its JSON); a PNG card also replaces the "
    "image. The id stays. Only the character's owner may do this.",
    openapi_extra=CARD_BODY,
)
def replace_character(
    character_id: CharacterId, request: Request, card: Annotated[bytes, Depends(raw_body)]
) -> dict[str, Any]:
    viewer = get_caller(request).viewer
    with get_state(request).database() as db:
        stored = editable_character(db, character_id, viewer)
        loaded = read_card_bytes(card, filename="the new card")
        repo = CharacterRepository(db)
        repo.update(stored.id, loaded.character, image=loaded.image)
        stored = repo.get(stored.id)
    return detail(stored, viewer, get_state(request).workers.strategies)


@router.patch(
    "/characters/{character_id}",
    response_model=CharacterDetail,
    summary="Share a character, or keep it to yourself",
    description="Only its owner may; characters added on the server machine stay shared.",
)
def share_character(
    character_id: CharacterId, change: SharedChange, request: Request
) -> dict[str, Any]:
    viewer = get_caller(request).viewer
    with get_state(request).database() as db:
        stored = editable_character(db, character_id, viewer)
        repo = CharacterRepository(db)
        repo.set_shared(stored.id, change.shared)
        stored = repo.get(stored.id)
    return detail(stored, viewer, get_state(request).workers.strategies)


@router.delete(
    "/characters/{character_id}",
    status_code=204,
    response_class=Response,
    summary="Delete a character",
    description="With its chats and memories, for every user. Only its owner may.",
)
def delete_character(character_id: CharacterId, request: Request) -> Response:
    viewer = get_caller(request).viewer
    with get_state(request).database() as db:
        stored = editable_character(db, character_id, viewer)
        # Through the bank, so that servers' in-memory indexes learn the memories are gone.
        MemoryBank(db, embedder=None, policy=None).wipe(character_id=stored.id)
        CharacterRepository(db).delete(stored.id)
    return no_content()


@router.get(
    "/characters/{character_id}/avatar",
    response_class=Response,
    summary="A character's image",
    responses={200: {"content": {"image/png": {}, "image/jpeg": {}, "image/webp": {}}}},
)
def get_avatar(character_id: CharacterId, request: Request) -> Response:
    with get_state(request).database() as db:
        stored = visible_character(db, character_id, get_caller(request).viewer)
    if stored.image is None:
        raise APIError(
            f"{stored.id!r} has no image: its card download (format=png) has a placeholder",
            status=404,
            code="no_image",
        )
    return Response(
        stored.image, media_type=image_type(stored.image), headers={"Cache-Control": "no-cache"}
    )


@router.get(
    "/characters/{character_id}/card",
    response_class=Response,
    summary="Download a character's card file",
    description="PNG (with a placeholder image when the character has none or its image is "
    "not a PNG), JSON, or CHARX.",
    responses={200: {"content": {"image/png": {}, "application/json": {}, "application/zip": {}}}},
)
def download_card(
    character_id: CharacterId,
    request: Request,
    fmt: Annotated[Literal["png", "json", "charx"], Query(alias="format")] = "png",
) -> Response:
    with get_state(request).database() as db:
        stored = visible_character(db, character_id, get_caller(request).viewer)
    image = stored.image
    if fmt == "png" and image is not None and not is_png(image):
        image = None  # a CHARX's JPEG icon cannot carry PNG text chunks
    data = card_bytes(stored.character, fmt, image)
    return Response(
        data,
        media_type=MEDIA_TYPES[fmt],
        headers={"Content-Disposition": attachment(f"{stored.id}.{fmt}")},
    )
