"""``/api/lorebooks``: standalone lorebooks (SillyTavern World Info files) — list, import,
read, export, delete — and attaching them to a character or a chat.

An import's body is the file itself, as for a card: World Info JSON (``application/json``), or a
card file (PNG, CHARX, card JSON) whose embedded lorebook is taken. Not a multipart form: any web
page can send one of those unasked, so the server refuses them on every route.

Visibility is that of characters: with API keys a book belongs to the key's user and is private
unless ``shared=true``; on an open server books have no owner and are shared. A book someone
may not see does not exist for them (404, the same as an unknown id). Attaching to a character
affects only the caller's own chats with it (on an open server: everyone's); attaching to a chat
needs the chat to be the caller's. Attached books are scanned with the card's own lorebook under
the card's token budget.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi import Path as PathParam
from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import Response

from personae.characters.lorebook_files import read_lorebook_bytes
from personae.characters.worldinfo import world_info_bytes
from personae.errors import NotFound
from personae.server.auth import Caller, get_caller
from personae.server.errors import APIError
from personae.server.rest.characters import attachment
from personae.server.rest.common import (
    LimitedRoute,
    no_content,
    not_found,
    own_chat,
    raw_body,
    visible_character,
)
from personae.server.schemas import MAX_ROW_ID
from personae.server.state import get_state
from personae.store import Database
from personae.store.lorebooks import LorebookInfo, LorebookRepository, StoredLorebook

MAX_NAME_CHARS = 200


class LorebookRoute(LimitedRoute):
    """A route that takes a lorebook file, up to the server's ``max_card_bytes``."""

    limit_field = "max_card_bytes"
    hint = "a lorebook must be smaller: split it into several books"


router = APIRouter(route_class=LimitedRoute, tags=["lorebooks"])
uploads = APIRouter(route_class=LorebookRoute, tags=["lorebooks"])

LorebookId = Annotated[
    str, PathParam(max_length=64, description="A lorebook's id.", examples=["3f9a2c1b"])
]
BOOK_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "The file: World Info JSON (`entries` keyed by uid, as SillyTavern "
        "exports a world), or a character card (PNG, JSON, CHARX) whose lorebook is taken.",
        "content": {
            "application/json": {"schema": {"type": "object"}},
            "image/png": {"schema": {"type": "string", "format": "binary"}},
            "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
        },
    }
}


# -- bodies --------------------------------------------------------------------------------------


class LorebookSummary(BaseModel):
    id: str
    name: str
    entries: int = Field(description="How many entries it has.")
    source: str
    owner_id: str | None = Field(description="Who imported it; None: imported on the server.")
    shared: bool = Field(description="False: only its owner sees it.")
    editable: bool = Field(description="Whether this caller may delete it.")
    created_at: float


class Attached(BaseModel):
    characters: list[str] = Field(description="Characters it is attached to (by this caller).")
    chats: list[int] = Field(description="This caller's chats it is attached to.")


class LorebookDetail(LorebookSummary):
    attached: Attached
    lorebook: dict[str, Any] = Field(
        description="The book as a card's `character_book` (personae's form); "
        "GET …/export gives the World Info file."
    )


class LorebookList(BaseModel):
    data: list[LorebookSummary] = Field(description="By name.")


