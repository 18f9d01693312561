"""Characters, chats and messages."""

SQL = """
CREATE TABLE characters (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    card_json   TEXT NOT NULL,
    image       BLOB,
    source      TEXT NOT NULL DEFAULT 'import',
    created_at  REAL NOT NULL,
    updated_at  REAL NOT NULL
);

CREATE TABLE chats (
    id            INTEGER PRIMARY KEY,
    character_id  TEXT NOT NULL REFERENCES characters(id) ON DELETE CASCADE,
    title         TEXT NOT NULL DEFAULT '',
    user_name     TEXT NOT NULL,
    created_at    REAL NOT NULL,
    updated_at    REAL NOT NULL
);
CREATE INDEX chats_by_character ON chats(character_id, updated_at);

-- status: 'complete' (finished normally), 'incomplete' (being written, or interrupted:
-- the text is what had arrived), 'superseded' (replaced by /regenerate or /edit, kept),
-- 'deleted' (removed by /undo, kept so nothing saved is ever lost).
CREATE TABLE messages (
    id                 INTEGER PRIMARY KEY,
    chat_id            INTEGER NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
    role               TEXT NOT NULL CHECK (role IN ('system', 'user', 'assistant')),
    content            TEXT NOT NULL,
    status             TEXT NOT NULL
                       CHECK (status IN ('complete', 'incomplete', 'superseded', 'deleted')),
    token_count        INTEGER,
    backend            TEXT,
    model              TEXT,
    prompt_tokens      INTEGER,
    completion_tokens  INTEGER,
    cached_tokens      INTEGER,
    ttft_ms            REAL,
    duration_ms        REAL,
    finish_reason      TEXT,
    created_at         REAL NOT NULL,
    completed_at       REAL
);
CREATE INDEX messages_by_chat ON messages(chat_id, id);
"""
