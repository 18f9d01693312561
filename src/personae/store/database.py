"""The store: one SQLite database per data directory (the default), or a PostgreSQL database
that several server processes share (``PERSONAE_DATABASE_URL`` / ``[store] url``; see
:mod:`.postgres`, which handles every difference between the two). Numbered migrations bring
either to the same schema.

WAL lets a reader (the web page, ``personae chats show``) read while a chat is writing, and a
committed transaction survives the process being killed. ``synchronous=FULL`` also makes each
acknowledged commit survive power loss; commits are per turn, so the fsync is cheap.

The database holds people's chats: its folder is created owner-only (0700) and its files
(``-wal`` and ``-shm`` included, which SQLite creates with the main file's mode) are 0600.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import os
import pkgutil
import sqlite3
import stat
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from personae.errors import StoreError
from personae.store import migrations as migrations_package
from personae.store.postgres import (
    BOOTSTRAP,
    MIGRATION_LOCK,
    VECTOR_SEARCH,
    PgConnection,
    is_postgres_url,
    redacted_url,
    schema_sql,
)

# The DB-API errors, whichever store raised them (the PostgreSQL connection raises these too).
DatabaseError = sqlite3.DatabaseError
IntegrityError = sqlite3.IntegrityError
OperationalError = sqlite3.OperationalError

# The advisory-lock namespace of chats being answered (PostgreSQL; see try_hold_chat).
CHAT_LOCKS = 7305

# exclusive() on SQLite: one lock per (store, name) in this process.
_LOCAL_LOCKS: dict[tuple[str, str], threading.Lock] = {}
_LOCAL_LOCKS_GUARD = threading.Lock()

SQLITE = "sqlite"
POSTGRESQL = "postgresql"

# Where a store is: a SQLite file's path, ``sqlite:///path``, or ``postgresql://…``.
Location = str | Path


def _migrations(dialect: str) -> list[tuple[int, str, list[str]]]:
    """``(number, name, statements)``: a migration's ``SQL`` script split into statements, or
    its ``POSTGRESQL`` statements where the two stores need different ones (PostgreSQL's column
    types are mapped either way)."""
    found = []
    for info in pkgutil.iter_modules(migrations_package.__path__):
        if not info.name.startswith("m") or "_" not in info.name:
            continue
        number = int(info.name[1:].split("_", 1)[0])
        module = importlib.import_module(f"{migrations_package.__name__}.{info.name}")
        statements = _statements(str(module.SQL))
        if dialect == POSTGRESQL and hasattr(module, "POSTGRESQL"):
            statements = [str(s) for s in module.POSTGRESQL]
        found.append((number, info.name, statements))
    return sorted(found)


def parse_location(location: Location) -> tuple[str, str | Path]:
    """``(dialect, target)``: the URL for PostgreSQL, the file's path for SQLite."""
    if is_postgres_url(location):
        return POSTGRESQL, str(location)
    text = str(location)
    if text.startswith("sqlite:///"):
        return SQLITE, Path(text[len("sqlite://") :])
    if "://" in text:
        raise StoreError(
            f"{redacted_url(text)!r} is not a store this can open: give a path, "
            "sqlite:///path/to/personae.db or postgresql://user@host/database"
        )
    return SQLITE, Path(location)


