"""The OpenAI-compatible routes: ``GET /v1/models`` and ``POST /v1/chat/completions``.

Models are characters: ``sherlock`` plays Sherlock on the server's default backend model,
``sherlock@qwen2.5-coder-0.5b`` on another. ``raw:`` (the default model) and ``raw:MODEL`` are the
model with no character: the client's messages go to it as they are, system messages in place,
and its text comes back uncleaned; for front ends that build their own prompt with the card in it
(SillyTavern). A raw model keeps no chat (``chat_id`` and ``new_chat`` are refused; ``user`` is
only OpenAI's end-user label there): for memory, pick the character, and personae leaves out its
own copy of the card when the client's system text already carries it (see
:mod:`.client_prompt`). A completion is one of two kinds:

* **stateless** (no ``chat_id``, no ``user``): the client sends the whole conversation, as
  SillyTavern does. The prompt is built from the character's card and lorebook with the client's
  user and assistant messages as history; nothing is stored.
* **stateful** (``chat_id`` and/or ``user`` in the body): the server keeps the conversation and
  memory. Only the request's last message is new; the history comes from the store. ``user``
  alone continues that user's latest chat with the character (or starts one; ``new_chat: true``
  always starts one); ``chat_id`` picks a chat. The response names the chat: the
  ``X-Personae-Chat-Id`` header and a ``personae`` object in the body (for a stream, on the
  first and last chunks). When the last message is the user's, it is stored and answered. When
  it is not (the character's message, or system messages only), no user message is stored: if
  the request asks to continue (see below) the chat's last reply is continued and stored
  longer, else the character speaks again, a new reply after its last one. The store's copy of
  the chat counts, not the client's.

A request needs no user message: with none, the character speaks next (SillyTavern's empty
Send, a chat that holds only the greeting). When the last message is the character's and
unfinished, the reply continues it (only the new text comes back) — how that is recognised,
SillyTavern's two ways of asking included, is :mod:`.conversation`.

In both, the client's system messages before the first user/assistant message are extra
instructions appended to the card's system prompt (so they are never trimmed away with old
history, and ``{{char}}``/``{{user}}`` work in them); later ones stay in place in the history.

``n`` > 1 asks for n separate generations (seeds ``seed``, ``seed + 1`` …); streamed, the
candidates come one after another, each with its ``index`` and its own role, content and finish
chunks. A stored chat keeps one reply per turn, so there ``n`` > 1 is a 400.

How a reply is made (single, best-of-n, refine, auto) is the request's ``personae`` field, else
the character's configured strategy, else ``[reply]`` (:mod:`.strategies`). With best-of-n or
auto, ``n`` > 1 returns the ranked candidates as the choices, the chosen one at index 0 (the
candidates are at least ``n``); a stored chat still answers one reply, and keeps the others as
the turn's swipes, which regenerating shows first. How a job's events
become the response (and when errors keep their status) is :mod:`.replies`.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path
from starlette.requests import Request
from starlette.responses import Response

from personae.errors import PersonaeError
from personae.server.auth import Caller, get_caller
from personae.server.backend_pool import ModelId
from personae.server.conversation import read_messages
from personae.server.errors import APIError, model_not_found
from personae.server.jobs import Job, StoredTarget, find_character
from personae.server.openapi import COMPLETION_RESPONSES, ERROR_RESPONSES, request_body_schema
from personae.server.replies import answer, read_body
from personae.server.schemas import ChatCompletionRequest, parse_json, parse_request
from personae.server.state import ServerState, get_state
from personae.server.strategies import FIELD, check_slots
from personae.server.streaming import Output
from personae.store import CharacterRepository, StoredCharacter, check_user_id
from personae.training.adapters import AdapterRegistry

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


def _raw_model(model_id: str) -> dict[str, Any]:
    model = ModelId.parse(model_id).model or ""
    return {
        "id": model_id,
        "object": "model",
        "created": 0,
        "owned_by": "personae",
        "name": f"{model} (no character: the client's own prompt)".strip(),
    }


@router.get("/v1/models", summary="List the characters as models (OpenAI-compatible)")
def list_models(request: Request) -> dict[str, Any]:
    """Every character the caller may use, as a model, then each of their trained adapters
    (``character@adapter``), then the default model with no character (``raw:MODEL``)."""
    state = get_state(request)
    with state.database() as db:
        characters = CharacterRepository(db).all(visible_to=get_caller(request).viewer)
    raw = _raw_model(ModelId.raw_id(state.workers.backends.default_model))
    adapters = [a for a in AdapterRegistry().list() if a.ready]
    variants = [_model(s, a.label) for s in characters for a in adapters if a.character == s.id]
    return {"object": "list", "data": [*(_model(s) for s in characters), *variants, raw]}


@router.get("/v1/models/{model_id:path}", summary="One character as a model (OpenAI-compatible)")
def retrieve_model(
    model_id: Annotated[str, Path(description="A character's id.", examples=["sherlock"])],
    request: Request,
) -> dict[str, Any]:
    """One character as a model; ``character@model`` and ``raw:model`` ids are echoed back."""
    parsed = ModelId.parse(model_id)
    if parsed.raw:
        return _raw_model(model_id)
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


def to_job(req: ChatCompletionRequest, state: ServerState, caller: Caller) -> Job:
    """Check a request for everything that needs no store, and describe its job."""
    model = ModelId.parse(req.model)
    if not model.character and not model.raw:
        raise APIError(
            "the model must name a character, e.g. 'sherlock', or be 'raw:' for the model "
            "with no character (GET /v1/models lists them)",
            param="model",
            code="invalid_value",
        )
    n = req.n or 1
    continue_final = req.continue_final_message
    slots = state.workers.size
    if model.raw:
        if req.personae is not None and req.personae.fields():
            raise APIError(
                "a raw model makes its reply as the model writes it: reply strategies need a "
                "character, so leave personae out or use a character as the model",
                param=FIELD,
            )
        strategy = None
    else:
        strategy = state.workers.strategies.for_request(model.character, req.personae, slots)
        if not req.stateful and 1 < strategy.candidates < n:
            check_slots(n, slots, "n")  # n choices need n candidates, decoded together
    names = [m.name for m in req.messages if m.role == "user" and m.name and m.name.strip()]
    common: dict[str, Any] = {
        "character": model.character,
        "model": model.model,
        "params": req.params(state.params_for(model.model)),
        "user_name": names[-1].strip() if names else None,
        "n": n,
        "viewer": caller.viewer,
        "strategy": strategy,
    }
    if model.raw:
        return _raw_job(req, common, continue_final)
    turns = read_messages(req.messages, continue_final=continue_final)
    common["instructions"] = turns.instructions
    if not req.stateful:
        if req.new_chat:
            raise APIError("new_chat needs a user: name whose chat it is", param="new_chat")
        return Job(history=turns.history, continuing=turns.continuing, **common)
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
    text = turns.new_user_text or ""
    target = StoredTarget(
        text, req.chat_id, user_id, bool(req.new_chat), continue_reply=turns.continuing
    )
    return Job(stored=target, **common)


def _raw_job(req: ChatCompletionRequest, common: dict[str, Any], flag: bool | None) -> Job:
    for name in ("chat_id", "new_chat"):
        if getattr(req, name) is not None:
            raise APIError(
                f"a raw model keeps no chat, so {name} has no meaning: leave it out, or use "
                "a character as the model for a stored chat with memory",
                param=name,
            )
    turns = read_messages(req.messages, continue_final=flag, split=False)
    if not turns.history:
        raise APIError("messages must include at least one message with text", param="messages")
    return Job(history=turns.history, continuing=turns.continuing, raw=True, **common)
