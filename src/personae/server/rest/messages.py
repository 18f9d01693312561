"""``/api/messages/{id}``: change a message's text where it stands, or hide it, in one of the
caller's chats. Neither is allowed while the chat is generating a reply (409), since the reply
being written is one of its messages."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from personae.server.auth import get_caller
from personae.server.rest.chats import message_body
from personae.server.rest.common import LimitedRoute, MessageId, no_content, own_message
from personae.server.rest.schemas import Message, MessageChange
from personae.server.state import get_state
from personae.store import ChatRepository

router = APIRouter(route_class=LimitedRoute, tags=["chats"])


@router.patch(
    "/messages/{message_id}",
    response_model=Message,
    summary="Change a message's text",
    description="In place: the message keeps its id and its place in the chat.",
)
def edit_message(message_id: MessageId, change: MessageChange, request: Request) -> dict[str, Any]:
    state = get_state(request)
    user = get_caller(request).user()
    with state.database() as db:
        message = own_message(db, message_id, user)
        with state.workers.claim(message.chat_id):
            chats = ChatRepository(db)
            chats.rewrite(message_id, change.content)
            return message_body(chats.message(message_id))


@router.delete(
    "/messages/{message_id}",
    status_code=204,
    response_class=Response,
    summary="Hide a message",
    description="It no longer shows, nor goes into the prompt of later replies.",
)
def delete_message(message_id: MessageId, request: Request) -> Response:
    state = get_state(request)
    user = get_caller(request).user()
    with state.database() as db:
        message = own_message(db, message_id, user)
        with state.workers.claim(message.chat_id):
            ChatRepository(db).set_status([message_id], "deleted")
    return no_content()
