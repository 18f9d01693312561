"""A scriptable OpenAI-compatible HTTP server on 127.0.0.1, for tests of HTTP clients.

Each request takes the next scripted :class:`Reply` (or ``default`` once the script is used up):
a status with a JSON or text body, or a server-sent-event stream that can be slow, hang before
answering, or drop the connection after some events. Every request is recorded, and writes that
fail because the client went away are counted in ``disconnects``. With ``models`` set, ``GET
…/models`` lists those ids (as vLLM lists its base model and LoRA modules) without taking a
scripted reply; with ``lora_adapters`` set, ``GET /lora-adapters`` at the root answers it (as
llama-server lists its ``--lora`` files); ``models_asked`` is the ``model`` of every request that
had a body.

    with StubOpenAI() as stub:
        stub.enqueue(Reply(events=completion("Hel", "lo")))
        backend = OpenAICompatBackend.from_options(base_url=stub.url, model="m")
"""

from __future__ import annotations

import json
import socket
import sys
import threading
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

DONE = "data: [DONE]\n\n"


@dataclass
class Reply:
    """What the stub answers to one request.

    ``events`` makes an SSE stream: a dict is sent as one ``data:`` event, a str as raw text
    (for ``DONE``, comments, CRLF or split events). ``cut_after`` drops the connection after that
    many events; ``chunked=False`` ends the body by closing the connection instead of a last chunk.
    """

    status: int = 200
    json: Any = None
    text: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    events: Sequence[dict[str, Any] | str] | None = None
    hang: float = 0.0  # seconds of silence before the status line
    event_delay: float = 0.0  # seconds of silence before each event
    cut_after: int | None = None
    stall_after: int | None = None  # go silent (until the stub stops) after this many events
    chunked: bool = True


@dataclass
class Received:
    """One request as the stub saw it (``body`` is parsed JSON when it was JSON)."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any


def chunk(
    content: str | None = None, *, role: str | None = None, finish: str | None = None
) -> dict[str, Any]:
    """One ``chat.completion.chunk`` event as OpenAI sends it."""
    delta: dict[str, Any] = {}
    if role is not None:
        delta["role"] = role
    if content is not None:
        delta["content"] = content
    return {
        "id": "chatcmpl-stub",
        "object": "chat.completion.chunk",
        "created": 1700000000,
        "model": "stub",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


def usage_chunk(prompt: int, completion: int, cached: int | None = None) -> dict[str, Any]:
    """The extra chunk ``stream_options.include_usage`` asks for: no choices, only usage."""
    usage: dict[str, Any] = {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }
    if cached is not None:
        usage["prompt_tokens_details"] = {"cached_tokens": cached}
    return {"id": "chatcmpl-stub", "object": "chat.completion.chunk", "choices": [], "usage": usage}


def completion(
    *texts: str, finish: str = "stop", usage: tuple[int, ...] | None = (7, 2)
) -> list[dict[str, Any] | str]:
    """A whole well-formed stream: role chunk, content chunks, finish chunk, usage (prompt,
    completion[, cached] tokens), ``[DONE]``."""
    events: list[dict[str, Any] | str] = [chunk(role="assistant")]
    events += [chunk(text) for text in texts]
    events.append(chunk(finish=finish))
    if usage is not None:
        events.append(usage_chunk(*usage))
    events.append(DONE)
    return events


def answer(status: int, body: Any = "", **headers: str) -> Reply:
    """A plain reply: a dict body goes out as JSON, a str as text; ``retry_after="0"`` becomes the
    ``Retry-After`` header."""
    named = {name.replace("_", "-").title(): value for name, value in headers.items()}
    if isinstance(body, str):
        return Reply(status, text=body, headers=named)
    return Reply(status, json=body, headers=named)


def error_body(
    message: str, *, code: str | None = None, kind: str = "invalid_request_error"
) -> dict[str, Any]:
    """OpenAI's error body."""
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}