class AttachRequest(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")

    character: str | None = Field(
        default=None, max_length=64, description="A character's id.", examples=["sherlock"]
    )
    chat_id: int | None = Field(default=None, ge=1, le=MAX_ROW_ID, description="A chat's id.")


def summary(info: LorebookInfo, viewer: str | None) -> dict[str, Any]:
    return {
        "id": info.id,
        "name": info.name,
        "entries": info.entry_count,
        "source": info.source,
        "owner_id": info.owner_id,
        "shared": info.shared,
        "editable": info.editable_by(viewer),
        "created_at": info.created_at,
    }


def detail(db: Database, stored: StoredLorebook, caller: Caller) -> dict[str, Any]:
    links = LorebookRepository(db).links(stored.id, user_id=caller.key_user)
    return {
        **summary(stored, caller.viewer),
        "attached": {
            "characters": [link.character_id for link in links if link.character_id],
            "chats": [link.chat_id for link in links if link.chat_id is not None],
        },
        "lorebook": stored.book.to_dict(),
    }


# -- lookups -------------------------------------------------------------------------------------


def _missing(lorebook_id: str) -> APIError:
    shown = lorebook_id if len(lorebook_id) <= 64 else lorebook_id[:64] + "…"
    return not_found("lorebook", f"no lorebook {shown!r}: GET /api/lorebooks lists yours")


def visible_book(db: Database, lorebook_id: str, viewer: str | None) -> StoredLorebook:
    try:
        return LorebookRepository(db).get(lorebook_id, visible_to=viewer)
    except NotFound:
        raise _missing(lorebook_id) from None


def _target(body: AttachRequest) -> None:
    if (body.character is None) == (body.chat_id is None):
        raise APIError(
            "give either 'character' or 'chat_id' (one of them)",
            param="character",
            code="invalid_value",
        )


# -- routes --------------------------------------------------------------------------------------


@router.get(
    "/lorebooks",
    response_model=LorebookList,
    summary="List the lorebooks you can use",
    description="Shared books and your own; with `character` or `chat_id`, only the books "
    "attached there that your turns use (a chat's: its character's and its own).",
)
def list_lorebooks(
    request: Request,
    character: Annotated[str | None, Query(max_length=64)] = None,
    chat_id: Annotated[int | None, Query(ge=1, le=MAX_ROW_ID)] = None,
) -> dict[str, Any]:
    caller = get_caller(request)
    with get_state(request).database() as db:
        repo = LorebookRepository(db)
        found: list[LorebookInfo]
        if chat_id is not None:
            info = own_chat(db, chat_id, caller.user())
            found = list(repo.attached(info.character_id, user_id=info.user_id, chat=info))
        elif character is not None:
            stored = visible_character(db, character, caller.viewer)
            found = list(repo.attached(stored.id, user_id=caller.key_user))
        else:
            found = repo.all(visible_to=caller.viewer)
    return {"data": [summary(info, caller.viewer) for info in found]}


@uploads.post(
    "/lorebooks",
    status_code=201,
    response_model=LorebookDetail,
    summary="Import a lorebook (World Info file)",
    description="The body is the file itself (not a form). With API keys the book is yours, "
    "and private unless `shared=true`; on a server without keys it is always shared.",
    openapi_extra=BOOK_BODY,
)
def import_lorebook(
    request: Request,
    data: Annotated[bytes, Depends(raw_body)],
    name: Annotated[
        str | None,
        Query(
            min_length=1, max_length=MAX_NAME_CHARS, description="Its name (default: the file's)."
        ),
    ] = None,
    shared: Annotated[
        bool | None, Query(description="Let every user see it (default: only you).")
    ] = None,
) -> dict[str, Any]:
    caller = get_caller(request)
    book = read_lorebook_bytes(data, filename="the uploaded lorebook")
    if name is not None and name.strip():
        book.name = name.strip()
    owner = caller.key_user
    with get_state(request).database() as db:
        repo = LorebookRepository(db)
        new_id = repo.add(
            book, source="upload", owner_id=owner, shared=True if owner is None else bool(shared)
        )
        return detail(db, repo.get(new_id), caller)


@router.get(
    "/lorebooks/{lorebook_id}",
    response_model=LorebookDetail,
    summary="A lorebook, with its entries and where you attached it",
)
def get_lorebook(lorebook_id: LorebookId, request: Request) -> dict[str, Any]:
    caller = get_caller(request)
    with get_state(request).database() as db:
        return detail(db, visible_book(db, lorebook_id, caller.viewer), caller)


@router.get(
    "/lorebooks/{lorebook_id}/export",
    response_class=Response,
    summary="Download a lorebook as a World Info file",
    description="JSON with `entries` keyed by uid, which SillyTavern imports as a world.",
    responses={200: {"content": {"application/json": {}}}},
)
def export_lorebook(lorebook_id: LorebookId, request: Request) -> Response:
    with get_state(request).database() as db:
        stored = visible_book(db, lorebook_id, get_caller(request).viewer)
    return Response(
        world_info_bytes(stored.book),
        media_type="application/json",
        headers={"Content-Disposition": attachment(f"{stored.name}.json")},
    )


@router.delete(
    "/lorebooks/{lorebook_id}",
    status_code=204,
    response_class=Response,
    summary="Delete a lorebook",
    description="With every attachment of it. Only its owner may.",
)
def delete_lorebook(lorebook_id: LorebookId, request: Request) -> Response:
    viewer = get_caller(request).viewer
    with get_state(request).database() as db:
        stored = visible_book(db, lorebook_id, viewer)
        if not stored.editable_by(viewer):
            raise APIError(
                f"lorebook {stored.id!r} is shared with you, not yours: only its owner can "
                "delete it (detach it from your characters and chats instead)",
                status=403,
                code="permission_denied",
                param="lorebook",
            )
        LorebookRepository(db).delete(stored.id)
    return no_content()


@router.post(
    "/lorebooks/{lorebook_id}/attach",
    response_model=LorebookDetail,
    summary="Attach a lorebook to a character or a chat",
    description="To a character: your chats with it (and your requests naming it) use the "
    "book; to a chat: that chat does. Its entries join the card's lorebook under the card's "
    "token budget. Attaching twice changes nothing.",
)
def attach_lorebook(
    lorebook_id: LorebookId, body: AttachRequest, request: Request
) -> dict[str, Any]:
    _target(body)
    caller = get_caller(request)
    with get_state(request).database() as db:
        stored = visible_book(db, lorebook_id, caller.viewer)
        repo = LorebookRepository(db)
        if body.character is not None:
            character = visible_character(db, body.character, caller.viewer)
            repo.attach(stored.id, character_id=character.id, attached_by=caller.key_user)
        else:
            assert body.chat_id is not None
            repo.attach(stored.id, chat_id=own_chat(db, body.chat_id, caller.user()).id)
        return detail(db, stored, caller)


@router.post(
    "/lorebooks/{lorebook_id}/detach",
    response_model=LorebookDetail,
    summary="Detach a lorebook from a character or a chat",
    description="Removes your own attachment (404 when there is none).",
)
def detach_lorebook(
    lorebook_id: LorebookId, body: AttachRequest, request: Request
) -> dict[str, Any]:
    _target(body)
    caller = get_caller(request)
    with get_state(request).database() as db:
        stored = visible_book(db, lorebook_id, caller.viewer)
        repo = LorebookRepository(db)
        try:
            if body.character is not None:
                character = visible_character(db, body.character, caller.viewer)
                repo.detach(stored.id, character_id=character.id, attached_by=caller.key_user)
            else:
                assert body.chat_id is not None
                repo.detach(stored.id, chat_id=own_chat(db, body.chat_id, caller.user()).id)
        except NotFound as exc:
            raise not_found("attachment", str(exc)) from None
        return detail(db, stored, caller)
