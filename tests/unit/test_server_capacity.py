"""The server under load: a 429 with Retry-After once slots and queue are full, a slow reader
that holds up nobody, parallel slots and the wait queue as settings (flags, config, bad values),
the embedded backend's context per slot, and CORS."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from personae.config import Settings, load_settings
from personae.errors import ConfigError
from personae.server import create_app
from personae.server.admission import Admission
from personae.server.options import resolve
from tests.support.server import (
    DEFAULT_MODEL,
    Backends,
    live_server,
    make_app,
    make_store,
    wait_until,
)

BODY = {"model": "holmes", "messages": [{"role": "user", "content": "How did you know?"}]}


def admission(app: FastAPI) -> Admission:
    result: Admission = app.state.personae.workers.admission
    return result


# -- over capacity ------------------------------------------------------------------------------


def test_third_request_over_one_slot_and_one_place_gets_429(tmp_path: Path) -> None:
    backends = Backends()
    backends.default.gate = threading.Event()
    backends.default.enqueue("First.", "Second.")
    app = make_app(tmp_path, backends, parallel=1, max_queue=1)
    results: dict[str, httpx.Response] = {}

    def ask(name: str, url: str) -> None:
        results[name] = httpx.post(f"{url}/chat/completions", json=BODY, timeout=30)

    with live_server(app) as url:
        first = threading.Thread(target=ask, args=("first", url))
        first.start()
        wait_until(lambda: admission(app).running == 1, what="the first reply to start")
        second = threading.Thread(target=ask, args=("second", url))
        second.start()
        wait_until(lambda: admission(app).waiting == 1, what="the second to queue")

        refused = httpx.post(f"{url}/chat/completions", json={**BODY, "stream": True}, timeout=10)
        assert refused.status_code == 429
        assert refused.headers["content-type"].startswith("application/json")  # not a stream
        assert int(refused.headers["retry-after"]) >= 1
        error = refused.json()["error"]
        assert error["type"] == "requests" and error["code"] == "rate_limit_exceeded"
        assert error["param"] is None and "the server is busy" in error["message"]

        client = openai.OpenAI(base_url=url, api_key="x", max_retries=0)
        with pytest.raises(openai.RateLimitError) as limited:
            client.chat.completions.create(
                model="holmes", messages=[{"role": "user", "content": "And now?"}]
            )
        assert limited.value.code == "rate_limit_exceeded"

        backends.default.gate.set()
        first.join(30)
        second.join(30)
    assert results["first"].status_code == 200 and results["second"].status_code == 200
    texts = {r.json()["choices"][0]["message"]["content"] for r in results.values()}
    assert texts == {"First.", "Second."}
    assert len(backends.default.calls) == 2  # the refused ones never reached the backend


# -- slow clients -------------------------------------------------------------------------------

PIECE = "abc " * 65_536  # 256 KiB of text per chunk
PIECES = 48  # 12 MiB: far more than the socket buffers hold


def slow_reader(url: str, body: dict[str, Any]) -> socket.socket:
    """A client that sends a streaming request and then reads nothing: a tiny receive buffer,
    HTTP/1.0 (no chunked framing, the body ends when the server closes)."""
    host, port = url.removeprefix("http://").split("/")[0].split(":")
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16_384)
    sock.connect((host, int(port)))
    payload = json.dumps(body).encode()
    sock.sendall(
        b"POST /v1/chat/completions HTTP/1.0\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/json\r\n"
        + f"Content-Length: {len(payload)}\r\n\r\n".encode()
        + payload
    )
    return sock


def read_all(sock: socket.socket) -> bytes:
    sock.settimeout(30)
    data = bytearray()
    while part := sock.recv(1 << 20):
        data += part
    return bytes(data)


def test_a_slow_reader_holds_up_nobody(tmp_path: Path) -> None:
    backends = Backends()
    backends.default.enqueue([PIECE] * PIECES, "Quick.")
    app = make_app(tmp_path, backends, parallel=1, max_queue=4)
    big = {**BODY, "stream": True, "max_tokens": 1000}
    with live_server(app) as url:
        slow = slow_reader(url, big)
        try:
            # Its whole reply is generated although it reads nothing, and the one slot frees.
            wait_until(lambda: len(backends.default.calls) == 1, what="the slow request")
            started = time.monotonic()
            fast = httpx.post(f"{url}/chat/completions", json=BODY, timeout=20)
            assert fast.status_code == 200
            assert fast.json()["choices"][0]["message"]["content"] == "Quick."
            assert time.monotonic() - started < 10
            raw = read_all(slow)  # and the slow reader still gets every byte, in order
        finally:
            slow.close()
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200")
    events = [e.removeprefix(b"data: ") for e in body.split(b"\n\n") if e]
    assert events[-1] == b"[DONE]"
    text = "".join(
        json.loads(e)["choices"][0]["delta"].get("content", "")
        for e in events[:-1]
        if json.loads(e)["choices"]
    )
    assert text == (PIECE * PIECES).rstrip()  # a reply never ends in a space
    assert backends.default.closed_early == 0


def test_a_stalled_reader_that_hangs_up_is_cancelled(tmp_path: Path) -> None:
    backends = Backends()
    backends.default.delay = 0.01
    backends.default.enqueue([PIECE] * 2000)  # 20 s of generation unless cancelled
    app = make_app(tmp_path, backends, parallel=1)
    with live_server(app) as url:
        sock = slow_reader(url, {**BODY, "stream": True, "max_tokens": 3000})
        sock.settimeout(10)
        assert sock.recv(64).startswith(b"HTTP/1.1 200")
        time.sleep(1.0)  # ~100 pieces, 25 MiB: the server is stuck writing to this client
        sock.close()
        wait_until(lambda: backends.default.closed_early == 1, what="generation to stop")
        wait_until(lambda: admission(app).running == 0, what="the slot to free")


# -- settings -----------------------------------------------------------------------------------


def write_config(home: Path, text: str) -> None:
    (home / "config.toml").write_text(text, encoding="utf-8")


@pytest.mark.parametrize(
    ("table", "words"),
    [
        ("parallel = 0", "[server] parallel must be a whole number from 1 to 64, not 0"),
        ("parallel = 65", "[server] parallel must be a whole number from 1 to 64"),
        ("parallel = true", "[server] parallel must be a whole number"),
        ('parallel = "4"', "[server] parallel must be a whole number"),
        ("max_queue = -1", "[server] max_queue must be a whole number from 0 to 10,000, not -1"),
        ("max_queue_per_user = 0", "[server] max_queue_per_user must be a whole number from 1"),
        ('cors_origins = "http://localhost:3000"', "must be a list of origins"),
        ('cors_origins = ["http://localhost:3000/"]', "is not an origin"),
        ('cors_origins = ["localhost:3000"]', "is not an origin"),
        ("cors_origins = [3000]", "is not an origin"),
        ("slots = 4", "[server] has no setting 'slots': use parallel, max_queue"),
    ],
)
def test_bad_server_settings_are_clear(personae_home: Path, table: str, words: str) -> None:
    write_config(personae_home, f"[server]\n{table}\n")
    with pytest.raises(ConfigError) as bad:
        resolve(load_settings())
    assert words in str(bad.value)


def test_server_table_must_be_a_table(personae_home: Path) -> None:
    write_config(personae_home, 'server = "fast"\n')
    with pytest.raises(ConfigError, match=r"\[server\] must be a table"):
        load_settings()


@pytest.mark.parametrize(
    ("given", "words"),
    [
        ({"parallel": 0}, "parallel must be a whole number from 1 to 64, not 0"),
        ({"max_queue": -1}, "max_queue must be a whole number from 0 to 10,000, not -1"),
        ({"cors_origins": ["http://a.example/path"]}, "is not an origin"),
    ],
)
def test_bad_app_arguments_are_clear(tmp_path: Path, given: dict[str, Any], words: str) -> None:
    with pytest.raises(ConfigError) as bad:
        make_app(tmp_path, **given)
    assert words in str(bad.value)


def test_parallel_defaults_and_precedence(personae_home: Path) -> None:
    embedded = Settings(backend="embedded", model="smollm2-135m")
    settings, options = resolve(embedded)
    assert options.parallel == 1 and settings.backend_options["n_parallel"] == 1
    assert options.max_queue == 64 and options.cors_origins == ()
    tuned = embedded.with_overrides(n_parallel=3)
    assert resolve(tuned)[1].parallel == 3
    settings, options = resolve(tuned, parallel=5)  # the flag wins, and sets the slots too
    assert options.parallel == 5 and settings.backend_options["n_parallel"] == 5
    remote = Settings(backend="openai", model="gpt")
    settings, options = resolve(remote)
    assert options.parallel == 8 and "n_parallel" not in settings.backend_options
    write_config(personae_home, '[server]\nparallel = 2\ncors_origins = ["HTTP://Example.COM"]\n')
    settings, options = resolve(load_settings())
    assert options.parallel == 2 and settings.backend_options["n_parallel"] == 2
    assert options.cors_origins == ("http://example.com",)
    _, options = resolve(load_settings(), parallel=6, cors_origins=["*"])
    assert (options.parallel, options.cors_origins) == (6, ("*",))


def test_app_uses_the_server_table(tmp_path: Path, personae_home: Path) -> None:
    write_config(personae_home, "[server]\nparallel = 3\nmax_queue = 5\nmax_queue_per_user = 4\n")
    settings = load_settings().with_overrides(backend="scripted", model=DEFAULT_MODEL)
    app = create_app(
        make_store(tmp_path / "s.db"), settings=settings, backend_factory=Backends(), memory=False
    )
    limits = admission(app)
    assert (limits.slots, limits.max_queue, limits.max_queue_per_user) == (3, 5, 4)
    app.state.personae.workers.shutdown()


def test_embedded_context_is_per_slot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """n_parallel slots share llama.cpp's cache split evenly, so it is asked for n_ctx × N."""
    import xllamacpp

    from personae.backends.embedded import EmbeddedBackend, EmbeddedOptions

    made: list[Any] = []

    class FakeServer:
        listening_address = "http://127.0.0.1:9"

        def __init__(self, params: Any) -> None:
            made.append(params)

    monkeypatch.setattr(xllamacpp, "Server", FakeServer)
    model = tmp_path / "tiny.gguf"
    model.write_bytes(b"GGUF" + bytes(60))
    backend = EmbeddedBackend(EmbeddedOptions(model=str(model), n_ctx=2048, n_parallel=4))
    try:
        [params] = made
        assert params.n_parallel == 4 and params.n_ctx == 8192 and params.kv_unified is False
        assert backend.n_ctx == 2048  # what one chat may use
    finally:
        backend.close()


