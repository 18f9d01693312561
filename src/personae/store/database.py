"""One SQLite database per data directory: WAL mode, foreign keys, numbered migrations.

WAL lets a reader (the web page, ``personae chats show``) read while a chat is writing, and a
committed transaction survives the process being killed. ``synchronous=FULL`` also makes each
acknowledged commit survive power loss; commits are per turn, so the fsync is cheap.

The database holds people's chats: its folder is created owner-only (0700) and its files
(``-wal`` and ``-shm`` included, which SQLite creates with the main file's mode) are 0600.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import pkgutil
import sqlite3
import stat
import time
from collections.abc import Callable, Iterator
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


OWNER_ONLY_DIR = 0o700
OWNER_ONLY_FILE = 0o600
_SIDE_FILES = ("-wal", "-shm", "-journal")


def make_private_dir(path: Path) -> None:
    """Create ``path`` (and its parents) with the last folder owner-only; one that exists is
    left as it is (it may be a folder the user chose and shares on purpose)."""
    path.mkdir(mode=OWNER_ONLY_DIR, parents=True, exist_ok=True)


def _private_files(path: Path) -> None:
    """Create the database file owner-only before SQLite does (SQLite uses 0644 less the
    umask, and gives its -wal and -shm files the main file's mode), and take group and other
    access away from one an older version made."""
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, OWNER_ONLY_FILE))
    for file in (path, *(path.with_name(path.name + side) for side in _SIDE_FILES)):
        with contextlib.suppress(OSError):  # absent, or not ours to change: SQLite will say
            mode = stat.S_IMODE(file.stat().st_mode)
            if mode & 0o077:
                file.chmod(mode & ~0o077)


# Every write of a message's text passes through this SQL function when transcripts are
# redacted (see Database): a trigger catches every path that stores text (a turn, a streamed
# checkpoint, an edit, an import), where a check in each caller would miss the next one added.
_REDACT_FUNCTION = "personae_redact_transcript"
_TRANSCRIPT_TRIGGERS = (
    f"CREATE TEMP TRIGGER redact_new_message AFTER INSERT ON main.messages BEGIN "
    f"UPDATE messages SET content = {_REDACT_FUNCTION}(NEW.content) WHERE id = NEW.id; END",
    f"CREATE TEMP TRIGGER redact_changed_message AFTER UPDATE OF content ON main.messages BEGIN "
    f"UPDATE messages SET content = {_REDACT_FUNCTION}(NEW.content) WHERE id = NEW.id; END",
)


class Database:
    """A connection with the schema brought up to date. Use one per thread.

    ``redact_transcripts``: when given, every message text this connection stores is passed
    through it first (``[privacy] transcripts = "redact"``); the prompt of the turn being
    answered still has the raw text, later ones read what was stored."""

    def __init__(
        self, path: Path | str, *, redact_transcripts: Callable[[str], str] | None = None
    ) -> None:
        self.path = Path(path)
        try:
            make_private_dir(self.path.parent)
            _private_files(self.path)
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
        self.redact_transcripts = redact_transcripts
        if redact_transcripts is not None:
            self.conn.create_function(_REDACT_FUNCTION, 1, redact_transcripts, deterministic=True)
            for trigger in _TRANSCRIPT_TRIGGERS:
                self.conn.execute(trigger)

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
