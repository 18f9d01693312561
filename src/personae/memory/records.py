"""What goes into the memory bank (:class:`Draft`) and what a search brings back
(:class:`Recalled`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from personae.retrieval.hybrid import Hit
from personae.store import MemoryItem


@dataclass(frozen=True)
class Draft:
    """A memory before it is stored: the bank redacts, tokenizes and embeds it."""

    kind: str
    text: str
    user_id: str | None = None
    character_id: str | None = None
    chat_id: int | None = None
    label: str = ""
    importance: float = 0.0
    evidence: Sequence[int] = ()
    source: str = ""
    created_at: float | None = None


@dataclass(frozen=True)
class Recalled:
    """A memory found by a search, with how it was found."""

    item: MemoryItem
    hit: Hit

    @property
    def id(self) -> int:
        return self.item.id


__all__ = ["Draft", "Recalled"]
