"""Swipes: the candidate replies a turn did not show (issue 15).

With best-of-N, a turn generates several candidates and shows the best; the others are kept
here, ranked, so that regenerating the reply shows the next one at once instead of generating
again. ``after_id`` is the message the reply follows (the user's message, or the character's
previous one when it spoke again): the turn a swipe belongs to. ``detail`` holds the verifiers'
scores and reasons as JSON; ``used_at`` is set once a swipe has been shown.
"""

SQL = """
CREATE TABLE swipes (
    id          INTEGER PRIMARY KEY,
    chat_id     INTEGER NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
    after_id    INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    rank        INTEGER NOT NULL,
    content     TEXT NOT NULL,
    detail      TEXT NOT NULL DEFAULT '{}',
    created_at  REAL NOT NULL,
    used_at     REAL
);
CREATE INDEX swipes_by_turn ON swipes (chat_id, after_id, used_at, rank);
"""
