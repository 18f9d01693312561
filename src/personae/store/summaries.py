"""Rolling chat summaries: one row per chat with the running summary of its older turns (see
:mod:`personae.memory.rolling`), covering every message up to ``through_message_id``."""

from __future__ import annotations

import time
from dataclasses import dataclass

from personae.errors import InvalidInput
from personae.store.database import Database


@dataclass(frozen=True)
class ChatSummary:
    chat_id: int
    text: str
    through_message_id: int
    updated_at: float


class ChatSummaries:
    """Read and write chats' rolling summaries (mixed into the memory repository)."""

    db: Database

    def summary(self, chat_id: int) -> ChatSummary | None:
        row = self.db.conn.execute(
            "SELECT * FROM chat_summaries WHERE chat_id = ?", (chat_id,)
        ).fetchone()
        if row is None:
            return None
        return ChatSummary(
            row["chat_id"], row["text"], row["through_message_id"], row["updated_at"]
        )

    def set_summary(self, chat_id: int, text: str, through_message_id: int) -> ChatSummary:
        if not text.strip():
            raise InvalidInput("a summary needs some text")
        now = time.time()
        with self.db.transaction() as conn:
            conn.execute(
                "INSERT INTO chat_summaries (chat_id, text, through_message_id, updated_at) "
                "VALUES (?, ?, ?, ?) ON CONFLICT(chat_id) DO UPDATE SET text = excluded.text, "
                "through_message_id = excluded.through_message_id, "
                "updated_at = excluded.updated_at",
                (chat_id, text, through_message_id, now),
            )
        return ChatSummary(chat_id, text, through_message_id, now)
