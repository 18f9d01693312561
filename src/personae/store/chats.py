"""Chats and their messages.

A turn is written in two steps, so that nothing acknowledged is ever lost and nothing partial is
ever shown as complete:

1. :meth:`ChatRepository.begin_turn` commits the user's message together with an empty
   ``incomplete`` reply row, in one transaction.
2. While tokens stream, :meth:`save_partial` checkpoints the text before it is shown (a crash
   keeps what arrived, and at least everything that was shown);
   :meth:`complete_reply` sets the final text, statistics and ``complete`` only after the last
   token. An interrupted reply simply stays ``incomplete``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Literal

from personae.errors import InvalidInput, NotFound
from personae.settings.identity import LOCAL_USER as LOCAL_USER  # the one check, re-exported
from personae.settings.identity import check_user_id as check_user_id
from personae.store.database import Database, IntegrityError

Status = Literal["complete", "incomplete", "superseded", "deleted"]
VISIBLE = ("complete", "incomplete")


@dataclass(frozen=True)
class ChatInfo:
    id: int
    character_id: str
    title: str
    user_name: str
    created_at: float
    updated_at: float
    message_count: int = 0
    user_id: str = "local"


@dataclass(frozen=True)
class StoredMessage:
    id: int
    chat_id: int
    role: str
    content: str
    status: str
    created_at: float
    completed_at: float | None = None
    token_count: int | None = None
    model: str | None = None
    backend: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    cached_tokens: int | None = None
    ttft_ms: float | None = None
    duration_ms: float | None = None
    finish_reason: str | None = None
    # The system note the message was sent with (a user's: lore, recall; a reply's: the reply
    # guard's retry note), shown again before it in later prompts; see m006.
    note: str = ""

    @property
    def complete(self) -> bool:
        return self.status == "complete"


@dataclass(frozen=True)
class ReplyStats:
    backend: str | None = None
    model: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    cached_tokens: int | None = None
    ttft_ms: float | None = None
    duration_ms: float | None = None
    finish_reason: str | None = None


class ChatRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    # -- chats --------------------------------------------------------------------------------

    def create(
        self, character_id: str, *, user_name: str, title: str = "", user_id: str = LOCAL_USER
    ) -> int:
        check_user_id(user_id)
        now = time.time()
        with self.db.transaction() as conn:
            if not conn.execute(
                "SELECT 1 FROM characters WHERE id = ?", (character_id,)
            ).fetchone():
                raise NotFound(f"no character {character_id!r}: see `personae card list`")
            cur = conn.execute(
                "INSERT INTO chats (character_id, title, user_name, user_id, created_at, "
                "updated_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
                (character_id, title, user_name, user_id, now, now),
            )
            return int(cur.fetchone()[0])

    def get(self, chat_id: int) -> ChatInfo:
        row = self.db.conn.execute(
            "SELECT c.*, (SELECT COUNT(*) FROM messages m WHERE m.chat_id = c.id AND m.status IN "
            "('complete', 'incomplete')) AS n FROM chats c WHERE c.id = ?",
            (chat_id,),
        ).fetchone()
        if row is None:
            raise NotFound(f"no chat {chat_id}: see `personae chats list`", param="chat")
        return self._chat(row)

    def all(self, character_id: str | None = None, *, user_id: str | None = None) -> list[ChatInfo]:
        """Chats, most recently active first; only ``character_id``'s / ``user_id``'s if given."""
        sql = (
            "SELECT c.*, (SELECT COUNT(*) FROM messages m WHERE m.chat_id = c.id AND m.status IN "
            "('complete', 'incomplete')) AS n FROM chats c WHERE TRUE"
        )
        args: list[str] = []
        if character_id is not None:
            sql += " AND c.character_id = ?"
            args.append(character_id)
        if user_id is not None:
            sql += " AND c.user_id = ?"
            args.append(user_id)
        rows = self.db.conn.execute(sql + " ORDER BY c.updated_at DESC, c.id DESC", args)
        return [self._chat(r) for r in rows.fetchall()]

    def latest(self, character_id: str, *, user_id: str | None = None) -> ChatInfo | None:
        chats = self.all(character_id, user_id=user_id)
        return chats[0] if chats else None

    def delete(self, chat_id: int) -> None:
        with self.db.transaction() as conn:
            if conn.execute("DELETE FROM chats WHERE id = ?", (chat_id,)).rowcount == 0:
                raise NotFound(f"no chat {chat_id}: see `personae chats list`", param="chat")

    def rename(self, chat_id: int, title: str) -> None:
        with self.db.transaction() as conn:
            cur = conn.execute(
                "UPDATE chats SET title = ?, updated_at = ? WHERE id = ?",
                (title, time.time(), chat_id),
            )
            if cur.rowcount == 0:
                raise NotFound(f"no chat {chat_id}: see `personae chats list`", param="chat")

    # -- messages -----------------------------------------------------------------------------

    def messages(self, chat_id: int, *, include_hidden: bool = False) -> list[StoredMessage]:
        sql = "SELECT * FROM messages WHERE chat_id = ?"
        if not include_hidden:
            sql += " AND status IN ('complete', 'incomplete')"
        rows = self.db.conn.execute(sql + " ORDER BY id", (chat_id,)).fetchall()
        return [self._message(r) for r in rows]

    def message(self, message_id: int) -> StoredMessage:
        row = self.db.conn.execute("SELECT * FROM messages WHERE id = ?", (message_id,)).fetchone()
        if row is None:
            raise NotFound(f"no message {message_id}")
        return self._message(row)

    def add_message(
        self, chat_id: int, role: str, content: str, *, status: Status = "complete"
    ) -> int:
        """Append one finished message (a greeting, an imported line)."""
        with self.db.transaction() as conn:
            return self._insert(conn, chat_id, role, content, status)

    def begin_turn(
        self, chat_id: int, user_text: str | None, *, note: str = ""
    ) -> tuple[int | None, int]:
        """Commit the user's message (if any, with the ``note`` the prompt gave it) and an empty
        incomplete reply, atomically.

        Returns ``(user_message_id, reply_id)``; both rows exist once this returns.
        """
        if user_text is not None and not user_text.strip():
            raise InvalidInput("the message is empty")
        with self.db.transaction() as conn:
            # the chat's row, held until commit: turns begun together on one chat (a CLI and
            # the server, two processes) take their ids and places one after the other
            if not self.db.lock_chat(conn, chat_id):
                raise NotFound(f"no chat {chat_id}: see `personae chats list`", param="chat")
            user_id = None
            if user_text is not None:
                user_id = self._insert(conn, chat_id, "user", user_text, "complete", note=note)
            reply_id = self._insert(conn, chat_id, "assistant", "", "incomplete")
        return user_id, reply_id

    def save_partial(self, reply_id: int, text: str) -> None:
        """Checkpoint a streaming reply's text so far (the chat does so before each piece is
        shown, so what was shown is what is kept).

        Written without an fsync: in WAL mode the commit is in the operating system's hands once
        this returns, so it survives the process being killed, though not a power cut. That is
        ~50 us a checkpoint instead of ~3.6 ms (measured on this project's CI disk), cheap
        enough for every token; the reply's final commit (:meth:`complete_reply`, fsynced)
        makes everything before it durable too.
        """
        with self.db.unsynced_transaction() as conn:
            conn.execute(
                "UPDATE messages SET content = ? WHERE id = ? AND status = 'incomplete'",
                (text, reply_id),
            )

    def complete_reply(
        self, reply_id: int, text: str, stats: ReplyStats, *, note: str | None = None
    ) -> None:
        """Store the finished reply ``text`` with ``stats``; ``note``: the system note the try
        that wrote it was given just before it (a reply guard's retry note), which later
        prompts show again at the same place (see :class:`~personae.agent.prompt.Turn`); None
        keeps the one it has (a continued reply)."""
        with self.db.transaction() as conn:
            conn.execute(
                "UPDATE messages SET content = ?, status = 'complete', completed_at = ?, "
                "backend = ?, model = ?, prompt_tokens = ?, completion_tokens = ?, "
                "cached_tokens = ?, ttft_ms = ?, duration_ms = ?, finish_reason = ?, "
                "token_count = ?, note = COALESCE(?, note) WHERE id = ?",
                (
                    text,
                    time.time(),
                    stats.backend,
                    stats.model,
                    stats.prompt_tokens,
                    stats.completion_tokens,
                    stats.cached_tokens,
                    stats.ttft_ms,
                    stats.duration_ms,
                    stats.finish_reason,
                    stats.completion_tokens,
                    note,
                    reply_id,
                ),
            )
            self._touch(conn, reply_id)

    def interrupt_reply(self, reply_id: int, text: str, reason: str) -> None:
        """Keep what arrived of a reply that did not finish; it stays ``incomplete``."""
        with self.db.transaction() as conn:
            conn.execute(
                "UPDATE messages SET content = ?, finish_reason = ? WHERE id = ?",
                (text, reason, reply_id),
            )
            self._touch(conn, reply_id)

    def set_status(self, message_ids: list[int], status: Status) -> None:
        with self.db.transaction() as conn:
            conn.executemany(
                "UPDATE messages SET status = ? WHERE id = ?", [(status, i) for i in message_ids]
            )

    def edit(self, message_id: int, content: str) -> int:
        """Replace a message's text: the old row is kept as ``superseded``, a new row follows
        it in order. Returns the new id."""
        if not content.strip():
            raise InvalidInput("the new text is empty")
        old = self.message(message_id)
        with self.db.transaction() as conn:
            conn.execute("UPDATE messages SET status = 'superseded' WHERE id = ?", (message_id,))
            return self._insert(conn, old.chat_id, old.role, content, "complete")

    def rewrite(self, message_id: int, content: str) -> None:
        """Replace a message's text where it stands (the web page's edit). Unlike :meth:`edit`
        it keeps no old version, and the message keeps its place and status."""
        if not content.strip():
            raise InvalidInput("the new text is empty")
        with self.db.transaction() as conn:
            cur = conn.execute(
                "UPDATE messages SET content = ? WHERE id = ?", (content, message_id)
            )
            if cur.rowcount == 0:
                raise NotFound(f"no message {message_id}")
            self._touch(conn, message_id)

    # -- helpers ------------------------------------------------------------------------------

    def _insert(
        self,
        conn: Any,
        chat_id: int,
        role: str,
        content: str,
        status: str,
        *,
        note: str = "",
    ) -> int:
        now = time.time()
        try:
            cur = conn.execute(
                "INSERT INTO messages (chat_id, role, content, status, created_at, completed_at, "
                "note) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (chat_id, role, content, status, now, now if status == "complete" else None, note),
            )
        except IntegrityError as exc:
            raise NotFound(f"no chat {chat_id}: see `personae chats list`") from exc
        message_id = int(cur.fetchone()[0])
        conn.execute("UPDATE chats SET updated_at = ? WHERE id = ?", (now, chat_id))
        return message_id

    @staticmethod
    def _touch(conn: Any, message_id: int) -> None:
        conn.execute(
            "UPDATE chats SET updated_at = ? WHERE id = "
            "(SELECT chat_id FROM messages WHERE id = ?)",
            (time.time(), message_id),
        )

    @staticmethod
    def _chat(row: Any) -> ChatInfo:
        return ChatInfo(
            id=row["id"],
            character_id=row["character_id"],
            title=row["title"],
            user_name=row["user_name"],
            created_at=row["created_at"],
            updated_at=row["updated_at"],
            message_count=row["n"],
            user_id=row["user_id"],
        )

    @staticmethod
    def _message(row: Any) -> StoredMessage:
        return StoredMessage(**{k: row[k] for k in row.keys()})  # noqa: SIM118 (Row iterates values)
