"""One user's share of a cluster: requests in flight per user across every server process.

Each process's admission queue (:mod:`.admission`) serves users in turn and caps what one user
may have waiting, but it sees only its own requests: behind a load balancer, four processes
would let one user hold four times the share. On a PostgreSQL store the processes share a
count instead: a user's request holds one of ``per_user`` numbered slots while it waits or
runs, each an advisory lock of the store's (key: the user's hash and the slot number), taken
on one connection per process. No slot free in any process: the request gets the 429 the
queue would give. A process that dies drops its connection and with it its slots, so nothing
is left held.

On SQLite (one process) there is nothing to share: :class:`ClusterQuota` is not made.
"""

from __future__ import annotations

import hashlib
import threading
from collections import defaultdict
from collections.abc import Callable

from personae.server.admission import over_capacity
from personae.store import Database
from personae.store.database import Location

# Advisory locks in the one-key form: a key space of its own, apart from the two-key locks on
# chats (personae.store.database.CHAT_LOCKS).
_SLOT_BITS = 16


def user_key(user: str) -> int:
    """A 47-bit number for ``user`` (the slot number fills the low 16 bits of the lock key)."""
    digest = hashlib.blake2b(user.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") >> (64 - 47)


class ClusterQuota:
    """At most ``per_user`` requests of one user in flight in the whole cluster."""

    def __init__(self, location: Location, per_user: int) -> None:
        if per_user < 1:
            raise ValueError("per_user must be at least 1")
        self.per_user = per_user
        self._location = location
        self._db: Database | None = None
        self._lock = threading.Lock()
        self._held: defaultdict[str, set[int]] = defaultdict(set)

    def _conn(self) -> Database:
        if self._db is None or self._db.conn.closed:
            # a new session holds nothing: whatever the lost one held went with it
            self._held.clear()
            self._db = Database(self._location, migrate=False)
        return self._db

    def take(self, user: str) -> int | None:
        """A slot for one more request of ``user``, or None when every one is held (here or
        by another process)."""
        base = user_key(user) << _SLOT_BITS
        with self._lock:
            db = self._conn()
            mine = self._held[user]
            for slot in range(min(self.per_user, 1 << _SLOT_BITS)):
                if slot in mine:  # a session's advisory locks nest: never take one twice
                    continue
                row = db.conn.execute("SELECT pg_try_advisory_lock(?)", (base | slot,)).fetchone()
                if row[0]:
                    mine.add(slot)
                    return slot
            if not mine:
                del self._held[user]
            return None

    def give_back(self, user: str, slot: int) -> None:
        with self._lock:
            mine = self._held.get(user)
            if mine is None or slot not in mine:
                return
            mine.discard(slot)
            if not mine:
                del self._held[user]
            if self._db is not None and not self._db.conn.closed:
                key = (user_key(user) << _SLOT_BITS) | slot
                self._db.conn.execute("SELECT pg_advisory_unlock(?)", (key,))

    def hold(self, user: str, retry_after: Callable[[], int]) -> Callable[[], None]:
        """One of ``user``'s slots for a request, or the 429 the queue gives (``retry_after``:
        its estimate); returns what lets the slot go (once, however often it is called)."""
        slot = self.take(user)
        if slot is None:
            raise over_capacity(
                f"you already have {self.per_user} requests waiting or generating across the "
                "servers, the most one user may have: wait for them to finish",
                retry_after(),
            )
        once = threading.Lock()

        def release() -> None:
            if once.acquire(blocking=False):
                self.give_back(user, slot)

        return release

    def held(self, user: str) -> int:
        """How many of ``user``'s slots this process holds."""
        with self._lock:
            return len(self._held.get(user, ()))

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None
            self._held.clear()


__all__ = ["ClusterQuota", "user_key"]
