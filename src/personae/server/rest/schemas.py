"""The REST API's request and response bodies, as pydantic models, so that ``/openapi.json``
describes them and FastAPI checks what comes in (a wrong type is a 400 with an OpenAI error
body). Request bodies are strict (a string is not a number) and reject unknown fields, so a
typo is an error rather than silently ignored; times are Unix seconds."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from personae.server.schemas import SamplingRequest
from personae.server.strategies import StrategyRequest

MAX_TITLE_CHARS = 200
MAX_LABEL_CHARS = 64
MAX_MEMORY_CHARS = 4000


class _Body(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")


# -- who and what ---------------------------------------------------------------------------------


class Me(BaseModel):
    user_id: str = Field(description="The user whose chats and memories this caller uses.")
    keyed: bool = Field(description="Whether the server wants API keys (then the key decides).")
    version: str = Field(description="The personae version the server runs.")


class ModelInfo(BaseModel):
    id: str
    title: str
    size_mb: float | None = Field(description="Download size; None for a model not in the list.")
    pulled: bool = Field(description="Whether its file is here, ready to load.")
    default: bool = Field(description="Whether replies use it unless a model id names another.")
    languages: list[str]
    licence: str | None
    context: int | None = Field(description="The context window it runs with by default.")


class ModelList(BaseModel):
    data: list[ModelInfo]
    backend: str = Field(description="The server's backend: embedded, openai …")


# -- characters ----------------------------------------------------------------------------------


class ReplyInfo(BaseModel):
    strategy: str = Field(description="single, best-of-n, refine or auto")
    n: int = Field(description="Candidates a reply is chosen among (1: single and refine).")


class CharacterSummary(BaseModel):
    id: str
    name: str
    description: str = Field(description="The first 300 characters of the card's description.")
    creator: str
    tags: list[str]
    first_message: str
    avatar_url: str | None = Field(description="Where its image is; None when it has none.")
    owner_id: str | None = Field(description="Who added it; None: added on the server machine.")
    shared: bool = Field(description="False: only its owner sees it.")
    editable: bool = Field(description="Whether this caller may change or delete it.")
    created_at: float
    updated_at: float
    reply: ReplyInfo = Field(
        description="How the server makes this character's replies unless a request says "
        "otherwise ([server.reply.<id>] over [reply]): a front end shows a 'choosing…' state "
        "while a best-of-n reply's candidates are written."
    )


class CharacterDetail(CharacterSummary):
    card: dict[str, Any] = Field(
        description="The whole card as Character Card JSON (V3, or V2 for a V2 card)."
    )


class CharacterList(BaseModel):
    data: list[CharacterSummary]


class SharedChange(_Body):
    shared: bool = Field(description="True: every user sees it; false: only its owner.")


# -- chats and messages --------------------------------------------------------------------------


class Message(BaseModel):
    id: int
    chat_id: int
    role: Literal["user", "assistant", "system"]
    content: str
    status: Literal["complete", "incomplete"] = Field(
        description="incomplete: the reply was cut off (what arrived is kept)."
    )
    created_at: float


class ChatSummary(BaseModel):
    id: int
    character_id: str
    title: str
    user_id: str
    created_at: float
    updated_at: float
    message_count: int


class ChatDetail(ChatSummary):
    messages: list[Message] = Field(description="The visible messages, oldest first.")


class ChatList(BaseModel):
    data: list[ChatSummary] = Field(description="Most recently active first.")


class NewChat(_Body):
    character: str = Field(description="The character's id.", examples=["sherlock"])
    title: str | None = Field(default=None, max_length=MAX_TITLE_CHARS)


class ChatChange(_Body):
    title: str = Field(max_length=MAX_TITLE_CHARS)


class MessageChange(_Body):
    content: str = Field(min_length=1, description="The new text; the message keeps its place.")


class RegenerateRequest(SamplingRequest):
    """Sampling as in ``/v1/chat/completions``; other fields are ignored, as there."""

    stream: bool = Field(default=True, description="Server-sent chunks (true) or one JSON body.")
    personae: StrategyRequest | None = Field(
        default=None,
        description="How the new reply is made, as in /v1/chat/completions. A candidate kept "
        "from the last best-of-N reply (a swipe) is shown first, at once, without generating.",
        examples=[{"strategy": "best-of-n", "n": 4}],
    )


# -- memories ------------------------------------------------------------------------------------


class Memory(BaseModel):
    id: int
    kind: Literal["line", "episode", "reflection", "fact", "note"]
    text: str
    label: str = Field(description="A fact's label (name, likes …); free text on a note.")
    importance: float = Field(description="0 (trivial) to 10 (vital).")
    character_id: str | None = Field(description="None: with every character.")
    chat_id: int | None = Field(description="Set when it belongs to one chat.")
    user_id: str | None = Field(description="None only for a character's own lines.")
    source: str
    evidence: list[int] = Field(description="Ids of the messages or memories it came from.")
    created_at: float
    accessed_at: float = Field(description="When a reply last recalled it.")


class MemoryList(BaseModel):
    data: list[Memory] = Field(description="Oldest first.")


class NewMemory(_Body):
    text: str = Field(min_length=1, max_length=MAX_MEMORY_CHARS)
    kind: Literal["note", "fact"] = "note"
    label: str | None = Field(
        default=None,
        max_length=MAX_LABEL_CHARS,
        description="For a fact, one of the profile labels (name, age, likes … other); "
        "default other.",
    )
    character: str | None = Field(
        default=None,
        description="Only with this character; none: with every character.",
        examples=["sherlock"],
    )


class MemoryChange(_Body):
    text: str | None = Field(default=None, min_length=1, max_length=MAX_MEMORY_CHARS)
    label: str | None = Field(default=None, max_length=MAX_LABEL_CHARS)
    importance: float | None = Field(default=None, ge=0.0, le=10.0)
