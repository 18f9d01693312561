"""Generated requests for every operation in the server's own ``/openapi.json`` (schemathesis):
no input, valid or not, gets a 5xx, and every answer has a documented status, content type and
body shape. A scripted backend answers the chats; the example counts stay small so the whole
file takes seconds.

Each operation starts from the same store, where the schema's examples exist (the character
``sherlock``, chat 1 with messages 1-3, memory 1), so generated requests reach real rows and
one operation's deletes do not starve the next.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis import Case
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from personae.agent import Chat
from personae.memory.bank import Draft, MemoryBank
from personae.store import CharacterRepository, ChatRepository, Database
from tests.support.factories import make_character
from tests.support.server import make_app

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def seed(path: Path) -> None:
    """Empty the store and fill it again (SQLite reuses row ids 1, 2 … in empty tables)."""
    with Database(path) as db:
        with db.transaction() as conn:
            for table in ("memories", "chat_summaries", "messages", "chats", "characters"):
                conn.execute(f"DELETE FROM {table}")  # noqa: S608 (fixed names)
        characters = CharacterRepository(db)
        for name in ("Sherlock", "Irene"):
            characters.add(make_character(name))
        chat_id = Chat.create(db, "sherlock", user_name="Watson")
        chats = ChatRepository(db)
        chats.add_message(chat_id, "user", "How did you know?")
        chats.add_message(chat_id, "assistant", "Your tan.")
        MemoryBank(db, embedder=None).remember([Draft("note", "Tea, no sugar.", user_id="local")])


@pytest.fixture
def api(tmp_path: Path) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_asgi("/openapi.json", make_app(tmp_path))


schema = schemathesis.pytest.from_fixture("api")
_last_operation: dict[Path, str] = {}


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_generated_requests(case: Case, tmp_path: Path) -> None:
    if _last_operation.get(tmp_path) != case.operation.label:
        seed(tmp_path / "server.db")
        _last_operation[tmp_path] = case.operation.label
    case.call_and_validate(checks=CHECKS)


def test_the_schema_documents_every_route(tmp_path: Path) -> None:
    with TestClient(make_app(tmp_path)) as client:
        spec = client.get("/openapi.json").json()
        for page in ("/docs", "/redoc"):  # they would load scripts from a CDN
            assert client.get(page).status_code == 404
    operations = [
        (method, path, operation)
        for path, methods in spec["paths"].items()
        if path.startswith(("/api/", "/v1/"))
        for method, operation in methods.items()
    ]
    assert len(operations) >= 26  # 23 under /api, 3 under /v1
    for method, path, operation in operations:
        assert operation.get("summary"), (method, path)
        codes = set(operation["responses"])
        assert "422" not in codes and {"400", "401", "404"} <= codes, (method, path)
        assert any(code.startswith("2") for code in codes), (method, path)
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    listing = spec["paths"]["/api/characters"]["get"]["responses"]["200"]
    assert listing["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/CharacterList"
    }
    chat = spec["paths"]["/v1/chat/completions"]["post"]["requestBody"]["content"]
    assert "messages" in chat["application/json"]["schema"]["properties"]
    upload = spec["paths"]["/api/characters"]["post"]["requestBody"]["content"]
    assert {"image/png", "application/json"} <= set(upload)
