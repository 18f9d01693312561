from __future__ import annotations

from pathlib import Path

import pytest

from personae.agent import Agent, Chat, Turn
from personae.errors import BackendError, EmptyReply, InvalidInput
from personae.store import CharacterRepository, ChatRepository, Database
from tests.support.factories import make_character
from tests.support.scripted import ScriptedBackend, failing


@pytest.fixture
def db(tmp_path: Path) -> Database:
    d = Database(tmp_path / "p.db")
    CharacterRepository(d).add(make_character())
    return d


def test_new_chat_starts_with_greeting(db: Database) -> None:
    chat = Chat.start(db, "holmes", ScriptedBackend(), user_name="Mina")
    [greeting] = chat.messages()
    assert greeting.role == "assistant" and "Afghanistan" in greeting.content
    with pytest.raises(InvalidInput, match="greeting"):
        Chat.start(db, "holmes", ScriptedBackend(), greeting=5)


def test_turn_streams_and_stores_complete_reply(db: Database) -> None:
    backend = ScriptedBackend().enqueue("Elementary, my dear Mina.")
    chat = Chat.start(db, "holmes", backend, user_name="Mina")
    text = "".join(chat.send("How?"))
    assert text == "Elementary, my dear Mina."
    msgs = chat.messages()
    assert [m.role for m in msgs] == ["assistant", "user", "assistant"]
    assert msgs[-1].complete and msgs[-1].content == text and msgs[-1].model == "scripted"
    messages, params = backend.calls[0]
    assert messages[-1].content == "How?"
    assert "\nMina:" in params.stop


def test_impersonation_is_trimmed_and_generation_stopped(db: Database) -> None:
    backend = ScriptedBackend().enqueue(["Quite so.", "\nMina", ": I agree", " more", " more"])
    chat = Chat.start(db, "holmes", backend, user_name="Mina")
    assert "".join(chat.send("Well?")) == "Quite so."
    assert backend.closed_early == 1
    assert chat.messages()[-1].complete


def test_backend_failure_keeps_partial_as_incomplete(db: Database) -> None:
    backend = ScriptedBackend().enqueue(failing(2))
    # Unguarded: a guarded reply shows (and so keeps) only sentences that passed the guard.
    chat = Chat.start(db, "holmes", backend, guard=False)
    with pytest.raises(BackendError):
        for _ in chat.send("hi"):
            pass
    last = chat.messages()[-1]
    assert (
        last.status == "incomplete" and last.content == "one two" and last.finish_reason == "error"
    )
    assert chat.messages()[-2].content == "hi"  # the user's message is never lost


def test_consumer_closing_early_marks_cancelled(db: Database) -> None:
    backend = ScriptedBackend().enqueue("a b c d e f")
    chat = Chat.start(db, "holmes", backend, guard=False)
    stream = chat.send("hi")
    next(stream)
    stream.close()
    last = chat.messages()[-1]
    assert last.status == "incomplete" and last.finish_reason == "cancelled"
    assert backend.closed_early == 1


def test_regenerate_edit_undo(db: Database) -> None:
    backend = ScriptedBackend().enqueue("first", "second", "third")
    chat = Chat.start(db, "holmes", backend)
    with pytest.raises(InvalidInput):
        list(chat.regenerate())
    list(chat.send("hi"))
    assert "".join(chat.regenerate()) == "second"
    assert [m.content for m in chat.messages()][-2:] == ["hi", "second"]
    # the regenerated prompt did not contain the superseded reply
    assert all(m.content != "first" for m in backend.calls[1][0])
    assert "".join(chat.edit_last("hello")) == "third"
    assert [m.content for m in chat.messages()][-2:] == ["hello", "third"]
    assert chat.undo() == 2
    assert [m.role for m in chat.messages()] == ["assistant"]
    hidden = chat.chats.messages(chat.id, include_hidden=True)
    assert {m.content for m in hidden} >= {"first", "second", "hi", "hello", "third"}


def test_resume_uses_stored_history(db: Database) -> None:
    backend = ScriptedBackend().enqueue("one", "two")
    chat = Chat.start(db, "holmes", backend)
    list(chat.send("hi"))
    again = Chat(db, chat.id, backend)
    list(again.send("again"))
    sent = [m.content for m in backend.calls[1][0][1:]]
    assert sent == ["You have been in Afghanistan, I perceive.", "hi", "one", "again"]


def test_empty_message_rejected_and_nothing_written(db: Database) -> None:
    chat = Chat.start(db, "holmes", ScriptedBackend())
    with pytest.raises(InvalidInput):
        chat.send("  ")
    assert len(chat.messages()) == 1


def test_agent_is_stateless_and_reports_usage() -> None:
    backend = ScriptedBackend().enqueue("Yes.")
    agent = Agent(make_character(), backend, user_name="Mina")
    reply = agent.reply([Turn("user", "Well?")])
    assert reply.read() == "Yes."
    assert reply.finish_reason == "stop" and reply.usage is not None
    assert reply.ttft_ms is not None and reply.duration_ms is not None
    with pytest.raises(RuntimeError):
        list(reply)


def test_warm_up_only_for_backends_with_a_prompt_cache(db: Database) -> None:
    plain = ScriptedBackend()
    assert Chat.start(db, "holmes", plain).warm_up() is None
    cached = ScriptedBackend()
    cached.supports_prefill = True  # type: ignore[attr-defined]
    chat = Chat.start(db, "holmes", cached, user_name="Mina")
    thread = chat.warm_up()
    assert thread is not None
    thread.join(5)
    messages, params = cached.calls[0]
    assert params.max_tokens == 1
    assert messages[-1].content.startswith("You have been in Afghanistan")  # the greeting
    # the real turn's prompt starts with exactly what was warmed up
    list(chat.send("Indeed?"))
    real = cached.calls[1][0]
    assert real[: len(messages)] == messages
    assert len(chat.messages()) == 3  # warming up stores nothing