def describe(location: Location) -> str:
    """``location`` for a message: a path, or a URL without its password."""
    return redacted_url(str(location))


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

    ``location``: a SQLite file's path (or ``sqlite:///path``), or a ``postgresql://`` URL.
    ``redact_transcripts``: when given, every message text this connection stores is passed
    through it first (``[privacy] transcripts = "redact"``); the prompt of the turn being
    answered still has the raw text, later ones read what was stored."""

    conn: Any  # sqlite3.Connection, or PgConnection, which speaks the same subset

    def __init__(
        self,
        location: Location,
        *,
        redact_transcripts: Callable[[str], str] | None = None,
        migrate: bool = True,
    ) -> None:
        self._migrate_on_open = migrate
        self._vector_search: bool | None = None
        self.dialect, target = parse_location(location)
        self.location: Location = target
        self.redact_transcripts = redact_transcripts
        if isinstance(target, Path):
            self.path = target
            self._open_sqlite(target)
        else:
            self.path = Path(redacted_url(target))  # a name for messages; nothing is there
            self._open_postgres(target)

    def _open_sqlite(self, path: Path) -> None:
        try:
            make_private_dir(path.parent)
            _private_files(path)
            self.conn = sqlite3.connect(path, timeout=30.0, isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"cannot open the database {path}: {exc}") from exc
        self.conn.row_factory = sqlite3.Row
        try:
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=FULL")
            self.conn.execute("PRAGMA foreign_keys=ON")
            self.conn.execute("PRAGMA busy_timeout=30000")
            if self._migrate_on_open:
                self.migrate()
            else:
                self.conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
        except sqlite3.DatabaseError as exc:
            self.conn.close()
            raise StoreError(
                f"{path} is not a usable personae database ({exc}); move it aside and "
                "run again to start a new one"
            ) from exc
        if self.redact_transcripts is not None:
            self.conn.create_function(
                _REDACT_FUNCTION, 1, self.redact_transcripts, deterministic=True
            )
            for trigger in _TRANSCRIPT_TRIGGERS:
                self.conn.execute(trigger)

    def _open_postgres(self, url: str) -> None:
        try:
            import psycopg  # noqa: F401
        except ImportError:
            raise StoreError(
                "a PostgreSQL store needs psycopg: pip install 'personae[postgresql]'"
            ) from None
        try:
            self.conn = PgConnection(url, redact=self.redact_transcripts)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the database {redacted_url(url)}: {exc}") from exc
        try:
            if self._migrate_on_open:
                self.migrate()
        except sqlite3.DatabaseError as exc:
            self.conn.close()
            raise StoreError(
                f"{redacted_url(url)} is not a usable personae database ({exc})"
            ) from exc

    @property
    def is_postgres(self) -> bool:
        return self.dialect == POSTGRESQL

    def pending_migrations(self) -> list[str]:
        """The names of the migrations this store has not had yet."""
        if not self._has_table("schema_migrations"):
            return [name for _, name, _ in _migrations(self.dialect)]
        done = {row[0] for row in self.conn.execute("SELECT version FROM schema_migrations")}
        return [name for number, name, _ in _migrations(self.dialect) if number not in done]

    def schema_version(self) -> int:
        if not self._has_table("schema_migrations"):
            return 0
        row = self.conn.execute("SELECT MAX(version) FROM schema_migrations").fetchone()
        return int(row[0] or 0)

    @property
    def vector_search(self) -> bool:
        """Whether memories carry a pgvector ``embedding`` the database ranks by (PostgreSQL
        with the extension; see migration m008)."""
        if not self.is_postgres:
            return False
        if self._vector_search is None:
            row = self.conn.execute(
                "SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema() "
                "AND table_name = 'memories' AND column_name = 'embedding'"
            ).fetchone()
            self._vector_search = row is not None
        return self._vector_search

    def enable_vector_search(self) -> bool:
        """Add the ``embedding`` column if pgvector can be had now (PostgreSQL; idempotent);
        returns :attr:`vector_search`."""
        if not self.is_postgres:
            return False
        with self.transaction() as conn:
            conn.execute("SELECT pg_advisory_xact_lock(?)", (MIGRATION_LOCK,))
            conn.execute(VECTOR_SEARCH)
        self._vector_search = None
        return self.vector_search

    def _has_table(self, name: str) -> bool:
        sql = (
            "SELECT 1 FROM pg_tables WHERE schemaname = current_schema() AND tablename = ?"
            if self.is_postgres
            else "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?"
        )
        return self.conn.execute(sql, (name,)).fetchone() is not None

    def migrate(self) -> list[str]:
        """Apply pending migrations, all in one transaction; returns the names applied. On
        PostgreSQL an advisory lock makes processes that start together take turns (the second
        then finds nothing to do)."""
        if not self.pending_migrations():
            return []
        applied = []
        with self.transaction() as conn:
            if self.dialect == POSTGRESQL:
                conn.execute("SELECT pg_advisory_xact_lock(?)", (MIGRATION_LOCK,))
            conn.execute(
                schema_sql(
                    "CREATE TABLE IF NOT EXISTS schema_migrations "
                    "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at REAL NOT NULL)"
                )
            )
            if self.dialect == POSTGRESQL:
                for statement in BOOTSTRAP:
                    conn.execute(statement)
            done = {row[0] for row in conn.execute("SELECT version FROM schema_migrations")}
            for number, name, statements in _migrations(self.dialect):
                if number in done:
                    continue
                for statement in statements:
                    conn.execute(schema_sql(statement) if self.is_postgres else statement)
                conn.execute(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                    (number, name, time.time()),
                )
                applied.append(name)
        return applied

    @contextmanager
    def transaction(self) -> Iterator[Any]:
        """``BEGIN IMMEDIATE`` (SQLite: one writer at a time) or ``BEGIN`` (PostgreSQL: rows a
        turn must change together are locked with :meth:`lock_chat`) … ``COMMIT``; rolls back
        on any exception."""
        self.conn.execute("BEGIN IMMEDIATE" if self.dialect == SQLITE else "BEGIN")
        try:
            yield self.conn
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    @contextmanager
    def unsynced_transaction(self) -> Iterator[Any]:
        """A transaction whose commit does not wait for the disk (a streaming reply's
        checkpoints): it survives the process being killed, though not a power cut or, on
        PostgreSQL, a crash of the database server itself; the next synced commit makes it
        durable too."""
        if self.dialect == POSTGRESQL:
            with self.transaction() as conn:
                conn.execute("SET LOCAL synchronous_commit TO OFF")
                yield conn
            return
        level = int(self.conn.execute("PRAGMA synchronous").fetchone()[0])
        self.conn.execute("PRAGMA synchronous=NORMAL")
        try:
            with self.transaction() as conn:
                yield conn
        finally:
            self.conn.execute(f"PRAGMA synchronous={level}")  # the database's own setting

    def lock_name(self, conn: Any, name: str) -> None:
        """Within a transaction, run alone among transactions locking ``name`` until it ends
        (PostgreSQL: a transaction advisory lock; SQLite's ``BEGIN IMMEDIATE`` already runs
        every writer alone). For a check-then-insert, such as choosing a free id."""
        if self.is_postgres:
            conn.execute("SELECT pg_advisory_xact_lock(?)", (_name_key(name),))

    def lock_chat(self, conn: Any, chat_id: int) -> bool:
        """Within a transaction, hold chat ``chat_id`` until it ends (PostgreSQL: its row,
        ``FOR UPDATE``; SQLite's ``BEGIN IMMEDIATE`` already holds the whole store). False
        when there is no such chat."""
        sql = "SELECT 1 FROM chats WHERE id = ?"
        return (
            conn.execute(sql + (" FOR UPDATE" if self.is_postgres else ""), (chat_id,)).fetchone()
            is not None
        )

    @contextmanager
    def exclusive(self, name: str) -> Iterator[None]:
        """Run the block alone among everything holding ``name`` on this store: every process
        on PostgreSQL (a session advisory lock, dropped by the server if the process dies),
        every thread of this process on SQLite (where one process serves the store)."""
        if self.is_postgres:
            key = _name_key(name)
            self.conn.execute("SELECT pg_advisory_lock(?)", (key,))
            try:
                yield
            finally:
                with contextlib.suppress(sqlite3.Error):
                    self.conn.execute("SELECT pg_advisory_unlock(?)", (key,))
            return
        with _LOCAL_LOCKS_GUARD:
            lock = _LOCAL_LOCKS.setdefault((str(self.location), name), threading.Lock())
        with lock:
            yield

    def try_hold_chat(self, chat_id: int) -> bool:
        """Mark chat ``chat_id`` as being answered by this connection, for every process on
        the store to see: False when another connection holds it. PostgreSQL: a session
        advisory lock, which the server drops by itself when the process holding it dies;
        SQLite: always True (one process serves a SQLite store; it locks in memory)."""
        if not self.is_postgres:
            return True
        row = self.conn.execute(
            "SELECT pg_try_advisory_lock(?, ?)", (CHAT_LOCKS, int(chat_id))
        ).fetchone()
        return bool(row[0])

    def release_chat(self, chat_id: int) -> None:
        if self.is_postgres and not self.conn.closed:
            with contextlib.suppress(sqlite3.Error):
                self.conn.execute("SELECT pg_advisory_unlock(?, ?)", (CHAT_LOCKS, int(chat_id)))

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def _name_key(name: str) -> int:
    """An advisory lock key (a signed bigint, the one-key form's space) for ``name``."""
    digest = hashlib.blake2b(name.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") - (1 << 63)


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
