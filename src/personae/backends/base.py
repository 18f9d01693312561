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

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from personae.errors import ConfigError

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
    """A piece of a reply: text, or (last) how it ended and what it cost. ``candidate`` says
    which reply it belongs to when several are generated at once
    (:func:`personae.backends.candidates.stream_candidates`); 0 otherwise."""

    text: str = ""
    finish_reason: FinishReason | None = None
    usage: Usage | None = None
    candidate: int = 0

    @property
    def is_final(self) -> bool:
        return self.finish_reason is not None


# The longest token window a penalty may look back over (llama.cpp's -1: the whole context).
MAX_PENALTY_WINDOW = 131072


class GenerationParams(BaseModel):
    """Sampling parameters, shared by every backend. Unknown keys are rejected.

    The repetition controls default to None: not sent, so the runtime's own default applies.
    ``presence_penalty``/``frequency_penalty`` are OpenAI's; ``repeat_last_n`` is the window of
    ``repeat_penalty``; the ``dry_*`` fields are llama.cpp's DRY sampler ("don't repeat
    yourself"), which penalizes a token that would extend a sequence already in the context
    past ``dry_allowed_length`` tokens, by ``dry_multiplier * dry_base ** (length - allowed)``,
    looking back ``dry_penalty_last_n`` tokens (-1: the whole context; 0: off). Per-model
    defaults live in the model catalogue (:func:`personae.backends.sampling.default_params`).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_tokens: int = Field(default=256, ge=1, le=32768)
    temperature: float = Field(default=0.8, ge=0.0, le=2.0)
    top_p: float = Field(default=0.95, gt=0.0, le=1.0)
    top_k: int | None = Field(default=40, ge=0)
    min_p: float | None = Field(default=0.05, ge=0.0, le=1.0)
    repeat_penalty: float | None = Field(default=1.1, gt=0.0)
    seed: int | None = None
    stop: tuple[str, ...] = ()
    presence_penalty: float | None = Field(default=None, ge=-2.0, le=2.0)
    frequency_penalty: float | None = Field(default=None, ge=-2.0, le=2.0)
    repeat_last_n: int | None = Field(default=None, ge=-1, le=MAX_PENALTY_WINDOW)
    dry_multiplier: float | None = Field(default=None, ge=0.0, le=10.0)
    # llama.cpp quietly replaces a base below 1 with its default; 1 itself would be no growth.
    dry_base: float | None = Field(default=None, gt=1.0, le=4.0)
    dry_allowed_length: int | None = Field(default=None, ge=1, le=64)
    dry_penalty_last_n: int | None = Field(default=None, ge=-1, le=MAX_PENALTY_WINDOW)


# What a model's defaults and a user's ``--sampling`` may set: how tokens are chosen, not how
# many (max_tokens), which run (seed) or where a reply ends (stop), which have their own knobs.
SAMPLING_FIELDS = tuple(
    name for name in GenerationParams.model_fields if name not in ("max_tokens", "seed", "stop")
)
# The repetition controls, which default to "not sent" (the runtime's own default).
REPETITION_FIELDS = (
    "presence_penalty",
    "frequency_penalty",
    "repeat_last_n",
    "dry_multiplier",
    "dry_base",
    "dry_allowed_length",
    "dry_penalty_last_n",
)


class BackendOptions(BaseModel):
    """Base of each backend's own options; ``extra="forbid"`` makes typos errors. A backend
    names its options model as the class attribute ``options_model``: building a backend from
    settings (:mod:`personae.backends.from_settings`) passes it only the options that model
    declares."""

    model_config = ConfigDict(extra="forbid")


@runtime_checkable
class Backend(Protocol):
    """What every backend is. ``name`` is the registry key; ``model`` what it runs."""

    name: ClassVar[str]
    model: str

    def stream(self, messages: Sequence[Message], params: GenerationParams) -> Iterator[Chunk]: ...


@runtime_checkable
class NextTokenLogprobs(Protocol):
    """Optional capability: the most likely next tokens after ``messages`` (the start of the
    assistant's reply) with their log-probabilities, ``top`` of them at most. A judge reads a
    yes/no verdict from these without sampling one (the judge verifier)."""

    def next_token_logprobs(
        self, messages: Sequence[Message], *, top: int = 20
    ) -> dict[str, float]: ...


@runtime_checkable
class AdapterServer(Protocol):
    """Optional capability: a server that holds LoRA adapters of its own (vLLM started with
    ``--lora-modules``, SGLang with ``--lora-paths``), a request choosing one by name.
    ``with_adapter(name)`` is this backend replying with adapter ``name``, or None when the
    server says it has no adapter of that name."""

    def with_adapter(self, name: str) -> Backend | None: ...


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
    try:
        return options_cls.model_validate(options)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "options"
        raise ConfigError(
            f"backend {backend!r}: option {where!r}: {first['msg']}", param=where
        ) from None
