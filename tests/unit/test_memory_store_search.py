"""Memory search in the database (PostgreSQL) returns what the in-process index returns: the
same memories in the same order, for words, vectors and both, with pgvector and without, and
with other chats' memories and other users' partitions kept out."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from personae.memory.bank import Draft, MemoryBank
from personae.retrieval.lexical import LexicalIndex, SampleLexicalIndex
from personae.store import CharacterRepository, ChatRepository, Database, MemoryRepository
from tests.support.embedder import HashEmbedder
from tests.support.factories import make_character
from tests.support.stores import postgres_or_skip

WORDS = [
    "tea",
    "dog",
    "biscuit",
    "moor",
    "fog",
    "violin",
    "london",
    "baker",
    "street",
    "case",
    "letter",
    "ring",
    "hat",
    "cab",
    "river",
    "강아지",
    "비스킷",
    "안개",
    "바이올린",
    "런던",
    "편지",
    "반지",
    "모자",
    "강",
    "사건",
]


def fill(db: Database, rng: random.Random) -> tuple[int, int]:
    CharacterRepository(db).add(make_character("Holmes"), character_id="holmes")
    chats = ChatRepository(db)
    first = chats.create("holmes", user_name="Ana", user_id="ana")
    second = chats.create("holmes", user_name="Ana", user_id="ana")
    bank = MemoryBank(db, embedder=HashEmbedder(dim=48))
    drafts = []
    for i in range(300):
        words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 9)))
        chat = rng.choice([None, first, second])
        user = rng.choice(["ana", "ana", "bo"])
        drafts.append(
            Draft("episode" if chat else "note", f"{i}: {words}", user, "holmes",
                  chat_id=chat if user == "ana" else None)
        )  # fmt: skip
    drafts += [
        Draft("line", f"Holmes line {i}: {rng.choice(WORDS)}", None, "holmes") for i in range(80)
    ]
    bank.remember(drafts)
    return first, second


def searches(db: Database, chat: int, rng: random.Random) -> list[list[int]]:
    bank = MemoryBank(db, embedder=HashEmbedder(dim=48))
    out = []
    for _ in range(40):
        query = " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 4)))
        for kinds in (["episode", "note"], ["line"], ["line", "episode", "note", "fact"]):
            found = bank.search(
                query, kinds=kinds, user_id="ana", character_id="holmes", chat_id=chat, k=4
            )
            out.append([r.item.id for r in found])
    return out


@pytest.mark.parametrize("pgvector", [True, False])
def test_the_database_finds_what_the_process_finds(
    pgvector: bool, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = postgres_or_skip(request).fresh()
    with Database(tmp_path / "p.db") as lite, Database(url) as pg:
        assert pg.vector_search  # the session's server has pgvector
        pg._vector_search = pgvector  # noqa: SLF001 (False: as on a server without it)
        chat_lite, _ = fill(lite, random.Random(7))
        chat_pg, _ = fill(pg, random.Random(7))
        assert chat_lite == chat_pg
        in_process = searches(lite, chat_lite, random.Random(3))
        in_database = searches(pg, chat_pg, random.Random(3))
    assert in_database == in_process
    assert sum(map(len, in_process)) > 300  # the searches found things


def test_nothing_of_another_user_or_chat_comes_back(request: pytest.FixtureRequest) -> None:
    with Database(postgres_or_skip(request).fresh()) as db:
        first, second = fill(db, random.Random(11))
        bank = MemoryBank(db, embedder=HashEmbedder(dim=48))
        repo = MemoryRepository(db)
        for query in WORDS:
            for r in bank.search(
                query, kinds=["episode", "note"], user_id="ana", character_id="holmes",
                chat_id=first, k=8,
            ):  # fmt: skip
                item = repo.get(r.item.id)
                assert item.user_id == "ana" and item.chat_id in (None, first)


def test_stale_search_keys_are_made_again_on_search(request: pytest.FixtureRequest) -> None:
    with Database(postgres_or_skip(request).fresh()) as db:
        CharacterRepository(db).add(make_character("Holmes"), character_id="holmes")
        MemoryBank(db, embedder=None).remember(
            [Draft("note", "Ana's dog Biscuit", "ana", "holmes")]
        )
        db.conn.execute("UPDATE memories SET tokenizer = 'old', tokens = 'zzz'")
        found = MemoryBank(db, embedder=HashEmbedder(dim=48)).search(
            "biscuit", kinds=["note"], user_id="ana", character_id="holmes"
        )
        assert [r.item.text for r in found] == ["Ana's dog Biscuit"]
        (tokenizer, embedder) = db.conn.execute(
            "SELECT tokenizer, embedder FROM memories"
        ).fetchone()
        assert tokenizer != "old" and embedder == "hash-embedder"


def test_a_sample_scores_as_the_whole_corpus() -> None:
    docs = {i: [WORDS[(i * 7 + j) % len(WORDS)] for j in range(i % 5 + 1)] for i in range(60)}
    whole = LexicalIndex()
    for key, tokens in docs.items():
        whole.add(key, tokens)
    query = ["tea", "강아지", "fog"]
    sample = SampleLexicalIndex(len(docs), sum(map(len, docs.values())))
    for key, tokens in docs.items():
        if set(tokens) & set(query):
            sample.add(key, tokens)
    assert sample.search(query, 10) == whole.search(query, 10)
    with pytest.raises(Exception, match="negative"):
        SampleLexicalIndex(-1, 0)
