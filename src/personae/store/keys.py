"""API keys: made here, shown once, stored as a digest, looked up by digest, revoked by id."""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from dataclasses import dataclass
from typing import Any

from personae.errors import InvalidInput, NotFound
from personae.store.chats import check_user_id
from personae.store.database import Database

PREFIX = "pk-"
_KEY_ID = re.compile(r"pk-[0-9a-f]{8}")
# Refresh last_used_at at most this often per key: a write per request would serialize them.
_TOUCH_EVERY_S = 60.0


def digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ApiKey:
    id: str  # the key's public start, e.g. 'pk-3f9a2c1e'
    user_id: str
    label: str
    created_at: float
    last_used_at: float | None
    revoked_at: float | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


class KeyRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    def create(self, user_id: str, label: str = "") -> tuple[ApiKey, str]:
        """A new key for ``user_id``: its record and the key itself (never stored, shown once)."""
        check_user_id(user_id)
        if len(label) > 200 or any(ord(c) < 32 for c in label):
            raise InvalidInput("a key label is one line of at most 200 characters", param="label")
        now = time.time()
        with self.db.transaction() as conn:
            while True:
                key_id = PREFIX + secrets.token_hex(4)
                if not conn.execute("SELECT 1 FROM api_keys WHERE id = ?", (key_id,)).fetchone():
                    break
            key = f"{key_id}-{secrets.token_urlsafe(32)}"
            conn.execute(
                "INSERT INTO api_keys (id, user_id, digest, label, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (key_id, user_id, digest(key), label, now),
            )
        return ApiKey(key_id, user_id, label, now, None, None), key

    def all(self, *, include_revoked: bool = False) -> list[ApiKey]:
        sql = "SELECT * FROM api_keys"
        if not include_revoked:
            sql += " WHERE revoked_at IS NULL"
        rows = self.db.conn.execute(sql + " ORDER BY user_id, created_at").fetchall()
        return [self._key(r) for r in rows]

    def any_active(self) -> bool:
        row = self.db.conn.execute("SELECT 1 FROM api_keys WHERE revoked_at IS NULL LIMIT 1")
        return row.fetchone() is not None

    def user_for(self, key: str) -> str | None:
        """The user an active key belongs to, or None for an unknown or revoked key."""
        if not key.startswith(PREFIX) or len(key) > 200:
            return None
        row = self.db.conn.execute(
            "SELECT id, user_id, last_used_at FROM api_keys "
            "WHERE digest = ? AND revoked_at IS NULL",
            (digest(key),),
        ).fetchone()
        if row is None:
            return None
        now = time.time()
        if row["last_used_at"] is None or now - row["last_used_at"] > _TOUCH_EVERY_S:
            with self.db.transaction() as conn:
                conn.execute("UPDATE api_keys SET last_used_at = ? WHERE id = ?", (now, row["id"]))
        return str(row["user_id"])

    def revoke(self, key_id: str) -> ApiKey:
        """Revoke a key by its id (or by the whole key, pasted)."""
        key_id = key_id.strip()
        found = _KEY_ID.match(key_id)
        if found is None:
            raise InvalidInput(
                f"{key_id[:20]!r} is not a key id; ids look like 'pk-3f9a2c1e' "
                "(see `personae keys list`)",
                param="key",
            )
        key_id = found.group(0)
        with self.db.transaction() as conn:
            row = conn.execute("SELECT * FROM api_keys WHERE id = ?", (key_id,)).fetchone()
            if row is None:
                raise NotFound(f"no key {key_id!r}: see `personae keys list`", param="key")
            if row["revoked_at"] is None:
                conn.execute(
                    "UPDATE api_keys SET revoked_at = ? WHERE id = ?", (time.time(), key_id)
                )
            row = conn.execute("SELECT * FROM api_keys WHERE id = ?", (key_id,)).fetchone()
        return self._key(row)

    @staticmethod
    def _key(row: Any) -> ApiKey:
        return ApiKey(
            id=row["id"],
            user_id=row["user_id"],
            label=row["label"],
            created_at=row["created_at"],
            last_used_at=row["last_used_at"],
            revoked_at=row["revoked_at"],
        )
