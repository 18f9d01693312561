"""Reply guards: a reply that copies, echoes, breaks character or answers in the wrong language
is generated again (its opening) or cut (a later sentence) before anything of it is shown."""

from __future__ import annotations

from pathlib import Path

import pytest

from personae.agent import Agent, Chat, Turn
from personae.agent.guards import ReplyGuard
from personae.backends.base import GenerationParams, Message
from personae.store import CharacterRepository, Database
from tests.support.factories import make_character
from tests.support.scripted import ScriptedBackend

PREVIOUS = "I observe that you have been in Afghanistan, and that your left boot pinches you."


@pytest.fixture
def db(tmp_path: Path) -> Database:
    d = Database(tmp_path / "p.db")
    CharacterRepository(d).add(make_character())
    return d


def guard(user: str = "What do you see?", *, last: bool = False) -> ReplyGuard:
    history = [
        Message("assistant", "Good evening."),
        Message("user", "Hello."),
        Message("assistant", PREVIOUS),
    ]
    return ReplyGuard(make_character(), "Mina", user, history, last_attempt=last)


def feed_all(g: ReplyGuard, text: str) -> tuple[str, str]:
    shown, decision = "", "show"
    for word in text.split(" "):
        out, decision = g.feed(word + " ")
        shown += out
        if decision != "show":
            return shown, decision
    out, decision = g.finish()
    return shown + out, decision


def test_an_opening_that_restarts_the_previous_reply_is_retried_unseen() -> None:
    shown, decision = feed_all(guard(), PREVIOUS + " Also the rain.")
    assert (shown, decision) == ("", "retry")


def test_a_fresh_reply_is_released_sentence_by_sentence() -> None:
    g = guard()
    out, decision = g.feed("A cab waits below, and the driver is restless tonight")
    assert (out, decision) == ("", "show")  # no sentence is complete yet: nothing shown
    out, decision = g.feed(". Come")
    assert out.startswith("A cab waits") and decision == "show"
    assert feed_all(g, " along, Mina.")[1] == "show"
    assert g.released.endswith("Come along, Mina. ")


def test_a_later_sentence_that_copies_is_cut_before_it_is_shown() -> None:
    text = "A new case has come to Baker Street today. " + PREVIOUS
    shown, decision = feed_all(guard(), text)
    assert decision == "cut" and shown == "A new case has come to Baker Street today."


def test_ai_disclosure_and_wrong_language_openings_are_retried() -> None:
    assert feed_all(guard(), "As an AI language model, I cannot see you at all.")[1] == "retry"
    korean = guard("당신은 무엇을 보고 있나요? 말해 주세요.")
    assert feed_all(korean, "I see a great many things in this room tonight.")[1] == "retry"
    assert feed_all(guard("당신은 무엇을 보나요?"), "*He smiles.* 많은 것이 보이는군요, 미나 양.")[
        1
    ] == ("show")  # an English stage direction alone does not decide the language


def test_an_opening_in_the_prompts_note_style_is_retried() -> None:
    g = guard("Are you an AI?")
    shown, decision = feed_all(g, "[No, I am not an AI, nor am I an assistant. I am Holmes.]")
    assert (shown, decision) == ("", "retry") and "note_speak" in g.events[-1].flags


def test_an_echo_of_the_user_is_retried_but_a_quotation_is_not() -> None:
    user = "Were you afraid when the dog howled on the moor that night?"
    assert feed_all(guard(user), user + " Perhaps.")[1] == "retry"
    quoted = f'You ask, "{user}" No, the hound was only a dog painted with phosphorus, Mina.'
    assert feed_all(guard(user), quoted)[1] == "show"


def test_the_last_attempt_is_shown_even_when_its_opening_fails() -> None:
    shown, decision = feed_all(guard(last=True), PREVIOUS)
    assert decision == "show" and shown.strip() == PREVIOUS


def test_the_last_attempt_skips_a_failed_opening_for_a_good_next_sentence() -> None:
    g = guard(last=True)
    shown, decision = feed_all(g, PREVIOUS + " Lestrade has sent word of a new case in Kent.")
    assert decision == "show" and shown.strip() == "Lestrade has sent word of a new case in Kent."
    assert [e.action for e in g.events] == ["skip"]


