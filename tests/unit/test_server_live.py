"""A real uvicorn server on 127.0.0.1 with the scripted backend, spoken to by real clients: the
official ``openai`` package, SillyTavern's connection probe, and a client that hangs up."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import openai
import pytest

from personae.store import ChatRepository, Database
from tests.support.server import Backends, live_server, make_app, sse_events


def test_openai_client_stateless_and_stateful(tmp_path: Path, backends: Backends) -> None:
    backends.default.enqueue("Your tan, Watson.", "I observed.", "Your limp.")
    with live_server(make_app(tmp_path, backends)) as base_url:
        client = openai.OpenAI(base_url=base_url, api_key="anything", max_retries=0)
        assert [m.id for m in client.models.list()] == ["holmes", "irene", "raw:scripted-default"]

        # Stateless, streamed: the client keeps the history.
        pieces = []
        stream = client.chat.completions.create(
            model="holmes",
            messages=[{"role": "user", "content": "How did you know?"}],
            stream=True,
            stream_options={"include_usage": True},
        )
        for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content:
                pieces.append(chunk.choices[0].delta.content)
            if not chunk.choices:
                assert chunk.usage is not None and chunk.usage.completion_tokens == 3
        assert "".join(pieces) == "Your tan, Watson."

        # Stateful: start a stored chat for a user, then continue it by chat_id.
        raw = client.chat.completions.with_raw_response.create(
            model="holmes", messages=[{"role": "user", "content": "How?"}], user="alice"
        )
        chat_id = int(raw.headers["x-personae-chat-id"])
        assert raw.parse().choices[0].message.content == "I observed."
        stream = client.chat.completions.create(
            model="holmes",
            messages=[{"role": "user", "content": "And the limp?"}],
            stream=True,
            extra_body={"chat_id": chat_id},
        )
        first = next(iter(stream))
        assert (first.model_extra or {})["personae"]["chat_id"] == chat_id
        text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
        assert text == "Your limp."

        with pytest.raises(openai.NotFoundError) as missing:
            client.chat.completions.create(
                model="moriarty", messages=[{"role": "user", "content": "hi"}]
            )
        assert missing.value.code == "model_not_found"

    with Database(tmp_path / "server.db") as db:
        stored = ChatRepository(db).messages(chat_id)
    assert [m.content for m in stored[1:]] == ["How?", "I observed.", "And the limp?", "Your limp."]


def test_sillytavern_probe_then_streamed_chat(tmp_path: Path, backends: Backends) -> None:
    """What SillyTavern's "Custom (OpenAI-compatible)" source does on Connect and on Send:
    list models with its key as a Bearer token, then stream a completion carrying its own
    prompt and sampler fields. Keys are not checked yet, so any Bearer is accepted."""
    backends.default.enqueue("Elementary.")
    headers = {"Authorization": "Bearer x"}
    with live_server(make_app(tmp_path, backends)) as base_url:
        models = httpx.get(f"{base_url}/models", headers=headers, timeout=10)
        assert models.status_code == 200
        assert "holmes" in [m["id"] for m in models.json()["data"]]
        body = {
            "model": "holmes",
            "messages": [
                {"role": "system", "content": "Write Holmes's next reply in a fictional chat."},
                {"role": "system", "content": "[Start a new Chat]"},
                {"role": "assistant", "content": "You have been in Afghanistan, I perceive."},
                {"role": "user", "content": "How did you know?"},
            ],
            "temperature": 1,
            "frequency_penalty": 0,
            "presence_penalty": 0,
            "top_p": 1,
            "top_k": 0,
            "max_tokens": 300,
            "stream": True,
            "stop": ["\nWatson:"],
            "logit_bias": {},
            "seed": -1,
            "n": 1,
        }
        with httpx.stream(
            "POST", f"{base_url}/chat/completions", json=body, headers=headers, timeout=10
        ) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            events = sse_events(response.iter_lines())
    assert events[-1] == "[DONE]"
    deltas = [json.loads(e)["choices"][0]["delta"] for e in events[:-1]]
    assert deltas == [{"role": "assistant"}, {"content": "Elementary."}, {}]
    system = backends.default.calls[0][0][0].content
    assert "Write Holmes's next reply" in system and "[Start a new Chat]" in system


def test_client_hanging_up_stops_generation_and_keeps_the_partial_reply(
    tmp_path: Path, backends: Backends
) -> None:
    backends.default.delay = 0.05
    backends.default.enqueue(" ".join(f"word{i}" for i in range(400)))
    body = {
        "model": "holmes",
        "user": "alice",
        "stream": True,
        "max_tokens": 1000,
        "messages": [{"role": "user", "content": "Tell me everything."}],
    }
    with live_server(make_app(tmp_path, backends)) as base_url:
        with httpx.stream("POST", f"{base_url}/chat/completions", json=body, timeout=10) as r:
            chat_id = int(r.headers["x-personae-chat-id"])
            for line in r.iter_lines():
                if '"content"' in line:
                    break  # hang up after the first words
        # The reply row is written as the job winds down; wait for it, not for the backend.
        deadline = time.monotonic() + 15
        while True:
            with Database(tmp_path / "server.db") as db:
                last = ChatRepository(db).messages(chat_id)[-1]
            if last.finish_reason is not None:
                break
            assert time.monotonic() < deadline, "the reply was never marked as cancelled"
            time.sleep(0.05)
    assert backends.default.closed_early == 1  # generation stopped, not run to the end
    assert last.role == "assistant" and last.status == "incomplete"
    assert last.finish_reason == "cancelled" and last.content.startswith("word0")
    assert len(last.content.split()) < 400


def test_client_giving_up_on_a_non_streamed_reply_stops_it(
    tmp_path: Path, backends: Backends
) -> None:
    backends.default.delay = 0.05
    backends.default.enqueue(" ".join(f"word{i}" for i in range(400)))
    body = {
        "model": "holmes",
        "user": "alice",
        "max_tokens": 1000,
        "messages": [{"role": "user", "content": "Tell me everything."}],
    }
    with live_server(make_app(tmp_path, backends)) as base_url:
        with pytest.raises(httpx.ReadTimeout):
            httpx.post(f"{base_url}/chat/completions", json=body, timeout=0.5)
        deadline = time.monotonic() + 15
        while True:
            with Database(tmp_path / "server.db") as db:
                last = ChatRepository(db).messages(1)[-1]
            if last.finish_reason is not None:
                break
            assert time.monotonic() < deadline, "the reply went on after the client left"
            time.sleep(0.05)
    assert last.finish_reason == "cancelled" and last.status == "incomplete"
    assert backends.default.closed_early == 1 and len(last.content.split()) < 400
