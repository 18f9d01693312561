"""R4 on the OpenAI-compatible routes: once a key exists every request needs one, the key decides
the user, and one user never reaches another's chats, memories or private characters."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from personae.store import CharacterRepository, Database
from personae.store.keys import KeyRepository
from tests.support.factories import make_character
from tests.support.server import Backends, make_app

URL = "/v1/chat/completions"


@pytest.fixture
def app_and_keys(
    tmp_path: Path, backends: Backends, store_location: str | Path
) -> Iterator[tuple[TestClient, dict[str, str]]]:
    """R4 runs on both stores: a SQLite file, and PostgreSQL (where keys live for every
    process of a cluster)."""
    from personae.memory.bank import MemoryBank
    from tests.support.embedder import HashEmbedder

    app = make_app(
        tmp_path,
        backends,
        store=store_location,
        memory=lambda db: MemoryBank(db, embedder=HashEmbedder()),
    )
    with Database(store_location) as db:
        keys = {user: KeyRepository(db).create(user)[1] for user in ("alice", "bob")}
        CharacterRepository(db).add(
            make_character("Moriarty", description="A private villain."),
            owner_id="alice",
            shared=False,
        )
    with TestClient(app) as client:
        yield client, keys


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def ask(text: str, **fields: Any) -> dict[str, Any]:
    return {"model": "holmes", "messages": [{"role": "user", "content": text}], **fields}


def test_an_open_server_needs_no_key(tmp_path: Path) -> None:
    with TestClient(make_app(tmp_path)) as client:
        assert client.get("/v1/models").status_code == 200
        assert client.post(URL, json=ask("Hello")).status_code == 200


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer pk-00000000-wrong"},
        {"Authorization": "Bearer "},
        {"Authorization": "Basic YWxpY2U6cGFzcw=="},
        {"X-API-Key": "sk-something-else"},
    ],
)
def test_missing_or_invalid_keys_get_401(
    app_and_keys: tuple[TestClient, dict[str, str]], headers: dict[str, str]
) -> None:
    client, _ = app_and_keys
    for response in (
        client.get("/v1/models", headers=headers),
        client.get("/v1/models/holmes", headers=headers),
        client.post(URL, json=ask("Hello"), headers=headers),
        client.post(URL, json=ask("Hello", stream=True), headers=headers),
    ):
        assert response.status_code == 401, response.text
        error = response.json()["error"]
        assert error["code"] == "invalid_api_key" and error["type"] == "invalid_request_error"
        assert response.headers["www-authenticate"] == "Bearer"


def test_both_header_forms_work(app_and_keys: tuple[TestClient, dict[str, str]]) -> None:
    client, keys = app_and_keys
    assert client.get("/v1/models", headers=auth(keys["alice"])).status_code == 200
    assert client.get("/v1/models", headers={"X-API-Key": keys["bob"]}).status_code == 200


def test_a_revoked_key_stops_working_at_once(
    store_location: str | Path, app_and_keys: tuple[TestClient, dict[str, str]]
) -> None:
    client, keys = app_and_keys
    assert client.get("/v1/models", headers=auth(keys["bob"])).status_code == 200
    with Database(store_location) as db:
        KeyRepository(db).revoke(keys["bob"])
    assert client.get("/v1/models", headers=auth(keys["bob"])).status_code == 401
    assert client.get("/v1/models", headers=auth(keys["alice"])).status_code == 200


def test_private_characters_are_their_owners_alone(
    app_and_keys: tuple[TestClient, dict[str, str]],
) -> None:
    client, keys = app_and_keys

    def models(key: str) -> list[str]:
        return [m["id"] for m in client.get("/v1/models", headers=auth(key)).json()["data"]]

    assert "moriarty" in models(keys["alice"])
    assert "moriarty" not in models(keys["bob"])
    hidden = client.get("/v1/models/moriarty", headers=auth(keys["bob"]))
    assert hidden.status_code == 404
    for model in ("moriarty", "Moriarty", "moriarty@scripted-default"):
        refused = client.post(URL, json={**ask("Hi"), "model": model}, headers=auth(keys["bob"]))
        assert refused.status_code == 404, model
        assert refused.json()["error"]["code"] == "model_not_found"
    allowed = client.post(URL, json={**ask("Hi"), "model": "moriarty"}, headers=auth(keys["alice"]))
    assert allowed.status_code == 200


def test_the_key_decides_whose_chat_it_is(
    app_and_keys: tuple[TestClient, dict[str, str]],
) -> None:
    client, keys = app_and_keys
    opened = client.post(URL, json=ask("Hello", user="alice"), headers=auth(keys["alice"]))
    assert opened.status_code == 200
    assert opened.json()["personae"]["user_id"] == "alice"
    chat_id = opened.json()["personae"]["chat_id"]
    # chat_id alone continues it: the key says whose it is.
    own = client.post(URL, json=ask("Hi", chat_id=chat_id), headers=auth(keys["alice"]))
    assert own.status_code == 200
    # Bob can neither continue Alice's chat nor act as Alice.
    theirs = client.post(URL, json=ask("Hi", chat_id=chat_id), headers=auth(keys["bob"]))
    assert theirs.status_code == 404 and theirs.json()["error"]["code"] == "chat_not_found"
    posing = client.post(URL, json=ask("Hi", user="alice"), headers=auth(keys["bob"]))
    assert posing.status_code == 403
    assert posing.json()["error"]["code"] == "permission_denied"


def test_one_users_memories_never_reach_anothers_prompt(
    app_and_keys: tuple[TestClient, dict[str, str]], backends: Backends
) -> None:
    client, keys = app_and_keys
    said = ask("My sister Harriet lives in Brighton and breeds bees.", user="alice")
    assert client.post(URL, json=said, headers=auth(keys["alice"])).status_code == 200
    for who in ("alice", "bob"):
        asked = ask("Where does my sister Harriet live?", user=who, new_chat=True)
        assert client.post(URL, json=asked, headers=auth(keys[who])).status_code == 200
    alice_prompt, bob_prompt = (
        "\n".join(m.content for m in messages) for messages, _ in backends.default.calls[-2:]
    )
    assert "Brighton" in alice_prompt
    assert "Brighton" not in bob_prompt