# -- CORS ---------------------------------------------------------------------------------------

ALLOWED = "http://localhost:3000"


@pytest.fixture
def cors_client(tmp_path: Path) -> Iterator[TestClient]:
    backends = Backends()
    backends.default.enqueue("Elementary.")
    with TestClient(make_app(tmp_path, backends, cors_origins=[ALLOWED])) as client:
        yield client


def preflight(client: TestClient, origin: str) -> Any:
    return client.options(
        "/v1/chat/completions",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )


def test_cors_preflight_from_an_allowed_origin(cors_client: TestClient) -> None:
    response = preflight(cors_client, ALLOWED)
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == ALLOWED
    allowed = response.headers["access-control-allow-headers"].lower()
    assert "authorization" in allowed and "content-type" in allowed
    assert "POST" in response.headers["access-control-allow-methods"]


def test_cors_preflight_from_another_origin(cors_client: TestClient) -> None:
    response = preflight(cors_client, "http://evil.example")
    assert response.status_code == 400
    assert "access-control-allow-origin" not in response.headers


def test_cors_response_exposes_the_chat_id(cors_client: TestClient) -> None:
    response = cors_client.post(
        "/v1/chat/completions", json={**BODY, "user": "alice"}, headers={"Origin": ALLOWED}
    )
    assert response.status_code == 200 and "x-personae-chat-id" in response.headers
    assert response.headers["access-control-allow-origin"] == ALLOWED
    assert "x-personae-chat-id" in response.headers["access-control-expose-headers"].lower()
    other = cors_client.get("/v1/models", headers={"Origin": "http://evil.example"})
    assert "access-control-allow-origin" not in other.headers


def test_no_cors_by_default(tmp_path: Path) -> None:
    with TestClient(make_app(tmp_path)) as client:
        response = preflight(client, ALLOWED)
    assert "access-control-allow-origin" not in response.headers
