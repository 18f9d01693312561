"""Users and memory.

Every chat belongs to a user (``local`` on a personal install; the server gives each API key's
owner their own id), and every memory carries the scope it may be seen in. A memory is visible in
a chat when each of its scope columns is NULL or equals the chat's: ``user_id`` NULL only for a
character's own lines (they are the character's, not anyone's data), so nothing learned in one
user's chats can reach another user's.
"""

SQL = """
ALTER TABLE chats ADD COLUMN user_id TEXT NOT NULL DEFAULT 'local';
CREATE INDEX chats_by_user ON chats(user_id, character_id, updated_at);

-- kind: 'line' (something the character said: card examples, imported scripts),
-- 'episode' (an observation from a chat), 'reflection' (an insight drawn from episodes, with
-- evidence), 'fact' (about the user: the profile), 'note' (written by the user).
CREATE TABLE memories (
    id            INTEGER PRIMARY KEY,
    kind          TEXT NOT NULL
                  CHECK (kind IN ('line', 'episode', 'reflection', 'fact', 'note')),
    user_id       TEXT,
    character_id  TEXT REFERENCES characters(id) ON DELETE CASCADE,
    chat_id       INTEGER REFERENCES chats(id) ON DELETE CASCADE,
    text          TEXT NOT NULL,
    label         TEXT NOT NULL DEFAULT '',   -- lines: the speaker; facts: the attribute
    importance    REAL NOT NULL DEFAULT 0,    -- 1–10, Generative Agents' scale
    evidence      TEXT NOT NULL DEFAULT '[]', -- JSON ids: memories (reflections), messages
    source        TEXT NOT NULL DEFAULT '',   -- card, import:<file>, chat, user, reflection
    tokens        TEXT NOT NULL,              -- retrieval tokens, space-separated
    tokenizer     TEXT NOT NULL,
    vector        BLOB,                       -- int8 codes of the passage embedding
    vector_scale  REAL,
    embedder      TEXT,
    created_at    REAL NOT NULL,
    accessed_at   REAL NOT NULL,
    updated_at    REAL NOT NULL,
    CHECK (kind = 'line' OR user_id IS NOT NULL)
);
CREATE INDEX memories_by_scope ON memories(user_id, character_id, kind);
CREATE INDEX memories_by_chat ON memories(chat_id);

-- The rolling summary of a chat's older turns: one row per chat, covering every message up to
-- and including through_message_id.
CREATE TABLE chat_summaries (
    chat_id             INTEGER PRIMARY KEY REFERENCES chats(id) ON DELETE CASCADE,
    text                TEXT NOT NULL,
    through_message_id  INTEGER NOT NULL,
    updated_at          REAL NOT NULL
);

-- Bumped in the same transaction as every memory write of a scope, so a process holding an
-- in-memory index can tell with one lookup whether another process changed it.
CREATE TABLE memory_versions (
    scope    TEXT PRIMARY KEY,
    version  INTEGER NOT NULL
);
"""
