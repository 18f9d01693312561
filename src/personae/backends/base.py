"""The backend protocol: one method, ``stream(messages, params) -> Iterator[Chunk]``.

A backend yields text deltas (``Chunk(text=...)``) and ends with exactly one final chunk that
carries ``finish_reason`` and, when the backend knows it, ``usage``. A last message marked
``prefix`` is continued; any other last message is followed by a new assistant message.
Capabilities are class attributes, options a pydantic model with ``extra="forbid"`` so a typo
is an error, not a no-op.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import ClassVar, Literal, Protocol, TypeVar, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

_OptionsT = TypeVar("_OptionsT", bound=BaseModel)
Role = Literal["system", "user", "assistant"]
FinishReason = Literal["stop", "length", "cancelled", "error"]


@dataclass(frozen=True, slots=True)
class Message:
    """One chat message. ``prefix`` (only on a last, ``assistant`` message) asks the backend to
    continue that message instead of starting a new one: the reply is what follows
    ``content`` (assistant prefill; Mistral's and DeepSeek's APIs name it the same way)."""

    role: Role
    content: str
    prefix: bool = False

    def as_dict(self) -> dict[str, str]:
        return {"role": self.role, "content": self.content}


@dataclass(frozen=True, slots=True)
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    prompt_ms: float | None = None
    generation_ms: float | None = None


@dataclass(frozen=True, slots=True)
class Chunk:
    text: str = ""
    finish_reason: FinishReason | None = None
    usage: Usage | None = None

    @property
    def is_final(self) -> bool:
        return self.finish_reason is not None


class GenerationParams(BaseModel):
    """Sampling parameters, shared by every backend. Unknown keys are rejected."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_tokens: int = Field(default=256, ge=1, le=32768)
    temperature: float = Field(default=0.8, ge=0.0, le=2.0)
    top_p: float = Field(default=0.95, gt=0.0, le=1.0)
    top_k: int | None = Field(default=40, ge=0)
    min_p: float | None = Field(default=0.05, ge=0.0, le=1.0)
    repeat_penalty: float | None = Field(default=1.1, gt=0.0)
    seed: int | None = None
    stop: tuple[str, ...] = ()


class BackendOptions(BaseModel):
    """Base of each backend's own options; ``extra="forbid"`` makes typos errors."""

    model_config = ConfigDict(extra="forbid")


@runtime_checkable
class Backend(Protocol):
    """What every backend is. ``name`` is the registry key; ``model`` what it runs."""

    name: ClassVar[str]
    model: str

    def stream(self, messages: Sequence[Message], params: GenerationParams) -> Iterator[Chunk]: ...


@runtime_checkable
class TokenCounter(Protocol):
    """Optional capability: count tokens exactly as the model will see them."""

    def count_tokens(self, text: str) -> int: ...


def collect(chunks: Iterator[Chunk]) -> tuple[str, Chunk]:
    """Drain a stream into ``(text, final_chunk)``; for callers that do not stream."""
    parts: list[str] = []
    final = Chunk(finish_reason="stop")
    for chunk in chunks:
        if chunk.text:
            parts.append(chunk.text)
        if chunk.is_final:
            final = chunk
    return "".join(parts), final


def parse_options(
    options_cls: type[_OptionsT], backend: str, options: dict[str, object]
) -> _OptionsT:
    """Validate backend options; a bad or unknown option becomes one clear line."""
    from pydantic import ValidationError

    from personae.errors import ConfigError

    try:
        return options_cls.model_validate(options)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "options"
        raise ConfigError(
            f"backend {backend!r}: option {where!r}: {first['msg']}", param=where
        ) from None
