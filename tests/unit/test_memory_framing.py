"""Memory's notes say whose facts they are: the user's, not the character's (issue 14: the model
said "I keep bees in Sussex, and I'm allergic to their stings" as its own)."""

from __future__ import annotations

from pathlib import Path

import pytest

from personae.agent import Chat
from personae.backends.base import GenerationParams
from personae.memory.bank import MemoryBank
from personae.memory.manager import MemorySettings
from personae.store import CharacterRepository, Database
from tests.support.embedder import HashEmbedder
from tests.support.factories import make_character
from tests.support.scripted import ScriptedBackend


@pytest.fixture
def db(tmp_path: Path) -> Database:
    database = Database(tmp_path / "p.db")
    repo = CharacterRepository(database)
    repo.add(make_character("Holmes"), character_id="holmes")
    repo.add(
        make_character(
            "홍길동",
            description="{{char}}은 조선의 의적이다.",
            personality="호탕하다",
            scenario="고갯길.",
            first_mes="어디 가는 길이오?",
            mes_example="",
        ),
        character_id="gildong",
    )
    return database


def chat(db: Database, bank: MemoryBank, character: str, user_name: str = "User") -> Chat:
    return Chat.start(
        db,
        character,
        ScriptedBackend(),
        user_name=user_name,
        user_id="u",
        params=GenerationParams(max_tokens=20),
        memory=bank,
        memory_settings=MemorySettings(reflect=False, summary=False, lines=False),
    )


def recall_after(db: Database, character: str, said: str, asked: str, **kw: str) -> list[str]:
    bank = MemoryBank(db, embedder=HashEmbedder())
    "".join(chat(db, bank, character, **kw).send(said))
    later = chat(db, bank, character, **kw)
    notes = []
    for question in (asked, asked + " Please."):
        "".join(later.send(question))
        assert later.last_memory is not None
        notes.append(later.last_memory.prompt.recall)
    return notes


def test_english_notes_say_the_facts_and_words_are_the_users(db: Database) -> None:
    said = "I keep bees in Sussex, and I'm allergic to their stings."
    first, second = recall_after(db, "holmes", said, "What do I keep in Sussex?", user_name="Ana")
    profile, memories = first.split("\n\n")[:2]
    assert profile == (
        "What you know about Ana (the person you talk to, not you):\n"
        "- The user is allergic to bee stings."
    )
    assert memories.splitlines()[0] == "[Ana's own words from earlier chats (about Ana, not you)]"
    assert f'- "{said}"' in memories.splitlines()  # quoted: reported speech, not the model's
    # The profile part stays byte-identical from turn to turn.
    assert second.split("\n\n")[0] == profile


def test_a_neutral_name_reads_as_the_user_in_the_notes(db: Database) -> None:
    [note, _] = recall_after(db, "holmes", "I keep bees in Sussex.", "What do I keep?")
    assert "(about the user, not you)" in note and "about you" not in note


def test_korean_notes_say_the_facts_and_words_are_the_users(db: Database) -> None:
    said = "저는 부산에 살아요. 벌을 키우고 있어요."
    first, second = recall_after(db, "gildong", said, "제가 어디 산다고 했죠?")
    profile, memories = first.split("\n\n")[:2]
    assert profile.startswith(
        "상대방(대화 상대, 당신이 아님)에 대해 아는 것:\n- 사용자가 사는 곳: 부산"
    )
    assert (
        memories.splitlines()[0] == "[예전 대화에서 상대방(대화 상대, 당신이 아님)에게서 들은 말]"
    )
    assert any(line.startswith('- "저는 부산에 살아요.') for line in memories.splitlines())
    assert second.split("\n\n")[0] == profile
