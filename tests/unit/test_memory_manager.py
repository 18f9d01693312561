"""ChatMemory inside a real Chat on SQLite with a scripted backend: recall before the reply,
learning after it, the rolling summary, reflections, profile scope, and failures kept apart."""

from __future__ import annotations

from pathlib import Path

import pytest

from personae.agent import Chat
from personae.backends.base import GenerationParams
from personae.errors import BackendError
from personae.memory.bank import MemoryBank
from personae.memory.manager import MemorySettings
from personae.store import CharacterRepository, Database
from tests.support.embedder import HashEmbedder
from tests.support.factories import make_character
from tests.support.scripted import ScriptedBackend


@pytest.fixture
def db(store_location: str | Path) -> Database:
    database = Database(store_location)
    repo = CharacterRepository(database)
    repo.add(make_character("Holmes"), character_id="holmes")
    repo.add(make_character("Mina", mes_example=""), character_id="mina")
    return database


def chat_with(db: Database, backend: ScriptedBackend, character: str = "holmes", **settings):
    bank = MemoryBank(db, embedder=HashEmbedder())
    return Chat.start(
        db,
        character,
        backend,
        user_name="Ana",
        user_id="ana",
        params=GenerationParams(max_tokens=20),
        memory=bank,
        memory_settings=MemorySettings(**settings),
        guard=False,  # scripted replies repeat on purpose; guards are tested on their own
    )


def say(chat: Chat, text: str) -> str:
    return "".join(chat.send(text))


def test_what_was_said_comes_back_in_a_later_chat(db: Database) -> None:
    backend = ScriptedBackend().enqueue("Noted.", "Indeed.")
    first = chat_with(db, backend)
    say(first, "My dog is called Biscuit and I live in Whitby.")
    assert first.last_learned is not None and first.last_learned.observations == 1
    second = chat_with(db, backend)
    say(second, "What is my dog called?")
    prompt = "\n".join(m.content for m in backend.calls[-1][0])
    assert "Biscuit" in prompt
    assert second.last_memory is not None and second.last_memory.memories
    assert "embed" in second.last_memory.timings


def test_retrieval_marks_memories_used_only_after_the_reply(db: Database) -> None:
    backend = ScriptedBackend().enqueue("Noted.", "Yes.")
    chat = chat_with(db, backend)
    say(chat, "My sister Harriet lives in Bath.")
    bank = chat.memory.bank  # type: ignore[union-attr]
    [episode] = bank.items(user_id="ana", character_id="holmes", kinds=["episode"])
    chat.memory.prepare("Where does my sister live?")  # type: ignore[union-attr]
    assert bank.repo.get(episode.id).accessed_at == episode.accessed_at
    chat.memory.after_turn("Thanks.")  # type: ignore[union-attr]
    assert bank.repo.get(episode.id).accessed_at > episode.accessed_at


def test_card_lines_are_indexed_and_recalled(db: Database) -> None:
    backend = ScriptedBackend().enqueue("Quite.")
    chat = chat_with(db, backend)
    say(chat, "How did you know about my tan?")
    assert chat.last_memory is not None and chat.last_memory.lines
    assert "Your tan" in chat.last_memory.prompt.recall


def test_old_turns_fold_into_a_summary_that_replaces_them(db: Database) -> None:
    backend = ScriptedBackend(n_ctx=600)
    chat = chat_with(db, backend)
    for i in range(30):
        backend.enqueue("word " * 15, f"Summary {i} of the talk.")
        say(chat, f"Message {i}: " + "blah " * 15)
        if chat.memory.summary_through():  # type: ignore[union-attr]
            break
    through = chat.memory.summary_through()  # type: ignore[union-attr]
    assert through is not None
    history = chat.history()
    assert not any(t.content.startswith("Message 0:") for t in history)
    backend.enqueue("ok")
    say(chat, "And now?")
    messages = backend.calls[-1][0]
    assert messages[1].role == "system" and "Summary" in messages[1].content


