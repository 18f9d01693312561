"""Moving a whole library from one store to another (``personae db copy``), verified.

Every table is copied row for row with its ids (so chats, memories' evidence and swipes still
point where they did), in one transaction on the target: a copy that fails leaves the target as
it was. Afterwards each table's row count and a SHA-256 over its rows (in key order, each value
in one canonical form) are computed on both sides and must match; a PostgreSQL target's id
sequences are moved past the copied ids so new rows do not collide.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from personae.errors import StoreError
from personae.store.database import Database

# Parents before children (foreign keys), each with the key its rows are ordered by.
TABLES: tuple[tuple[str, str], ...] = (
    ("meta", "key"),
    ("characters", "id"),
    ("chats", "id"),
    ("messages", "id"),
    ("api_keys", "id"),
    ("memories", "id"),
    ("chat_summaries", "chat_id"),
    ("memory_versions", "scope"),
    ("lorebooks", "id"),
    ("lorebook_links", "id"),
    ("swipes", "id"),
)
# Tables whose ids a PostgreSQL identity column gives out.
_IDENTITY = ("chats", "messages", "memories", "lorebook_links", "swipes")
BATCH = 2000


@dataclass(frozen=True)
class TableCheck:
    table: str
    source_rows: int
    target_rows: int
    source_sha256: str
    target_sha256: str

    @property
    def ok(self) -> bool:
        return (self.source_rows, self.source_sha256) == (self.target_rows, self.target_sha256)


@dataclass
class CopyReport:
    tables: list[TableCheck] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return all(t.ok for t in self.tables)

    @property
    def rows(self) -> int:
        return sum(t.target_rows for t in self.tables)


def _tables_of(db: Database) -> set[str]:
    if db.is_postgres:
        sql = "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
    else:
        sql = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    return {str(r[0]) for r in db.conn.execute(sql)} - {"schema_migrations"}


def _columns(db: Database, table: str) -> list[str]:
    if db.is_postgres:
        rows = db.conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = ? "
            "AND table_schema = current_schema() AND is_generated = 'NEVER' "
            "ORDER BY ordinal_position",
            (table,),
        )
        return [str(r[0]) for r in rows]
    return [str(r[1]) for r in db.conn.execute(f"PRAGMA table_info({table})")]


_TEXT_KEYS = ("key", "scope")
_TEXT_ID_TABLES = ("characters", "api_keys", "lorebooks")


def _rows(db: Database, table: str, key: str, columns: list[str]) -> Iterator[tuple[Any, ...]]:
    """Every row of ``table`` in ``key`` order, a batch at a time (keyset pagination, so a
    library of millions of rows never sits in memory whole). Text keys are ordered by their
    bytes on both stores (PostgreSQL's ``"C"`` collation is SQLite's ``BINARY``), so the two
    sides' checksums read rows in the same order."""
    listed = ", ".join(columns)
    at = columns.index(key)
    text = key in _TEXT_KEYS or (key == "id" and table in _TEXT_ID_TABLES)
    ordered = f'{key} COLLATE "C"' if text and db.is_postgres else key
    last: Any = None
    while True:
        where = "" if last is None else f" WHERE {ordered} > ?"
        batch = db.conn.execute(
            f"SELECT {listed} FROM {table}{where} ORDER BY {ordered} LIMIT {BATCH}",
            () if last is None else (last,),
        ).fetchall()
        if not batch:
            return
        for row in batch:
            yield tuple(row)
        last = batch[-1][at]


def _canonical(value: Any) -> bytes:
    if value is None:
        return b"N"
    if isinstance(value, bool):
        return b"I%d" % int(value)
    if isinstance(value, int):
        return b"I%d" % value
    if isinstance(value, float):
        return b"F" + struct.pack(">d", value)
    if isinstance(value, bytes | bytearray | memoryview):
        return b"B" + bytes(value)
    return b"T" + str(value).encode("utf-8", "surrogatepass")


def table_digest(db: Database, table: str, key: str, columns: list[str]) -> tuple[int, str]:
    """``(rows, sha256)`` of ``table``'s ``columns``, rows in ``key`` order."""
    digest = hashlib.sha256()
    count = 0
    for row in _rows(db, table, key, columns):
        count += 1
        for value in row:
            part = _canonical(value)
            digest.update(len(part).to_bytes(8, "big"))
            digest.update(part)
    return count, digest.hexdigest()


def _check_target_empty(target: Database) -> None:
    held = []
    for table, _ in TABLES:
        (n,) = target.conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()
        if n:
            held.append(f"{table} {n}")
    if held:
        raise StoreError(
            f"the target {target.path} already holds rows ({', '.join(held)}): copy into an "
            "empty database (create a new one, or drop and recreate this one)"
        )


def copy_library(
    source: Database,
    target: Database,
    *,
    progress: Callable[[str, int], None] | None = None,
) -> CopyReport:
    """Copy every row of ``source`` into the empty ``target`` and verify it (see the module's
    docstring). Both are brought to the same schema first; ``progress(table, rows)`` is told
    as each table is copied. Raises :class:`StoreError` when the target is not empty, the
    schemas differ or a table does not verify (the target keeps the rows in that case, for
    a look; it was empty before)."""
    import time

    started = time.monotonic()
    if source.schema_version() != target.schema_version():
        raise StoreError(
            f"the stores are at different schema versions ({source.schema_version()} and "
            f"{target.schema_version()}): run `personae db migrate` on both"
        )
    unknown = _tables_of(source) - {t for t, _ in TABLES}
    if unknown:
        raise StoreError(f"the source has tables this version does not copy: {sorted(unknown)}")
    _check_target_empty(target)
    plan = [(table, key, _columns(source, table)) for table, key in TABLES]
    for table, _, columns in plan:
        missing = set(columns) - set(_columns(target, table))
        if missing:
            raise StoreError(f"the target's {table} lacks columns {sorted(missing)}")
    with target.transaction() as conn:
        for table, key, columns in plan:
            insert = (
                f"INSERT INTO {table} ({', '.join(columns)}) "
                f"VALUES ({', '.join('?' * len(columns))})"
            )
            pending: list[tuple[Any, ...]] = []
            copied = 0
            for row in _rows(source, table, key, columns):
                pending.append(row)
                if len(pending) >= BATCH:
                    conn.executemany(insert, pending)
                    copied += len(pending)
                    pending = []
            if pending:
                conn.executemany(insert, pending)
                copied += len(pending)
            if progress is not None:
                progress(table, copied)
        if target.is_postgres:
            for table in _IDENTITY:
                conn.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
                )
    report = CopyReport()
    for table, key, columns in plan:
        rows_a, sha_a = table_digest(source, table, key, columns)
        rows_b, sha_b = table_digest(target, table, key, columns)
        report.tables.append(TableCheck(table, rows_a, rows_b, sha_a, sha_b))
    report.seconds = time.monotonic() - started
    if not report.ok:
        bad = [t.table for t in report.tables if not t.ok]
        raise StoreError(f"the copy does not verify: {', '.join(bad)} differ")
    return report


__all__ = ["TABLES", "CopyReport", "TableCheck", "copy_library", "table_digest"]
