"""/api/chats and /api/messages on a server without keys: start, list, read, rename and delete
chats; edit and hide messages; regenerate the last reply, streamed or whole."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from personae.store import CharacterRepository, Database
from tests.support.factories import make_character
from tests.support.rest import error_of, korean_character
from tests.support.server import Backends, chunks, sse_body

SUMMARY_KEYS = {
    "id",
    "character_id",
    "title",
    "user_id",
    "created_at",
    "updated_at",
    "message_count",
}
HUGE = str(2**70)


def start(client: TestClient, character: str = "holmes", **fields: Any) -> dict[str, Any]:
    response = client.post("/api/chats", json={"character": character, **fields})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def say(client: TestClient, chat_id: int, text: str, model: str = "holmes") -> dict[str, Any]:
    body = {"model": model, "chat_id": chat_id, "messages": [{"role": "user", "content": text}]}
    response = client.post("/v1/chat/completions", json=body)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def messages(client: TestClient, chat_id: int) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = client.get(f"/api/chats/{chat_id}").json()["messages"]
    return result


# -- chats -------------------------------------------------------------------------------------


def test_start_a_chat_with_its_greeting(client: TestClient) -> None:
    chat = start(client)
    assert set(chat) == SUMMARY_KEYS | {"messages"}
    assert chat["character_id"] == "holmes" and chat["user_id"] == "local"
    assert chat["title"] == "" and chat["message_count"] == 1
    [greeting] = chat["messages"]
    assert greeting["role"] == "assistant" and greeting["status"] == "complete"
    assert greeting["content"] == "You have been in Afghanistan, I perceive."
    assert greeting["chat_id"] == chat["id"]
    assert client.get(f"/api/chats/{chat['id']}").json() == chat


def test_greeting_macros_use_the_servers_user_name(client: TestClient, tmp_path: Path) -> None:
    with Database(tmp_path / "server.db") as db:
        CharacterRepository(db).add(make_character("Greeter", first_mes="Hello, {{user}}."))
    chat = start(client, "greeter")
    assert chat["messages"][0]["content"] == "Hello, Watson."


def test_a_character_without_greeting_starts_empty(client: TestClient, tmp_path: Path) -> None:
    with Database(tmp_path / "server.db") as db:
        CharacterRepository(db).add(make_character("Mute", first_mes=""))
    chat = start(client, "mute")
    assert chat["messages"] == [] and chat["message_count"] == 0


def test_korean_chat_round_trip(client: TestClient, backends: Backends, tmp_path: Path) -> None:
    with Database(tmp_path / "server.db") as db:
        CharacterRepository(db).add(korean_character())
    chat = start(client, "춘향", title="광한루에서")
    assert chat["title"] == "광한루에서"
    backends.default.enqueue("소녀 춘향이옵니다.")
    reply = say(client, chat["id"], "그대 이름이 무엇이오?", model="춘향")
    assert reply["choices"][0]["message"]["content"] == "소녀 춘향이옵니다."
    got = client.get(f"/api/chats/{chat['id']}").json()
    assert [m["content"] for m in got["messages"]] == [
        "도련님, 어인 일로 이리 오셨나이까?",
        "그대 이름이 무엇이오?",
        "소녀 춘향이옵니다.",
    ]
    assert (
        client.patch(f"/api/chats/{chat['id']}", json={"title": "단오"}).json()["title"] == "단오"
    )


def test_list_newest_first_and_by_character(client: TestClient) -> None:
    assert client.get("/api/chats").json() == {"data": []}
    first = start(client)
    second = start(client, "irene")
    say(client, first["id"], "Again?")  # makes the first the most recently active
    listed = client.get("/api/chats").json()["data"]
    assert [c["id"] for c in listed] == [first["id"], second["id"]]
    assert set(listed[0]) == SUMMARY_KEYS and listed[0]["message_count"] == 3
    only = client.get("/api/chats", params={"character": "irene"}).json()["data"]
    assert [c["id"] for c in only] == [second["id"]]
    assert client.get("/api/chats", params={"character": "nobody"}).json() == {"data": []}
    error = error_of(client.get("/api/chats", params={"character": "../x"}), 400)
    assert error["param"] == "character"


def test_rename(client: TestClient) -> None:
    chat = start(client)
    renamed = client.patch(f"/api/chats/{chat['id']}", json={"title": "  The tan  "})
    assert renamed.status_code == 200
    assert set(renamed.json()) == SUMMARY_KEYS and renamed.json()["title"] == "The tan"
    assert error_of(client.patch(f"/api/chats/{chat['id']}", json={}), 400)["param"] == "title"
    too_long = client.patch(f"/api/chats/{chat['id']}", json={"title": "t" * 201})
    assert error_of(too_long, 400)["param"] == "title"
    assert error_of(client.patch(f"/api/chats/{chat['id']}", json={"title": 5}), 400)


def test_delete(client: TestClient) -> None:
    chat = start(client)
    response = client.delete(f"/api/chats/{chat['id']}")
    assert response.status_code == 204 and response.content == b""
    assert error_of(client.get(f"/api/chats/{chat['id']}"), 404)["code"] == "chat_not_found"
    assert error_of(client.delete(f"/api/chats/{chat['id']}"), 404)["code"] == "chat_not_found"
    assert client.get("/api/chats").json() == {"data": []}


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({}, "character"),
        ({"character": 5}, "character"),
        ({"character": None}, "character"),
        ({"character": "holmes", "title": 5}, "title"),
        ({"character": "holmes", "title": "t" * 201}, "title"),
        ({"character": "holmes", "surprise": True}, "surprise"),
        ({"character": "../../etc"}, "character"),
        ({"character": "x" * 1000}, "character"),
    ],
)
def test_start_bad_bodies(client: TestClient, body: dict[str, Any], param: str) -> None:
    assert error_of(client.post("/api/chats", json=body), 400)["param"] == param


@pytest.mark.parametrize("raw", [b"{not json", b"[1]", b'"holmes"', b"null", b""])
def test_start_malformed_json(client: TestClient, raw: bytes) -> None:
    response = client.post("/api/chats", content=raw, headers={"Content-Type": "application/json"})
    assert error_of(response, 400)["type"] == "invalid_request_error"


def test_start_with_an_unknown_character(client: TestClient) -> None:
    error = error_of(client.post("/api/chats", json={"character": "moriarty"}), 404)
    assert error["code"] == "character_not_found"


@pytest.mark.parametrize(
    ("chat_id", "status"),
    [("abc", 400), ("1.5", 400), ("0", 400), ("-3", 400), (HUGE, 400), ("999", 404)],
)
def test_bad_and_unknown_chat_ids(client: TestClient, chat_id: str, status: int) -> None:
    for response in (
        client.get(f"/api/chats/{chat_id}"),
        client.patch(f"/api/chats/{chat_id}", json={"title": "x"}),
        client.delete(f"/api/chats/{chat_id}"),
        client.post(f"/api/chats/{chat_id}/regenerate", json={"stream": False}),
    ):
        error = error_of(response, status)
        assert error["param"] == ("chat_id" if status == 400 else "chat")


# -- messages ------------------------------------------------------------------------------------


def test_edit_a_message_in_place(client: TestClient, backends: Backends) -> None:
    chat = start(client)
    backends.default.enqueue("Your tan.")
    say(client, chat["id"], "How did you know?")
    before = messages(client, chat["id"])
    user = before[1]
    edited = client.patch(f"/api/messages/{user['id']}", json={"content": "어떻게 아셨소?"})
    assert edited.status_code == 200, edited.text
    assert edited.json() == {**user, "content": "어떻게 아셨소?"}
    after = messages(client, chat["id"])
    assert [m["id"] for m in after] == [m["id"] for m in before]
    assert after[1]["content"] == "어떻게 아셨소?"
    # The next reply's prompt has the edited text.
    say(client, chat["id"], "And?")
    prompt = backends.default.calls[-1][0]
    assert any("어떻게 아셨소?" in m.content for m in prompt)


def test_hide_a_message(client: TestClient, backends: Backends) -> None:
    chat = start(client)
    backends.default.enqueue("Elementary.")
    say(client, chat["id"], "Tell me.")
    reply = messages(client, chat["id"])[-1]
    response = client.delete(f"/api/messages/{reply['id']}")
    assert response.status_code == 204 and response.content == b""
    assert [m["content"] for m in messages(client, chat["id"])][-1] == "Tell me."
    for again in (
        client.delete(f"/api/messages/{reply['id']}"),
        client.patch(f"/api/messages/{reply['id']}", json={"content": "x"}),
    ):
        assert error_of(again, 404)["code"] == "message_not_found"


@pytest.mark.parametrize(
    "body", [{}, {"content": ""}, {"content": "   "}, {"content": 5}, {"content": "x", "y": 1}]
)
def test_edit_bad_bodies(client: TestClient, body: dict[str, Any]) -> None:
    chat = start(client)
    greeting = chat["messages"][0]["id"]
    error_of(client.patch(f"/api/messages/{greeting}", json=body), 400)
    assert messages(client, chat["id"])[0]["content"] == chat["messages"][0]["content"]


@pytest.mark.parametrize(
    ("message_id", "status"), [("abc", 400), ("0", 400), (HUGE, 400), ("12345", 404)]
)
def test_bad_and_unknown_message_ids(client: TestClient, message_id: str, status: int) -> None:
    for response in (
        client.patch(f"/api/messages/{message_id}", json={"content": "x"}),
        client.delete(f"/api/messages/{message_id}"),
    ):
        error_of(response, status)


def test_busy_chats_refuse_changes(client: TestClient) -> None:
    chat = start(client)
    greeting = chat["messages"][0]["id"]
    workers = client.app.state.personae.workers  # type: ignore[attr-defined]
    with workers.claim(chat["id"]):  # as if a reply were being generated
        for response in (
            client.delete(f"/api/chats/{chat['id']}"),
            client.patch(f"/api/messages/{greeting}", json={"content": "x"}),
            client.delete(f"/api/messages/{greeting}"),
            client.post(f"/api/chats/{chat['id']}/regenerate", json={"stream": False}),
        ):
            assert error_of(response, 409)["code"] == "chat_busy"
    assert client.delete(f"/api/chats/{chat['id']}").status_code == 204


# -- regenerate ------------------------------------------------------------------------------------


def test_regenerate_whole(client: TestClient, backends: Backends) -> None:
    chat = start(client)
    backends.default.enqueue("First try.", "Second try.")
    say(client, chat["id"], "Explain.")
    response = client.post(
        f"/api/chats/{chat['id']}/regenerate",
        json={"stream": False, "temperature": 0.2, "seed": 7, "max_tokens": 50, "top_p": 0.5},
    )
    assert response.status_code == 200, response.text
    assert response.headers["x-personae-chat-id"] == str(chat["id"])
    body = response.json()
    assert body["object"] == "chat.completion" and body["model"] == "holmes"
    assert body["choices"][0]["message"] == {"role": "assistant", "content": "Second try."}
    assert body["personae"]["chat_id"] == chat["id"]
    params = backends.default.calls[-1][1]
    assert (params.temperature, params.seed, params.max_tokens, params.top_p) == (0.2, 7, 50, 0.5)
    assert [m["content"] for m in messages(client, chat["id"])][1:] == ["Explain.", "Second try."]
    # The replaced reply is not in the prompt: the history ends with the user's message.
    assert backends.default.calls[-1][0][-1].content == "Explain."


def test_regenerate_streams_by_default(client: TestClient, backends: Backends) -> None:
    chat = start(client)
    backends.default.enqueue("Once.", "다시 한 번.")
    say(client, chat["id"], "Go on.")
    # No body, but a JSON type: a server without keys refuses a POST that says nothing.
    response = client.post(
        f"/api/chats/{chat['id']}/regenerate", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["x-personae-chat-id"] == str(chat["id"])
    got = chunks(sse_body(response.text))
    assert all(c["object"] == "chat.completion.chunk" for c in got)
    assert got[0]["personae"] == {"chat_id": chat["id"], "user_id": "local"}
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in got)
    assert text == "다시 한 번."
    assert got[-1]["choices"][0]["finish_reason"] == "stop"
    assert messages(client, chat["id"])[-1]["content"] == "다시 한 번."


def test_regenerate_with_nothing_to_regenerate(client: TestClient) -> None:
    chat = start(client)
    for stream in (False, True):
        response = client.post(f"/api/chats/{chat['id']}/regenerate", json={"stream": stream})
        assert "nothing to regenerate" in error_of(response, 400)["message"]


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"stream": "yes"}, "stream"),
        ({"temperature": "hot"}, "temperature"),
        ({"temperature": 3}, "temperature"),
        ({"top_p": 2}, "top_p"),
        ({"max_tokens": 0}, "max_tokens"),
        ({"seed": 1.5}, "seed"),
    ],
)
def test_regenerate_bad_options(client: TestClient, body: dict[str, Any], param: str) -> None:
    chat = start(client)
    response = client.post(f"/api/chats/{chat['id']}/regenerate", json=body)
    assert error_of(response, 400)["param"] == param


def test_regenerate_malformed_json(client: TestClient) -> None:
    chat = start(client)
    response = client.post(
        f"/api/chats/{chat['id']}/regenerate",
        content=b"{oops",
        headers={"Content-Type": "application/json"},
    )
    assert error_of(response, 400)["code"] == "invalid_json"
