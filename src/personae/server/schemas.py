"""The chat-completions request: validated strictly (a string is not a number), with OpenAI's
fields plus personae's own (``chat_id``, ``new_chat``, and ``personae``: how the reply is made,
see :mod:`.strategies`) and the sampling extensions local servers
take (``top_k``, ``min_p``, ``repetition_penalty``; llama.cpp's ``repeat_last_n`` and DRY
``dry_*``); other unknown fields are ignored, as clients send many (``logit_bias``, ``user`` …)
that a character has no use for."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from personae.backends.base import MAX_PENALTY_WINDOW, REPETITION_FIELDS, GenerationParams
from personae.server.errors import APIError, from_validation
from personae.server.guard import check_json_depth, check_text
from personae.server.strategies import StrategyRequest

MAX_BODY_BYTES = 1_000_000
# SQLite integers are 64-bit: a larger id could only fail deeper down.
MAX_ROW_ID = 2**63 - 1
# Below 0.1 the penalty divides logits into overflow (1e-300 makes them infinite) and the
# backend fails mid-request; above 10 it only forbids repeating any token at all.
MIN_REPETITION_PENALTY = 0.1
MAX_REPETITION_PENALTY = 10.0
# Character cards uploaded to /api: PNG avatars make them far larger than a chat request.
MAX_CARD_BYTES = 20 * 1024 * 1024
MAX_N = 8
MAX_STOPS = 32
CHAT_ROLES = ("system", "developer", "user", "assistant")


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="allow")


class RequestMessage(_Strict):
    """One message; ``content`` is a string or an array of text parts, held as one string."""

    role: str = Field(json_schema_extra={"enum": list(CHAT_ROLES)})
    content: str = ""
    name: str | None = None

    @field_validator("role")
    @classmethod
    def _known_role(cls, role: str) -> str:
        if role in ("tool", "function"):
            raise ValueError("tool messages are not supported: characters do not call tools")
        if role not in CHAT_ROLES:
            raise ValueError(f"must be one of {', '.join(CHAT_ROLES)}, not {role!r}")
        return role

    @field_validator("content", mode="before")
    @classmethod
    def _text(cls, content: Any) -> str:
        if content is None:  # an assistant message that only called tools
            return ""
        if isinstance(content, str):
            return content
        if not isinstance(content, list):
            raise ValueError("must be a string or an array of text parts")
        texts: list[str] = []
        for part in content:
            kind = part.get("type") if isinstance(part, dict) else None
            if kind != "text":
                raise ValueError(
                    f"only text parts are supported, not {kind!r}"
                    if kind
                    else "each part must be an object like {'type': 'text', 'text': '…'}"
                )
            text = part.get("text")
            if not isinstance(text, str):
                raise ValueError("a text part needs a string 'text'")
            texts.append(text)
        return "\n".join(texts)


class StreamOptions(_Strict):
    include_usage: bool | None = None


class SamplingRequest(_Strict):
    """The sampling fields, named as ``/v1/chat/completions`` names them (regenerating a reply
    takes the same ones)."""

    temperature: float | None = Field(default=None, ge=0.0, le=2.0)
    top_p: float | None = Field(default=None, ge=0.0, le=1.0)
    top_k: int | None = Field(default=None, ge=0)
    min_p: float | None = Field(default=None, ge=0.0, le=1.0)
    repetition_penalty: float | None = Field(
        default=None, ge=MIN_REPETITION_PENALTY, le=MAX_REPETITION_PENALTY
    )
    max_tokens: int | None = Field(default=None, ge=1, le=32768)
    max_completion_tokens: int | None = Field(default=None, ge=1, le=32768)
    stop: tuple[str, ...] = ()
    seed: int | None = None
    presence_penalty: float | None = Field(default=None, ge=-2.0, le=2.0)
    frequency_penalty: float | None = Field(default=None, ge=-2.0, le=2.0)
    # llama.cpp's names (llama-server takes them on /v1/chat/completions too).
    repeat_last_n: int | None = Field(default=None, ge=-1, le=MAX_PENALTY_WINDOW)
    dry_multiplier: float | None = Field(default=None, ge=0.0, le=10.0)
    dry_base: float | None = Field(default=None, gt=1.0, le=4.0)
    dry_allowed_length: int | None = Field(default=None, ge=1, le=64)
    dry_penalty_last_n: int | None = Field(default=None, ge=-1, le=MAX_PENALTY_WINDOW)

    @field_validator("stop", mode="before")
    @classmethod
    def _stops(cls, stop: Any) -> tuple[str, ...]:
        if stop is None:
            return ()
        stops = [stop] if isinstance(stop, str) else stop
        if not isinstance(stops, list) or not all(isinstance(s, str) for s in stops):
            raise ValueError("must be a string or an array of strings")
        if len(stops) > MAX_STOPS:
            raise ValueError(f"at most {MAX_STOPS} stop sequences")
        if any(not s for s in stops):
            raise ValueError("a stop sequence cannot be empty")
        return tuple(stops)

    def params(self, defaults: GenerationParams) -> GenerationParams:
        """``defaults`` with the values this request gives."""
        values: dict[str, Any] = {
            "temperature": self.temperature,
            # OpenAI allows top_p 0 (greedy); samplers need a positive nucleus: keep a sliver.
            "top_p": None if self.top_p is None else max(self.top_p, 1e-3),
            "top_k": self.top_k,
            "min_p": self.min_p,
            "repeat_penalty": self.repetition_penalty,
            "max_tokens": self.max_completion_tokens or self.max_tokens,
            "seed": self.seed,
            "stop": self.stop or None,
            **{name: getattr(self, name) for name in REPETITION_FIELDS},
        }
        return defaults.model_copy(update={k: v for k, v in values.items() if v is not None})


class ChatCompletionRequest(SamplingRequest):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"model": "sherlock", "messages": [{"role": "user", "content": "Who are you?"}]}
            ]
        }
    )

    model: str = Field(
        min_length=1,
        max_length=256,
        description="A character's id, or character@model for another backend model.",
        examples=["sherlock"],
    )
    messages: list[RequestMessage]
    stream: bool | None = None
    stream_options: StreamOptions | None = None
    n: int | None = Field(default=None, ge=1, le=MAX_N)
    user: str | None = None
    chat_id: int | None = None
    new_chat: bool | None = None
    continue_final_message: bool | None = Field(
        default=None,
        description=(
            "true: continue the last (assistant) message, answering only the new text; false: "
            "the character speaks next in a new message. Unset: decided from the messages "
            "(SillyTavern's continue nudge, or a last message that stops mid-sentence)."
        ),
    )

    personae: StrategyRequest | None = Field(
        default=None,
        description="personae's extension: how the reply is made (best-of-n, refine, auto; "
        "its budgets), over the strategy configured for the character. A reply chosen among "
        "candidates answers them, ranked with the verifiers' scores, in the response's own "
        "`personae.candidates`; with `n` > 1 (no chat) the choices are the candidates, the "
        "chosen one first.",
        examples=[{"strategy": "best-of-n", "n": 4}],
    )

    @field_validator("messages")
    @classmethod
    def _not_empty(cls, messages: list[RequestMessage]) -> list[RequestMessage]:
        if not messages:
            raise ValueError("must contain at least one message")
        return messages

    @field_validator("chat_id", mode="before")
    @classmethod
    def _chat_id(cls, chat_id: Any) -> int | None:
        # Digit strings are accepted: some clients only let extra fields be strings.
        if chat_id is None:
            return None
        if isinstance(chat_id, str) and chat_id.isdecimal():
            chat_id = int(chat_id)
        if (
            isinstance(chat_id, bool)
            or not isinstance(chat_id, int)
            or not 1 <= chat_id <= MAX_ROW_ID
        ):
            shown = repr(chat_id) if len(repr(chat_id)) <= 40 else repr(chat_id)[:40] + "…"
            raise ValueError(f"must be a chat number from 1 to {MAX_ROW_ID}, not {shown}")
        return chat_id

    @property
    def include_usage(self) -> bool:
        return bool(self.stream_options and self.stream_options.include_usage)

    @property
    def stateful(self) -> bool:
        return self.chat_id is not None or self.user is not None


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def parse_json(raw: bytes) -> dict[str, Any]:
    """The body as a JSON object of valid text, or a 400 that says what is wrong with it."""
    if not raw.strip():
        raise APIError("the request body is empty: send a JSON object", code="invalid_json")
    check_json_depth(raw)
    try:
        data = json.loads(raw, parse_constant=_no_constants)
    except ValueError as exc:  # JSONDecodeError, bad UTF-8, NaN/Infinity
        raise APIError(f"the request body is not valid JSON ({exc})", code="invalid_json") from None
    if not isinstance(data, dict):
        raise APIError("the request body must be a JSON object", code="invalid_json")
    check_text(data)
    return data


def parse_request(data: dict[str, Any]) -> ChatCompletionRequest:
    try:
        return ChatCompletionRequest.model_validate(data)
    except ValidationError as exc:
        raise from_validation(exc) from None
