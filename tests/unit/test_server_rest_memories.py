"""/api/memories, /api/profile, /api/me and /api/models on a server without keys, including
that memories changed through the API reach (and leave) the prompts of stored chats."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from personae import __version__
from personae.config import Settings
from personae.memory.bank import Draft, MemoryBank
from personae.server import create_app
from personae.store import Database
from tests.support.embedder import HashEmbedder
from tests.support.rest import error_of
from tests.support.server import DEFAULT_MODEL, Backends, make_app, make_store

MEMORY_KEYS = {
    "id",
    "kind",
    "text",
    "label",
    "importance",
    "character_id",
    "chat_id",
    "user_id",
    "source",
    "evidence",
    "created_at",
    "accessed_at",
}


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(make_app(tmp_path)) as c:
        yield c


def remember(client: TestClient, text: str, **fields: Any) -> dict[str, Any]:
    response = client.post("/api/memories", json={"text": text, **fields})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def listed(client: TestClient, **params: str) -> list[dict[str, Any]]:
    response = client.get("/api/memories", params=params)
    assert response.status_code == 200, response.text
    data: list[dict[str, Any]] = response.json()["data"]
    return data


def test_add_a_note(client: TestClient) -> None:
    assert listed(client) == []
    note = remember(client, "Watson takes his tea without sugar.")
    assert set(note) == MEMORY_KEYS
    assert note["kind"] == "note" and note["user_id"] == "local"
    assert note["character_id"] is None and note["chat_id"] is None
    assert note["importance"] == 7.0 and note["source"] == "user" and note["label"] == ""
    assert listed(client) == [note]


def test_add_a_korean_fact_for_one_character(client: TestClient) -> None:
    fact = remember(
        client, "왓슨은 땅콩 알레르기가 있다.", kind="fact", label="allergy", character="holmes"
    )
    assert fact["kind"] == "fact" and fact["label"] == "allergy"
    assert fact["character_id"] == "holmes" and fact["importance"] == 9.0
    assert remember(client, "Watson once lived in Kandahar.", kind="fact")["label"] == "other"
    assert [m["text"] for m in client.get("/api/profile").json()["data"]] == [
        "왓슨은 땅콩 알레르기가 있다.",
        "Watson once lived in Kandahar.",
    ]
    irene = client.get("/api/profile", params={"character": "irene"}).json()["data"]
    assert [m["text"] for m in irene] == ["Watson once lived in Kandahar."]


def test_personal_data_is_redacted(client: TestClient) -> None:
    note = remember(client, "Write to watson@example.com or call 010-1234-5678.")
    assert "watson@example.com" not in note["text"] and "010-1234-5678" not in note["text"]
    assert listed(client)[0]["text"] == note["text"]


def test_filters(client: TestClient, tmp_path: Path) -> None:
    everyone = remember(client, "Watson is a doctor.")
    holmes = remember(client, "Watson owes Holmes a pound.", character="holmes")
    irene = remember(client, "Watson admires Irene's voice.", character="irene")
    fact = remember(client, "Watson was an army surgeon.", kind="fact", label="job")
    with Database(tmp_path / "server.db") as db:
        [line] = MemoryBank(db, embedder=None).remember(
            [Draft("line", "Elementary, my dear Watson.", character_id="holmes")]
        )
    ids = [m["id"] for m in listed(client)]
    assert ids == [everyone["id"], holmes["id"], irene["id"], fact["id"]]
    with_holmes = [m["id"] for m in listed(client, character="holmes")]
    assert with_holmes == [everyone["id"], holmes["id"], fact["id"]]
    assert [m["id"] for m in listed(client, kind="fact")] == [fact["id"]]
    assert [m["id"] for m in listed(client, kind="note", character="irene")] == [
        everyone["id"],
        irene["id"],
    ]
    lines = listed(client, kind="line", character="holmes")
    assert [m["id"] for m in lines] == [line.id] and lines[0]["user_id"] is None
    assert listed(client, kind="line") == []


@pytest.mark.parametrize(
    ("params", "status", "param"),
    [
        ({"kind": "dream"}, 400, "kind"),
        ({"character": "../etc"}, 400, "character"),
        ({"character": "z" * 3000}, 400, "character"),
        ({"character": "moriarty"}, 404, "character"),
    ],
)
def test_bad_filters(client: TestClient, params: dict[str, str], status: int, param: str) -> None:
    for url in ("/api/memories", "/api/profile"):
        if url == "/api/profile" and "kind" in params:
            continue
        assert error_of(client.get(url, params=params), status)["param"] == param


@pytest.mark.parametrize(
    ("body", "status", "param"),
    [
        ({}, 400, "text"),
        ({"text": ""}, 400, "text"),
        ({"text": "   "}, 400, None),
        ({"text": "x" * 4001}, 400, "text"),
        ({"text": 5}, 400, "text"),
        ({"text": "x", "kind": "episode"}, 400, "kind"),
        ({"text": "x", "kind": "fact", "label": "zodiac"}, 400, "label"),
        ({"text": "x", "label": 3}, 400, "label"),
        ({"text": "x", "character": "nobody"}, 404, "character"),
        ({"text": "x", "character": "a/b"}, 400, "character"),
        ({"text": "x", "user": "bob"}, 400, "user"),
    ],
)
def test_add_bad_bodies(
    client: TestClient, body: dict[str, Any], status: int, param: str | None
) -> None:
    assert error_of(client.post("/api/memories", json=body), status)["param"] == param
    assert listed(client) == []


def test_add_malformed_json(client: TestClient) -> None:
    response = client.post(
        "/api/memories", content=b'{"text": "x",', headers={"Content-Type": "application/json"}
    )
    assert error_of(response, 400)["code"] == "invalid_json"


def test_edit(client: TestClient) -> None:
    note = remember(client, "Watson likes tea.")
    edited = client.patch(f"/api/memories/{note['id']}", json={"text": "왓슨은 커피를 좋아한다."})
    assert edited.status_code == 200
    assert edited.json()["text"] == "왓슨은 커피를 좋아한다." and edited.json()["id"] == note["id"]
    relabelled = client.patch(
        f"/api/memories/{note['id']}", json={"label": "drinks", "importance": 0}
    ).json()
    assert relabelled["label"] == "drinks" and relabelled["importance"] == 0.0
    assert relabelled["text"] == "왓슨은 커피를 좋아한다."
    assert client.patch(f"/api/memories/{note['id']}", json={}).json() == relabelled
    assert listed(client) == [relabelled]


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"importance": 11}, "importance"),
        ({"importance": -1}, "importance"),
        ({"importance": "high"}, "importance"),
        ({"text": ""}, "text"),
        ({"text": "  "}, None),
        ({"label": "zodiac"}, "label"),
        ({"kind": "note"}, "kind"),
    ],
)
def test_edit_bad_bodies(client: TestClient, body: dict[str, Any], param: str | None) -> None:
    fact = remember(client, "Watson lives at 221B.", kind="fact", label="lives_in")
    response = client.patch(f"/api/memories/{fact['id']}", json=body)
    assert error_of(response, 400)["param"] == param
    assert listed(client) == [fact]


def test_forget(client: TestClient) -> None:
    note = remember(client, "Forget me.")
    response = client.delete(f"/api/memories/{note['id']}")
    assert response.status_code == 204 and response.content == b""
    assert listed(client) == []
    assert error_of(client.delete(f"/api/memories/{note['id']}"), 404)["code"] == "memory_not_found"


def test_lines_and_other_users_memories_are_not_yours(client: TestClient, tmp_path: Path) -> None:
    with Database(tmp_path / "server.db") as db:
        line, bobs = MemoryBank(db, embedder=None).remember(
            [
                Draft("line", "Elementary.", character_id="holmes"),
                Draft("note", "Bob's secret.", user_id="bob"),
            ]
        )
    for memory_id in (line.id, bobs.id):
        for response in (
            client.patch(f"/api/memories/{memory_id}", json={"text": "changed"}),
            client.delete(f"/api/memories/{memory_id}"),
        ):
            assert error_of(response, 404)["code"] == "memory_not_found"
    assert listed(client) == []


@pytest.mark.parametrize(
    ("memory_id", "status"), [("x", 400), ("0", 400), (str(2**64), 400), ("777", 404)]
)
def test_bad_and_unknown_memory_ids(client: TestClient, memory_id: str, status: int) -> None:
    for response in (
        client.patch(f"/api/memories/{memory_id}", json={"text": "x"}),
        client.delete(f"/api/memories/{memory_id}"),
    ):
        error_of(response, status)


def test_memory_changes_reach_the_chat_prompt(tmp_path: Path) -> None:
    backends = Backends()
    app = make_app(tmp_path, backends, memory=lambda db: MemoryBank(db, embedder=HashEmbedder()))
    with TestClient(app) as client:
        chat = client.post("/api/chats", json={"character": "holmes"}).json()

        def system_prompt() -> str:
            body = {
                "model": "holmes",
                "chat_id": chat["id"],
                "messages": [{"role": "user", "content": "What do you know of me?"}],
            }
            assert client.post("/v1/chat/completions", json=body).status_code == 200
            return "\n".join(m.content for m in backends.default.calls[-1][0] if m.role == "system")

        fact = remember(client, "Watson is allergic to peanuts.", kind="fact", label="allergy")
        assert "allergic to peanuts" in system_prompt()
        client.patch(f"/api/memories/{fact['id']}", json={"text": "Watson is allergic to cats."})
        prompt = system_prompt()
        assert "allergic to cats" in prompt and "peanuts" not in prompt
        assert client.delete(f"/api/memories/{fact['id']}").status_code == 204
        assert "allergic" not in system_prompt()
        assert client.delete(f"/api/chats/{chat['id']}").status_code == 204


def test_a_note_is_embedded_once_when_written(tmp_path: Path) -> None:
    # Notes were stored without a vector and embedded again by every index rebuild, under the
    # embedder's lock that every user's turn waits for (6 notes of 4,000 emoji: another user's
    # turn went from 10.7 s to 82 s).
    embedder = HashEmbedder()
    app = make_app(tmp_path, memory=lambda db: MemoryBank(db, embedder=embedder))
    with TestClient(app) as client:
        note = remember(client, "Watson takes his tea without sugar.")
        edited = client.patch(f"/api/memories/{note['id']}", json={"text": "Tea: no sugar."})
        assert edited.status_code == 200, edited.text
        with Database(tmp_path / "server.db") as db:
            stored = MemoryBank(db, embedder=None).repo.get(note["id"])
        assert stored.vector is not None and stored.embedder == embedder.name
        passages = [texts for texts, query in embedder.calls if not query]
        assert passages == [("Watson takes his tea without sugar.",), ("Tea: no sugar.",)]


def test_a_note_past_the_size_limit_is_refused(client: TestClient) -> None:
    error = error_of(client.post("/api/memories", json={"text": "😀" * 4001}), 400)
    assert error["param"] == "text"
    assert listed(client) == []


# -- me and models ---------------------------------------------------------------------------------


def test_me_on_an_open_server(client: TestClient) -> None:
    assert client.get("/api/me").json() == {
        "user_id": "local",
        "keyed": False,
        "version": __version__,
    }


def test_models_with_a_model_outside_the_catalogue(client: TestClient) -> None:
    body = client.get("/api/models").json()
    assert body["backend"] == "scripted"
    ids = [m["id"] for m in body["data"]]
    assert ids[-1] == DEFAULT_MODEL and "smollm2-135m" in ids
    assert [m["id"] for m in body["data"] if m["default"]] == [DEFAULT_MODEL]
    smol = next(m for m in body["data"] if m["id"] == "smollm2-135m")
    assert smol["pulled"] is False and smol["size_mb"] > 0 and smol["languages"]


def test_models_with_a_catalogue_default_and_a_local_file(tmp_path: Path) -> None:
    for model, expected in (("qwen2.5-coder-0.5b", None), ("/secret/dir/mine.gguf", "mine.gguf")):
        app = create_app(
            make_store(tmp_path / f"{len(model)}.db"),
            settings=Settings(backend="embedded", model=model),
            backend_factory=Backends(),
            memory=False,
            allowed_hosts=["testserver"],  # TestClient's Host name
        )
        with TestClient(app) as client:
            data = client.get("/api/models").json()["data"]
        defaults = [m["id"] for m in data if m["default"]]
        assert defaults == [expected or model]
        assert "/secret" not in str(data)