def test_reflection_cites_its_evidence(db: Database) -> None:
    backend = ScriptedBackend().enqueue(
        "Noted.", "Ana loves animals (because of 1)", "Noted again."
    )
    chat = chat_with(db, backend, reflection_threshold=1.0)
    say(chat, "My dog is called Biscuit.")
    bank = chat.memory.bank  # type: ignore[union-attr]
    [reflection] = bank.items(user_id="ana", character_id="holmes", kinds=["reflection"])
    [episode] = bank.items(user_id="ana", character_id="holmes", kinds=["episode"])
    assert reflection.text == "Ana loves animals" and reflection.evidence == (episode.id,)
    say(chat, "Nice weather.")  # nothing new worth reflecting on: no second model call
    assert len(bank.items(user_id="ana", character_id="holmes", kinds=["reflection"])) == 1


def test_profile_scope_user_or_character(db: Database) -> None:
    backend = ScriptedBackend().enqueue("Hello.", "Hi.", "Hello.", "Hi.")
    say(chat_with(db, backend), "My name is Ana.")
    chat = chat_with(db, backend, "mina")
    say(chat, "Hello there.")
    assert "Ana" in (chat.last_memory.profile if chat.last_memory else "")
    say(chat_with(db, backend, "mina", profile_scope="character"), "My name is Beatrix.")
    other = chat_with(db, backend, "holmes", profile_scope="character")
    say(other, "Hello again.")
    assert "Beatrix" not in (other.last_memory.profile if other.last_memory else "")


