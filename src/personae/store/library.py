"""The character library a new user starts with: bundled characters are copied into the store
once, so they can be edited or deleted like any other (and a deleted one stays deleted)."""

from __future__ import annotations

import json

from personae.characters import bundled_characters
from personae.config import database_location, load_settings
from personae.store.characters import CharacterRepository
from personae.store.database import Database, get_meta, set_meta

_KEY = "bundled_installed"


def install_bundled(db: Database) -> list[str]:
    """Add bundled characters never installed before; returns the ids added."""
    seen = set(json.loads(get_meta(db, _KEY) or "[]"))
    repo = CharacterRepository(db)
    existing = repo.ids()
    added = []
    for slug, character in bundled_characters().items():
        if slug in seen:
            continue
        if slug not in existing:
            repo.add(character, source="bundled", character_id=slug)
            added.append(slug)
        seen.add(slug)
    if added or not get_meta(db, _KEY):
        set_meta(db, _KEY, json.dumps(sorted(seen)))
    return added


def open_library(location: str | None = None) -> Database:
    """Open the configured store (``PERSONAE_DATABASE_URL``, ``[store] url``, else the data
    directory's SQLite file) with the bundled characters in place; messages are stored as
    ``config.toml``'s ``[privacy] transcripts`` says."""
    settings = load_settings()
    redactor = settings.privacy.transcript_redactor()
    db = Database(location or database_location(settings), redact_transcripts=redactor)
    install_bundled(db)
    return db
