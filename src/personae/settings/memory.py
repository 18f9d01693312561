"""The ``[memory]`` table: which memories are on and how they behave.

It lives with the settings, below :mod:`personae.memory`, so that reading ``config.toml``
checks it without importing the memory code (embeddings, the store);
:mod:`personae.memory.from_settings` turns it into the
:class:`~personae.memory.manager.MemorySettings` a chat runs with. The defaults here are that
class's (a unit test compares them key by key, so they cannot drift).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, get_args

from pydantic import BeforeValidator, Field, model_validator

from personae.settings.base import Section, SettingError

MemoryKind = Literal["lines", "episodic", "summary", "profile"]
MEMORY_KINDS: tuple[MemoryKind, ...] = get_args(MemoryKind)
MIN_QUERY_TOKENS = 8  # ``query: `` and the embedding model's two markers leave room for 5


def _kinds(value: Any) -> Any:
    if not isinstance(value, list | tuple):
        raise SettingError(f'must be a list, e.g. ["episodic", "profile"], not {value!r}')
    for kind in value:
        if kind not in MEMORY_KINDS:
            raise SettingError(f"has an unknown memory {kind!r}: use {', '.join(MEMORY_KINDS)}")
    return tuple(value)


class MemoryWeights(Section):
    """How recall ranks memories (Generative Agents' recency, importance, relevance)."""

    TABLE = "memory.weights"

    recency: Annotated[float, Field(ge=0)] = 1.0
    importance: Annotated[float, Field(ge=0)] = 1.0
    relevance: Annotated[float, Field(ge=0)] = 1.0


class MemorySection(Section):
    """``[memory]``; every key is optional, and the defaults are the memory code's own."""

    TABLE = "memory"

    kinds: Annotated[tuple[MemoryKind, ...], BeforeValidator(_kinds)] = MEMORY_KINDS
    lines_k: Annotated[int, Field(ge=0)] = 2
    episodes_k: Annotated[int, Field(ge=0)] = 4
    search_depth: Annotated[int, Field(ge=0)] = 30
    query_tokens: Annotated[int, Field(ge=MIN_QUERY_TOKENS)] = 18
    weights: MemoryWeights = MemoryWeights()
    decay: Annotated[float, Field(gt=0, le=1)] = 0.995
    reflection_threshold: Annotated[float, Field(ge=0)] = 150.0
    reflect: bool = True
    importance: Literal["heuristic", "model"] = "heuristic"
    facts: Literal["rules", "model"] = "rules"
    profile_scope: Literal["user", "character"] = "user"
    profile_tokens: Annotated[int, Field(ge=0)] = 200
    recall_tokens: Annotated[int, Field(ge=0)] = 400
    summary_trigger: Annotated[float, Field(gt=0, le=1)] = 0.75
    summary_keep: Annotated[float, Field(gt=0, le=1)] = 0.5

    @model_validator(mode="after")
    def _summary_bounds(self) -> MemorySection:
        if self.summary_keep > self.summary_trigger:
            raise SettingError(
                f"summary_keep ({self.summary_keep}) must not be more than summary_trigger "
                f"({self.summary_trigger})"
            )
        return self


__all__ = ["MEMORY_KINDS", "MIN_QUERY_TOKENS", "MemoryKind", "MemorySection", "MemoryWeights"]
