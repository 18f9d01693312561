"""A partition's memories held in process, for the in-process search (see :mod:`.bank`)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from personae.retrieval.hybrid import HybridIndex
from personae.retrieval.vectors import from_blob
from personae.store import MemoryItem


@dataclass
class PartitionIndex:
    """One partition's in-process index (the SQLite default), with the items it holds and
    which of them belong to which chat; ``version`` is the partition's as it was loaded."""

    version: int
    index: HybridIndex
    items: dict[int, MemoryItem] = field(default_factory=dict)
    by_chat: dict[int, set[int]] = field(default_factory=dict)

    def put(self, item: MemoryItem, vector: np.ndarray | None) -> None:
        code = None
        vectors = self.index.vectors
        if vector is None and vectors is not None and item.vector is not None:
            # from_blob checks the stored length against the index's dimension.
            code = (from_blob(item.vector, vectors.dim), float(item.vector_scale or 1.0))
        self.index.add(item.id, item.tokens, vector=vector, code=code)
        self.items[item.id] = item
        if item.chat_id is not None:
            self.by_chat.setdefault(item.chat_id, set()).add(item.id)

    def drop(self, memory_id: int) -> None:
        item = self.items.pop(memory_id, None)
        if item is None:
            return
        self.index.remove(memory_id)
        if item.chat_id is not None:
            self.by_chat.get(item.chat_id, set()).discard(memory_id)


__all__ = ["PartitionIndex"]
