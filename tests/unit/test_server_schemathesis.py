"""Generated requests for every operation in the server's own ``/openapi.json`` (schemathesis):
no input, valid or not, gets a 5xx, and every answer has a documented status, content type and
body shape. A scripted backend answers the chats; the example counts stay small so the whole
file takes seconds.

Each operation starts from the same store, where the schema's examples exist (the character
``sherlock``, chat 1 with messages 1-3, memory 1), so generated requests reach real rows and
one operation's deletes do not starve the next.

Schemathesis is driven through its Hypothesis strategies, not its pytest plugin (which pyproject
switches off): the plugin reaches into pytest's private attributes and broke on pytest 9.2
(``'Function' object has no attribute '_nodeid'``), while strategies and checks are its public API.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import Case, GenerationMode
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


SETTINGS = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)


def server_schema(tmp_path: Path) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_asgi("/openapi.json", make_app(tmp_path))


def operation_labels() -> list[str]:
    """Every operation in the schema ("GET /api/chats", …), read once at collection so each
    is its own test; a schema schemathesis cannot read fails here, loudly."""
    with tempfile.TemporaryDirectory() as scratch:
        return [result.ok().label for result in server_schema(Path(scratch)).get_all_operations()]


def run_cases(strategy: st.SearchStrategy[Case], rules: settings) -> None:
    @rules
    @given(case=strategy)
    def answers_conform(case: Case) -> None:
        case.call_and_validate(checks=CHECKS)

    answers_conform()


@pytest.mark.parametrize("label", operation_labels())
def test_generated_requests(label: str, tmp_path: Path) -> None:
    operation = server_schema(tmp_path).find_operation_by_label(label)
    assert operation is not None, label
    # The schema's own examples first, each once (a finite strategy ends when exhausted) …
    examples = operation.get_strategies_from_examples()
    if examples:
        seed(tmp_path / "server.db")
        run_cases(st.one_of(examples), settings(SETTINGS, max_examples=10 * len(examples)))
    # … then generated requests, valid and invalid ones, against a freshly seeded store.
    seed(tmp_path / "server.db")
    modes = [operation.as_strategy(generation_mode=mode) for mode in GenerationMode]
    run_cases(st.one_of(modes), SETTINGS)


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
