"""A server without API keys against web pages: no "simple" cross-site request changes anything,
and no DNS-rebinding page (a Host name that is not this machine's) reads or writes anything.
With keys both checks are off: such a page has no key to send."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from personae.characters import card_bytes
from personae.config import Settings
from personae.errors import ConfigError
from personae.server.guard import HostPolicy, host_name, json_depth
from personae.server.options import resolve
from tests.support.factories import make_character
from tests.support.rest import auth, error_of, keyed_client, png_card, upload
from tests.support.server import make_app

CARD = json.dumps(make_character("Mallory").to_card_dict()).encode()
FACT = json.dumps({"text": "The user's name is Mallory.", "kind": "fact"}).encode()
SIMPLE = ["text/plain", "text/plain; charset=utf-8", "application/x-www-form-urlencoded", ""]
SIMPLE += ["multipart/form-data; boundary=x"]


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(make_app(tmp_path)) as c:
        yield c


def names(client: TestClient) -> list[str]:
    return [c["name"] for c in client.get("/api/characters").json()["data"]]


# -- content types -------------------------------------------------------------------------------


@pytest.mark.parametrize("content_type", SIMPLE)
def test_a_simple_cross_site_post_changes_nothing(client: TestClient, content_type: str) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    card = client.post("/api/characters", content=CARD, headers=headers)
    assert error_of(card, 415)["code"] == "unsupported_media_type"
    assert "Content-Type: application/json" in error_of(card, 415)["message"]
    fact = client.post("/api/memories", content=FACT, headers=headers)
    assert error_of(fact, 415)["code"] == "unsupported_media_type"
    assert "Mallory" not in names(client)
    assert client.get("/api/profile").json()["data"] == []
    chat = client.post("/v1/chat/completions", content=b'{"model": "holmes"}', headers=headers)
    assert error_of(chat, 415)["code"] == "unsupported_media_type"


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        (CARD, "application/json"),
        (CARD, "application/json; charset=utf-8"),
        (CARD, "application/octet-stream"),
        (png_card(make_character("Mallory")), "image/png"),
        (card_bytes(make_character("Mallory"), "charx"), "application/zip"),
    ],
    ids=["json", "json-charset", "octet-stream", "png", "charx"],
)
def test_what_the_web_page_and_clients_send_still_works(
    client: TestClient, data: bytes, content_type: str
) -> None:
    assert upload(client, data, content_type).status_code == 201
    assert "Mallory" in names(client)


def test_the_openai_route_wants_json(client: TestClient) -> None:
    body = {"model": "holmes", "messages": [{"role": "user", "content": "hi"}]}
    sent = client.post("/v1/chat/completions", content=json.dumps(body), headers={})
    assert error_of(sent, 415)["message"].startswith("this route takes JSON")
    png = {"Content-Type": "image/png"}
    sent = client.post("/v1/chat/completions", content=json.dumps(body), headers=png)
    assert error_of(sent, 415)["code"] == "unsupported_media_type"
    assert client.post("/v1/chat/completions", json=body).status_code == 200


def test_reads_and_deletes_need_no_content_type(client: TestClient) -> None:
    chat = client.post("/api/chats", json={"character": "holmes"}).json()
    assert client.get(f"/api/chats/{chat['id']}").status_code == 200
    assert client.delete(f"/api/chats/{chat['id']}").status_code == 204


# -- Host names ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "host", ["evil.example", "evil.example:8000", "127.0.0.1.evil.example", "localhost.evil.com"]
)
def test_a_rebinding_page_reads_and_writes_nothing(client: TestClient, host: str) -> None:
    client.post("/api/memories", json={"text": "I keep bees."})
    for response in (
        client.get("/api/memories", headers={"Host": host}),
        client.get("/v1/models", headers={"Host": host}),
        client.post(
            "/api/memories", json={"text": "The user's name is Mallory."}, headers={"Host": host}
        ),
    ):
        error = error_of(response, 403)
        assert error["code"] == "host_not_allowed" and "--allowed-host" in error["message"]
    texts = [m["text"] for m in client.get("/api/memories").json()["data"]]
    assert texts == ["I keep bees."]


@pytest.mark.parametrize(
    "host",
    [
        "localhost",
        "localhost:8000",
        "LOCALHOST.",
        "127.0.0.1:9",
        "[::1]:8000",
        "10.0.0.7",
        "a.localhost",
    ],
)
def test_this_machine_by_address_or_localhost(tmp_path: Path, host: str) -> None:
    with TestClient(make_app(tmp_path, allowed_hosts=[])) as client:
        assert client.get("/api/memories", headers={"Host": host}).status_code == 200
        refused = client.get("/api/memories", headers={"Host": "testserver"})
        assert error_of(refused, 403)["code"] == "host_not_allowed"


def test_the_operators_names(tmp_path: Path) -> None:
    app = make_app(tmp_path, allowed_hosts=["MyBox.lan:8000", ".example.org"])
    with TestClient(app) as client:
        for host in ("mybox.lan", "mybox.lan:1234", "example.org", "chat.example.org"):
            assert client.get("/v1/models", headers={"Host": host}).status_code == 200, host
        for host in ("mybox.lan.evil.com", "badexample.org", "example.org.evil.com"):
            assert error_of(client.get("/v1/models", headers={"Host": host}), 403), host


def test_a_star_turns_the_host_check_off(tmp_path: Path) -> None:
    with TestClient(make_app(tmp_path, allowed_hosts=["*"])) as client:
        assert client.get("/v1/models", headers={"Host": "anything.example"}).status_code == 200


def test_with_keys_both_checks_are_off(tmp_path: Path) -> None:
    with keyed_client(tmp_path) as (client, headers):
        host = {**headers["alice"], "Host": "evil.example"}
        assert client.get("/api/memories", headers=host).status_code == 200
        # Cards are read from their bytes, whatever the type says.
        assert upload(client, CARD, "text/plain", headers=headers["alice"]).status_code == 201
        no_key = client.get("/api/memories", headers={"Host": "evil.example"})
        assert error_of(no_key, 401)["code"] == "invalid_api_key"


def test_cors_pages_can_read_why(tmp_path: Path) -> None:
    origin = "http://localhost:3000"
    with TestClient(make_app(tmp_path, cors_origins=[origin])) as client:
        headers = {"Origin": origin, "Content-Type": "text/plain"}
        refused = client.post("/api/memories", content=FACT, headers=headers)
        assert error_of(refused, 415)
        assert refused.headers["access-control-allow-origin"] == origin


# -- the pieces ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "name"),
    [
        ("Example.COM:80", "example.com"),
        ("[::1]:8000", "::1"),
        ("[::1]", "::1"),
        ("127.0.0.1", "127.0.0.1"),
        ("localhost.", "localhost"),
        ("", ""),
    ],
)
def test_host_name(header: str, name: str) -> None:
    assert host_name(header) == name


def test_policy() -> None:
    policy = HostPolicy.of(["box", ".corp.example"])
    assert policy.allows("box") and policy.allows("a.corp.example") and policy.allows("::1")
    assert not policy.allows("box.evil") and not policy.allows("corp.example.evil")


@pytest.mark.parametrize(
    ("raw", "depth"),
    [
        (b"{}", 1),
        (b'{"a": [[{"b": 1}]]}', 4),
        (b'{"a": "[[[[{{{{", "b": "\\"[["}', 1),
        (b"[" * 50_000 + b"]" * 50_000, 50_000),
        (b'"unterminated [[[', 0),
        (b'"\\' * 100_000, 0),
    ],
)
def test_json_depth(raw: bytes, depth: int) -> None:
    assert json_depth(raw) == depth


def test_allowed_hosts_setting(tmp_path: Path) -> None:
    table: dict[str, Any] = {"allowed_hosts": ["box.lan", ".corp.example", "*"]}
    _, options = resolve(Settings(server=table))
    assert options.allowed_hosts == ("box.lan", ".corp.example", "*")
    _, options = resolve(Settings(server=table), allowed_hosts=["other"])
    assert options.allowed_hosts == ("other",)
    for bad in ("box.lan", ["http://box.lan/"], ["a b"]):
        with pytest.raises(ConfigError, match="allowed_hosts"):
            resolve(Settings(server={"allowed_hosts": bad}))
    with pytest.raises(ConfigError, match="^allowed_hosts: 'x/y' is not a host name"):
        resolve(Settings(), allowed_hosts=["x/y"])


def test_a_key_made_while_it_runs_turns_the_checks_off(tmp_path: Path) -> None:
    from personae.store import Database
    from personae.store.keys import KeyRepository

    with TestClient(make_app(tmp_path, allowed_hosts=[])) as client:
        assert error_of(client.get("/v1/models"), 403)["code"] == "host_not_allowed"
        with Database(tmp_path / "server.db") as db:
            key = KeyRepository(db).create("alice")[1]
        assert client.get("/v1/models", headers=auth(key)).status_code == 200
