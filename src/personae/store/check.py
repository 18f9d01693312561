"""``personae db check``: is this store sound, and at this version's schema?

Each finding is one line with a level: ``error`` (the store needs a fix before it is served:
a pending migration, a failed integrity check, rows that point nowhere), ``warn`` (worth a look:
replies left incomplete by an interrupted process) or ``ok``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from personae.store.database import Database

Level = Literal["ok", "warn", "error"]

# Rows whose parent is gone (SQLite enforces foreign keys per connection, so a store written
# by another tool may hold them; PostgreSQL enforces them always and these stay 0).
_ORPHANS = (
    (
        "messages",
        "chats",
        "SELECT COUNT(*) FROM messages m WHERE NOT EXISTS "
        "(SELECT 1 FROM chats c WHERE c.id = m.chat_id)",
    ),
    (
        "chats",
        "characters",
        "SELECT COUNT(*) FROM chats c WHERE NOT EXISTS "
        "(SELECT 1 FROM characters h WHERE h.id = c.character_id)",
    ),
    (
        "memories",
        "chats",
        "SELECT COUNT(*) FROM memories m WHERE m.chat_id IS NOT NULL AND "
        "NOT EXISTS (SELECT 1 FROM chats c WHERE c.id = m.chat_id)",
    ),
)
STALE_SECONDS = 600  # an incomplete reply older than this is not being written any more


@dataclass(frozen=True)
class Finding:
    level: Level
    message: str


def check_store(db: Database, *, now: float | None = None) -> list[Finding]:
    import time

    found: list[Finding] = []
    pending = db.pending_migrations()
    if pending:
        found.append(
            Finding(
                "error",
                f"{len(pending)} migrations pending ({', '.join(pending)}): run "
                "`personae db migrate`",
            )
        )
        return found  # the checks below read the current schema
    found.append(Finding("ok", f"schema at version {db.schema_version()}"))
    if not db.is_postgres:
        result = [str(r[0]) for r in db.conn.execute("PRAGMA integrity_check").fetchall()]
        if result != ["ok"]:
            found.append(Finding("error", f"integrity check: {'; '.join(result[:5])}"))
        else:
            found.append(Finding("ok", "integrity check passed"))
    for child, parent, sql in _ORPHANS:
        (n,) = db.conn.execute(sql).fetchone()
        if n:
            found.append(Finding("error", f"{n} {child} rows point to missing {parent}"))
    stale_before = (now or time.time()) - STALE_SECONDS
    (stale,) = db.conn.execute(
        "SELECT COUNT(*) FROM messages WHERE status = 'incomplete' AND created_at < ?",
        (stale_before,),
    ).fetchone()
    if stale:
        found.append(
            Finding(
                "warn",
                f"{stale} replies were left incomplete by an interrupted process "
                "(kept as they are; the chat can regenerate or continue them)",
            )
        )
    if db.is_postgres:
        found.append(
            Finding(
                "ok" if db.vector_search else "warn",
                "memory search in the database: words and pgvector"
                if db.vector_search
                else "memory search in the database: words; vectors are read from the stored "
                "codes (install pgvector, then run `personae db migrate`)",
            )
        )
    counts = []
    for table in ("characters", "chats", "messages", "memories", "api_keys", "lorebooks"):
        (n,) = db.conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()
        counts.append(f"{table} {n}")
    found.append(Finding("ok", "rows: " + ", ".join(counts)))
    return found


__all__ = ["Finding", "check_store"]
