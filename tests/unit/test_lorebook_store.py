"""Standalone lorebooks in the store: ids, visibility, attachments and what deletes them, and
which books a chat or a character's turn uses."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from personae.errors import InvalidInput, NotFound
from personae.store import CharacterRepository, ChatRepository, Database
from personae.store.lorebooks import LorebookRepository, played_character
from tests.support.factories import entry, make_book, make_character


@pytest.fixture
def db(store_location: str | Path) -> Database:
    d = Database(store_location)
    repo = CharacterRepository(d)
    repo.add(make_character(character_book=make_book(entry(["moor"], "Foggy."), token_budget=50)))
    repo.add(make_character("Irene"))
    return d


def test_add_get_find_all_delete(db: Database) -> None:
    repo = LorebookRepository(db)
    first = repo.add(make_book(entry(["a"], "A."), name="Eldoria"))
    second = repo.add(make_book(name="  "))
    assert re.fullmatch(r"[0-9a-f]{8}", first) and first != second
    stored = repo.get(first)
    assert stored.name == "Eldoria" and stored.entry_count == 1 and stored.book.entries[0].keys
    assert repo.find("eldoria").id == first
    assert repo.find(first[:5]).id == first or first[:5] == second[:5]
    assert [b.name for b in repo.all()] == ["Eldoria", "lorebook"]
    repo.delete(first)
    with pytest.raises(NotFound, match="personae lorebook list"):
        repo.get(first)
    with pytest.raises(NotFound):
        repo.delete(first)


@pytest.mark.parametrize("bad", ["", "../etc", "ZZZZZZZZ", "x" * 500, "0123456789"])
def test_bad_ids_are_not_found(db: Database, bad: str) -> None:
    with pytest.raises(NotFound) as info:
        LorebookRepository(db).get(bad)
    assert len(str(info.value)) < 200


def test_private_books_exist_only_for_their_owner(db: Database) -> None:
    repo = LorebookRepository(db)
    mine = repo.add(make_book(name="Secret"), owner_id="alice", shared=False)
    assert repo.get(mine, visible_to="alice").name == "Secret"
    with pytest.raises(NotFound):
        repo.get(mine, visible_to="bob")
    with pytest.raises(NotFound):
        repo.find("Secret", visible_to="bob")
    assert repo.all(visible_to="bob") == []
    with pytest.raises(InvalidInput, match="owner"):
        repo.add(make_book(), shared=False)


def test_attach_detach_and_cascades(db: Database) -> None:
    repo = LorebookRepository(db)
    chats = ChatRepository(db)
    chat = chats.create("holmes", user_name="Mina")
    lore = repo.add(make_book(entry(["hound"], "A hound."), name="Hounds"))
    assert repo.attach(lore, character_id="holmes") is True
    assert repo.attach(lore, character_id="holmes") is False  # once is enough
    assert repo.attach(lore, chat_id=chat) is True
    assert {(link.character_id, link.chat_id) for link in repo.links(lore)} == {
        ("holmes", None),
        (None, chat),
    }
    repo.detach(lore, chat_id=chat)
    with pytest.raises(NotFound, match="not attached"):
        repo.detach(lore, chat_id=chat)
    repo.attach(lore, chat_id=chat)
    chats.delete(chat)  # a chat's links go with it
    assert [link.chat_id for link in repo.links(lore)] == [None]
    CharacterRepository(db).delete("holmes")  # and a character's
    assert repo.links(lore) == []
    repo.attach(lore, character_id="irene")
    repo.delete(lore)  # and a book's
    assert db.conn.execute("SELECT COUNT(*) FROM lorebook_links").fetchone()[0] == 0


def test_attach_needs_one_existing_target(db: Database) -> None:
    repo = LorebookRepository(db)
    lore = repo.add(make_book(name="B"))
    with pytest.raises(InvalidInput, match="one of them"):
        repo.attach(lore)
    with pytest.raises(InvalidInput, match="one of them"):
        repo.attach(lore, character_id="holmes", chat_id=1)
    with pytest.raises(NotFound, match="character"):
        repo.attach(lore, character_id="nobody")
    with pytest.raises(NotFound, match="chat 99"):
        repo.attach(lore, chat_id=99)
    with pytest.raises(NotFound, match="lorebook"):
        repo.attach("00000000", character_id="holmes")


def test_a_users_link_to_a_shared_character_reaches_only_their_chats(db: Database) -> None:
    repo = LorebookRepository(db)
    chats = ChatRepository(db)
    operator = repo.add(make_book(entry(["a"], "A."), name="Everyone's"))
    alices = repo.add(make_book(entry(["b"], "B."), name="Alice's"), owner_id="alice", shared=False)
    repo.attach(operator, character_id="holmes")
    repo.attach(alices, character_id="holmes", attached_by="alice")
    alice_chat = chats.get(chats.create("holmes", user_name="A", user_id="alice"))
    bob_chat = chats.get(chats.create("holmes", user_name="B", user_id="bob"))
    assert [b.name for b in repo.for_chat(alice_chat)] == ["Everyone's", "Alice's"]
    assert [b.name for b in repo.for_chat(bob_chat)] == ["Everyone's"]
    assert [b.name for b in repo.for_character("holmes", user_id="bob")] == ["Everyone's"]
    assert [b.name for b in repo.for_character("holmes", user_id=None)] == ["Everyone's"]
    # Even attached by the operator, a private book never reaches another user's chat.
    repo.attach(alices, chat_id=bob_chat.id)
    assert [b.name for b in repo.for_chat(bob_chat)] == ["Everyone's"]
    assert [link.character_id for link in repo.links(alices, user_id="bob")] == [None]
    with pytest.raises(NotFound):
        repo.detach(alices, character_id="holmes")  # the operator has no link of its own
    repo.detach(alices, character_id="holmes", attached_by="alice")


def test_a_chat_uses_its_characters_books_then_its_own_each_once(db: Database) -> None:
    repo = LorebookRepository(db)
    chats = ChatRepository(db)
    chat = chats.get(chats.create("holmes", user_name="Mina"))
    own = repo.add(make_book(entry(["x"], "X."), name="Chat's"))
    both = repo.add(make_book(entry(["y"], "Y."), name="Both"))
    repo.attach(own, chat_id=chat.id)
    repo.attach(both, chat_id=chat.id)
    repo.attach(both, character_id="holmes")
    assert [b.name for b in repo.for_chat(chat)] == ["Both", "Chat's"]
    other = chats.get(chats.create("irene", user_name="Mina"))
    assert repo.for_chat(other) == []


def test_played_character_merges_attached_books(db: Database) -> None:
    repo = LorebookRepository(db)
    lore = repo.add(make_book(entry(["hound"], "A hound."), token_budget=999, name="Hounds"))
    repo.attach(lore, character_id="holmes")
    stored = CharacterRepository(db).get("holmes")
    played = played_character(db, stored, user_id="local")
    book = played.character_book
    assert book is not None and [e.keys[0] for e in book.entries] == ["moor", "hound"]
    assert book.token_budget == 50  # the card's budget wins
    assert stored.character.character_book is not None
    assert len(stored.character.character_book.entries) == 1  # the card is unchanged
    irene = CharacterRepository(db).get("irene")
    assert played_character(db, irene) is irene.character
