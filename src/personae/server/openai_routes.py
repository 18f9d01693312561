"""The OpenAI-compatible routes: ``GET /v1/models`` and ``POST /v1/chat/completions``.

Models are characters: ``sherlock`` plays Sherlock on the server's default backend model,
``sherlock@qwen2.5-coder-0.5b`` on another. A completion is one of two kinds:

* **stateless** (no ``chat_id``, no ``user``): the client sends the whole conversation, as
  SillyTavern does. The prompt is built from the character's card and lorebook with the client's
  user and assistant messages as history; nothing is stored.
* **stateful** (``chat_id`` and/or ``user`` in the body): the server keeps the conversation and
  memory. Only the request's last message, which must be the user's, is new; the history comes
  from the store. ``user`` alone continues that user's latest chat with the character (or starts
  one; ``new_chat: true`` always starts one); ``chat_id`` picks a chat. The response names the
  chat: the ``X-Personae-Chat-Id`` header and a ``personae`` object in the body (for a stream, on
  the first and last chunks).

In both, the client's system messages before the first user/assistant message are extra
instructions appended to the card's system prompt (so they are never trimmed away with old
history, and ``{{char}}``/``{{user}}`` work in them); later ones stay in place in the history.

``n`` > 1 asks for n separate generations (seeds ``seed``, ``seed + 1`` …); streamed, the
candidates come one after another, each with its ``index`` and its own role, content and finish
chunks. A stored chat keeps one reply per turn, so there ``n`` > 1 is a 400. How a job's events
become the response (and when errors keep their status) is :mod:`.replies`.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path
from starlette.requests import Request
from starlette.responses import Response

from personae.agent import Turn
from personae.backends.base import Role
from personae.errors import PersonaeError
from personae.server.auth import Caller, get_caller
from personae.server.backends import ModelId
from personae.server.errors import APIError, model_not_found
from personae.server.jobs import Job, StoredTarget, find_character
from personae.server.openapi import COMPLETION_RESPONSES, ERROR_RESPONSES, request_body_schema
from personae.server.replies import answer, read_body
from personae.server.schemas import ChatCompletionRequest, parse_json, parse_request
from personae.server.state import ServerState, get_state
from personae.server.streaming import Output
from personae.store import CharacterRepository, StoredCharacter, check_user_id

TOO_LARGE_HINT = (
    "send fewer or shorter messages (in a stored chat, with chat_id or user, send only the new "
    "message)"
)

router = APIRouter(responses=ERROR_RESPONSES)


# -- models --------------------------------------------------------------------------------------


def _model(stored: StoredCharacter, model_id: str | None = None) -> dict[str, Any]:
    return {
        "id": model_id or stored.id,
        "object": "model",
        "created": int(stored.created_at),
        "owned_by": "personae",
        "name": stored.character.name,  # Open WebUI shows this instead of the id
    }


@router.get("/v1/models", summary="List the characters as models (OpenAI-compatible)")
def list_models(request: Request) -> dict[str, Any]:
    """Every character the caller may use, as a model."""
    with get_state(request).database() as db:
        characters = CharacterRepository(db).all(visible_to=get_caller(request).viewer)
    return {"object": "list", "data": [_model(s) for s in characters]}


@router.get("/v1/models/{model_id:path}", summary="One character as a model (OpenAI-compatible)")
def retrieve_model(
    model_id: Annotated[str, Path(description="A character's id.", examples=["sherlock"])],
    request: Request,
) -> dict[str, Any]:
    """One character as a model; ``character@model`` ids are echoed back."""
    parsed = ModelId.parse(model_id)
    with get_state(request).database() as db:
        try:
            stored = find_character(db, parsed.character, viewer=get_caller(request).viewer)
        except PersonaeError:
            raise model_not_found(model_id) from None
    return _model(stored, model_id)


# -- chat completions ------------------------------------------------------------------------------


@router.post(
    "/v1/chat/completions",
    summary="Chat with a character (OpenAI-compatible)",
    description="Stateless with the whole conversation, or a stored chat with `chat_id` or "
    "`user`; `stream: true` answers with server-sent `chat.completion.chunk` events.",
    openapi_extra=request_body_schema(ChatCompletionRequest),
    response_model=None,
    responses=COMPLETION_RESPONSES,
)
async def chat_completions(request: Request) -> Response:
    state = get_state(request)
    raw = await read_body(request, state.max_body_bytes, TOO_LARGE_HINT)
    req = parse_request(parse_json(raw))
    job = to_job(req, state, get_caller(request))
    output = Output(model=req.model, include_usage=req.include_usage)
    return await answer(request, state, job, output, stream=bool(req.stream))


def _split(req: ChatCompletionRequest) -> tuple[str, list[Turn]]:
    """Leading system messages become instructions; the rest is history (blank ones dropped)."""
    instructions: list[str] = []
    turns: list[Turn] = []
    for message in req.messages:
        text = message.content
        if not text.strip():
            continue
        system = message.role in ("system", "developer")
        if system and not turns:
            instructions.append(text.strip())
            continue
        role: Role = "system" if system else "user" if message.role == "user" else "assistant"
        turns.append(Turn(role, text))
    return "\n\n".join(instructions), turns


def to_job(req: ChatCompletionRequest, state: ServerState, caller: Caller) -> Job:
    """Check a request for everything that needs no store, and describe its job."""
    model = ModelId.parse(req.model)
    if not model.character:
        raise APIError(
            "the model must name a character, e.g. 'sherlock' (GET /v1/models lists them)",
            param="model",
            code="invalid_value",
        )
    n = req.n or 1
    instructions, turns = _split(req)
    names = [m.name for m in req.messages if m.role == "user" and m.name and m.name.strip()]
    common: dict[str, Any] = {
        "character": model.character,
        "model": model.model,
        "params": req.params(state.params),
        "instructions": instructions,
        "user_name": names[-1].strip() if names else None,
        "n": n,
        "viewer": caller.viewer,
    }
    if not req.stateful:
        if req.new_chat:
            raise APIError("new_chat needs a user: name whose chat it is", param="new_chat")
        if not any(t.role == "user" for t in turns):
            raise APIError(
                "messages must include at least one user message with text", param="messages"
            )
        return Job(history=tuple(turns), **common)
    if n > 1:
        raise APIError(
            "n > 1 is not supported for a stored chat (chat_id or user): it keeps one reply "
            "per turn; leave chat_id and user out to get several candidates",
            param="n",
        )
    if req.new_chat and req.chat_id is not None:
        raise APIError("give either chat_id or new_chat, not both", param="new_chat")
    asked = check_user_id(req.user) if req.user is not None else None
    # With keys, the key decides whose chat it is; an open server takes the user asked for.
    user_id = asked if caller.key_user is None else caller.user(asked)
    last = req.messages[-1]
    if last.role != "user" or not last.content.strip():
        raise APIError(
            "in a stored chat (chat_id or user) the last message must be the user's new "
            "message; the server has the rest of the conversation",
            param="messages",
        )
    target = StoredTarget(last.content, req.chat_id, user_id, bool(req.new_chat))
    return Job(stored=target, **common)
