"""``/api/memories`` and ``/api/profile``: what characters remember about the caller — see it,
add notes and facts, correct it, forget it. Nobody sees or touches another user's memories
(they are reported missing); a character's own lines (from its card) are shown on request but
changed only with its card.

Writes go through the memory bank the server's chats use, so a note is redacted by the server's
privacy policy and embedded once, here, and stored with its vector: a search never embeds it
again (each write bumps the version the in-memory indexes watch, and they reload only the rows
that changed). A server without memory stores notes with words only; if memory is turned on
later, the first search embeds them and keeps the vectors.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import APIRouter, Query
from starlette.requests import Request
from starlette.responses import Response

from personae.errors import NotFound
from personae.memory.bank import Draft, MemoryBank
from personae.memory.from_settings import redaction_policy
from personae.memory.profile import IMPORTANCE, LABELS
from personae.server.auth import get_caller
from personae.server.errors import APIError
from personae.server.rest.common import (
    LimitedRoute,
    MemoryId,
    no_content,
    not_found,
    visible_character,
)
from personae.server.rest.schemas import Memory, MemoryChange, MemoryList, NewMemory
from personae.server.state import ServerState, get_state
from personae.store import KINDS, Database, MemoryItem, MemoryRepository

if TYPE_CHECKING:
    from personae.memory.bank import MemoryBank

router = APIRouter(route_class=LimitedRoute, tags=["memories"])

USER_KINDS = tuple(k for k in KINDS if k != "line")  # lines are the character's, not the user's
NOTE_IMPORTANCE = 7.0  # as `personae memory add`: the user asked for it to be remembered
CharacterFilter = Annotated[
    str | None, Query(description="Only what this character may recall (and see its lines).")
]


def memory_body(item: MemoryItem) -> dict[str, Any]:
    return {
        "id": item.id,
        "kind": item.kind,
        "text": item.text,
        "label": item.label,
        "importance": item.importance,
        "character_id": item.character_id,
        "chat_id": item.chat_id,
        "user_id": item.user_id,
        "source": item.source,
        "evidence": list(item.evidence),
        "created_at": item.created_at,
        "accessed_at": item.accessed_at,
    }


def _bank(state: ServerState, db: Database) -> MemoryBank:
    if state.workers.memory is not None:
        return state.workers.memory(db)  # the chats' own: same embedder, same policy
    return MemoryBank(db, embedder=None, policy=redaction_policy(state.settings.privacy))


def _own(db: Database, memory_id: int, user: str) -> MemoryItem:
    try:
        item = MemoryRepository(db).get(memory_id)
    except NotFound:
        item = None
    if item is None or item.user_id != user:
        raise not_found(
            "memory",
            f"no memory {memory_id} of yours: GET /api/memories lists them (a character's "
            "lines change with its card)",
        )
    return item


def _items(request: Request, character: str | None, kinds: tuple[str, ...]) -> list[dict[str, Any]]:
    caller = get_caller(request)
    user = caller.user()
    with get_state(request).database() as db:
        repo = MemoryRepository(db)
        character_id = None
        if character is not None:
            character_id = visible_character(db, character, caller.viewer).id
        items = repo.of_user(
            user, character_id=character_id, kinds=[k for k in kinds if k != "line"]
        )
        if character_id is not None and "line" in kinds:
            items += repo.partition(None, character_id, ["line"])
    return [memory_body(i) for i in items]


@router.get(
    "/memories",
    response_model=MemoryList,
    summary="Your memories",
    description="Everything characters remember about you, in every chat; with `character`, "
    "what that character may recall. A character's own lines (`kind=line`, with `character`) "
    "are listed only when asked for.",
)
def list_memories(
    request: Request,
    character: CharacterFilter = None,
    kind: Annotated[
        Literal["line", "episode", "reflection", "fact", "note"] | None,
        Query(description="Only this kind."),
    ] = None,
) -> dict[str, Any]:
    return {"data": _items(request, character, (kind,) if kind else USER_KINDS)}


@router.get(
    "/profile",
    response_model=MemoryList,
    summary="Your profile",
    description="The facts characters know about you (kind fact); with `character`, those "
    "that character knows.",
)
def get_profile(request: Request, character: CharacterFilter = None) -> dict[str, Any]:
    return {"data": _items(request, character, ("fact",))}


@router.post(
    "/memories",
    status_code=201,
    response_model=Memory,
    summary="Ask characters to remember something",
    description="A note (found when relevant) or a profile fact (always in mind; `label` is "
    "one of name, age, likes … other). With `character`, only that character remembers it. "
    "Personal data is redacted by the server's privacy policy before it is stored.",
)
def add_memory(new: NewMemory, request: Request) -> dict[str, Any]:
    state = get_state(request)
    caller = get_caller(request)
    label = (new.label or "").strip()
    if new.kind == "fact":
        label = label or "other"
        if label not in LABELS:
            raise APIError(
                f"unknown fact label {label!r}: use one of {', '.join(LABELS)}",
                param="label",
                code="invalid_value",
            )
        importance = IMPORTANCE[label]
    else:
        importance = NOTE_IMPORTANCE
    with state.database() as db:
        character_id = None
        if new.character is not None:
            character_id = visible_character(db, new.character, caller.viewer).id
        draft = Draft(
            new.kind,
            new.text,
            caller.user(),
            character_id,
            label=label,
            importance=importance,
            source="user",
        )
        [item] = _bank(state, db).remember([draft])
    return memory_body(item)


@router.patch(
    "/memories/{memory_id}",
    response_model=Memory,
    summary="Correct a memory",
    description="Its text (redacted again), label or importance (0-10); its kind and whose it "
    "is stay.",
)
def edit_memory(memory_id: MemoryId, change: MemoryChange, request: Request) -> dict[str, Any]:
    state = get_state(request)
    user = get_caller(request).user()
    with state.database() as db:
        item = _own(db, memory_id, user)
        label = change.label.strip() if change.label is not None else None
        if item.kind == "fact" and label is not None and label not in LABELS:
            raise APIError(
                f"unknown fact label {label!r}: use one of {', '.join(LABELS)}",
                param="label",
                code="invalid_value",
            )
        if change.text is not None:
            item = _bank(state, db).edit(memory_id, change.text)
        if label is not None or change.importance is not None:
            item = MemoryRepository(db).annotate(
                memory_id, label=label, importance=change.importance
            )
    return memory_body(item)


@router.delete(
    "/memories/{memory_id}",
    status_code=204,
    response_class=Response,
    summary="Forget a memory",
    description="For good: nothing is kept hidden.",
)
def forget_memory(memory_id: MemoryId, request: Request) -> Response:
    state = get_state(request)
    user = get_caller(request).user()
    with state.database() as db:
        _own(db, memory_id, user)
        _bank(state, db).forget([memory_id])
    return no_content()
