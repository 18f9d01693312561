from __future__ import annotations

from pathlib import Path

import pytest

from personae.errors import InvalidInput, NotFound, StoreError
from personae.store import CharacterRepository, ChatRepository, Database, ReplyStats, slugify
from personae.store.library import install_bundled
from tests.support.factories import make_character


@pytest.fixture
def db(store_location: str | Path) -> Database:
    return Database(store_location)


def test_wal_and_migrations_recorded(db: Database) -> None:
    if not db.is_postgres:
        assert db.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    (newest,) = db.conn.execute("SELECT MAX(version) FROM schema_migrations").fetchone()
    assert newest >= 2
    assert db.migrate() == []  # idempotent


def test_not_a_database_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="not a usable personae database"):
        Database(bad)


def test_slugify_keeps_hangul_and_is_never_empty() -> None:
    assert slugify("Sherlock Holmes") == "sherlock-holmes"
    assert slugify("홍길동") == "홍길동"
    assert slugify("../../etc/passwd") == "etc-passwd"
    assert slugify("!!!") == "character"


def test_character_ids_unique_and_card_lossless(db: Database) -> None:
    repo = CharacterRepository(db)
    c = make_character(extensions={"x": {"nested": [1, 2]}})
    first = repo.add(c)
    second = repo.add(c)
    assert (first, second) == ("holmes", "holmes-2")
    stored = repo.get(first)
    assert stored.character.extensions == {"x": {"nested": [1, 2]}}
    assert repo.find("HOLMES").id == "holmes"


@pytest.mark.parametrize("bad", ["../etc", "a/b", "", "x" * 100, "a\nb"])
def test_bad_character_ids_rejected(db: Database, bad: str) -> None:
    with pytest.raises(InvalidInput):
        CharacterRepository(db).get(bad)


def test_unknown_character_and_chat(db: Database) -> None:
    with pytest.raises(NotFound, match="personae card list"):
        CharacterRepository(db).get("nobody")
    with pytest.raises(NotFound):
        ChatRepository(db).get(999)
    with pytest.raises(NotFound):
        ChatRepository(db).create("nobody", user_name="u")


def test_turn_protocol(db: Database) -> None:
    cid = CharacterRepository(db).add(make_character())
    chats = ChatRepository(db)
    chat = chats.create(cid, user_name="Mina")
    user_id, reply_id = chats.begin_turn(chat, "hello")
    reply = chats.message(reply_id)
    assert reply.status == "incomplete" and reply.content == ""
    chats.save_partial(reply_id, "Hel")
    assert chats.message(reply_id).content == "Hel"
    chats.complete_reply(reply_id, "Hello.", ReplyStats(model="m", completion_tokens=2))
    done = chats.message(reply_id)
    assert done.complete and done.content == "Hello." and done.token_count == 2
    # a checkpoint after completion must not reopen or alter the reply
    chats.save_partial(reply_id, "junk")
    assert chats.message(reply_id).content == "Hello."
    assert [m.id for m in chats.messages(chat)] == [user_id, reply_id]


def test_empty_user_message_rejected(db: Database) -> None:
    cid = CharacterRepository(db).add(make_character())
    chats = ChatRepository(db)
    chat = chats.create(cid, user_name="u")
    with pytest.raises(InvalidInput):
        chats.begin_turn(chat, "   ")
    with pytest.raises(InvalidInput):
        chats.edit(chats.add_message(chat, "user", "hi"), " ")


def test_edit_keeps_the_old_text(db: Database) -> None:
    cid = CharacterRepository(db).add(make_character())
    chats = ChatRepository(db)
    chat = chats.create(cid, user_name="u")
    old = chats.add_message(chat, "user", "helo")
    new = chats.edit(old, "hello")
    assert [m.content for m in chats.messages(chat)] == ["hello"]
    assert [m.status for m in chats.messages(chat, include_hidden=True)] == [
        "superseded",
        "complete",
    ]
    assert new > old


def test_deleting_character_deletes_chats(db: Database) -> None:
    repo = CharacterRepository(db)
    cid = repo.add(make_character())
    chats = ChatRepository(db)
    chat = chats.create(cid, user_name="u")
    chats.add_message(chat, "user", "hi")
    repo.delete(cid)
    with pytest.raises(NotFound):
        chats.get(chat)


def test_bundled_installed_once_and_deletions_stick(db: Database) -> None:
    added = install_bundled(db)
    assert "sherlock" in added and len(added) >= 4
    CharacterRepository(db).delete("sherlock")
    assert install_bundled(db) == []
    assert "sherlock" not in CharacterRepository(db).ids()


def test_concurrent_reader_sees_committed_turns(db: Database) -> None:
    cid = CharacterRepository(db).add(make_character())
    chats = ChatRepository(db)
    chat = chats.create(cid, user_name="u")
    chats.begin_turn(chat, "hi")
    other = Database(db.location)
    assert other.conn.execute("SELECT COUNT(*) FROM messages").fetchone()[0] == 2