def test_when_nothing_passes_on_the_last_attempt_its_first_opening_is_shown() -> None:
    g = guard(last=True)
    text = "I observe that you have been in Afghanistan, and that your boot pinches. "
    shown, decision = feed_all(g, text + "I observe that you have been in Afghanistan.")
    assert decision == "show" and shown.startswith("I observe that you have been")


def test_chat_retries_a_copied_opening_and_stores_only_the_good_reply(db: Database) -> None:
    good = "The game is afoot, Mina: a letter came this morning from Lestrade."
    backend = ScriptedBackend().enqueue(PREVIOUS, good)
    chat = Chat.start(db, "holmes", backend, user_name="Mina", params=GenerationParams(seed=7))
    chat.chats.add_message(chat.id, "user", "Hello.")
    chat.chats.add_message(chat.id, "assistant", PREVIOUS)
    shown = "".join(chat.send("Anything new?"))
    assert shown == good == chat.messages()[-1].content
    assert len(backend.calls) == 2 and backend.calls[1][1].seed != backend.calls[0][1].seed
    assert chat.messages()[-1].complete


def test_guard_gives_up_after_the_retries_and_shows_the_last_try(db: Database) -> None:
    backend = ScriptedBackend().enqueue(PREVIOUS, PREVIOUS, PREVIOUS)
    chat = Chat.start(db, "holmes", backend, user_name="Mina")
    chat.chats.add_message(chat.id, "user", "Hello.")
    chat.chats.add_message(chat.id, "assistant", PREVIOUS)
    assert "".join(chat.send("Anything new?")).strip() == PREVIOUS
    assert len(backend.calls) == 3


def test_unguarded_agent_and_continuations_stream_at_once() -> None:
    backend = ScriptedBackend().enqueue(["word ", "by ", "word"])
    agent = Agent(make_character(), backend, user_name="Mina")  # guard off by default
    stream = agent.reply([Turn("user", "Hi")])
    assert len(list(stream)) == 3  # each piece as it came, nothing held back


def test_a_retry_is_told_what_the_try_before_it_did_wrong(db: Database) -> None:
    good = "The game is afoot, Mina: a letter came this morning from Lestrade."
    backend = ScriptedBackend().enqueue(PREVIOUS, good)
    chat = Chat.start(db, "holmes", backend, user_name="Mina")
    chat.chats.add_message(chat.id, "user", "Hello.")
    chat.chats.add_message(chat.id, "assistant", PREVIOUS)
    "".join(chat.send("Anything new?"))
    first, second = (messages for messages, _ in backend.calls)
    assert second[: len(first)] == first  # the cached prompt is untouched
    assert second[-1].role == "system" and "repeated earlier words" in second[-1].content
    assert "{{" not in second[-1].content


def test_the_last_try_does_not_see_the_replies_the_tries_copied_but_sees_the_rest(
    db: Database,
) -> None:
    other = "Lestrade called twice; the Yard is baffled by the Kent business."
    good = "The game is afoot, Mina: a letter came this morning from Lestrade."
    backend = ScriptedBackend().enqueue(PREVIOUS + " " + other, PREVIOUS, good)
    chat = Chat.start(db, "holmes", backend, user_name="Mina")
    chat.chats.add_message(chat.id, "user", "Hello.")
    chat.chats.add_message(chat.id, "assistant", PREVIOUS)
    chat.chats.add_message(chat.id, "user", "And Lestrade?")
    chat.chats.add_message(chat.id, "assistant", other)
    assert "".join(chat.send("Anything new?")) == good
    contents = [[m.content for m in messages] for messages, _ in backend.calls]
    assert PREVIOUS in contents[0] and other in contents[0]
    # The first retry sees everything (the note tells it what went wrong); the last try does
    # not see what the tries copied: PREVIOUS only (``other`` came after the opening).
    assert PREVIOUS in contents[1]
    assert PREVIOUS not in contents[2] and other in contents[2] and "Hello." in contents[2]
    # What is stored is the whole history, the copied reply too.
    assert PREVIOUS in [m.content for m in chat.messages()]