def test_an_empty_reply_is_tried_once_more_warmer(db: Database) -> None:
    from personae.backends.base import GenerationParams

    backend = ScriptedBackend().enqueue([], "Elementary.")
    agent = Agent(make_character(), backend, user_name="Mina")
    stream = agent.reply([Turn("user", "Well?")], GenerationParams(temperature=0.0, seed=7))
    assert stream.read() == "Elementary." and stream.retried
    first, second = (params for _, params in backend.calls)
    assert (first.temperature, first.seed) == (0.0, 7)
    assert (second.temperature, second.seed) == (0.8, 8)


def test_a_reply_that_opens_as_the_user_is_retried_too(db: Database) -> None:
    backend = ScriptedBackend().enqueue("Mina: I shall answer myself.", "Quite so.")
    chat = Chat.start(db, "holmes", backend, user_name="Mina")
    assert "".join(chat.send("Well?")) == "Quite so."
    assert chat.messages()[-1].content == "Quite so." and chat.messages()[-1].complete


def test_two_empty_tries_give_up(db: Database) -> None:
    backend = ScriptedBackend().enqueue([], [])
    stream = Agent(make_character(), backend).reply([Turn("user", "Well?")])
    assert stream.read() == "" and len(backend.calls) == 2 and stream.finish_reason == "stop"


def test_speak_adds_a_reply_with_no_message_of_the_users(db: Database) -> None:
    backend = ScriptedBackend().enqueue("Pray, sit down.")
    chat = Chat.start(db, "holmes", backend, user_name="Mina")
    assert "".join(chat.speak()) == "Pray, sit down."
    assert [(m.role, m.complete) for m in chat.messages()] == [
        ("assistant", True),
        ("assistant", True),
    ]
    sent = [m for m in backend.calls[0][0] if m.role != "system"]
    assert [(m.role, m.prefix) for m in sent] == [("assistant", False)]  # after the greeting


def test_continue_reply_grows_the_last_reply(db: Database) -> None:
    backend = ScriptedBackend().enqueue("Your tan, and", [" your", " limp."])
    chat = Chat.start(db, "holmes", backend, user_name="Mina")
    "".join(chat.send("How?"))
    assert "".join(chat.continue_reply()) == " your limp."
    last = chat.messages()[-1]
    assert (last.content, last.complete) == ("Your tan, and your limp.", True)
    assert [m.role for m in chat.messages()] == ["assistant", "user", "assistant"]
    partial = backend.calls[-1][0][-1]
    assert (partial.content, partial.prefix) == ("Your tan, and", True)


def test_a_failed_continuation_leaves_the_reply_as_it_was(db: Database) -> None:
    backend = ScriptedBackend().enqueue("Your tan, and", BackendError("down"))
    backend.enqueue([" one", BackendError("down")])
    chat = Chat.start(db, "holmes", backend, user_name="Mina")
    "".join(chat.send("How?"))
    with pytest.raises(BackendError):
        "".join(chat.continue_reply())
    last = chat.messages()[-1]
    assert (last.content, last.complete) == ("Your tan, and", True)
    with pytest.raises(BackendError):  # what arrived before a failure is kept, incomplete
        "".join(chat.continue_reply())
    last = chat.messages()[-1]
    assert (last.content, last.status) == ("Your tan, and one", "incomplete")


def test_continue_reply_needs_a_reply_of_the_characters(db: Database) -> None:
    chat = Chat.start(db, "holmes", ScriptedBackend().enqueue(BackendError("down")))
    with pytest.raises(BackendError):
        "".join(chat.send("How?"))
    with pytest.raises(InvalidInput, match="nothing to continue"):
        chat.continue_reply()


def test_each_piece_is_stored_before_it_is_shown(db: Database) -> None:
    backend = ScriptedBackend().enqueue("one two three four five")
    chat = Chat.start(db, "holmes", backend)
    reader = ChatRepository(Database(db.path))  # another connection, as after a crash
    shown = ""
    for piece in chat.send("hi"):
        shown += piece
        stored = reader.messages(chat.id)[-1]
        assert (stored.content, stored.status) == (shown, "incomplete")
    assert reader.messages(chat.id)[-1].complete


def test_a_checkpoint_keeps_the_database_fsync_setting(db: Database) -> None:
    backend = ScriptedBackend().enqueue("one two")
    chat = Chat.start(db, "holmes", backend)
    "".join(chat.send("hi"))
    assert db.conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL, as the store set it


def test_an_empty_reply_after_the_retry_is_an_error_not_a_complete_reply(db: Database) -> None:
    backend = ScriptedBackend().enqueue([], [])
    chat = Chat.start(db, "holmes", backend)
    with pytest.raises(EmptyReply, match="empty reply"):
        "".join(chat.send("Well?"))
    last = chat.messages()[-1]
    assert (last.role, last.content, last.status, last.finish_reason) == (
        "assistant",
        "",
        "incomplete",
        "empty",
    )
    assert chat.last_reply is not None and not chat.last_reply.complete
    assert len(backend.calls) == 2  # the warmer retry was made first
    # The failed reply is no part of the next prompt, and a regenerate replaces it.
    backend.enqueue("Quite so.")
    assert "".join(chat.regenerate()) == "Quite so."
    assert [m.content for m in chat.messages()][-2:] == ["Well?", "Quite so."]
