"""Standalone lorebooks (World Info) and what they are attached to.

A book belongs to the user who imported it through the server (``owner_id``; NULL: imported on
this machine) and is shared or private, as characters are. ``book_json`` is personae's lorebook
JSON, which keeps every World Info field (see :mod:`personae.characters.worldinfo`).

A link attaches a book to a character or to a chat, never both. ``attached_by`` is the user who
attached it to a character (NULL: the machine's operator, for every user): a user's link to a
shared character reaches only that user's chats. Deleting a book, a character or a chat deletes
its links.
"""

SQL = """
CREATE TABLE lorebooks (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    book_json    TEXT NOT NULL,
    entry_count  INTEGER NOT NULL,
    source       TEXT NOT NULL DEFAULT 'import',
    owner_id     TEXT,
    shared       INTEGER NOT NULL DEFAULT 1 CHECK (shared IN (0, 1)),
    created_at   REAL NOT NULL,
    updated_at   REAL NOT NULL
);
CREATE INDEX lorebooks_by_owner ON lorebooks(owner_id);

CREATE TABLE lorebook_links (
    id            INTEGER PRIMARY KEY,
    lorebook_id   TEXT NOT NULL REFERENCES lorebooks(id) ON DELETE CASCADE,
    character_id  TEXT REFERENCES characters(id) ON DELETE CASCADE,
    chat_id       INTEGER REFERENCES chats(id) ON DELETE CASCADE,
    attached_by   TEXT,
    created_at    REAL NOT NULL,
    CHECK ((character_id IS NULL) <> (chat_id IS NULL))
);
CREATE UNIQUE INDEX lorebook_links_character
    ON lorebook_links(lorebook_id, character_id, COALESCE(attached_by, ''))
    WHERE character_id IS NOT NULL;
CREATE UNIQUE INDEX lorebook_links_chat ON lorebook_links(lorebook_id, chat_id)
    WHERE chat_id IS NOT NULL;
CREATE INDEX lorebook_links_by_character ON lorebook_links(character_id);
CREATE INDEX lorebook_links_by_chat ON lorebook_links(chat_id);
"""
