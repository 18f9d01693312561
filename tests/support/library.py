"""A small library with a row in every table, for tests that move or check a whole store."""

from __future__ import annotations

from personae.store import (
    CharacterRepository,
    ChatRepository,
    Database,
    MemoryRepository,
    NewMemory,
    ReplyStats,
)
from personae.store.database import set_meta
from personae.store.keys import KeyRepository
from personae.store.lorebooks import LorebookRepository
from personae.store.swipes import SwipeRepository
from tests.support.factories import entry, make_book, make_character


def fill_library(db: Database, *, chats: int = 3, turns: int = 4) -> None:
    CharacterRepository(db).add(make_character("Holmes"), character_id="holmes")
    CharacterRepository(db).add(make_character("홍길동"), character_id="홍길동")
    set_meta(db, "bundled_installed", '["sherlock"]')
    KeyRepository(db).create("ana", "laptop")
    repo = ChatRepository(db)
    memories = MemoryRepository(db)
    for n in range(chats):
        character = "holmes" if n % 2 == 0 else "홍길동"
        chat = repo.create(character, user_name="Ana", user_id="ana", title=f"chat {n}")
        for t in range(turns):
            user, reply = repo.begin_turn(chat, f"hello {n}.{t} — 안녕하세요", note="lore")
            repo.complete_reply(reply, f"reply {n}.{t}", ReplyStats(model="m", ttft_ms=1.25))
            assert user is not None
            SwipeRepository(db).replace(chat, user, [f"other {t}"], [{"score": 0.5}])
            memories.add(
                NewMemory(
                    kind="episode",
                    text=f"Ana said hello {n}.{t}",
                    tokens=["ana", "hello"],
                    tokenizer="t",
                    user_id="ana",
                    character_id=character,
                    chat_id=chat,
                    importance=3.5,
                    vector=bytes(range(8)),
                    vector_scale=0.125,
                    embedder="e",
                )
            )
        repo.begin_turn(chat, "cut off")  # a reply left incomplete
        memories.set_summary(chat, f"summary {n}", 1)
    lore = LorebookRepository(db)
    book = lore.add(make_book(entry(["moor"], "Foggy.")))
    lore.attach(book, character_id="holmes")
