"""Memory search in the database (PostgreSQL): one index that every server process shares.

The in-process index (:class:`~personae.retrieval.hybrid.HybridIndex`, the SQLite default) keeps
each partition it has searched in memory; with several server processes on one PostgreSQL each
would keep its own copy of every partition it served and reload it after every other process's
write. Here the database holds the index (migration m008) and a search asks it for:

- the partition's size and token count, and the memories whose search keys are stale (written
  with another tokenizer or embedder; the bank makes them again first, as it does in process);
- every memory sharing a word with the query (GIN over ``terms``), scored by BM25 with the
  partition's statistics (:class:`~personae.retrieval.lexical.SampleLexicalIndex`), so each
  scores as it would in the whole partition;
- the nearest memories by inner product with the query, exactly: pgvector's ``<#>`` over the
  partition, or without pgvector the partition's stored int8 codes scanned here.

Both rankings are fused as in process (:func:`~personae.retrieval.hybrid.fuse`), so the same
memories come back. Why exact and not pgvector's HNSW: a search reads one partition (one user's
memories with one character), a few thousand rows that the scope's B-tree index finds; a global
HNSW graph would return the nearest among all users' memories and filter this user's out
afterwards, losing most of them (pgvector 0.6 has no iterative scan).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from personae.retrieval.hybrid import Hit, fuse
from personae.retrieval.lexical import SampleLexicalIndex
from personae.retrieval.tokens import tokenizer_name
from personae.retrieval.vectors import dequantize
from personae.store import Database, MemoryItem, MemoryRepository
from personae.store.memory_search import (
    Partition,
    nearest,
    partition_stats,
    sharing_terms,
    stored_codes,
)

Rekey = Callable[[Sequence[int]], None]


class StoreSearch:
    """Searches partitions of ``db``'s memories in the database. ``rekey(ids)``: make and store
    the search keys of memories whose keys are stale (the bank's own routine)."""

    def __init__(self, db: Database, rekey: Rekey) -> None:
        self.db = db
        self.rekey = rekey

    def recall(
        self,
        part: Partition,
        tokens: Sequence[str],
        k: int,
        vector: np.ndarray | None,
        *,
        embedder: str | None,
        chat_id: int | None,
        depth: int | None = None,
    ) -> list[tuple[MemoryItem, Hit]]:
        """:meth:`search`, with each hit's memory."""
        hits = self.search(
            part, tokens, k, vector=vector, embedder=embedder, chat_id=chat_id, depth=depth
        )
        items = MemoryRepository(self.db).many([h.key for h in hits])
        return [(items[h.key], h) for h in hits if h.key in items]

    def search(
        self,
        part: Partition,
        tokens: Sequence[str],
        k: int,
        *,
        vector: np.ndarray | None,
        embedder: str | None,
        chat_id: int | None,
        depth: int | None = None,
    ) -> list[Hit]:
        """The ``k`` best memories of ``part`` that a chat ``chat_id`` may see (memories of
        other chats are left out, as in process)."""
        stats = partition_stats(self.db, part, tokenizer=tokenizer_name(), embedder=embedder)
        if stats.stale:
            self.rekey(stats.stale)
        if not stats.size or k <= 0:
            return []
        depth = depth or max(4 * k, 20)
        lexical_index = SampleLexicalIndex(stats.size, stats.length)
        other_chats = set()
        for candidate in sharing_terms(self.db, part, tokens):
            lexical_index.add(candidate.id, candidate.tokens)
            if candidate.chat_id is not None and candidate.chat_id != chat_id:
                other_chats.add(candidate.id)
        lexical = lexical_index.search(tokens, depth, exclude=other_chats)
        dense: list[tuple[int, float]] = []
        if vector is not None and embedder is not None:
            dense = self._dense(part, vector, depth, embedder=embedder, chat_id=chat_id)
        return fuse(lexical, dense, k)

    def _dense(
        self,
        part: Partition,
        vector: np.ndarray,
        depth: int,
        *,
        embedder: str,
        chat_id: int | None,
    ) -> list[tuple[int, float]]:
        query = np.asarray(vector, dtype=np.float32).reshape(-1)
        if self.db.vector_search:
            # pgvector narrows the partition to its nearest (with room for near-ties at the
            # cut, which float sums in another order may swap); they are scored here.
            rows = nearest(
                self.db, part, query.tolist(), 2 * depth, embedder=embedder, chat_id=chat_id
            )
        else:
            rows = stored_codes(self.db, part, embedder=embedder, chat_id=chat_id)
        rows = sorted(r for r in rows if len(r[1]) == len(query))  # id order: ties as in process
        if not rows:
            return []
        codes = np.frombuffer(b"".join(r[1] for r in rows), dtype=np.int8).reshape(len(rows), -1)
        # as the in-process index scores them: the dequantized codes times the query
        scores = dequantize(codes, np.asarray([r[2] for r in rows], np.float32)) @ query
        order = np.lexsort((np.arange(len(rows)), -scores))[:depth]
        return [(rows[i][0], float(scores[i])) for i in order]


__all__ = ["StoreSearch"]
