"""The candidate replies a turn did not show, ready for ``/regenerate`` (see migration m007)."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from personae.errors import InvalidInput
from personae.store.database import Database

MAX_SWIPES = 16  # kept per turn (best-of-N makes at most 8 candidates a round)
MAX_SWIPE_CHARS = 32_000


@dataclass(frozen=True)
class Swipe:
    id: int
    chat_id: int
    after_id: int
    rank: int
    content: str
    detail: dict[str, Any]


class SwipeRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    def replace(
        self,
        chat_id: int,
        after_id: int,
        swipes: Sequence[str],
        details: Sequence[Mapping[str, Any]] = (),
    ) -> int:
        """Make ``swipes`` (best first) the turn's unused swipes, dropping any it had left;
        returns how many were kept (empty texts and those past :data:`MAX_SWIPES` are not)."""
        if details and len(details) != len(swipes):
            raise InvalidInput("one detail per swipe")
        now = time.time()
        rows: list[tuple[int, int, int, str, str, float]] = []
        for rank, text in enumerate(swipes):
            if not text.strip() or len(rows) >= MAX_SWIPES:
                continue
            detail = json.dumps(dict(details[rank]) if details else {}, ensure_ascii=False)
            rows.append((chat_id, after_id, rank, text[:MAX_SWIPE_CHARS], detail, now))
        with self.db.transaction() as conn:
            conn.execute(
                "DELETE FROM swipes WHERE chat_id = ? AND after_id = ? AND used_at IS NULL",
                (chat_id, after_id),
            )
            conn.executemany(
                "INSERT INTO swipes (chat_id, after_id, rank, content, detail, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                rows,
            )
        return len(rows)

    def pending(self, chat_id: int, after_id: int) -> list[Swipe]:
        """The turn's swipes not shown yet, best first."""
        rows = self.db.conn.execute(
            "SELECT id, chat_id, after_id, rank, content, detail FROM swipes "
            "WHERE chat_id = ? AND after_id = ? AND used_at IS NULL ORDER BY rank, id",
            (chat_id, after_id),
        ).fetchall()
        return [Swipe(r[0], r[1], r[2], r[3], r[4], json.loads(r[5] or "{}")) for r in rows]

    def take(self, chat_id: int, after_id: int) -> Swipe | None:
        """The turn's best swipe not shown yet, marked as shown; None when there is none."""
        with self.db.transaction() as conn:
            row = conn.execute(
                "SELECT id, chat_id, after_id, rank, content, detail FROM swipes "
                "WHERE chat_id = ? AND after_id = ? AND used_at IS NULL ORDER BY rank, id "
                "LIMIT 1",
                (chat_id, after_id),
            ).fetchone()
            if row is None:
                return None
            conn.execute("UPDATE swipes SET used_at = ? WHERE id = ?", (time.time(), row[0]))
        return Swipe(row[0], row[1], row[2], row[3], row[4], json.loads(row[5] or "{}"))


__all__ = ["MAX_SWIPES", "Swipe", "SwipeRepository"]
