"""What a generation job reports (see :mod:`.jobs`): it emits these, in order, from its worker
thread; :mod:`.replies` turns them into the response."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Opened:
    """Set-up is done and generation starts; ``chat_id`` for a stored chat."""

    chat_id: int | None = None
    user_id: str | None = None


@dataclass(frozen=True)
class Delta:
    index: int
    text: str


@dataclass(frozen=True)
class Candidates:
    """A reply chosen among candidates (best-of-N, refine, auto): every candidate, best first,
    with its verifiers' scores and reasons (``Ranked.as_dict()``); sent before its
    :class:`Finished`, and answered only in the ``personae`` extension field."""

    ranked: list[dict[str, Any]] = field(default_factory=list)
    strategy: str = "single"


@dataclass(frozen=True)
class Finished:
    index: int
    finish_reason: str
    prompt_tokens: int
    completion_tokens: int
    reply_id: int | None = None  # the stored reply, in a stored chat
    memory_error: str | None = None


@dataclass(frozen=True)
class Failed:
    error: BaseException


Event = Opened | Delta | Candidates | Finished | Failed
Emit = Callable[[Event | None], None]  # None: the job is over (always sent, last)

__all__ = ["Candidates", "Delta", "Emit", "Event", "Failed", "Finished", "Opened"]
