"""SQLite persistence: :class:`Database` (connection + migrations) and the repositories."""

from personae.store.characters import CharacterRepository, StoredCharacter, check_id, slugify
from personae.store.chats import (
    LOCAL_USER,
    ChatInfo,
    ChatRepository,
    ReplyStats,
    StoredMessage,
    check_user_id,
)
from personae.store.database import Database
from personae.store.memories import (
    KINDS,
    ChatSummary,
    MemoryItem,
    MemoryRepository,
    NewMemory,
    partition_key,
)

__all__ = [
    "KINDS",
    "LOCAL_USER",
    "CharacterRepository",
    "ChatSummary",
    "ChatInfo",
    "ChatRepository",
    "Database",
    "MemoryItem",
    "MemoryRepository",
    "NewMemory",
    "ReplyStats",
    "StoredCharacter",
    "StoredMessage",
    "check_id",
    "check_user_id",
    "partition_key",
    "slugify",
]
