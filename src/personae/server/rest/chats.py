"""``/api/chats``: the caller's stored chats — list, start, read, rename, delete — and
regenerating a chat's last reply. Messages are sent with ``POST /v1/chat/completions`` and its
``chat_id``; this module only starts a chat (with the character's greeting) so the page has one
to send to.

Regenerating runs as a generation job like a chat completion, and answers exactly like one
(:mod:`personae.server.replies`): SSE ``chat.completion.chunk`` events, or one
``chat.completion``. After a best-of-N reply it shows the next candidate kept from that turn (a
swipe) at once, without generating; once they are used up it generates with the chat's
character's strategy, or the one its body's ``personae`` field asks for.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from personae.agent import Chat
from personae.memory.bank import MemoryBank
from personae.server.auth import get_caller
from personae.server.jobs import Job, StoredTarget
from personae.server.openapi import COMPLETION_RESPONSES
from personae.server.replies import answer
from personae.server.rest.common import (
    ChatId,
    LimitedRoute,
    no_content,
    own_chat,
    valid_character_id,
    visible_character,
)
from personae.server.rest.schemas import (
    ChatChange,
    ChatDetail,
    ChatList,
    ChatSummary,
    NewChat,
    RegenerateRequest,
)
from personae.server.state import ServerState, get_state
from personae.server.streaming import Output
from personae.store import ChatInfo, ChatRepository, StoredMessage

router = APIRouter(route_class=LimitedRoute, tags=["chats"])


def chat_summary(info: ChatInfo) -> dict[str, Any]:
    return {
        "id": info.id,
        "character_id": info.character_id,
        "title": info.title,
        "user_id": info.user_id,
        "created_at": info.created_at,
        "updated_at": info.updated_at,
        "message_count": info.message_count,
    }


def message_body(message: StoredMessage) -> dict[str, Any]:
    return {
        "id": message.id,
        "chat_id": message.chat_id,
        "role": message.role,
        "content": message.content,
        "status": message.status,
        "created_at": message.created_at,
    }


def chat_detail(info: ChatInfo, messages: list[StoredMessage]) -> dict[str, Any]:
    return {**chat_summary(info), "messages": [message_body(m) for m in messages]}


@router.get(
    "/chats",
    response_model=ChatList,
    summary="Your chats",
    description="Most recently active first; with `character`, only those with it.",
)
def list_chats(
    request: Request,
    character: Annotated[str | None, Query(description="Only chats with this character.")] = None,
) -> dict[str, Any]:
    user = get_caller(request).user()
    character_id = valid_character_id(character) if character is not None else None
    with get_state(request).database() as db:
        chats = ChatRepository(db).all(character_id, user_id=user)
    return {"data": [chat_summary(c) for c in chats]}


@router.post(
    "/chats",
    status_code=201,
    response_model=ChatDetail,
    summary="Start a chat with a character",
    description="The chat opens with the character's greeting. Send messages to it with "
    "POST /v1/chat/completions, `model` the character and `chat_id` this chat's id.",
)
def start_chat(new: NewChat, request: Request) -> dict[str, Any]:
    caller = get_caller(request)
    state = get_state(request)
    with state.database() as db:
        stored = visible_character(db, new.character, caller.viewer)
        chat_id = Chat.create(
            db,
            stored.id,
            user_name=state.settings.user_name,
            user_id=caller.user(),
            title=(new.title or "").strip(),
        )
        chats = ChatRepository(db)
        return chat_detail(chats.get(chat_id), chats.messages(chat_id))


@router.get(
    "/chats/{chat_id}",
    response_model=ChatDetail,
    summary="A chat and its messages",
    description="The visible messages only: not the replies that were regenerated, edited "
    "away or deleted.",
)
def get_chat(chat_id: ChatId, request: Request) -> dict[str, Any]:
    user = get_caller(request).user()
    with get_state(request).database() as db:
        info = own_chat(db, chat_id, user)
        return chat_detail(info, ChatRepository(db).messages(chat_id))


@router.patch("/chats/{chat_id}", response_model=ChatSummary, summary="Rename a chat")
def rename_chat(chat_id: ChatId, change: ChatChange, request: Request) -> dict[str, Any]:
    user = get_caller(request).user()
    with get_state(request).database() as db:
        own_chat(db, chat_id, user)
        chats = ChatRepository(db)
        chats.rename(chat_id, change.title.strip())
        return chat_summary(chats.get(chat_id))


@router.delete(
    "/chats/{chat_id}",
    status_code=204,
    response_class=Response,
    summary="Delete a chat",
    description="With its messages, its running summary and the memories kept for it alone "
    "(what was learned for every chat, like profile facts, stays). Not while it is replying.",
)
def delete_chat(chat_id: ChatId, request: Request) -> Response:
    state = get_state(request)
    user = get_caller(request).user()
    with state.database() as db:
        own_chat(db, chat_id, user)
        with state.workers.claim(chat_id):
            # Through the bank, so that servers' in-memory indexes learn the memories are gone.
            MemoryBank(db, embedder=None, policy=None).wipe(user_id=user, chat_id=chat_id)
            ChatRepository(db).delete(chat_id)
    return no_content()


@router.post(
    "/chats/{chat_id}/regenerate",
    response_model=None,
    summary="Replace the chat's last reply with a new one",
    description="The old reply is kept, hidden; after a best-of-N reply, the next candidate "
    "kept from it is shown at once, without generating. Answers as POST /v1/chat/completions does: "
    "with `stream` (the default) server-sent `chat.completion.chunk` events and `data: [DONE]`, "
    "else one `chat.completion`; the `X-Personae-Chat-Id` header names the chat.",
    responses=COMPLETION_RESPONSES,
)
async def regenerate(
    chat_id: ChatId,
    request: Request,
    options: Annotated[RegenerateRequest | None, Body()] = None,
) -> Response:
    state = get_state(request)
    caller = get_caller(request)
    user = caller.user()
    asked = options or RegenerateRequest()
    info = await run_in_threadpool(_own_chat, state, chat_id, user)
    job = Job(
        character=info.character_id,
        model=None,
        params=asked.params(state.params),
        stored=StoredTarget("", chat_id, user, regenerate=True),
        viewer=caller.viewer,
        strategy=state.workers.strategies.for_request(
            info.character_id, asked.personae, state.workers.size
        ),
    )
    return await answer(request, state, job, Output(model=info.character_id), stream=asked.stream)


def _own_chat(state: ServerState, chat_id: int, user: str) -> ChatInfo:
    with state.database() as db:
        return own_chat(db, chat_id, user)
