"""What the REST routes share: a size limit on every request body, path id types, and lookups
that answer 404 for whatever the caller may not see (another user's chat is reported missing,
never as someone else's) and 403 for what the caller sees but may not change.

Routes that touch the store are plain ``def`` functions (FastAPI runs them on its thread pool),
each with a short-lived connection of its own: ``with get_state(request).database() as db``.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Path
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Message, Receive

from personae.errors import InvalidInput, NotFound
from personae.server.auth import authenticate
from personae.server.errors import APIError
from personae.server.replies import too_large
from personae.server.schemas import MAX_ROW_ID
from personae.server.state import get_state
from personae.store import (
    CharacterRepository,
    ChatInfo,
    ChatRepository,
    Database,
    StoredCharacter,
    StoredMessage,
    check_id,
)
from personae.store.chats import VISIBLE

ChatId = Annotated[int, Path(ge=1, le=MAX_ROW_ID, description="A chat's id.", examples=[1])]
MessageId = Annotated[int, Path(ge=1, le=MAX_ROW_ID, description="A message's id.", examples=[1])]
MemoryId = Annotated[int, Path(ge=1, le=MAX_ROW_ID, description="A memory's id.", examples=[1])]
CharacterId = Annotated[str, Path(description="A character's id.", examples=["sherlock"])]


# -- body limits ---------------------------------------------------------------------------------


class LimitedRoute(APIRoute):
    """A route that checks the API key before it reads anything (so a caller without a key gets
    a 401 whatever its body), and whose request body may be at most the server's
    ``max_body_bytes``: a larger declared length is refused at once, a larger stream as soon as
    it passes the limit (so no body is ever held whole beyond it)."""

    limit_field = "max_body_bytes"
    hint = "send a smaller JSON body"

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        field, hint = self.limit_field, self.hint

        async def limited(request: Request) -> Response:
            await authenticate(request)  # FastAPI would read and parse the body first
            limit: int = getattr(get_state(request), field)
            declared = request.headers.get("content-length", "")
            if declared.isdecimal() and int(declared) > limit:
                raise too_large(limit, hint)
            receive = _counted(request.receive, limit, hint)
            return await handler(Request(request.scope, receive))

        return limited


class CardRoute(LimitedRoute):
    """A route that takes a character card file, up to the server's ``max_card_bytes``."""

    limit_field = "max_card_bytes"
    hint = "a character card must be smaller: use a smaller avatar image"


def _counted(receive: Receive, limit: int, hint: str) -> Receive:
    seen = 0

    async def counted() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                # An HTTPException, which FastAPI's body reading passes on unchanged.
                raise HTTPException(413, detail=too_large(limit, hint).message)
        return message

    return counted


async def raw_body(request: Request) -> bytes:
    """The whole body as bytes (a dependency, so it is read after the key is checked)."""
    return await request.body()


# -- lookups -------------------------------------------------------------------------------------


def character_not_found(character_id: str) -> APIError:
    return not_found(
        "character",
        f"no character {character_id!r}: GET /api/characters lists the ones you can use",
    )


def valid_character_id(character_id: str) -> str:
    """``character_id`` if it could be an id at all, else a 400 (paths, control characters)."""
    try:
        return check_id(character_id)
    except InvalidInput:
        shown = character_id if len(character_id) <= 80 else character_id[:80] + "…"
        raise APIError(
            f"{shown!r} is not a character id: ids are letters, digits, '_' and '-', "
            "e.g. 'sherlock'",
            param="character",
            code="invalid_value",
        ) from None


def visible_character(db: Database, character_id: str, viewer: str | None) -> StoredCharacter:
    try:
        return CharacterRepository(db).get(valid_character_id(character_id), visible_to=viewer)
    except NotFound:
        raise character_not_found(character_id) from None


def editable_character(db: Database, character_id: str, viewer: str | None) -> StoredCharacter:
    stored = visible_character(db, character_id, viewer)
    if not stored.editable_by(viewer):
        raise APIError(
            f"{stored.id!r} is shared with you, not yours: only its owner can change or delete "
            "it (import a copy to change your own)",
            status=403,
            code="permission_denied",
            param="character",
        )
    return stored


def own_chat(db: Database, chat_id: int, user: str) -> ChatInfo:
    try:
        info = ChatRepository(db).get(chat_id)
    except NotFound:
        info = None
    if info is None or info.user_id != user:
        raise not_found(
            "chat",
            f"no chat {chat_id}: GET /api/chats lists yours",
        )
    return info


def own_message(db: Database, message_id: int, user: str) -> StoredMessage:
    """A visible message in one of ``user``'s chats."""
    try:
        message = ChatRepository(db).message(message_id)
        own_chat(db, message.chat_id, user)
    except (NotFound, APIError):
        message = None
    if message is None or message.status not in VISIBLE:
        raise not_found(
            "message",
            f"no message {message_id}: GET /api/chats/ID lists a chat's messages",
        )
    return message


def not_found(thing: str, message: str) -> APIError:
    """A 404 for a ``thing`` (character, chat, message, memory) that does not exist or is not
    the caller's: the two look the same, so nobody learns what others have."""
    return APIError(message, status=404, code=f"{thing}_not_found", param=thing)


def url_id(character_id: str) -> str:
    """An id as it goes in a URL path (ids may be Hangul)."""
    return quote(character_id, safe="")


def no_content() -> Response:
    return Response(status_code=204)