def test_copied_sources_names_every_copied_reply_and_never_the_users_messages() -> None:
    from personae.checks import copied_sources

    history = [
        {"role": "assistant", "content": "Good evening."},
        {"role": "user", "content": PREVIOUS},
        {"role": "assistant", "content": PREVIOUS},
        {"role": "user", "content": "And?"},
        {"role": "assistant", "content": "The Kent business baffles the Yard, as ever it does."},
        {"role": "assistant", "content": "A cab waits below; the driver is restless tonight."},
    ]
    reply = PREVIOUS + " The Kent business baffles the Yard, as ever it does."
    assert copied_sources(reply, history) == (2, 4)
    # A near miss: the same topic in new words copies nothing.
    assert copied_sources("You have been abroad, I think; your boots say so.", history) == ()
    said = "수학은 어렵게 느껴지는 것에 대해 이해하는 것은 중요합니다."
    ko = [{"role": "assistant", "content": said}]
    assert copied_sources("그게 맞습니다. " + said, ko) == (0,)
    assert copied_sources("수학은 차근차근 하면 된다 아이가. 내가 도와주꾸마.", ko) == ()


def test_a_broken_character_is_never_shown() -> None:
    assert feed_all(guard(), "Good evening, Mina. The fog is thick tonight \ufffd on the moor.")[
        1
    ] in ("retry", "cut")


def test_a_stray_quotation_mark_after_a_skipped_opening_is_not_the_reply() -> None:
    g = guard(last=True)
    shown, decision = feed_all(g, PREVIOUS + ' "')
    assert decision == "show" and shown.strip() == PREVIOUS


def test_a_scrap_left_after_a_skipped_opening_is_not_the_reply() -> None:
    g = guard(last=True)
    shown, decision = feed_all(g, PREVIOUS + " Ah")
    assert decision == "show" and shown.strip() == PREVIOUS
    korean = ReplyGuard(
        make_character(),
        "민지",
        "안녕하세요, 선생님. 저는 정민지라고 해요.",
        [Message("assistant", "어, 왔나?")],
        last_attempt=True,
    )
    shown, _ = feed_all(korean, "안녕하세요, 선생님. 저는 정민지라고 해요. 안")
    assert shown.strip() != "안"


def test_a_reply_cut_at_the_token_limit_ends_at_its_last_whole_sentence() -> None:
    text = "A cab waits below, Mina. The driver is restless tonight, and the fog is"
    backend = ScriptedBackend().enqueue(text)
    agent = Agent(make_character(), backend, user_name="Mina", guard=True)
    stream = agent.reply([Turn("user", "Hello.")], GenerationParams(max_tokens=12))
    assert stream.read() == "A cab waits below, Mina."
    assert stream.finish_reason == "length"  # still cut: the user may continue it
    assert [e.action for a in stream.attempts for e in a.events] == ["trim"]
    # Nothing whole to keep: the unfinished text is shown rather than nothing.
    backend = ScriptedBackend().enqueue("The driver is restless tonight and the fog is thick")
    agent = Agent(make_character(), backend, user_name="Mina", guard=True)
    stream = agent.reply([Turn("user", "Hello.")], GenerationParams(max_tokens=6))
    assert stream.read() == "The driver is restless tonight and"


def test_a_guarded_reply_says_when_its_first_text_was_shown() -> None:
    backend = ScriptedBackend().enqueue(PREVIOUS, "A cab waits below, Mina, and it is late.")
    history = [Turn("user", "Hello."), Turn("assistant", PREVIOUS), Turn("user", "News?")]
    stream = Agent(make_character(), backend, user_name="Mina", guard=True).reply(history)
    assert stream.shown_ms is None
    stream.read()
    assert stream.ttft_ms is not None and stream.shown_ms is not None
    assert stream.shown_ms >= stream.ttft_ms  # the first try's tokens were never shown


def test_a_copied_reply_far_back_stays_in_the_retrys_prompt(db: Database) -> None:
    from personae.agent.agent import HIDE_BUDGET

    good = "The game is afoot, Mina: a letter came this morning from Lestrade."
    backend = ScriptedBackend().enqueue(PREVIOUS, PREVIOUS, good)
    chat = Chat.start(db, "holmes", backend, user_name="Mina")
    chat.chats.add_message(chat.id, "user", "Hello.")
    chat.chats.add_message(chat.id, "assistant", PREVIOUS)
    # Enough of a chat after it that leaving it out would re-read more than the budget.
    filler = " ".join(["word"] * (HIDE_BUDGET // 4))
    for i in range(6):
        chat.chats.add_message(chat.id, "user", f"Question {i}? {filler}")
        chat.chats.add_message(chat.id, "assistant", f"Answer {i}, Mina. {filler}")
    assert "".join(chat.send("Anything new?")) == good
    first, _, last = (messages for messages, _ in backend.calls)
    assert Message("assistant", PREVIOUS) in last  # too costly to hide, even on the last try
    assert last[: len(first)] == first  # the whole cached prompt is reused
    assert "repeated earlier words" in last[-1].content


def test_a_retry_note_that_would_overflow_the_context_is_left_out() -> None:
    good = "The game is afoot, Mina: a letter came this morning from Lestrade."
    history = [Turn("user", "Hello."), Turn("assistant", PREVIOUS), Turn("user", "News?")]
    # A context with room for the prompt and the reply, but not for a note beside them.
    probe = Agent(make_character(), ScriptedBackend(), user_name="Mina", guard=True)
    needed = probe.prompt(history, GenerationParams(max_tokens=40)).prompt_tokens
    backend = ScriptedBackend(n_ctx=needed + 40 + 20).enqueue(PREVIOUS, good)
    agent = Agent(make_character(), backend, user_name="Mina", guard=True)
    stream = agent.reply(history, GenerationParams(max_tokens=40))
    assert stream.read() == good
    first, second = (messages for messages, _ in backend.calls)
    assert second == first  # retried without a note: there was no room for one


def test_a_retried_reply_keeps_its_note_so_the_next_prompt_extends_the_shown_try(
    db: Database,
) -> None:
    good = "The game is afoot, Mina: a letter came this morning from Lestrade."
    later = "Lestrade writes of a locked room in Kent, and of a dog that did not bark."
    backend = ScriptedBackend().enqueue(PREVIOUS, good, later)
    chat = Chat.start(db, "holmes", backend, user_name="Mina")
    chat.chats.add_message(chat.id, "user", "Hello.")
    chat.chats.add_message(chat.id, "assistant", PREVIOUS)
    "".join(chat.send("Anything new?"))
    stored = chat.messages()[-1]
    assert stored.content == good and "repeated earlier words" in stored.note
    "".join(chat.send("Tell me more."))
    shown_try, next_turn = backend.calls[1][0], backend.calls[2][0]
    # The backend's cache holds the shown try's prompt and its reply: the next prompt repeats
    # both, message for message, so only what is new is read.
    assert next_turn[: len(shown_try)] == shown_try
    assert next_turn[len(shown_try)] == Message("assistant", good)
    # A first try has no note to keep.
    assert chat.messages()[-1].note == "" and chat.messages()[-1].content == later


def test_a_continued_reply_keeps_the_note_of_the_try_that_began_it(db: Database) -> None:
    good = "The game is afoot, Mina: a letter came this morning"
    backend = ScriptedBackend().enqueue(PREVIOUS, good, " from Lestrade, of all people.")
    chat = Chat.start(db, "holmes", backend, user_name="Mina")
    chat.chats.add_message(chat.id, "user", "Hello.")
    chat.chats.add_message(chat.id, "assistant", PREVIOUS)
    "".join(chat.send("Anything new?"))
    note = chat.messages()[-1].note
    assert note
    "".join(chat.continue_reply())
    # The continuation's prompt shows the note before the reply it continues, and keeps it.
    assert Message("system", note) in backend.calls[2][0]
    assert chat.messages()[-1].note == note and chat.messages()[-1].content.endswith("people.")


def test_an_opening_that_repeats_an_earlier_message_of_the_users_is_retried() -> None:
    earlier = "I tune pianos for a living, sir, and I have done since I was apprenticed at twelve."
    history = [
        Message("assistant", "Good evening."),
        Message("user", earlier),
        Message("assistant", "A piano tuner. Your left thumb told me as much."),
    ]
    g = ReplyGuard(make_character(), "Mina", "Where did I grow up?", history)
    shown, decision = feed_all(g, earlier + " You grew up in Ludlow.")
    assert (shown, decision) == ("", "retry") and g.events[-1].flags == ("copy_user",)
    # Nothing of the user's message is hidden from the retry (only the character's are).
    assert g.events[-1].sources == ()
