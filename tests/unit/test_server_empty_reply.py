"""A reply that stays empty after the agent's retry is an error over HTTP, never a 200 with no
text, and a stored chat keeps it as an incomplete reply, not a complete one."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from personae.store import ChatRepository, Database
from tests.support.server import Backends

URL = "/v1/chat/completions"


def body(**fields: Any) -> dict[str, Any]:
    return {"model": "holmes", "messages": [{"role": "user", "content": "Well?"}], **fields}


def assert_empty_reply_error(response: Any) -> None:
    assert response.status_code == 502, response.text
    error = response.json()["error"]
    assert error["code"] == "empty_reply" and error["type"] == "server_error"
    assert "empty reply" in error["message"]


@pytest.mark.parametrize("stream", [False, True])
def test_stored_chat_empty_reply_is_an_error_and_stored_incomplete(
    client: TestClient, backends: Backends, stream: bool
) -> None:
    backends.default.enqueue([], [])  # empty, and empty again on the warmer retry
    response = client.post(URL, json=body(user="alice", stream=stream))
    assert_empty_reply_error(response)
    chat_id = int(response.headers["x-personae-chat-id"])
    with Database(client.app.state.personae.db_location) as db:  # type: ignore[attr-defined]
        reply = ChatRepository(db).messages(chat_id)[-1]
    assert (reply.role, reply.content, reply.status, reply.finish_reason) == (
        "assistant",
        "",
        "incomplete",
        "empty",
    )


@pytest.mark.parametrize("stream", [False, True])
def test_stateless_empty_reply_is_an_error(
    client: TestClient, backends: Backends, stream: bool
) -> None:
    backends.default.enqueue([], [])
    assert_empty_reply_error(client.post(URL, json=body(stream=stream)))
    assert len(backends.default.calls) == 2  # the retry was made before giving up
