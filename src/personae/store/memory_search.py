"""The database's half of a memory search on PostgreSQL (see migration m008).

A search reads one partition (one user's memories with one character, or a character's lines):
its size and total length, the memories sharing a word with the query (``terms && …``, GIN),
and the nearest by inner product (pgvector's ``<#>``) or, without pgvector, every stored code.
:mod:`personae.memory.store_search` ranks what these return exactly as the in-process index
ranks a partition, so several server processes share this one index.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from personae.store.database import Database
from personae.store.memory_scope import scope_where


@dataclass(frozen=True)
class Partition:
    """One partition's memories of ``kinds``: exactly this user and character, NULL as NULL."""

    user_id: str | None
    character_id: str | None
    kinds: tuple[str, ...]

    def where(self) -> tuple[str, list[Any]]:
        return scope_where(
            self.user_id, self.character_id, None, self.kinds, exact=True, nulls=True
        )


@dataclass(frozen=True)
class PartitionStats:
    size: int  # memories
    length: int  # tokens, over all of them
    stale: tuple[int, ...]  # ids whose search keys are not this tokenizer's / embedder's


@dataclass(frozen=True)
class Candidate:
    id: int
    chat_id: int | None
    tokens: tuple[str, ...]


STALE_BATCH = 500


def partition_stats(
    db: Database, part: Partition, *, tokenizer: str, embedder: str | None
) -> PartitionStats:
    where, args = part.where()
    stale_if = "tokenizer <> ?" + (" OR embedder IS DISTINCT FROM ?" if embedder else "")
    stale_args = [tokenizer, *([embedder] if embedder else [])]
    row = db.conn.execute(
        f"SELECT COUNT(*), COALESCE(SUM(cardinality(terms)), 0), "
        f"COUNT(*) FILTER (WHERE {stale_if}) FROM memories WHERE {where}",
        [*stale_args, *args],
    ).fetchone()
    stale = []
    if row[2]:  # rare: only after the tokenizer or the embedder changed
        stale = db.conn.execute(
            f"SELECT id FROM memories WHERE {where} AND ({stale_if}) ORDER BY id "
            f"LIMIT {STALE_BATCH}",
            [*args, *stale_args],
        ).fetchall()
    return PartitionStats(int(row[0]), int(row[1]), tuple(int(r[0]) for r in stale))


def sharing_terms(db: Database, part: Partition, terms: Sequence[str]) -> list[Candidate]:
    """Every memory of ``part`` holding any of ``terms``, in id order (the order the
    in-process index adds a partition's memories in, which breaks its ties)."""
    if not terms:
        return []
    where, args = part.where()
    rows = db.conn.execute(
        f"SELECT id, chat_id, tokens FROM memories WHERE {where} AND terms && ? ORDER BY id",
        [*args, list(dict.fromkeys(terms))],
    ).fetchall()
    return [Candidate(int(r[0]), r[1], tuple(r[2].split()) if r[2] else ()) for r in rows]


def nearest(
    db: Database,
    part: Partition,
    query: Sequence[float],
    limit: int,
    *,
    embedder: str,
    chat_id: int | None,
) -> list[tuple[int, bytes, float]]:
    """``(id, int8 code, scale)`` of the ``limit`` memories of ``part`` embedded by
    ``embedder`` (that a chat ``chat_id`` may see) nearest to ``query`` by inner product,
    nearest first: pgvector, exactly (the caller scores the codes itself, as in process)."""
    where, args = part.where()
    literal = "[" + ",".join(f"{x:.9g}" for x in query) + "]"
    rows = db.conn.execute(
        f"SELECT id, vector, vector_scale FROM memories WHERE {where} "
        "AND embedder = ? AND embedding IS NOT NULL AND (chat_id IS NULL OR chat_id = ?) "
        "ORDER BY embedding <#> ?::vector, id LIMIT ?",
        [*args, embedder, chat_id, literal, limit],
    ).fetchall()
    return [(int(r[0]), bytes(r[1]), float(r[2] or 1.0)) for r in rows]


def stored_codes(
    db: Database, part: Partition, *, embedder: str, chat_id: int | None
) -> list[tuple[int, bytes, float]]:
    """``(id, int8 code, scale)`` of every memory of ``part`` embedded by ``embedder`` that a
    chat ``chat_id`` may see (the dense half without pgvector), in id order."""
    where, args = part.where()
    rows = db.conn.execute(
        f"SELECT id, vector, vector_scale FROM memories WHERE {where} AND embedder = ? "
        "AND vector IS NOT NULL AND (chat_id IS NULL OR chat_id = ?) ORDER BY id",
        [*args, embedder, chat_id],
    ).fetchall()
    return [(int(r[0]), bytes(r[1]), float(r[2] or 1.0)) for r in rows]


__all__ = [
    "Candidate",
    "Partition",
    "PartitionStats",
    "nearest",
    "partition_stats",
    "sharing_terms",
    "stored_codes",
]