def refused_url() -> str:
    """A base URL on 127.0.0.1 where nothing listens (the port was bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


class StubOpenAI:
    """The server: start it with ``with``, point a client at ``url``, script it with ``enqueue``."""

    def __init__(self) -> None:
        self.requests: list[Received] = []
        self.disconnects = 0
        self.default: Reply = Reply(status=500, json=error_body("stub: no reply scripted"))
        self.models: list[str] | None = None
        self.lora_adapters: list[dict[str, Any]] | None = None
        self._replies: deque[Reply] = deque()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.stub = self
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )

    @property
    def url(self) -> str:
        """Base URL in the usual ``…/v1`` form."""
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def enqueue(self, *replies: Reply) -> None:
        with self._lock:
            self._replies.extend(replies)

    def start(self) -> StubOpenAI:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # wakes handlers that hang or wait between events
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> StubOpenAI:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def wait_for_disconnect(self, timeout: float = 2.0) -> bool:
        """True once a client has gone away mid-reply (a write to it failed)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.disconnects:
                return True
            time.sleep(0.01)
        return False

    @property
    def models_asked(self) -> list[str]:
        """The ``model`` each request with a JSON body asked for, in order."""
        with self._lock:
            return [r.body["model"] for r in self.requests if isinstance(r.body, dict)]

    def _take(self, received: Received) -> Reply:
        with self._lock:
            self.requests.append(received)
            listing = received.method == "GET" and received.path.rstrip("/").endswith("/models")
            if self.models is not None and listing:
                listed = [{"id": m, "object": "model", "owned_by": "stub"} for m in self.models]
                return Reply(json={"object": "list", "data": listed})
            if self.lora_adapters is not None and received.path == "/lora-adapters":
                return Reply(json=self.lora_adapters)
            return self._replies.popleft() if self._replies else self.default

    def _pause(self, seconds: float) -> bool:
        """Sleep, but wake when the server stops; True if it is stopping."""
        return self._stopping.wait(seconds) if seconds > 0 else self._stopping.is_set()


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # a handler still hanging must not keep the test process alive
    stub: StubOpenAI

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients hang up on purpose in these tests (timeouts, early close): not worth a traceback.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive and chunked bodies, like real servers
    disable_nagle_algorithm = True  # else headers then body costs a 40 ms delayed ACK per reply

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep test output clean

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def _serve(self) -> None:
        assert isinstance(self.server, _Server)
        stub = self.server.stub
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        reply = stub._take(Received(self.command, self.path, dict(self.headers.items()), body))
        if stub._pause(reply.hang):
            self.close_connection = True
            return
        try:
            if reply.events is None:
                self._send_body(reply)
            else:
                self._send_events(stub, reply)
        except (BrokenPipeError, ConnectionResetError):
            with stub._lock:
                stub.disconnects += 1
            self.close_connection = True

    def _send_body(self, reply: Reply) -> None:
        if reply.json is not None:
            payload, kind = json.dumps(reply.json).encode(), "application/json"
        else:
            payload, kind = (reply.text or "").encode(), "text/plain; charset=utf-8"
        self.send_response(reply.status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(payload)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def _send_events(self, stub: StubOpenAI, reply: Reply) -> None:
        self.send_response(reply.status)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        if reply.chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Connection", "close")
            self.close_connection = True
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        for index, event in enumerate(reply.events or []):
            if reply.cut_after is not None and index >= reply.cut_after:
                self.close_connection = True  # no terminating chunk: the body is incomplete
                return
            if reply.stall_after is not None and index >= reply.stall_after:
                stub._pause(3600)
                self.close_connection = True
                return
            if stub._pause(reply.event_delay):
                self.close_connection = True
                return
            text = event if isinstance(event, str) else f"data: {json.dumps(event)}\n\n"
            self._write(text.encode(), reply.chunked)
        if reply.chunked:
            self.wfile.write(b"0\r\n\r\n")

    def _write(self, data: bytes, chunked: bool) -> None:
        if chunked:
            data = b"%x\r\n%s\r\n" % (len(data), data)
        self.wfile.write(data)
        self.wfile.flush()
