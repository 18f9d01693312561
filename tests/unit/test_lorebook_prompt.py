"""Attached lorebooks reach the prompt: a stored chat (the CLI's) scans the character's and the
chat's books together with the card's own, under the card's one token budget."""

from __future__ import annotations

from pathlib import Path

import pytest

from personae.agent import Chat
from personae.backends.base import Message
from personae.store import CharacterRepository, Database
from personae.store.lorebooks import LorebookRepository
from tests.support.factories import entry, make_book, make_character
from tests.support.scripted import ScriptedBackend


@pytest.fixture
def db(tmp_path: Path) -> Database:
    d = Database(tmp_path / "p.db")
    card_book = make_book(
        entry(["moor"], "CARD-LORE the moor is foggy", priority=5),
        entry([], "CARD-CONSTANT it is 1889", constant=True),
        token_budget=12,
    )
    CharacterRepository(d).add(make_character(character_book=card_book))
    return d


def prompt_text(messages: list[Message]) -> str:
    return "\n".join(m.content for m in messages)


def test_a_books_entry_reaches_the_prompt(db: Database) -> None:
    books = LorebookRepository(db)
    on_character = books.add(
        make_book(
            entry(["hound"], "ATTACHED-LORE a spectral hound"),
            entry([], "ATTACHED-CONSTANT gas lamps everywhere", constant=True),
        )
    )
    books.attach(on_character, character_id="holmes")
    backend = ScriptedBackend().enqueue("Indeed.")
    chat = Chat.start(db, "holmes", backend)
    "".join(chat.send("Did you hear the hound?"))
    messages, _ = backend.calls[0]
    assert "ATTACHED-LORE" in prompt_text(messages)
    # An attached constant entry is part of the stable system message, like the card's own.
    assert "ATTACHED-CONSTANT" in messages[0].content and "CARD-CONSTANT" in messages[0].content


def test_a_chats_own_book_reaches_only_that_chat(db: Database) -> None:
    books = LorebookRepository(db)
    backend = ScriptedBackend()
    chat = Chat.start(db, "holmes", backend)
    other = Chat.start(db, "holmes", backend)
    lore = books.add(make_book(entry(["lamp"], "CHAT-LORE the lamp is lit")))
    books.attach(lore, chat_id=chat.id)
    chat = Chat(db, chat.id, backend)  # the books are read when a chat is opened
    "".join(chat.send("The lamp?"))
    "".join(other.send("The lamp?"))
    first, second = (prompt_text(call[0]) for call in backend.calls)
    assert "CHAT-LORE" in first and "CHAT-LORE" not in second


def test_one_budget_for_the_card_and_the_attached_books(db: Database) -> None:
    books = LorebookRepository(db)
    lore = books.add(
        make_book(entry(["hound"], "ATTACHED-LORE a spectral hound"), token_budget=999)
    )
    books.attach(lore, character_id="holmes")
    backend = ScriptedBackend()
    chat = Chat.start(db, "holmes", backend)
    "".join(chat.send("The hound on the moor!"))
    text = prompt_text(backend.calls[0][0])
    # Budget 12 (the card's; the attached book's 999 does not count): the constant (4 tokens)
    # and the card's entry (5) fit, the attached one (4) would make 13, so it is left out.
    assert "CARD-LORE" in text and "ATTACHED-LORE" not in text
