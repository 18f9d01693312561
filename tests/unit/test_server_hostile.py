"""Hostile input the security probe sent: each got a 500 (or a 502 blaming the backend) and must
be a 4xx with an OpenAI-style body naming what is wrong."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from personae.backends.openai_compat import OpenAICompatBackend
from personae.config import Settings
from personae.server import create_app
from tests.support.rest import error_of, upload
from tests.support.server import Backends, make_app, make_store
from tests.support.stub_openai import StubOpenAI, answer, error_body

URL = "/v1/chat/completions"
JSON = {"Content-Type": "application/json"}
TOO_BIG = 2**63
HI = [{"role": "user", "content": "hi"}]


@pytest.fixture
def client(tmp_path: Path, backends: Backends) -> Iterator[TestClient]:
    with TestClient(make_app(tmp_path, backends), raise_server_exceptions=False) as c:
        yield c


@pytest.mark.parametrize("chat_id", [TOO_BIG, str(TOO_BIG), 10**30])
def test_a_chat_id_past_sqlite_integers(client: TestClient, chat_id: object) -> None:
    sent = client.post(URL, json={"model": "holmes", "messages": HI, "chat_id": chat_id})
    error = error_of(sent, 400)
    assert error["param"] == "chat_id" and "9223372036854775807" in error["message"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/chats/{}"),
        ("PATCH", "/api/chats/{}"),
        ("DELETE", "/api/chats/{}"),
        ("POST", "/api/chats/{}/regenerate"),
        ("PATCH", "/api/messages/{}"),
        ("DELETE", "/api/messages/{}"),
        ("PATCH", "/api/memories/{}"),
        ("DELETE", "/api/memories/{}"),
    ],
)
def test_path_ids_past_sqlite_integers(client: TestClient, method: str, path: str) -> None:
    body = {"title": "x", "content": "x", "text": "x"} if method == "PATCH" else None
    sent = client.request(method, path.format(TOO_BIG), json=body, headers=JSON)
    assert error_of(sent, 400)["code"] == "invalid_value"


@pytest.mark.parametrize(
    ("extra", "message", "param"),
    [
        ("", '{"role": "user", "content": "a\\ud800b"}', "messages[0].content"),
        ('"user": "u", ', '{"role": "user", "content": "\\udfff"}', "messages[0].content"),
        ("", '{"role": "user", "content": [{"type": "text", "text": "\\ud83d"}]}', None),
        ("", '{"role": "user", "content": "hi", "\\ud800": 1}', "messages[0]"),
    ],
    ids=["stateless", "stored", "text-part", "key"],
)
def test_lone_surrogates_in_messages(
    client: TestClient, backends: Backends, extra: str, message: str, param: str | None
) -> None:
    body = f'{{"model": "holmes", {extra}"messages": [{message}]}}'.encode()
    error = error_of(client.post(URL, content=body, headers=JSON), 400)
    assert "lone UTF-16 surrogate" in error["message"]
    assert error["param"] == (param or "messages[0].content[0].text")
    assert backends.default.calls == []  # nothing was sent on
    assert client.get("/api/chats").json()["data"] == []  # nor stored


@pytest.mark.parametrize(
    ("card", "field"),
    [
        (b'{"name": "A\\ud800", "description": "x"}', "'name'"),
        (
            b'{"spec": "chara_card_v2", "data": {"name": "A", "description": "\\udfff"}}',
            "data.description",
        ),
        (
            b'{"spec": "chara_card_v2", "data": {"name": "A", "character_book": {"entries": '
            b'[{"keys": ["k"], "content": "\\ud800"}]}}}',
            "data.character_book.entries[0].content",
        ),
    ],
    ids=["v1-name", "description", "lorebook"],
)
def test_lone_surrogates_in_cards(client: TestClient, card: bytes, field: str) -> None:
    error = error_of(upload(client, card, "application/json"), 400)
    assert error["code"] == "invalid_card" and field in error["message"]
    replaced = client.put("/api/characters/holmes", content=card, headers=JSON)
    assert error_of(replaced, 400)["code"] == "invalid_card"


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", URL, b'{"model": "holmes", "messages": ' + b"[" * 50_000 + b"]" * 50_000 + b"}"),
        ("POST", URL, b'{"model": "holmes", "x": ' + b'{"a":' * 50_000 + b"1" + b"}" * 50_001),
        ("POST", URL, b"[" * 200 + b"]" * 200),
        ("PATCH", "/api/chats/1", b'{"title": ' + b"[" * 50_000 + b"]" * 50_000 + b"}"),
        ("POST", "/api/memories", b'{"text": ' + b"[" * 50_000),
        ("POST", "/api/characters", b"[" * 50_000 + b"]" * 50_000),
    ],
    ids=["v1-array", "v1-object", "v1-200", "rest", "rest-unclosed", "card"],
)
def test_json_nested_50000_deep(client: TestClient, method: str, path: str, body: bytes) -> None:
    error = error_of(client.request(method, path, content=body, headers=JSON), 400)
    assert error["code"] in ("invalid_json", "invalid_card")


def test_a_static_name_too_long_for_the_file_system(client: TestClient) -> None:
    for name in ("a" * 5000 + ".js", "a" * 5000, "b" * 300 + ".css"):
        error = error_of(client.get(f"/static/{name}"), 404)
        assert error["code"] == "not_found" and len(error["message"]) < 200
    assert client.get("/static/app.js").status_code == 200


@pytest.mark.parametrize("penalty", [1e-300, 0, 0.0, -1, 0.05, 11, 1e300])
def test_repetition_penalty_out_of_range(
    client: TestClient, backends: Backends, penalty: float
) -> None:
    body = {"model": "holmes", "messages": HI, "repetition_penalty": penalty}
    error = error_of(client.post(URL, json=body), 400)
    assert error["param"] == "repetition_penalty"
    chat = client.post("/api/chats", json={"character": "holmes"}).json()
    regenerate = client.post(
        f"/api/chats/{chat['id']}/regenerate", json={"repetition_penalty": penalty}
    )
    assert error_of(regenerate, 400)["param"] == "repetition_penalty"
    assert backends.default.calls == []


@pytest.mark.parametrize("penalty", [0.1, 1, 1.1, 1.5, 10])
def test_repetition_penalty_in_range(
    client: TestClient, backends: Backends, penalty: float
) -> None:
    body = {"model": "holmes", "messages": HI, "repetition_penalty": penalty}
    assert client.post(URL, json=body).status_code == 200
    assert backends.default.calls[-1][1].repeat_penalty == penalty


def test_nothing_here_logs_a_server_error(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    """A bad request is the client's mistake: the log's 'unexpected error' is for bugs."""
    client.post(URL, json={"model": "holmes", "messages": HI, "chat_id": TOO_BIG})
    client.post(
        URL,
        content=b'{"model": "h", "messages": [{"role": "user", "content": "\\ud800"}]}',
        headers=JSON,
    )
    client.post(URL, content=b"[" * 50_000, headers=JSON)
    client.get("/static/" + "a" * 5000 + ".js")
    upload(client, json.dumps({"name": "x"}).encode().replace(b"x", b"\\ud800"), "application/json")
    assert "unexpected error" not in caplog.text


def test_the_upstream_key_never_reaches_a_client(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The operator's key for the upstream server, which echoes a prefix of it when refusing."""
    key = "sk-proj-Xy7Qa9Lm2Pz8Rt4Vb6Nc1Kd3Wf5Hg0Js"
    with StubOpenAI() as stub:
        stub.default = answer(401, error_body(f"Incorrect API key provided: {key[:12]}****Hg0Js"))

        def backend(model: str) -> OpenAICompatBackend:
            return OpenAICompatBackend.from_options(base_url=stub.url, model=model, api_key=key)

        app = create_app(
            make_store(tmp_path / "s.db"),
            settings=Settings(backend="openai", model="upstream"),
            backend_factory=backend,
            memory=False,
            allowed_hosts=["testserver"],
        )
        with TestClient(app) as client:
            for stream in (False, True):
                body = {"model": "holmes", "messages": HI, "stream": stream}
                sent = client.post(URL, json=body)
                assert error_of(sent, 502)["code"] == "invalid_api_key"
                assert key[:12] not in sent.text and key[8:14] not in sent.text
    assert key[:12] not in caplog.text
