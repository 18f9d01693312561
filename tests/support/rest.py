"""Helpers for the REST API tests: checking OpenAI error bodies, apps with API keys, and card
files to upload."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from personae.characters import Character, card_bytes, placeholder_png
from personae.store import CharacterRepository, Database
from personae.store.keys import KeyRepository
from tests.support.factories import make_character
from tests.support.server import Backends, make_app


def error_of(response: Any, status: int) -> dict[str, Any]:
    """The error object of an OpenAI-shaped error response with ``status``."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}, body
    error: dict[str, Any] = body["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["message"] and "\n" not in error["message"]
    assert "Traceback" not in response.text
    return error


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@contextmanager
def keyed_client(
    tmp_path: Path, backends: Backends | None = None, **options: Any
) -> Iterator[tuple[TestClient, dict[str, dict[str, str]]]]:
    """An app with keys for alice and bob, and Moriarty, a character private to alice; yields
    the client and each user's auth headers."""
    app = make_app(tmp_path, backends, **options)
    with Database(tmp_path / "server.db") as db:
        headers = {user: auth(KeyRepository(db).create(user)[1]) for user in ("alice", "bob")}
        CharacterRepository(db).add(
            make_character("Moriarty", description="A private villain."),
            owner_id="alice",
            shared=False,
        )
    with TestClient(app) as client:
        yield client, headers


def korean_character() -> Character:
    return make_character(
        "춘향",
        description="남원 퇴기 월매의 딸. 단오날 그네를 타다 이몽룡을 만난다.",
        personality="곧고 당차며, 사랑에 한결같다",
        scenario="남원 광한루, 오월 단오.",
        first_mes="도련님, 어인 일로 이리 오셨나이까?",
        mes_example="<START>\n{{user}}: 이름이 무엇이오?\n{{char}}: 춘향이라 하옵니다.",
        tags=["고전", "판소리"],
        creator="작자 미상",
    )


def png_card(character: Character, image: bytes | None = None) -> bytes:
    """A PNG card file of ``character`` (on ``image``, else a placeholder)."""
    return card_bytes(character, "png", image or placeholder_png(character.name, size=16))


def upload(
    client: TestClient,
    data: bytes,
    content_type: str = "image/png",
    headers: dict[str, str] | None = None,
    **params: Any,
) -> Any:
    return client.post(
        "/api/characters",
        content=data,
        params=params,
        headers={"Content-Type": content_type, **(headers or {})},
    )
