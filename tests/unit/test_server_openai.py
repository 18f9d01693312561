"""The OpenAI-compatible routes over a scripted backend: shapes, chunk order, parameters and
the two modes (stateless and stored chats)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from personae.backends.base import GenerationParams
from personae.store import ChatRepository, Database
from tests.support.server import DEFAULT_MODEL, Backends, chunks, make_app, sse_body

URL = "/v1/chat/completions"


def ask(text: str = "How did you know?", **fields: Any) -> dict[str, Any]:
    return {"model": "holmes", "messages": [{"role": "user", "content": text}], **fields}


def stream(client: TestClient, body: dict[str, Any]) -> list[dict[str, Any]]:
    response = client.post(URL, json={**body, "stream": True})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/event-stream")
    return chunks(sse_body(response.text))


# -- models -------------------------------------------------------------------------------------


def test_models_lists_the_stored_characters(client: TestClient) -> None:
    body = client.get("/v1/models").json()
    assert body["object"] == "list"
    # The characters, then the default model with no character (for clients with own prompts).
    assert [m["id"] for m in body["data"]] == ["holmes", "irene", f"raw:{DEFAULT_MODEL}"]
    for model in body["data"]:
        assert model["object"] == "model" and model["owned_by"] == "personae"
        assert isinstance(model["created"], int)


def test_retrieve_one_model(client: TestClient) -> None:
    assert client.get("/v1/models/holmes").json()["id"] == "holmes"
    assert client.get("/v1/models/holmes@other").json()["id"] == "holmes@other"
    assert client.get("/v1/models/raw:other").json()["id"] == "raw:other"
    missing = client.get("/v1/models/moriarty")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "model_not_found"


# -- responses ------------------------------------------------------------------------------------


def test_non_streaming_shape(client: TestClient, backends: Backends) -> None:
    backends.default.enqueue("Your tan, Watson.")
    response = client.post(URL, json=ask())
    assert response.status_code == 200
    body = response.json()
    assert body["id"].startswith("chatcmpl-") and body["object"] == "chat.completion"
    assert body["model"] == "holmes" and isinstance(body["created"], int)
    assert body["choices"] == [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "Your tan, Watson."},
            "logprobs": None,
            "finish_reason": "stop",
        }
    ]
    assert body["usage"] == {"prompt_tokens": 10, "completion_tokens": 3, "total_tokens": 13}
    assert "personae" not in body and "x-personae-chat-id" not in response.headers


def test_stream_chunk_order_ids_and_usage(client: TestClient, backends: Backends) -> None:
    backends.default.enqueue("Your tan, Watson.")
    got = stream(client, ask(stream_options={"include_usage": True}))
    first, *middle, last, usage = got
    assert len({c["id"] for c in got}) == 1 and len({c["created"] for c in got}) == 1
    assert all(c["object"] == "chat.completion.chunk" and c["model"] == "holmes" for c in got)
    assert first["choices"] == [
        {"index": 0, "delta": {"role": "assistant"}, "logprobs": None, "finish_reason": None}
    ]
    assert [c["choices"][0]["delta"] for c in middle] == [
        {"content": "Your"},
        {"content": " tan,"},
        {"content": " Watson."},
    ]
    assert all(c["choices"][0]["finish_reason"] is None for c in middle)
    assert last["choices"] == [{"index": 0, "delta": {}, "logprobs": None, "finish_reason": "stop"}]
    assert usage["choices"] == []
    assert usage["usage"] == {"prompt_tokens": 10, "completion_tokens": 3, "total_tokens": 13}
    assert all(c["usage"] is None for c in got[:-1])


def test_stream_without_usage_has_no_usage_chunk(client: TestClient, backends: Backends) -> None:
    backends.default.enqueue("Quite.")
    got = stream(client, ask())
    assert [c["choices"][0]["delta"] for c in got] == [
        {"role": "assistant"},
        {"content": "Quite."},
        {},
    ]
    assert all("usage" not in c for c in got)


def test_length_finish_reason(client: TestClient, backends: Backends) -> None:
    backends.default.enqueue("one two three four")
    body = client.post(URL, json=ask(max_tokens=2)).json()
    assert body["choices"][0]["finish_reason"] == "length"
    assert body["choices"][0]["message"]["content"] == "one two"


def test_n_candidates_non_streaming(client: TestClient, backends: Backends) -> None:
    backends.default.enqueue("First idea.", "Second idea.")
    body = client.post(URL, json=ask(n=2, seed=7)).json()
    assert [(c["index"], c["message"]["content"]) for c in body["choices"]] == [
        (0, "First idea."),
        (1, "Second idea."),
    ]
    assert body["usage"]["completion_tokens"] == 4 and body["usage"]["prompt_tokens"] == 10
    # One seed for n candidates would give n copies: each gets its own.
    assert [p.seed for _, p in backends.default.calls] == [7, 8]


def test_n_candidates_streaming_each_in_order(client: TestClient, backends: Backends) -> None:
    backends.default.enqueue("A b.", "C d.")
    got = stream(client, ask(n=2))
    for index, text in ((0, "A b."), (1, "C d.")):
        mine = [c["choices"][0] for c in got if c["choices"][0]["index"] == index]
        assert mine[0]["delta"] == {"role": "assistant"}
        assert "".join(c["delta"].get("content", "") for c in mine[1:-1]) == text
        assert mine[-1]["delta"] == {} and mine[-1]["finish_reason"] == "stop"


def test_parameters_reach_the_backend(client: TestClient, backends: Backends) -> None:
    client.post(
        URL,
        json=ask(
            temperature=0.2,
            top_p=0.5,
            max_tokens=50,
            stop=["THE END", "\n\n"],
            seed=42,
            top_k=7,
            min_p=0.1,
            repetition_penalty=1.3,
        ),
    )
    client.post(URL, json=ask(max_tokens=50, max_completion_tokens=60, stop="###"))
    (_, first), (_, second) = backends.default.calls
    assert (first.temperature, first.top_p, first.max_tokens, first.seed) == (0.2, 0.5, 50, 42)
    assert (first.top_k, first.min_p, first.repeat_penalty) == (7, 0.1, 1.3)
    assert {"THE END", "\n\n"} <= set(first.stop) and "\nWatson:" in first.stop
    assert second.max_tokens == 60 and "###" in second.stop


def test_server_defaults_apply_when_the_request_is_silent(tmp_path: Path) -> None:
    backends = Backends()
    app = make_app(tmp_path, backends, params=GenerationParams(max_tokens=99, temperature=0.1))
    with TestClient(app) as client:
        client.post(URL, json=ask())
        client.post(URL, json=ask(temperature=1.5))
    (_, silent), (_, loud) = backends.default.calls
    assert (silent.max_tokens, silent.temperature) == (99, 0.1)
    assert (loud.max_tokens, loud.temperature) == (99, 1.5)


def test_character_at_model_picks_the_backend_model(client: TestClient, backends: Backends) -> None:
    client.post(URL, json=ask())
    client.post(URL, json={**ask(), "model": "holmes@tiny"})
    client.post(URL, json={**ask(), "model": "holmes@tiny"})
    assert backends.asked == [DEFAULT_MODEL, "tiny"]  # one backend per model, built once
    assert len(backends.built["tiny"].calls) == 2


# -- stateless ------------------------------------------------------------------------------------


def test_stateless_prompt_is_the_card_plus_the_clients_turns(
    client: TestClient, backends: Backends
) -> None:
    messages = [
        {"role": "system", "content": "Answer in one sentence, {{char}}."},
        {"role": "assistant", "content": "You have been in Afghanistan, I perceive."},
        {"role": "user", "content": "How did you know?", "name": "John"},
        {"role": "assistant", "content": "Your tan."},
        {"role": "system", "content": "[Holmes is tired now]"},
        {"role": "user", "content": [{"type": "text", "text": "And the limp?"}]},
    ]
    client.post(URL, json={"model": "holmes", "messages": messages})
    [(sent, params)] = backends.default.calls
    system = sent[0]
    assert system.role == "system"
    assert "consulting detective" in system.content  # the card
    assert "Answer in one sentence, Holmes." in system.content  # client instructions, expanded
    rest = [(m.role, m.content) for m in sent[1:]]
    assert rest == [
        ("assistant", "You have been in Afghanistan, I perceive."),
        ("user", "How did you know?"),
        ("assistant", "Your tan."),
        ("system", "[Holmes is tired now]"),
        ("user", "And the limp?"),
    ]
    assert "\nJohn:" in params.stop  # the user's name from the message
    with Database(client.app.state.personae.db_location) as db:  # type: ignore[attr-defined]
        assert ChatRepository(db).all() == []  # nothing stored


# -- stateful -------------------------------------------------------------------------------------


def test_stateful_keeps_history_across_requests(client: TestClient, backends: Backends) -> None:
    backends.default.enqueue("Your tan.", "Your limp.")
    first = client.post(URL, json=ask("How did you know?", user="alice"))
    chat_id = int(first.headers["x-personae-chat-id"])
    assert first.json()["personae"]["chat_id"] == chat_id
    assert first.json()["personae"]["user_id"] == "alice"
    # The client sends only the new message; the server has the rest.
    second = client.post(URL, json=ask("And the limp?", chat_id=chat_id))
    assert second.json()["choices"][0]["message"]["content"] == "Your limp."
    sent = [(m.role, m.content) for m in backends.default.calls[1][0] if m.role != "system"]
    assert sent == [
        ("assistant", "You have been in Afghanistan, I perceive."),
        ("user", "How did you know?"),
        ("assistant", "Your tan."),
        ("user", "And the limp?"),
    ]
    with Database(client.app.state.personae.db_location) as db:  # type: ignore[attr-defined]
        stored = ChatRepository(db).messages(chat_id)
    assert [(m.role, m.content, m.status) for m in stored] == [
        ("assistant", "You have been in Afghanistan, I perceive.", "complete"),
        ("user", "How did you know?", "complete"),
        ("assistant", "Your tan.", "complete"),
        ("user", "And the limp?", "complete"),
        ("assistant", "Your limp.", "complete"),
    ]
    assert second.json()["personae"]["reply_id"] == stored[-1].id


def test_user_continues_the_latest_chat_and_new_chat_starts_one(client: TestClient) -> None:
    def chat_of(**fields: Any) -> int:
        response = client.post(URL, json=ask(**fields))
        assert response.status_code == 200, response.text
        return int(response.headers["x-personae-chat-id"])

    first = chat_of(user="alice")
    assert chat_of(user="alice") == first
    fresh = chat_of(user="alice", new_chat=True)
    assert fresh != first and chat_of(user="alice") == fresh
    assert chat_of(user="bob") not in (first, fresh)  # each user has their own


def test_stateful_stream_names_the_chat(client: TestClient, backends: Backends) -> None:
    backends.default.enqueue("Quite so.")
    response = client.post(URL, json=ask(user="alice", stream=True))
    chat_id = int(response.headers["x-personae-chat-id"])
    got = chunks(sse_body(response.text))
    assert got[0]["personae"] == {"chat_id": chat_id, "user_id": "alice"}
    assert got[0]["choices"][0]["delta"] == {"role": "assistant"}
    assert got[-1]["personae"]["reply_id"] > 0
    assert got[-1]["choices"][0]["finish_reason"] == "stop"


def test_stateful_client_system_messages_are_instructions(
    client: TestClient, backends: Backends
) -> None:
    body = ask(user="alice")
    body["messages"].insert(0, {"role": "system", "content": "Speak in riddles."})
    client.post(URL, json=body)
    system = backends.default.calls[0][0][0]
    assert "Speak in riddles." in system.content and "consulting detective" in system.content


def test_stateful_with_memory(tmp_path: Path) -> None:
    from personae.memory.bank import MemoryBank
    from tests.support.embedder import HashEmbedder

    backends = Backends()
    app = make_app(tmp_path, backends, memory=lambda db: MemoryBank(db, embedder=HashEmbedder()))
    with TestClient(app) as client:
        first = client.post(URL, json=ask("My sister lives in Brighton.", user="alice"))
        assert first.status_code == 200, first.text
        chat_id = first.json()["personae"]["chat_id"]
        second = client.post(URL, json=ask("Where does she live?", chat_id=chat_id))
        assert second.status_code == 200, second.text
    with Database(tmp_path / "server.db") as db:
        remembered = db.conn.execute("SELECT COUNT(*) FROM memories").fetchone()[0]
    assert remembered > 0


def test_a_busy_chat_refuses_a_second_reply(client: TestClient) -> None:
    chat_id = client.post(URL, json=ask(user="alice")).json()["personae"]["chat_id"]
    workers = client.app.state.personae.workers  # type: ignore[attr-defined]
    with workers.claim(chat_id):
        busy = client.post(URL, json=ask(chat_id=chat_id))
    assert busy.status_code == 409 and busy.json()["error"]["code"] == "chat_busy"
    assert client.post(URL, json=ask(chat_id=chat_id)).status_code == 200


def test_stored_chat_rules(client: TestClient) -> None:
    chat_id = client.post(URL, json=ask(user="alice")).json()["personae"]["chat_id"]
    cases = [
        (ask(chat_id=999), 404, "chat_id"),
        (ask(chat_id=chat_id, user="bob"), 404, "chat_id"),  # someone else's: not found
        ({**ask(chat_id=chat_id), "model": "irene"}, 400, "chat_id"),
        (ask(chat_id=chat_id, n=2), 400, "n"),
        (ask(chat_id=chat_id, new_chat=True), 400, "new_chat"),
        (ask(new_chat=True), 400, "new_chat"),
        (ask(user="not a valid id!"), 400, "user"),
        # (A last message that is not the user's is no error: the character speaks again, or
        # continues its reply; see test_server_sillytavern.)
        (ask(chat_id=chat_id, continue_final_message="yes"), 400, "continue_final_message"),
    ]
    for body, status, param in cases:
        response = client.post(URL, json=body)
        assert response.status_code == status, (body, response.text)
        assert response.json()["error"]["param"] == param, response.text


# -- cancellation and failures --------------------------------------------------------------------


def test_backend_failure_before_any_token(client: TestClient, backends: Backends) -> None:
    from personae.errors import BackendUnavailable

    backends.default.enqueue(BackendUnavailable("cannot reach the model server: start it"))
    response = client.post(URL, json=ask(stream=True))
    # Nothing was streamed yet, so the status still says what happened.
    assert response.status_code == 503
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["error"]["code"] == "backend_unavailable"


def test_backend_failure_mid_stream_is_an_error_event(
    client: TestClient, backends: Backends
) -> None:
    from tests.support.scripted import failing

    backends.default.enqueue(failing(2, message="the model crashed"))
    response = client.post(URL, json=ask(stream=True, user="alice"))
    events = sse_body(response.text)
    assert events[-1] != "[DONE]"  # a broken reply must not look complete
    error = json.loads(events[-1])["error"]
    assert error["message"] == "the model crashed" and error["type"] == "server_error"
    contents = [json.loads(e)["choices"][0]["delta"].get("content") for e in events[1:-1]]
    assert contents == ["one", " two"]
    chat_id = int(response.headers["x-personae-chat-id"])
    with Database(client.app.state.personae.db_location) as db:  # type: ignore[attr-defined]
        last = ChatRepository(db).messages(chat_id)[-1]
    assert (last.status, last.content, last.finish_reason) == ("incomplete", "one two", "error")


def test_backend_failure_non_streaming(client: TestClient, backends: Backends) -> None:
    from personae.errors import BackendError

    backends.default.enqueue(BackendError("the model server answered 500"))
    response = client.post(URL, json=ask())
    assert response.status_code == 502
    assert response.json()["error"] == {
        "message": "the model server answered 500",
        "type": "server_error",
        "param": None,
        "code": "backend_error",
    }


def test_unexpected_error_is_a_plain_500(client: TestClient, backends: Backends) -> None:
    backends.default.enqueue(RuntimeError("secret internals"))
    response = client.post(URL, json=ask())
    assert response.status_code == 500
    assert "secret" not in response.text and "Traceback" not in response.text
    assert response.json()["error"]["type"] == "server_error"


def test_prompt_over_the_context(tmp_path: Path) -> None:
    backends = Backends()
    backends.default.n_ctx = 400
    with TestClient(make_app(tmp_path, backends)) as client:
        response = client.post(URL, json=ask("word " * 2000, max_tokens=100))
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "context_length_exceeded"
