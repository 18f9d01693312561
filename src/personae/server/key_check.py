"""Looking API keys up in the store, for :mod:`.auth` (the server's state holds one checker)."""

from __future__ import annotations

import sqlite3
import threading

from personae.store import Database
from personae.store.database import Location
from personae.store.keys import KeyRepository


class KeyCheck:
    """Looks keys up on one connection of its own, shared under a lock: a check is two indexed
    reads, quick enough for the event loop, and needs no connection per request."""

    def __init__(self, db_location: Location) -> None:
        self._db_location = db_location
        self._db: Database | None = None
        self._lock = threading.Lock()

    def required(self) -> bool:
        """Whether the server wants keys now (any active key exists)."""
        return self.user_for(None)[0]

    def user_for(self, token: str | None) -> tuple[bool, str | None]:
        """``(keys_required, user)``; ``user`` None with keys required means a bad key."""
        with self._lock:
            if self._db is None:
                self._db = Database(self._db_location)
                if not self._db.is_postgres:
                    # The connection moves between the loop and worker threads; the lock
                    # orders it (a psycopg connection may be used from any thread).
                    self._db.conn.close()
                    self._db.conn = sqlite3.connect(
                        self._db.path, isolation_level=None, check_same_thread=False
                    )
                    self._db.conn.row_factory = sqlite3.Row
                    self._db.conn.execute("PRAGMA busy_timeout=30000")
            keys = KeyRepository(self._db)
            if not keys.any_active():
                return False, None
            return True, keys.user_for(token) if token else None

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None


__all__ = ["KeyCheck"]