def test_a_failing_summary_keeps_the_reply(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(self: object, previous: str, messages: object) -> str:
        raise BackendError("the server went away")

    monkeypatch.setattr("personae.memory.rolling.RollingSummarizer.fold", broken)
    backend = ScriptedBackend(n_ctx=400)
    chat = chat_with(db, backend)
    for i in range(20):
        backend.enqueue("word " * 15)
        say(chat, f"Message {i}: " + "blah " * 15)
        if chat.memory_error:
            break
    assert chat.memory_error and "went away" in chat.memory_error
    assert chat.last_reply is not None and chat.last_reply.complete
    assert chat.messages()[-1].content.strip() == ("word " * 15).strip()


def test_settings_validation() -> None:
    from personae.errors import InvalidInput

    with pytest.raises(InvalidInput):
        MemorySettings(profile_scope="team")  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        MemorySettings.only(["dreams"])
    with pytest.raises(InvalidInput, match="query_tokens must be at least 8"):
        MemorySettings(query_tokens=7)
    with pytest.raises(InvalidInput, match="counts must be >= 0"):
        MemorySettings(search_depth=-1)
    assert MemorySettings.only(["profile"]).episodic is False


def test_recall_note_keeps_to_its_token_budget(db: Database) -> None:
    backend = ScriptedBackend().enqueue("Noted.", "Yes.", "Yes.")
    say(chat_with(db, backend), "My dog is called Biscuit and he is a terrier.")
    roomy = chat_with(db, backend)
    say(roomy, "How did you know my tan? Tell me about my dog.")
    assert roomy.last_memory is not None
    full = roomy.last_memory.prompt.recall
    assert "Biscuit" in full and "Your tan" in full
    tight = chat_with(db, backend, recall_tokens=25)
    say(tight, "How did you know my tan? Tell me about my dog.")
    assert tight.last_memory is not None
    note = tight.last_memory.prompt.recall
    assert "Biscuit" in note and "Your tan" not in note  # lines go first
    assert len(note.split()) < len(full.split())


def test_the_query_embedding_reads_the_end_of_a_long_message() -> None:
    from personae.memory.manager import query_text

    assert query_text("What is my dog called?") == "What is my dog called?"
    long = " ".join(f"w{i}" for i in range(100)) + " 강아지 이름이 뭐였지?"
    assert query_text(long, words=4) == "w99 강아지 이름이 뭐였지?"
    assert query_text("") == ""


def test_korean_said_to_an_english_card_is_learned_as_korean(db: Database) -> None:
    # mina's card here is English, as the bundled one is; the user writes Korean.
    backend = ScriptedBackend().enqueue("네!")
    chat = chat_with(db, backend, character="mina", profile=True)
    say(chat, "저는 치과위생사로 일하고, 복숭아 알레르기가 있어요.")
    assert chat.last_learned is not None and chat.last_learned.facts >= 2
    bank = MemoryBank(db, embedder=HashEmbedder())
    facts = " ".join(f.text for f in bank.items(user_id="ana", character_id="mina", kinds=["fact"]))
    assert "치과위생사" in facts and "복숭아" in facts


@pytest.mark.parametrize(
    ("text", "asked"),
    [("I am a tailor in Leeds.", "about themselves"), ("저는 재단사예요.", "자기")],
)
def test_the_rolling_summary_follows_the_messages_language(text: str, asked: str) -> None:
    from personae.memory.rolling import Message, RollingSummarizer

    backend = ScriptedBackend().enqueue("#A# is a tailor.")
    RollingSummarizer(backend).fold("", [Message(i, "A", text) for i in range(4)])
    assert asked in backend.calls[0][0][-1].content


def test_the_rolling_summary_refuses_an_unknown_language() -> None:
    from personae.errors import InvalidInput
    from personae.memory.rolling import RollingSummarizer

    with pytest.raises(InvalidInput):
        RollingSummarizer(ScriptedBackend(), language="fr")


@pytest.mark.parametrize(
    ("message", "secret"),
    [
        ("My email is jdoe@example.com and I love tea.", "jdoe@example"),
        ("My work email is j_smith@corp-mail.com, write any time.", "j_smith@corp-mail"),
        ("제 메일은 minsu@naver.com 이에요. 저는 서울에 살아요.", "minsu@naver"),
        ("My home IP is 192.168.0.12. I live in Whitby.", "192."),
    ],
)
def test_emails_and_addresses_never_escape_into_memories(
    db: Database, message: str, secret: str
) -> None:
    # Split at every "." before redaction, these were stored as "jdoe@example. com",
    # "j_smith@corp-mail.", "minsu@naver." and "192.": no rule recognised the pieces.
    chat = chat_with(db, ScriptedBackend().enqueue("Noted."))
    say(chat, message)
    bank = chat.memory.bank  # type: ignore[union-attr]
    stored = [m.text for m in bank.items(user_id="ana", character_id="holmes")]
    assert stored  # something was learned, and none of it holds the address
    assert not [text for text in stored if secret in text], stored


def test_the_rolling_summary_is_redacted(db: Database) -> None:
    backend = ScriptedBackend(n_ctx=600)
    chat = chat_with(db, backend)
    for i in range(30):
        backend.enqueue("word " * 15, f"Ana gave her email, ana{i}@example.com, to Holmes.")
        say(chat, f"Message {i}: my email is ana{i}@example.com " + "blah " * 12)
        if chat.memory.summary_through():  # type: ignore[union-attr]
            break
    summary = chat.memory.bank.repo.summary(chat.id)  # type: ignore[union-attr]
    assert summary is not None and "@example.com" not in summary.text
    assert "[EMAIL]" in summary.text


def test_the_greeting_is_folded_away_but_not_summarized(db: Database) -> None:
    # Issue 14: a summary that retold the greeting's stage direction.
    backend = ScriptedBackend(n_ctx=600)
    chat = chat_with(db, backend)
    for i in range(30):
        backend.enqueue("word " * 15, f"Summary {i} of the talk.")
        say(chat, f"Message {i}: " + "blah " * 15)
        if chat.memory.summary_through():  # type: ignore[union-attr]
            break
    # The summarizer's request is the one whose last message quotes the chat as "Ana: …".
    [summary_prompt] = [
        messages[-1].content
        for messages, _ in backend.calls
        if "Ana: Message 0:" in messages[-1].content
    ]
    assert "Message 0:" in summary_prompt and "Afghanistan" not in summary_prompt
    assert not any(m.role == "assistant" and "Afghanistan" in m.content for m in chat.history())
