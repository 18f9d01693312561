"""One SQLite database per data directory: WAL mode, foreign keys, numbered migrations.

WAL lets a reader (the web page, ``personae chats show``) read while a chat is writing, and a
committed transaction survives the process being killed. ``synchronous=FULL`` also makes each
acknowledged commit survive power loss; commits are per turn, so the fsync is cheap.
"""

from __future__ import annotations

import importlib
import pkgutil
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from personae.errors import StoreError
from personae.store import migrations as migrations_package


def _migrations() -> list[tuple[int, str, str]]:
    found = []
    for info in pkgutil.iter_modules(migrations_package.__path__):
        if not info.name.startswith("m") or "_" not in info.name:
            continue
        number = int(info.name[1:].split("_", 1)[0])
        module = importlib.import_module(f"{migrations_package.__name__}.{info.name}")
        found.append((number, info.name, str(module.SQL)))
    return sorted(found)


def _statements(sql: str) -> list[str]:
    """Split a script into statements (sqlite3 itself decides where one ends)."""
    out: list[str] = []
    pending = ""
    for line in sql.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            out.append(pending.strip())
            pending = ""
    if pending.strip():
        out.append(pending.strip())
    return out


class Database:
    """A connection with the schema brought up to date. Use one per thread."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.conn = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"cannot open the database {self.path}: {exc}") from exc
        self.conn.row_factory = sqlite3.Row
        try:
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=FULL")
            self.conn.execute("PRAGMA foreign_keys=ON")
            self.conn.execute("PRAGMA busy_timeout=30000")
            self.migrate()
        except sqlite3.DatabaseError as exc:
            self.conn.close()
            raise StoreError(
                f"{self.path} is not a usable personae database ({exc}); move it aside and "
                "run again to start a new one"
            ) from exc

    def migrate(self) -> list[str]:
        """Apply pending migrations; returns the names applied."""
        self.conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations "
            "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at REAL NOT NULL)"
        )
        done = {row[0] for row in self.conn.execute("SELECT version FROM schema_migrations")}
        applied = []
        for number, name, sql in _migrations():
            if number in done:
                continue
            with self.transaction():
                for statement in _statements(sql):
                    self.conn.execute(statement)
                self.conn.execute(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                    (number, name, time.time()),
                )
            applied.append(name)
        return applied

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` … ``COMMIT``; rolls back on any exception."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    def schema_version(self) -> int:
        row = self.conn.execute("SELECT MAX(version) FROM schema_migrations").fetchone()
        return int(row[0] or 0)

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def get_meta(db: Database, key: str) -> str | None:
    row = db.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return None if row is None else str(row[0])


def set_meta(db: Database, key: str, value: str) -> None:
    with db.transaction() as conn:
        conn.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )
