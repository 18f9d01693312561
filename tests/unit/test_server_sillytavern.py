"""SillyTavern as a client: the request bodies it sends (tests/fixtures/sillytavern) replayed
against the server over a scripted backend, asserting on what the backend is asked."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from personae.backends.base import Message
from personae.server.conversation import stops_mid_sentence
from personae.store import ChatRepository, Database
from tests.support.server import Backends, chunks, make_app, sse_body

URL = "/v1/chat/completions"
FIXTURES = Path(__file__).parents[1] / "fixtures" / "sillytavern"
CARD = "consulting detective"  # a phrase of the test card's description
PARTIAL = "Your tan, and the way you hold your left"


def body(name: str, **fields: Any) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    return {**data, **fields}


def streamed_text(client: TestClient, request: dict[str, Any]) -> str:
    response = client.post(URL, json=request)
    assert response.status_code == 200, response.text
    got = chunks(sse_body(response.text))
    return "".join(c["choices"][0]["delta"].get("content", "") for c in got if c["choices"])


def sent(backends: Backends, call: int = -1) -> list[Message]:
    return backends.default.calls[call][0]


def prompt_text(messages: list[Message]) -> str:
    return "\n".join(m.content for m in messages)


# -- empty send: no user message, the character speaks next ------------------------------------


def test_empty_send_in_a_chat_with_only_the_greeting(
    client: TestClient, backends: Backends
) -> None:
    backends.default.enqueue("Pray, take a seat.")
    assert streamed_text(client, body("empty_send_greeting")) == "Pray, take a seat."
    messages = sent(backends)
    # A new message after the greeting, not a continuation of it.
    assert not any(m.prefix for m in messages)
    assert [m.content for m in messages if m.role == "assistant"] == [
        "You have been in Afghanistan, I perceive."
    ]


def test_empty_send_after_a_finished_reply_is_a_new_message(
    client: TestClient, backends: Backends
) -> None:
    backends.default.enqueue("Elementary.")
    assert streamed_text(client, body("empty_send_after_reply")) == "Elementary."
    last = sent(backends)[-1]
    assert last.role == "assistant" and not last.prefix


# -- continue ------------------------------------------------------------------------------------


def test_continue_with_prefill_continues_the_message(
    client: TestClient, backends: Backends
) -> None:
    backends.default.enqueue([" arm", " stiffly."])
    # Only the new text comes back, its joining space kept: SillyTavern glues it on.
    assert streamed_text(client, body("continue_prefill")) == " arm stiffly."
    last = sent(backends)[-1]
    assert (last.role, last.content, last.prefix) == ("assistant", PARTIAL, True)


@pytest.mark.parametrize(
    ("fixture", "partial"),
    [
        ("continue_nudge", PARTIAL),
        ("continue_nudge_greeting", "You have been in Afghanistan, I perceive."),
    ],
)
def test_continue_with_the_nudge_continues_the_message(
    client: TestClient, backends: Backends, fixture: str, partial: str
) -> None:
    backends.default.enqueue(" arm.")
    assert streamed_text(client, body(fixture)) == " arm."
    messages = sent(backends)
    assert (messages[-1].content, messages[-1].prefix) == (partial, True)
    # The nudge is left out: the model is prefilled instead of told in words.
    assert "[Continue the following message" not in prompt_text(messages)


def test_continue_final_message_says_it_outright(client: TestClient, backends: Backends) -> None:
    finished = body("empty_send_after_reply", continue_final_message=True)
    client.post(URL, json=finished)
    assert sent(backends)[-1].prefix
    not_now = body("continue_prefill", continue_final_message=False)
    client.post(URL, json=not_now)
    assert not sent(backends)[-1].prefix
    for value, param in (("yes", "continue_final_message"), (True, "continue_final_message")):
        bad = body("normal_send", continue_final_message=value)
        response = client.post(URL, json=bad)  # a string, or nothing of the character's to go on
        assert response.status_code == 400, response.text
        assert response.json()["error"]["param"] == param


def test_continue_puts_the_partial_message_after_the_post_history_instructions(
    tmp_path: Path,
) -> None:
    from personae.store import CharacterRepository
    from tests.support.factories import make_character

    backends = Backends()
    app = make_app(tmp_path, backends)
    with Database(tmp_path / "server.db") as db:
        CharacterRepository(db).add(
            make_character("Mycroft", post_history_instructions="Stay brief.")
        )
    with TestClient(app) as client:
        client.post(URL, json=body("continue_prefill", model="mycroft"))
    messages = sent(backends)
    assert [(m.role, m.content, m.prefix) for m in messages[-2:]] == [
        ("system", "Stay brief.", False),
        ("assistant", PARTIAL, True),
    ]


# -- the card once -------------------------------------------------------------------------------


def test_a_prompt_that_carries_the_card_gets_no_second_copy(
    client: TestClient, backends: Backends
) -> None:
    backends.default.enqueue("Your tan.")
    assert streamed_text(client, body("normal_send")) == "Your tan."
    messages = sent(backends)
    assert prompt_text(messages).count(CARD) == 1
    system = messages[0].content
    assert system.startswith("Write Holmes's next reply")  # SillyTavern's prompt is the prompt
    assert "[Example Chat]" in system and "<START>" not in system  # its examples, not ours
    assert [(m.role, m.content) for m in messages[1:]] == [
        ("assistant", "You have been in Afghanistan, I perceive."),
        ("user", "How did you know?"),
    ]


def test_a_prompt_without_the_card_still_gets_it(client: TestClient, backends: Backends) -> None:
    request = body("normal_send")
    request["messages"] = [request["messages"][0], *request["messages"][-2:]]
    client.post(URL, json=request)
    system = sent(backends)[0].content
    assert CARD in system and "Write Holmes's next reply" in system


# -- the raw model ---------------------------------------------------------------------------------


def test_raw_model_passes_the_clients_prompt_through(
    client: TestClient, backends: Backends
) -> None:
    backends.default.enqueue("Holmes: Your tan.")
    request = body("normal_send", model="raw:")
    assert streamed_text(client, request) == "Holmes: Your tan."  # uncleaned
    expected = [(m["role"], m["content"]) for m in request["messages"]]  # system messages in place
    assert [(m.role, m.content) for m in sent(backends)] == expected
    assert backends.default.calls[-1][1].stop == ()  # no stop strings but the client's


def test_raw_model_names_a_backend_model(client: TestClient, backends: Backends) -> None:
    client.post(URL, json=body("normal_send", model="raw:tiny", stream=False))
    assert backends.asked[-1] == "tiny" and len(backends.built["tiny"].calls) == 1


def test_raw_model_continues_and_speaks_again(client: TestClient, backends: Backends) -> None:
    client.post(URL, json=body("continue_nudge", model="raw:"))
    messages = sent(backends)
    assert (messages[-1].content, messages[-1].prefix) == (PARTIAL, True)
    assert "[Continue the following message" not in prompt_text(messages)
    client.post(URL, json=body("empty_send_greeting", model="raw:"))
    assert not sent(backends)[-1].prefix


def test_raw_model_keeps_no_chat(client: TestClient) -> None:
    for field, value in (("chat_id", 1), ("new_chat", True)):
        response = client.post(URL, json=body("normal_send", model="raw:", **{field: value}))
        assert response.status_code == 400, response.text
        assert response.json()["error"]["param"] == field
        assert "character" in response.json()["error"]["message"]
    # ``user`` is only OpenAI's end-user label here: accepted, nothing stored.
    assert client.post(URL, json=body("normal_send", model="raw:", user="alice")).status_code == 200
    with Database(client.app.state.personae.db_location) as db:  # type: ignore[attr-defined]
        assert ChatRepository(db).all() == []


# -- stored chats (user / chat_id) -----------------------------------------------------------------


def stored(client: TestClient, chat_id: int) -> list[tuple[str, str, str]]:
    with Database(client.app.state.personae.db_location) as db:  # type: ignore[attr-defined]
        return [(m.role, m.content, m.status) for m in ChatRepository(db).messages(chat_id)]


def test_stored_chat_empty_send_lets_the_character_speak_again(
    client: TestClient, backends: Backends
) -> None:
    backends.default.enqueue("Your tan.", "And your limp.")
    first = client.post(URL, json=body("normal_send", user="alice", stream=False))
    chat_id = first.json()["personae"]["chat_id"]
    again = client.post(URL, json=body("empty_send_after_reply", user="alice", stream=False))
    assert again.status_code == 200, again.text
    assert again.json()["choices"][0]["message"]["content"] == "And your limp."
    assert stored(client, chat_id)[-3:] == [
        ("user", "How did you know?", "complete"),
        ("assistant", "Your tan.", "complete"),
        ("assistant", "And your limp.", "complete"),
    ]


def test_stored_chat_continue_grows_the_last_reply(client: TestClient, backends: Backends) -> None:
    backends.default.enqueue("Your tan, and the", [" way", " you", " stand."])
    first = client.post(URL, json=body("normal_send", user="alice", stream=False))
    chat_id = first.json()["personae"]["chat_id"]
    request = body("continue_nudge", user="alice")
    request["messages"][-2]["content"] = "Your tan, and the"
    request["messages"][-1]["content"] = "[Continue the following message: Your tan, and the]"
    assert streamed_text(client, request) == " way you stand."
    last = sent(backends)[-1]
    assert (last.content, last.prefix) == ("Your tan, and the", True)  # the stored reply
    assert stored(client, chat_id)[-1] == (
        "assistant",
        "Your tan, and the way you stand.",
        "complete",
    )


def test_stored_chat_continue_in_a_new_chat_continues_the_greeting(
    client: TestClient, backends: Backends
) -> None:
    backends.default.enqueue(" Pray, sit.")
    request = body("continue_nudge_greeting", user="alice", new_chat=True)
    assert streamed_text(client, request) == " Pray, sit."
    chat_id = client.post(URL, json=body("normal_send", user="alice")).headers["x-personae-chat-id"]
    assert stored(client, int(chat_id))[0] == (
        "assistant",
        "You have been in Afghanistan, I perceive. Pray, sit.",
        "complete",
    )


def test_stored_chat_continue_needs_a_reply_of_the_characters(
    client: TestClient, backends: Backends
) -> None:
    from personae.errors import BackendError

    backends.default.enqueue(BackendError("the model server answered 500"))
    failed = client.post(URL, json=body("normal_send", user="alice", stream=False))
    assert failed.status_code == 502  # the user's message is stored, the reply is not
    request = body("continue_prefill", user="alice", continue_final_message=True)
    response = client.post(URL, json=request)
    assert response.status_code == 400, response.text
    assert "nothing to continue" in response.json()["error"]["message"]


# -- how a message's end reads ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "unfinished"),
    [
        ("He looked at", True),
        ("and then,", True),
        ("Привет, как", True),
        ("“So", True),
        ("Hello.", False),
        ('"Come in."', False),
        ("*waves*", False),
        ("Go! 😀", False),
        ("안녕하세요", False),  # Hangul chat often ends without punctuation
        ("", False),
    ],
)
def test_what_stops_mid_sentence(text: str, unfinished: bool) -> None:
    assert stops_mid_sentence(text) is unfinished
