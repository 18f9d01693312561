"""API keys and who owns a character.

A key belongs to one user; only its SHA-256 digest is stored (keys are 256 random bits, so a
plain digest cannot be guessed back, and a lookup by digest needs no slow hash). ``id`` is the
key's public prefix, shown by ``personae keys list`` and used to revoke it.

A character added through the server belongs to the user whose key added it (``owner_id``) and
is either shared (everyone sees it) or private (only its owner). Characters added on the machine
itself — bundled ones, ``personae card import`` — have no owner: they are shared, and only the
machine's operator changes them.
"""

SQL = """
CREATE TABLE api_keys (
    id            TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL,
    digest        TEXT NOT NULL UNIQUE,
    label         TEXT NOT NULL DEFAULT '',
    created_at    REAL NOT NULL,
    last_used_at  REAL,
    revoked_at    REAL
);
CREATE INDEX api_keys_by_user ON api_keys(user_id);

ALTER TABLE characters ADD COLUMN owner_id TEXT;
ALTER TABLE characters ADD COLUMN shared INTEGER NOT NULL DEFAULT 1 CHECK (shared IN (0, 1));
"""
