"""The REST API with API keys: every route wants a key, the key decides the user, and one user
never reads or changes another's chats, messages, memories or private characters."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from personae import __version__
from personae.store import Database
from personae.store.keys import KeyRepository
from tests.support.factories import make_character
from tests.support.rest import error_of, keyed_client, korean_character, png_card, upload
from tests.support.server import Backends, make_app

Keyed = tuple[TestClient, dict[str, dict[str, str]]]
SAMPLE_PATH_VALUES = {"character_id": "holmes", "model_id": "holmes"}


@pytest.fixture
def keyed(tmp_path: Path, backends: Backends) -> Iterator[Keyed]:
    with keyed_client(tmp_path, backends) as pair:
        yield pair


def api_routes(client: TestClient) -> list[tuple[str, str]]:
    """(method, path with sample values) for every /api and /v1 route of the app. Read from its
    OpenAPI schema, which lists every route whatever FastAPI's version keeps in ``app.routes``
    (newer ones keep included routers there, not their routes)."""
    paths = client.get("/openapi.json").json()["paths"]
    found = []
    for template, operations in paths.items():
        if not template.startswith(("/api/", "/v1/")):
            continue
        path = re.sub(r"\{(\w+)\}", lambda m: SAMPLE_PATH_VALUES.get(m.group(1), "1"), template)
        found += [(method.upper(), path) for method in sorted(operations)]
    return found


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer pk-00000000-wrong"},
        {"Authorization": "Bearer "},
        {"Authorization": "Basic YWxpY2U6cGFzcw=="},
        {"X-API-Key": "not-a-key"},
    ],
    ids=["missing", "unknown", "empty", "basic", "x-api-key"],
)
def test_every_route_wants_a_valid_key(keyed: Keyed, headers: dict[str, str]) -> None:
    client, _ = keyed
    routes = api_routes(client)
    assert len(routes) >= 26  # 23 REST routes and 3 OpenAI ones
    for method, path in routes:
        response = client.request(method, path, json={}, headers=headers)
        error = error_of(response, 401)
        assert error["code"] == "invalid_api_key", (method, path)
        assert response.headers["www-authenticate"] == "Bearer"


def test_the_key_is_checked_before_the_body(keyed: Keyed) -> None:
    client, _ = keyed
    client.app.state.personae.max_card_bytes = 100  # type: ignore[attr-defined]
    for response in (
        client.post("/api/chats", content=b"{broken", headers={"Content-Type": "application/json"}),
        client.patch("/api/memories/1", json=[1, 2]),
        upload(client, b"x" * 1000),
        upload(client, b"not a card"),
    ):
        assert error_of(response, 401)["code"] == "invalid_api_key"


def test_a_revoked_key_stops_working(keyed: Keyed, tmp_path: Path) -> None:
    client, users = keyed
    with Database(tmp_path / "server.db") as db:
        record, key = KeyRepository(db).create("carol")
    assert client.get("/api/me", headers={"X-API-Key": key}).json()["user_id"] == "carol"
    with Database(tmp_path / "server.db") as db:
        KeyRepository(db).revoke(record.id)
    assert error_of(client.get("/api/me", headers={"X-API-Key": key}), 401)
    assert client.get("/api/me", headers=users["bob"]).status_code == 200


def test_me_names_the_keys_user(keyed: Keyed) -> None:
    client, users = keyed
    assert client.get("/api/me", headers=users["alice"]).json() == {
        "user_id": "alice",
        "keyed": True,
        "version": __version__,
    }


def test_chats_and_messages_stay_their_users(keyed: Keyed, backends: Backends) -> None:
    client, users = keyed
    alice, bob = users["alice"], users["bob"]
    chat = client.post("/api/chats", json={"character": "holmes"}, headers=alice).json()
    assert chat["user_id"] == "alice"
    backends.default.enqueue("For Alice only.")
    sent = client.post(
        "/v1/chat/completions",
        json={
            "model": "holmes",
            "chat_id": chat["id"],
            "messages": [{"role": "user", "content": "비밀이에요."}],
        },
        headers=alice,
    )
    assert sent.status_code == 200
    messages = client.get(f"/api/chats/{chat['id']}", headers=alice).json()["messages"]
    assert [m["content"] for m in messages][1:] == ["비밀이에요.", "For Alice only."]

    assert client.get("/api/chats", headers=bob).json() == {"data": []}
    for response in (
        client.get(f"/api/chats/{chat['id']}", headers=bob),
        client.patch(f"/api/chats/{chat['id']}", json={"title": "mine"}, headers=bob),
        client.delete(f"/api/chats/{chat['id']}", headers=bob),
        client.post(f"/api/chats/{chat['id']}/regenerate", json={"stream": False}, headers=bob),
        client.post(f"/api/chats/{chat['id']}/regenerate", headers=bob),
    ):
        assert error_of(response, 404)["code"] == "chat_not_found"
    for message in messages:
        for response in (
            client.patch(f"/api/messages/{message['id']}", json={"content": "x"}, headers=bob),
            client.delete(f"/api/messages/{message['id']}", headers=bob),
        ):
            assert error_of(response, 404)["code"] == "message_not_found"
    # Nothing changed, and Alice can still do all of it.
    after = client.get(f"/api/chats/{chat['id']}", headers=alice).json()
    assert after["messages"] == messages and after["title"] == ""
    regenerated = client.post(
        f"/api/chats/{chat['id']}/regenerate", json={"stream": False}, headers=alice
    )
    assert regenerated.status_code == 200
    assert client.delete(f"/api/chats/{chat['id']}", headers=alice).status_code == 204


def test_memories_stay_their_users(keyed: Keyed) -> None:
    client, users = keyed
    alice, bob = users["alice"], users["bob"]
    note = client.post("/api/memories", json={"text": "Alice's secret."}, headers=alice).json()
    fact = client.post(
        "/api/memories",
        json={"text": "Alice likes jazz.", "kind": "fact", "label": "likes"},
        headers=alice,
    ).json()
    assert note["user_id"] == "alice"
    assert client.get("/api/memories", headers=bob).json() == {"data": []}
    assert client.get("/api/profile", headers=bob).json() == {"data": []}
    for memory in (note, fact):
        for response in (
            client.patch(f"/api/memories/{memory['id']}", json={"text": "x"}, headers=bob),
            client.delete(f"/api/memories/{memory['id']}", headers=bob),
        ):
            assert error_of(response, 404)["code"] == "memory_not_found"
    mine = client.get("/api/memories", headers=alice).json()["data"]
    assert [m["text"] for m in mine] == ["Alice's secret.", "Alice likes jazz."]
    assert client.delete(f"/api/memories/{note['id']}", headers=alice).status_code == 204


def test_private_characters_do_not_exist_for_others(keyed: Keyed) -> None:
    client, users = keyed
    alice, bob = users["alice"], users["bob"]
    seen = [c["id"] for c in client.get("/api/characters", headers=bob).json()["data"]]
    assert seen == ["holmes", "irene"]
    mine = client.get("/api/characters/moriarty", headers=alice).json()
    assert mine["owner_id"] == "alice" and mine["shared"] is False and mine["editable"] is True
    for response in (
        client.get("/api/characters/moriarty", headers=bob),
        client.get("/api/characters/moriarty/avatar", headers=bob),
        client.get("/api/characters/moriarty/card", headers=bob),
        client.put("/api/characters/moriarty", json=korean_character().to_card_dict(), headers=bob),
        client.patch("/api/characters/moriarty", json={"shared": True}, headers=bob),
        client.delete("/api/characters/moriarty", headers=bob),
        client.post("/api/chats", json={"character": "moriarty"}, headers=bob),
        client.post("/api/memories", json={"text": "x", "character": "moriarty"}, headers=bob),
        client.get("/api/memories", params={"character": "moriarty"}, headers=bob),
        client.get("/api/profile", params={"character": "moriarty"}, headers=bob),
    ):
        assert error_of(response, 404)["code"] == "character_not_found"
    assert client.get("/api/characters/moriarty", headers=alice).json()["name"] == "Moriarty"


def test_shared_characters_are_read_only_to_others(keyed: Keyed) -> None:
    client, users = keyed
    alice, bob = users["alice"], users["bob"]
    holmes = client.get("/api/characters/holmes", headers=bob).json()
    assert holmes["editable"] is False  # added on the server machine: nobody's to change
    for headers in (alice, bob):
        for response in (
            client.put("/api/characters/holmes", json=holmes["card"], headers=headers),
            client.patch("/api/characters/holmes", json={"shared": True}, headers=headers),
            client.delete("/api/characters/holmes", headers=headers),
        ):
            assert error_of(response, 403)["code"] == "permission_denied"
    assert client.get("/api/characters/holmes", headers=alice).json()["card"] == holmes["card"]


def test_uploads_are_private_until_shared(keyed: Keyed) -> None:
    client, users = keyed
    alice, bob = users["alice"], users["bob"]
    created = upload(client, png_card(korean_character()), headers=alice)
    assert created.status_code == 201
    body = created.json()
    assert body["owner_id"] == "alice" and body["shared"] is False and body["editable"] is True
    url = f"/api/characters/{body['id']}"
    assert error_of(client.get(url, headers=bob), 404)
    shared = client.patch(url, json={"shared": True}, headers=alice).json()
    assert shared["shared"] is True
    seen = client.get(url, headers=bob).json()
    assert seen["name"] == "춘향" and seen["editable"] is False
    assert error_of(client.put(url, json=seen["card"], headers=bob), 403)
    assert error_of(client.patch(url, json={"shared": False}, headers=bob), 403)
    assert error_of(client.delete(url, headers=bob), 403)
    chat = client.post("/api/chats", json={"character": body["id"]}, headers=bob)
    assert chat.status_code == 201  # a shared character is everyone's to chat with
    client.patch(url, json={"shared": False}, headers=alice)
    assert error_of(client.get(url, headers=bob), 404)
    assert client.delete(url, headers=alice).status_code == 204


def test_upload_shared_at_once(keyed: Keyed) -> None:
    client, users = keyed
    body = upload(
        client, png_card(make_character("Lestrade")), headers=users["bob"], shared="true"
    ).json()
    assert body["owner_id"] == "bob" and body["shared"] is True
    names = [
        c["name"] for c in client.get("/api/characters", headers=users["alice"]).json()["data"]
    ]
    assert "Lestrade" in names


def test_open_servers_need_no_key(tmp_path: Path) -> None:
    with TestClient(make_app(tmp_path)) as client:
        for method, path in api_routes(client):
            response = client.request(method, path, json={})
            assert response.status_code != 401, (method, path, response.text)


def test_an_uploads_id_says_nothing_about_others_private_characters(tmp_path: Path) -> None:
    """Alice's private Moriarty made Bob's upload of a Moriarty come back as 'moriarty-2': that
    told Bob it exists. An id in Bob's own space is the same whatever others have."""
    card = png_card(make_character("Moriarty"))
    with keyed_client(tmp_path / "with") as (client, headers):
        beside_alices = [upload(client, card, headers=headers["bob"]).json()["id"] for _ in "ab"]
        assert client.get("/api/characters/moriarty", headers=headers["alice"]).status_code == 200
    with keyed_client(tmp_path / "without") as (client, headers):
        with Database(tmp_path / "without" / "server.db") as db:
            db.conn.execute("DELETE FROM characters WHERE id = 'moriarty'")
        alone = [upload(client, card, headers=headers["bob"]).json()["id"] for _ in "ab"]
        assert client.get(f"/v1/models/{alone[0]}", headers=headers["bob"]).status_code == 200
        assert client.get(f"/api/characters/{alone[1]}", headers=headers["bob"]).json()["editable"]
    assert beside_alices == alone == ["moriarty--bob", "moriarty--bob-2"]


def test_owner_scoped_ids_for_any_user_id_and_name(tmp_path: Path) -> None:
    with keyed_client(tmp_path) as (client, _):
        with Database(tmp_path / "server.db") as db:
            key = KeyRepository(db).create("Dr.Watson@221b.example")[1]
        long_name = "Professor James Moriarty, the Napoleon of Crime, " * 3
        created = upload(
            client, png_card(make_character(long_name)), headers={"Authorization": f"Bearer {key}"}
        ).json()
        assert re.fullmatch(
            r"professor-james-moriarty-the-napoleon-of--[0-9a-f]{10}", created["id"]
        )
