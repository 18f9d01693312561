"""/api/lorebooks: import (World Info JSON or a card's book), list, read, export, delete,
attach/detach — per-user isolation with keys, 4xx bodies for bad input — and attached books
reaching the prompts of /v1/chat/completions, stateless and stored."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from personae.backends.base import Message
from personae.characters import card_bytes, placeholder_png
from tests.support.factories import entry, make_book, make_character
from tests.support.rest import error_of, keyed_client
from tests.support.server import Backends

WORLD: dict[str, Any] = {
    "entries": {
        "0": {"uid": 0, "key": ["hound"], "comment": "Hound", "content": "WORLD-LORE a hound."},
        "1": {"uid": 1, "key": ["moor"], "comment": "Moor", "content": "The moor.", "order": 5},
    }
}
JSON = {"Content-Type": "application/json"}


def post_book(
    client: TestClient,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    content_type: str = "application/json",
    **params: Any,
) -> Any:
    data = json.dumps(WORLD).encode() if body is None else body
    return client.post(
        "/api/lorebooks",
        content=data,
        params=params,
        headers={"Content-Type": content_type, **(headers or {})},
    )


def prompt(backends: Backends, call: int = 0) -> str:
    messages: list[Message] = backends.default.calls[call][0]
    return "\n".join(m.content for m in messages)


def test_import_list_get_export_delete(client: TestClient) -> None:
    created = post_book(client, name="Baskerville")
    assert created.status_code == 201, created.text
    book = created.json()
    assert (book["name"], book["entries"], book["shared"], book["owner_id"]) == (
        "Baskerville",
        2,
        True,
        None,
    )
    assert book["attached"] == {"characters": [], "chats": []}
    assert book["lorebook"]["entries"][0]["keys"] == ["hound"]
    listed = client.get("/api/lorebooks").json()["data"]
    assert [b["id"] for b in listed] == [book["id"]]
    assert client.get(f"/api/lorebooks/{book['id']}").json()["name"] == "Baskerville"
    exported = client.get(f"/api/lorebooks/{book['id']}/export")
    assert exported.headers["content-type"].startswith("application/json")
    assert 'filename="Baskerville.json"' in exported.headers["content-disposition"]
    world = exported.json()
    for uid, original in WORLD["entries"].items():
        assert original.items() <= world["entries"][uid].items()
    assert client.delete(f"/api/lorebooks/{book['id']}").status_code == 204
    error_of(client.get(f"/api/lorebooks/{book['id']}"), 404)


def test_import_a_cards_lorebook(client: TestClient) -> None:
    card = make_character("Watson", character_book=make_book(entry(["war"], "Afghanistan.")))
    png = card_bytes(card, "png", placeholder_png("W", size=8))
    created = post_book(client, png, content_type="image/png")
    assert created.status_code == 201 and created.json()["name"] == "Watson's lorebook"


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        (b"{broken", "not valid JSON"),
        (b'{"entries": {"0": {"key": 7}}}', "'key' must be a list of strings"),
        (b'{"entries": "many"}', "must be an object keyed by uid"),
        (b'{"name": "Holmes", "first_mes": "Hi"}', "no lorebook entries"),
        (b"[" * 60_000 + b"]" * 60_000, "nested"),
        (b"", "empty"),
        (json.dumps({"entries": {"0": {"content": "x" * 200_000}}}).encode(), "content"),
    ],
)
def test_bad_files_are_400s(client: TestClient, body: bytes, needle: str) -> None:
    assert needle in error_of(post_book(client, body), 400)["message"]


def test_other_bad_requests(client: TestClient, tmp_path: Path) -> None:
    assert error_of(post_book(client, content_type="text/plain"), 415)
    assert error_of(client.get("/api/lorebooks/" + "x" * 60), 404)["code"] == "lorebook_not_found"
    error_of(client.get("/api/lorebooks/" + "x" * 5000), 400)
    book_id = post_book(client).json()["id"]
    url = f"/api/lorebooks/{book_id}/attach"
    assert "one of them" in error_of(client.post(url, json={}), 400)["message"]
    error_of(client.post(url, json={"character": "holmes", "chat_id": 1}), 400)
    error_of(client.post(url, json={"chat_id": 2**63}), 400)
    error_of(client.post(url, json={"chat_id": "1"}), 400)
    error_of(client.post(url, json={"character": "holmes", "extra": 1}), 400)
    error_of(client.post(url, json={"character": "nobody"}), 404)
    error_of(client.post(url, json={"chat_id": 12345}), 404)
    error_of(client.post("/api/lorebooks/0000abcd/attach", json={"character": "holmes"}), 404)
    detach = f"/api/lorebooks/{book_id}/detach"
    assert error_of(client.post(detach, json={"character": "holmes"}), 404)["code"] == (
        "attachment_not_found"
    )
    error_of(client.get("/api/lorebooks", params={"chat_id": 0}), 400)


def test_huge_upload_is_refused(client: TestClient) -> None:
    client.app.state.personae.max_card_bytes = 1000  # type: ignore[attr-defined]
    big = post_book(client, b'{"entries": {}, "pad": "' + b"x" * 5000 + b'"}')
    assert error_of(big, 413)["code"] == "request_too_large"


def test_attach_to_character_reaches_stateless_and_stored_prompts(
    client: TestClient, backends: Backends
) -> None:
    book_id = post_book(client).json()["id"]
    attached = client.post(f"/api/lorebooks/{book_id}/attach", json={"character": "holmes"})
    assert attached.status_code == 200 and attached.json()["attached"]["characters"] == ["holmes"]
    listed = client.get("/api/lorebooks", params={"character": "holmes"}).json()["data"]
    assert [b["id"] for b in listed] == [book_id]
    ask = {"model": "holmes", "messages": [{"role": "user", "content": "A hound!"}]}
    assert client.post("/v1/chat/completions", json=ask).status_code == 200
    assert "WORLD-LORE" in prompt(backends, 0)  # stateless
    stored = client.post("/v1/chat/completions", json={**ask, "user": "local"})
    assert stored.status_code == 200, stored.text
    assert "WORLD-LORE" in prompt(backends, 1)  # a stored chat
    client.post(f"/api/lorebooks/{book_id}/detach", json={"character": "holmes"})
    client.post("/v1/chat/completions", json=ask)
    assert "WORLD-LORE" not in prompt(backends, 2)


def test_attach_to_a_chat(client: TestClient, backends: Backends) -> None:
    book_id = post_book(client).json()["id"]
    chat_id = client.post("/api/chats", json={"character": "holmes"}).json()["id"]
    other = client.post("/api/chats", json={"character": "holmes"}).json()["id"]
    done = client.post(f"/api/lorebooks/{book_id}/attach", json={"chat_id": chat_id})
    assert done.json()["attached"]["chats"] == [chat_id]
    assert [b["id"] for b in client.get(f"/api/lorebooks?chat_id={chat_id}").json()["data"]] == [
        book_id
    ]
    for target in (chat_id, other):
        body = {
            "model": "holmes",
            "chat_id": target,
            "messages": [{"role": "user", "content": "A hound!"}],
        }
        assert client.post("/v1/chat/completions", json=body).status_code == 200
    assert "WORLD-LORE" in prompt(backends, 0) and "WORLD-LORE" not in prompt(backends, 1)
    client.delete(f"/api/chats/{chat_id}")
    assert client.get(f"/api/lorebooks/{book_id}").json()["attached"]["chats"] == []


def test_users_never_see_each_others_books(tmp_path: Path, backends: Backends) -> None:
    with keyed_client(tmp_path, backends) as (client, users):
        alice, bob = users["alice"], users["bob"]
        mine = post_book(client, headers=alice).json()
        assert mine["owner_id"] == "alice" and mine["shared"] is False
        url = f"/api/lorebooks/{mine['id']}"
        # For bob it does not exist: every route says so the same way as for an unknown id.
        unknown = error_of(client.get("/api/lorebooks/0000abcd", headers=bob), 404)
        for response in (
            client.get(url, headers=bob),
            client.get(f"{url}/export", headers=bob),
            client.delete(url, headers=bob),
            client.post(f"{url}/attach", json={"character": "holmes"}, headers=bob),
        ):
            assert error_of(response, 404)["code"] == unknown["code"]
        assert client.get("/api/lorebooks", headers=bob).json()["data"] == []
        # alice attaches hers to the shared Holmes: only her turns get it.
        client.post(f"{url}/attach", json={"character": "holmes"}, headers=alice)
        assert client.get("/api/lorebooks?character=holmes", headers=bob).json()["data"] == []
        assert len(client.get("/api/lorebooks?character=holmes", headers=alice).json()["data"]) == 1
        ask = {"model": "holmes", "messages": [{"role": "user", "content": "A hound!"}]}
        for headers in (alice, bob):
            assert client.post("/v1/chat/completions", json=ask, headers=headers).is_success
        assert "WORLD-LORE" in prompt(backends, 0) and "WORLD-LORE" not in prompt(backends, 1)
        # bob cannot attach it to his chats, nor anything to alice's chats.
        bobs_chat = client.post("/api/chats", json={"character": "holmes"}, headers=bob).json()
        error_of(client.post(f"{url}/attach", json={"chat_id": bobs_chat["id"]}, headers=bob), 404)
        alices_chat = client.post("/api/chats", json={"character": "holmes"}, headers=alice).json()
        shared = post_book(client, headers=bob, shared="true").json()
        assert shared["shared"] is True and shared["editable"] is True
        attach = client.post(
            f"/api/lorebooks/{shared['id']}/attach",
            json={"chat_id": alices_chat["id"]},
            headers=bob,
        )
        error_of(attach, 404)
        # A shared book is visible to alice but only bob may delete it.
        seen = client.get(f"/api/lorebooks/{shared['id']}", headers=alice).json()
        assert seen["editable"] is False
        assert error_of(client.delete(f"/api/lorebooks/{shared['id']}", headers=alice), 403)
        # Moriarty is alice's private character: bob cannot attach to it either.
        moriarty = client.post(
            f"/api/lorebooks/{shared['id']}/attach", json={"character": "moriarty"}, headers=bob
        )
        error_of(moriarty, 404)


def test_a_world_info_file_posted_as_a_card_is_sent_here(client: TestClient) -> None:
    sent = client.post("/api/characters", content=json.dumps(WORLD), headers=JSON)
    assert "/api/lorebooks" in error_of(sent, 400)["message"]
