"""Standalone lorebooks in the store, and the books attached to characters and chats.

Who sees what (see :mod:`personae.store.migrations.m005_lorebooks`): a book imported on this
machine has no owner and is shared; one imported through the server belongs to its user and is
private unless shared. A book attached to a character by a user reaches that user's chats with
it; one attached by the operator (``attached_by`` None) reaches everyone's. A chat's books are
its user's. Books another user may not see never reach a chat, whoever attached them.

Ids are 8 random hex digits, so an id says nothing about how many books others have.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from personae.characters import Character, Lorebook
from personae.characters.lorebook_scan import with_lorebooks
from personae.errors import InvalidInput, NotFound
from personae.store.characters import StoredCharacter
from personae.store.chats import ChatInfo
from personae.store.database import Database

_ID = re.compile(r"[0-9a-f]{8}")
DEFAULT_NAME = "lorebook"
_COLUMNS = "id, name, entry_count, source, owner_id, shared, created_at, updated_at"


@dataclass(frozen=True)
class LorebookInfo:
    """A stored book without its entries (what a listing needs)."""

    id: str
    name: str
    entry_count: int
    source: str
    created_at: float
    updated_at: float
    owner_id: str | None = None  # None: imported on this machine, not by a server user
    shared: bool = True  # False: only its owner sees it

    def editable_by(self, user_id: str | None) -> bool:
        """Whether ``user_id`` may delete it: its owner, or the operator (None)."""
        return user_id is None or self.owner_id == user_id


@dataclass(frozen=True)
class StoredLorebook(LorebookInfo):
    book: Lorebook = field(default_factory=Lorebook)


@dataclass(frozen=True)
class LorebookLink:
    """One attachment: to a character (by ``attached_by``; None: the operator) or a chat."""

    lorebook_id: str
    character_id: str | None
    chat_id: int | None
    attached_by: str | None
    created_at: float


def _visible(user_id: str | None, table: str = "lorebooks") -> tuple[str, tuple[str, ...]]:
    if user_id is None:
        return "TRUE", ()
    return f"({table}.shared = 1 OR {table}.owner_id = ?)", (user_id,)


def _not_found(lorebook_id: str) -> NotFound:
    shown = lorebook_id if len(lorebook_id) <= 60 else lorebook_id[:60] + "…"
    return NotFound(
        f"no lorebook {shown!r}: see `personae lorebook list`, or add one with "
        "`personae lorebook import FILE`",
        param="lorebook",
    )


class LorebookRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    # -- books --------------------------------------------------------------------------------

    def add(
        self,
        book: Lorebook,
        *,
        source: str = "import",
        owner_id: str | None = None,
        shared: bool = True,
    ) -> str:
        """Store a book and return its new id. ``owner_id``: the server user who imported it
        (None: imported on this machine); ``shared`` False keeps it to its owner."""
        if not isinstance(book, Lorebook):
            raise InvalidInput(f"expected a Lorebook, got {type(book).__name__}")
        if owner_id is None and not shared:
            raise InvalidInput("a private lorebook needs an owner", param="shared")
        name = (book.name or "").strip() or DEFAULT_NAME
        book_json = json.dumps(book.to_dict(), ensure_ascii=False)
        now = time.time()
        with self.db.transaction() as conn:
            new_id = secrets.token_hex(4)
            while conn.execute("SELECT 1 FROM lorebooks WHERE id = ?", (new_id,)).fetchone():
                new_id = secrets.token_hex(4)
            conn.execute(
                "INSERT INTO lorebooks (id, name, book_json, entry_count, source, owner_id, "
                "shared, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (new_id, name, book_json, len(book.entries), source, owner_id, shared, now, now),
            )
        return new_id

    def get(self, lorebook_id: str, *, visible_to: str | None = None) -> StoredLorebook:
        """By exact id; ``visible_to``: a user, for whom others' private books don't exist."""
        if not isinstance(lorebook_id, str) or not _ID.fullmatch(lorebook_id):
            raise _not_found(str(lorebook_id))
        where, args = _visible(visible_to)
        row = self.db.conn.execute(
            f"SELECT * FROM lorebooks WHERE id = ? AND {where}", (lorebook_id, *args)
        ).fetchone()
        if row is None:
            raise _not_found(lorebook_id)
        return self._stored(row)

    def find(self, id_or_name: str, *, visible_to: str | None = None) -> StoredLorebook:
        """By id, else by name (any case), else by a unique id prefix."""
        where, extra = _visible(visible_to)
        prefix = id_or_name.lower().replace("%", r"\%").replace("_", r"\_") + "%"
        for sql, arg in (
            ("SELECT * FROM lorebooks WHERE id = ?", id_or_name),
            ("SELECT * FROM lorebooks WHERE lower(name) = lower(?)", id_or_name),
            ("SELECT * FROM lorebooks WHERE id LIKE ? ESCAPE '\\'", prefix),
        ):
            rows = self.db.conn.execute(f"{sql} AND {where}", (arg, *extra)).fetchall()
            if len(rows) == 1:
                return self._stored(rows[0])
            if len(rows) > 1:
                ids = ", ".join(r["id"] for r in rows[:10])
                raise InvalidInput(
                    f"{id_or_name!r} matches several lorebooks ({ids}); use an id",
                    param="lorebook",
                )
        raise _not_found(id_or_name)

    def all(self, *, visible_to: str | None = None) -> list[LorebookInfo]:
        """The books ``visible_to`` may see (None: all), by name."""
        where, args = _visible(visible_to)
        rows = self.db.conn.execute(
            f"SELECT {_COLUMNS} FROM lorebooks WHERE {where} ORDER BY lower(name), id", args
        ).fetchall()
        return [self._info(r) for r in rows]

    def delete(self, lorebook_id: str) -> None:
        """Delete a book and every attachment of it."""
        with self.db.transaction() as conn:
            if conn.execute("DELETE FROM lorebooks WHERE id = ?", (lorebook_id,)).rowcount == 0:
                raise _not_found(lorebook_id)

    # -- attachments --------------------------------------------------------------------------

    def attach(
        self,
        lorebook_id: str,
        *,
        character_id: str | None = None,
        chat_id: int | None = None,
        attached_by: str | None = None,
    ) -> bool:
        """Attach a book to a character or a chat; False when it already was. The caller
        checks that both may be seen by whoever asks."""
        _one_target(character_id, chat_id)
        with self.db.transaction() as conn:
            if not conn.execute("SELECT 1 FROM lorebooks WHERE id = ?", (lorebook_id,)).fetchone():
                raise _not_found(lorebook_id)
            if character_id is not None:
                if not conn.execute(
                    "SELECT 1 FROM characters WHERE id = ?", (character_id,)
                ).fetchone():
                    raise NotFound(
                        f"no character {character_id!r}: see `personae card list`",
                        param="character",
                    )
            elif not conn.execute("SELECT 1 FROM chats WHERE id = ?", (chat_id,)).fetchone():
                raise NotFound(f"no chat {chat_id}: see `personae chats list`", param="chat")
            cur = conn.execute(
                "INSERT INTO lorebook_links (lorebook_id, character_id, chat_id, "
                "attached_by, created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (
                    lorebook_id,
                    character_id,
                    chat_id,
                    attached_by if character_id is not None else None,
                    time.time(),
                ),
            )
        return bool(cur.rowcount > 0)

    def detach(
        self,
        lorebook_id: str,
        *,
        character_id: str | None = None,
        chat_id: int | None = None,
        attached_by: str | None = None,
    ) -> None:
        """Remove one attachment (a user's own link to a character, or a chat's)."""
        _one_target(character_id, chat_id)
        with self.db.transaction() as conn:
            if character_id is not None:
                cur = conn.execute(
                    "DELETE FROM lorebook_links WHERE lorebook_id = ? AND character_id = ? "
                    "AND attached_by IS ?",
                    (lorebook_id, character_id, attached_by),
                )
                where = f"character {character_id!r}"
            else:
                cur = conn.execute(
                    "DELETE FROM lorebook_links WHERE lorebook_id = ? AND chat_id = ?",
                    (lorebook_id, chat_id),
                )
                where = f"chat {chat_id}"
            if cur.rowcount == 0:
                raise NotFound(
                    f"lorebook {lorebook_id!r} is not attached to {where}: "
                    "`personae lorebook show ID` lists where it is",
                    param="lorebook",
                )

    def links(self, lorebook_id: str, *, user_id: str | None = None) -> list[LorebookLink]:
        """Where a book is attached: everywhere (``user_id`` None), or what ``user_id`` made —
        their links to characters and their chats' links."""
        sql = (
            "SELECT l.* FROM lorebook_links l LEFT JOIN chats c ON c.id = l.chat_id "
            "WHERE l.lorebook_id = ?"
        )
        args: list[str] = [lorebook_id]
        if user_id is not None:
            sql += " AND (l.attached_by = ? OR c.user_id = ?)"
            args += [user_id, user_id]
        rows = self.db.conn.execute(sql + " ORDER BY l.id", args).fetchall()
        return [
            LorebookLink(
                lorebook_id=r["lorebook_id"],
                character_id=r["character_id"],
                chat_id=r["chat_id"],
                attached_by=r["attached_by"],
                created_at=r["created_at"],
            )
            for r in rows
        ]

    def attached(
        self, character_id: str, *, user_id: str | None, chat: ChatInfo | None = None
    ) -> list[StoredLorebook]:
        """The books a turn with ``character_id`` uses: ``user_id``'s and the operator's links
        to the character (None: the operator's only), then ``chat``'s own links (a chat's user
        is ``user_id``); each book once, oldest link first, only books ``user_id`` may see."""
        where, args = _visible(user_id, "b")
        rows = self.db.conn.execute(
            "SELECT b.*, MIN(CASE WHEN l.chat_id IS NULL THEN 0 ELSE 1 END) AS k, "
            "MIN(l.id) AS first FROM lorebook_links l JOIN lorebooks b ON b.id = l.lorebook_id "
            "WHERE ((l.character_id = ? AND (l.attached_by IS NULL OR l.attached_by IS ?)) "
            f"OR l.chat_id = ?) AND {where} GROUP BY b.id ORDER BY k, first",
            (character_id, user_id, chat.id if chat else None, *args),
        ).fetchall()
        return [self._stored(r) for r in rows]

    def for_character(self, character_id: str, *, user_id: str | None) -> list[Lorebook]:
        """The books of a turn with ``character_id`` outside any chat (see :meth:`attached`)."""
        return [s.book for s in self.attached(character_id, user_id=user_id)]

    def for_chat(self, chat: ChatInfo) -> list[Lorebook]:
        """The books a stored chat uses (see :meth:`attached`)."""
        found = self.attached(chat.character_id, user_id=chat.user_id, chat=chat)
        return [s.book for s in found]

    # -- rows ---------------------------------------------------------------------------------

    @staticmethod
    def _info(row: Any) -> LorebookInfo:
        return LorebookInfo(
            id=row["id"],
            name=row["name"],
            entry_count=row["entry_count"],
            source=row["source"],
            created_at=row["created_at"],
            updated_at=row["updated_at"],
            owner_id=row["owner_id"],
            shared=bool(row["shared"]),
        )

    @classmethod
    def _stored(cls, row: Any) -> StoredLorebook:
        info = cls._info(row)
        book = Lorebook.model_validate_json(row["book_json"])  # 3x faster than json.loads
        return StoredLorebook(**vars(info), book=book)


def _one_target(character_id: str | None, chat_id: int | None) -> None:
    if (character_id is None) == (chat_id is None):
        raise InvalidInput("attach a lorebook to a character or to a chat (one of them)")


def played_character(
    db: Database,
    stored: StoredCharacter,
    *,
    chat: ChatInfo | None = None,
    user_id: str | None = None,
) -> Character:
    """The character as a turn plays it: its card with the books attached to it (and to
    ``chat``, when the turn is in one) merged into its lorebook under the card's budget.
    Outside a chat, ``user_id``'s links and the operator's count (None: the operator's)."""
    repo = LorebookRepository(db)
    books = (
        repo.for_chat(chat) if chat is not None else repo.for_character(stored.id, user_id=user_id)
    )
    return with_lorebooks(stored.character, books)
