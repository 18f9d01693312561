"""Bad requests get OpenAI error bodies with the right status, never a traceback or HTML."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.support.server import make_app

URL = "/v1/chat/completions"
JSON = {"Content-Type": "application/json"}
GOOD = {"model": "holmes", "messages": [{"role": "user", "content": "hi"}]}


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(make_app(tmp_path, max_body_bytes=4000)) as c:
        yield c


def error_of(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    error: dict[str, Any] = body["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["message"] and "\n" not in error["message"]
    assert "Traceback" not in response.text
    return error


@pytest.mark.parametrize(
    "raw",
    [b"{not json", b"", b"   ", b"[1, 2]", b'"text"', b'{"model": NaN}', b"\xff\xfe{"],
    ids=["broken", "empty", "blank", "array", "string", "nan", "bad-utf8"],
)
def test_malformed_json(client: TestClient, raw: bytes) -> None:
    response = client.post(URL, content=raw, headers={"content-type": "application/json"})
    error = error_of(response, 400)
    assert error["type"] == "invalid_request_error" and error["code"] == "invalid_json"


@pytest.mark.parametrize(
    ("change", "param"),
    [
        ({"messages": None}, "messages"),
        ({"model": None}, "model"),
        ({"messages": []}, "messages"),
        ({"messages": "hi"}, "messages"),
        ({"model": 5}, "model"),
        ({"model": ""}, "model"),
        ({"temperature": "hot"}, "temperature"),
        ({"temperature": 3}, "temperature"),
        ({"top_p": 1.5}, "top_p"),
        ({"stream": "yes"}, "stream"),
        ({"n": 0}, "n"),
        ({"n": 100}, "n"),
        ({"n": True}, "n"),
        ({"max_tokens": 0}, "max_tokens"),
        ({"max_tokens": 10**9}, "max_tokens"),
        ({"max_completion_tokens": "10"}, "max_completion_tokens"),
        ({"seed": 1.5}, "seed"),
        ({"stop": [1]}, "stop"),
        ({"stop": [""]}, "stop"),
        ({"stop": ["x"] * 100}, "stop"),
        ({"stream_options": {"include_usage": "no"}}, "stream_options.include_usage"),
        ({"chat_id": "abc"}, "chat_id"),
        ({"chat_id": 0}, "chat_id"),
        ({"user": 5}, "user"),
        ({"messages": [{"content": "hi"}]}, "messages[0].role"),
        ({"messages": [{"role": "tool", "content": "x"}]}, "messages[0].role"),
        ({"messages": [{"role": "wizard", "content": "x"}]}, "messages[0].role"),
        ({"messages": [{"role": "user", "content": 5}]}, "messages[0].content"),
        (
            {"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {}}]}]},
            "messages[0].content",
        ),
        ({"messages": ["hi"]}, "messages[0]"),
        # (System messages alone, or a blank user message, are fine: the character speaks.)
        ({"model": "raw:", "messages": [{"role": "user", "content": "   "}]}, "messages"),
        ({"continue_final_message": 1}, "continue_final_message"),
        ({"model": "@tiny"}, "model"),
    ],
)
def test_invalid_fields_name_the_parameter(
    client: TestClient, change: dict[str, Any], param: str
) -> None:
    body = {**GOOD, **change}
    body = {k: v for k, v in body.items() if v is not None}
    error = error_of(client.post(URL, json=body), 400)
    assert error["param"] == param, error
    assert error["type"] == "invalid_request_error"


def test_missing_field_message(client: TestClient) -> None:
    error = error_of(client.post(URL, json={"model": "holmes"}), 400)
    assert error["message"] == "missing required parameter 'messages'"


def test_unknown_fields_are_ignored(client: TestClient) -> None:
    body = {**GOOD, "presence_penalty": 0.5, "logit_bias": {}, "frequency_penalty": 0}
    assert client.post(URL, json=body).status_code == 200


def test_unknown_character(client: TestClient) -> None:
    for model in ("moriarty", "gpt-4o", "../etc/passwd", "moriarty@tiny"):
        error = error_of(client.post(URL, json={**GOOD, "model": model}), 404)
        assert error["code"] == "model_not_found" and error["param"] == "model"
        assert "/v1/models" in error["message"]


def test_character_by_name_in_any_case(client: TestClient) -> None:
    assert client.post(URL, json={**GOOD, "model": "HOLMES"}).status_code == 200


def test_oversized_body_with_length(client: TestClient) -> None:
    body = {**GOOD, "messages": [{"role": "user", "content": "x" * 5000}]}
    error = error_of(client.post(URL, json=body), 413)
    assert error["code"] == "request_too_large" and "4,000 bytes" in error["message"]


def test_oversized_body_streamed_without_length(client: TestClient) -> None:
    def body() -> Iterator[bytes]:
        yield b'{"model": "holmes", "messages": [{"role": "user", "content": "'
        for _ in range(10):
            yield b"x" * 1000
        yield b'"}]}'

    error = error_of(client.post(URL, content=body(), headers=JSON), 413)
    assert error["code"] == "request_too_large"


def test_unknown_route_and_method(client: TestClient) -> None:
    assert error_of(client.get("/v1/nothing"), 404)["code"] == "not_found"
    assert error_of(client.get(URL), 405)["code"] == "method_not_allowed"
    assert error_of(client.get("/nothing-here"), 404)["type"] == "invalid_request_error"


def test_streaming_request_errors_are_json_too(client: TestClient) -> None:
    error = error_of(client.post(URL, json={**GOOD, "model": "nobody", "stream": True}), 404)
    assert error["code"] == "model_not_found"
