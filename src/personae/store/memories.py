"""Memories (see migration ``m003_memory`` for the scope rules); the repository also reads and
writes rolling chat summaries (:mod:`.summaries`).

Rows are grouped in *partitions* — one user's memories with one character (``user|character``),
one user's character-independent memories (``user|``), or one character's own lines
(``|character``) — which is the unit an in-memory search index is built for and the unit whose
version is bumped on every write.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from personae.errors import InvalidInput, NotFound
from personae.store.database import Database
from personae.store.memory_scope import KINDS as KINDS  # re-exported
from personae.store.memory_scope import Kind as Kind  # re-exported
from personae.store.memory_scope import check_kinds, scope_where
from personae.store.summaries import ChatSummaries
from personae.store.summaries import ChatSummary as ChatSummary  # re-exported

# What a MemoryItem is read from (never ``*``: PostgreSQL's generated search columns are not).
ITEM_COLUMNS = (
    "id, kind, text, user_id, character_id, chat_id, label, importance, evidence, source, "
    "created_at, accessed_at, updated_at, tokens, tokenizer, vector, vector_scale, embedder"
)


def partition_key(user_id: str | None, character_id: str | None) -> str:
    return f"{user_id or ''}|{character_id or ''}"


@dataclass(frozen=True)
class NewMemory:
    """A memory to insert: what it says, where it may be seen, and its search keys."""

    kind: Kind
    text: str
    tokens: Sequence[str]
    tokenizer: str
    user_id: str | None = None
    character_id: str | None = None
    chat_id: int | None = None
    label: str = ""
    importance: float = 0.0
    evidence: Sequence[int] = ()
    source: str = ""
    vector: bytes | None = None
    vector_scale: float | None = None
    embedder: str | None = None
    created_at: float | None = None


@dataclass(frozen=True)
class MemoryItem:
    id: int
    kind: str
    text: str
    user_id: str | None
    character_id: str | None
    chat_id: int | None
    label: str
    importance: float
    evidence: tuple[int, ...]
    source: str
    created_at: float
    accessed_at: float
    updated_at: float
    tokens: tuple[str, ...] = field(repr=False, default=())
    tokenizer: str = field(repr=False, default="")
    vector: bytes | None = field(repr=False, default=None)
    vector_scale: float | None = field(repr=False, default=None)
    embedder: str | None = field(repr=False, default=None)

    @property
    def partition(self) -> str:
        return partition_key(self.user_id, self.character_id)

    def public(self) -> dict[str, Any]:
        """What ``memory show``/``export`` print: everything but the search keys."""
        return {
            "id": self.id,
            "kind": self.kind,
            "text": self.text,
            "label": self.label,
            "importance": self.importance,
            "evidence": list(self.evidence),
            "source": self.source,
            "user": self.user_id,
            "character": self.character_id,
            "chat": self.chat_id,
            "created_at": self.created_at,
            "accessed_at": self.accessed_at,
        }


@dataclass(frozen=True)
class SearchKeys:
    """A stored memory's search keys computed after it was written (a vector its writer could
    not make, tokens from a newer tokenizer): kept so that no index rebuild makes them again."""

    id: int
    text: str  # as the keys were made from: a memory edited since keeps its own keys
    tokens: Sequence[str]
    tokenizer: str
    vector: bytes | None
    vector_scale: float | None
    embedder: str | None


def _check(memory: NewMemory) -> None:
    if memory.kind not in KINDS:
        raise InvalidInput(f"unknown memory kind {memory.kind!r}: use one of {', '.join(KINDS)}")
    if not memory.text.strip():
        raise InvalidInput("a memory needs some text")
    if memory.kind != "line" and not memory.user_id:
        raise InvalidInput(f"a {memory.kind} memory must belong to a user")
    if memory.chat_id is not None and not (memory.user_id and memory.character_id):
        raise InvalidInput("a chat-scoped memory needs its user and character too")
    if not 0 <= memory.importance <= 10:
        raise InvalidInput(f"importance must be within 0-10, not {memory.importance}")


class MemoryRepository(ChatSummaries):
    """Memories, and (from :class:`ChatSummaries`) each chat's rolling summary."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # -- writing ------------------------------------------------------------------------------

    def add(self, memory: NewMemory) -> int:
        return self.add_many([memory])[0]

    def add_many(self, memories: Iterable[NewMemory]) -> list[int]:
        """Insert in one transaction (all or nothing); returns the new ids in order."""
        rows = list(memories)
        for memory in rows:
            _check(memory)
        now = time.time()
        ids: list[int] = []
        with self.db.transaction() as conn:
            for m in rows:
                created = m.created_at if m.created_at is not None else now
                cur = conn.execute(
                    "INSERT INTO memories (kind, user_id, character_id, chat_id, text, label, "
                    "importance, evidence, source, tokens, tokenizer, vector, vector_scale, "
                    "embedder, created_at, accessed_at, updated_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                    (
                        m.kind,
                        m.user_id,
                        m.character_id,
                        m.chat_id,
                        m.text,
                        m.label,
                        float(m.importance),
                        json.dumps(list(m.evidence)),
                        m.source,
                        " ".join(m.tokens),
                        m.tokenizer,
                        m.vector,
                        m.vector_scale,
                        m.embedder,
                        created,
                        created,
                        now,
                    ),
                )
                ids.append(int(cur.fetchone()[0]))
            self._bump(conn, {partition_key(m.user_id, m.character_id) for m in rows})
        return ids

    def update(self, memory_id: int, changes: NewMemory) -> MemoryItem:
        """Replace a memory's text (and search keys, label, importance); scope and kind stay."""
        old = self.get(memory_id)
        if not changes.text.strip():
            raise InvalidInput("a memory needs some text")
        with self.db.transaction() as conn:
            conn.execute(
                "UPDATE memories SET text = ?, label = ?, importance = ?, tokens = ?, "
                "tokenizer = ?, vector = ?, vector_scale = ?, embedder = ?, updated_at = ? "
                "WHERE id = ?",
                (
                    changes.text,
                    changes.label or old.label,
                    float(changes.importance or old.importance),
                    " ".join(changes.tokens),
                    changes.tokenizer,
                    changes.vector,
                    changes.vector_scale,
                    changes.embedder,
                    time.time(),
                    memory_id,
                ),
            )
            self._bump(conn, {old.partition})
            _clear_notes(conn, [old.text])
        return self.get(memory_id)

    def set_search_keys(self, keys: Sequence[SearchKeys]) -> int:
        """Store search keys for memories whose text is still what they were made from;
        returns how many were. Neither ``updated_at`` nor the partition's version changes: what
        the memory says did not change, and other processes' indexes need not reload."""
        if not keys:
            return 0
        with self.db.transaction() as conn:
            cur = conn.executemany(
                "UPDATE memories SET tokens = ?, tokenizer = ?, vector = ?, vector_scale = ?, "
                "embedder = ? WHERE id = ? AND text = ?",
                [
                    (
                        " ".join(k.tokens),
                        k.tokenizer,
                        k.vector,
                        k.vector_scale,
                        k.embedder,
                        k.id,
                        k.text,
                    )
                    for k in keys
                ],
            )
        return int(cur.rowcount)

    def annotate(
        self, memory_id: int, *, label: str | None = None, importance: float | None = None
    ) -> MemoryItem:
        """Change a memory's label and/or importance (None keeps it); text and keys stay."""
        old = self.get(memory_id)
        if importance is not None and not 0 <= importance <= 10:
            raise InvalidInput(f"importance must be within 0-10, not {importance}")
        with self.db.transaction() as conn:
            conn.execute(
                "UPDATE memories SET label = ?, importance = ?, updated_at = ? WHERE id = ?",
                (
                    old.label if label is None else label,
                    old.importance if importance is None else float(importance),
                    time.time(),
                    memory_id,
                ),
            )
            self._bump(conn, {old.partition})
            _clear_notes(conn, [old.text])
        return self.get(memory_id)

    def touch(self, memory_ids: Sequence[int], when: float | None = None) -> None:
        """Record that these memories were just retrieved (recency counts from here)."""
        if not memory_ids:
            return
        marks = ",".join("?" * len(memory_ids))
        with self.db.transaction() as conn:
            conn.execute(
                f"UPDATE memories SET accessed_at = ? WHERE id IN ({marks})",
                (when if when is not None else time.time(), *memory_ids),
            )

    def delete(self, memory_ids: Sequence[int]) -> int:
        """Delete for good (forgetting is the user's right: nothing is kept hidden)."""
        if not memory_ids:
            return 0
        marks = ",".join("?" * len(memory_ids))
        with self.db.transaction() as conn:
            rows = conn.execute(
                f"SELECT user_id, character_id, text FROM memories WHERE id IN ({marks})",
                tuple(memory_ids),
            ).fetchall()
            parts = {partition_key(r[0], r[1]) for r in rows}
            cur = conn.execute(f"DELETE FROM memories WHERE id IN ({marks})", tuple(memory_ids))
            self._bump(conn, parts)
            _clear_notes(conn, [r[2] for r in rows])
        return int(cur.rowcount)

    def wipe(
        self,
        *,
        user_id: str | None = None,
        character_id: str | None = None,
        chat_id: int | None = None,
        kinds: Sequence[str] = KINDS,
    ) -> int:
        """Delete every memory matching all the given filters (at least one is required);
        a chat's rolling summary goes with its chat's memories."""
        where, args = scope_where(user_id, character_id, chat_id, kinds, exact=True)
        if user_id is None and character_id is None and chat_id is None:
            raise InvalidInput("say whose memories to wipe: a user, a character or a chat")
        ids = [r[0] for r in self.db.conn.execute(f"SELECT id FROM memories WHERE {where}", args)]
        removed = self.delete(ids)
        if chat_id is not None:
            with self.db.transaction() as conn:
                conn.execute("DELETE FROM chat_summaries WHERE chat_id = ?", (chat_id,))
        return removed

    @staticmethod
    def _bump(conn: Any, partitions: Iterable[str]) -> None:
        for part in partitions:
            conn.execute(
                "INSERT INTO memory_versions (scope, version) VALUES (?, 1) "
                "ON CONFLICT(scope) DO UPDATE SET version = memory_versions.version + 1",
                (part,),
            )

    # -- reading ------------------------------------------------------------------------------

    def version(self, partition: str) -> int:
        row = self.db.conn.execute(
            "SELECT version FROM memory_versions WHERE scope = ?", (partition,)
        ).fetchone()
        return int(row[0]) if row else 0

    def get(self, memory_id: int) -> MemoryItem:
        row = self.db.conn.execute(
            f"SELECT {ITEM_COLUMNS} FROM memories WHERE id = ?", (memory_id,)
        ).fetchone()
        if row is None:
            raise NotFound(f"no memory {memory_id}: see `personae memory show`", param="memory")
        return self._item(row)

    def many(self, memory_ids: Sequence[int]) -> dict[int, MemoryItem]:
        if not memory_ids:
            return {}
        marks = ",".join("?" * len(memory_ids))
        rows = self.db.conn.execute(
            f"SELECT {ITEM_COLUMNS} FROM memories WHERE id IN ({marks})", tuple(memory_ids)
        )
        return {r["id"]: self._item(r) for r in rows}

    def partition(
        self, user_id: str | None, character_id: str | None, kinds: Sequence[str] = KINDS
    ) -> list[MemoryItem]:
        """Every memory of one partition (exactly this user and character, NULL as NULL)."""
        where, args = scope_where(user_id, character_id, None, kinds, exact=True, nulls=True)
        rows = self.db.conn.execute(
            f"SELECT {ITEM_COLUMNS} FROM memories WHERE {where} ORDER BY id", args
        )
        return [self._item(r) for r in rows]

    def stamps(
        self, user_id: str | None, character_id: str | None, kinds: Sequence[str] = KINDS
    ) -> dict[int, tuple[float, float]]:
        """``id → (updated_at, accessed_at)`` of every memory of one partition: enough to bring
        an index of it up to date without reading the rest of each row."""
        where, args = scope_where(user_id, character_id, None, kinds, exact=True, nulls=True)
        rows = self.db.conn.execute(
            f"SELECT id, updated_at, accessed_at FROM memories WHERE {where}", args
        )
        return {int(r[0]): (float(r[1]), float(r[2])) for r in rows}

    def visible(
        self,
        *,
        user_id: str | None = None,
        character_id: str | None = None,
        chat_id: int | None = None,
        kinds: Sequence[str] = KINDS,
    ) -> list[MemoryItem]:
        """What a chat of this user with this character may see: memories whose scope columns
        are each NULL or equal to the given ones. A NULL filter here matches only NULL, so
        omitting the user shows only character-owned lines."""
        check_kinds(kinds)
        # One indexed lookup per scope pair (an OR over the columns would scan the table).
        pairs = dict.fromkeys((u, c) for u in (user_id, None) for c in (character_id, None))
        marks = ",".join("?" * len(kinds))
        items: list[MemoryItem] = []
        for u, c in pairs:
            rows = self.db.conn.execute(
                f"SELECT {ITEM_COLUMNS} FROM memories WHERE user_id IS ? AND character_id IS ? "
                f"AND kind IN ({marks}) AND (chat_id IS NULL OR chat_id IS ?)",
                (u, c, *kinds, chat_id),
            )
            items += [self._item(r) for r in rows]
        return sorted(items, key=lambda i: i.id)

    def of_user(
        self, user_id: str, *, character_id: str | None = None, kinds: Sequence[str] = KINDS
    ) -> list[MemoryItem]:
        """Every memory of ``user_id``, in every chat (oldest first); with ``character_id``,
        those with that character and those the user has with every character."""
        check_kinds(kinds)
        marks = ",".join("?" * len(kinds))
        sql = f"SELECT {ITEM_COLUMNS} FROM memories WHERE user_id = ? AND kind IN ({marks})"
        args: list[Any] = [user_id, *kinds]
        if character_id is not None:
            sql += " AND (character_id IS NULL OR character_id = ?)"
            args.append(character_id)
        rows = self.db.conn.execute(sql + " ORDER BY id", args)
        return [self._item(r) for r in rows]

    @staticmethod
    def _item(row: Any) -> MemoryItem:
        tokens = row["tokens"]
        return MemoryItem(
            id=row["id"],
            kind=row["kind"],
            text=row["text"],
            user_id=row["user_id"],
            character_id=row["character_id"],
            chat_id=row["chat_id"],
            label=row["label"],
            importance=row["importance"],
            evidence=tuple(json.loads(row["evidence"] or "[]")),
            source=row["source"],
            created_at=row["created_at"],
            accessed_at=row["accessed_at"],
            updated_at=row["updated_at"],
            tokens=tuple(tokens.split()) if tokens else (),
            tokenizer=row["tokenizer"],
            vector=row["vector"],
            vector_scale=row["vector_scale"],
            embedder=row["embedder"],
        )

    def latest(self, user_id: str, character_id: str | None, kind: str) -> MemoryItem | None:
        """The newest memory of ``kind`` in one partition."""
        where, args = scope_where(user_id, character_id, None, [kind], exact=True, nulls=True)
        row = self.db.conn.execute(
            f"SELECT {ITEM_COLUMNS} FROM memories WHERE {where} ORDER BY id DESC LIMIT 1", args
        ).fetchone()
        return self._item(row) if row else None

    def importance_since(
        self, user_id: str, character_id: str | None, kind: str, after_id: int
    ) -> tuple[float, list[int]]:
        """Total importance and ids of ``kind`` memories newer than ``after_id``."""
        where, args = scope_where(user_id, character_id, None, [kind], exact=True, nulls=True)
        rows = self.db.conn.execute(
            f"SELECT id, importance FROM memories WHERE {where} AND id > ? ORDER BY id",
            (*args, after_id),
        ).fetchall()
        return sum(r[1] for r in rows), [r[0] for r in rows]

    def reflected_through(self, user_id: str, character_id: str | None) -> int:
        """The newest episode id already considered for reflection in this partition."""
        row = self.db.conn.execute(
            "SELECT value FROM meta WHERE key = ?",
            ("reflected:" + partition_key(user_id, character_id),),
        ).fetchone()
        return int(row[0]) if row else 0

    def set_reflected_through(self, user_id: str, character_id: str | None, memory_id: int) -> None:
        with self.db.transaction() as conn:
            conn.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                ("reflected:" + partition_key(user_id, character_id), str(memory_id)),
            )


def _clear_notes(conn: Any, texts: Sequence[str]) -> None:
    """Empty the stored prompt notes that show any of ``texts`` (a memory edited or
    forgotten): chats keep each turn's note to show it again (see m006), and a forgotten or
    corrected memory must not live on there. The next prompt gives what still holds anew."""
    for text in texts:
        for form in dict.fromkeys([text.strip(), " ".join(text.split())]):
            if form:
                conn.execute(
                    "UPDATE messages SET note = '' WHERE note != '' AND instr(note, ?) > 0",
                    (form,),
                )
