"""SQLite persistence: :class:`Database` (connection + migrations) and the repositories."""

from personae.store.characters import CharacterRepository, StoredCharacter, check_id, slugify
from personae.store.chats import ChatInfo, ChatRepository, ReplyStats, StoredMessage
from personae.store.database import Database

__all__ = [
    "CharacterRepository",
    "ChatInfo",
    "ChatRepository",
    "Database",
    "ReplyStats",
    "StoredCharacter",
    "StoredMessage",
    "check_id",
    "slugify",
]
