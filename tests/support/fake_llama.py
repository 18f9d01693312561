"""A stand-in for xllamacpp's ``Server`` and its HTTP listener, for the embedded backend's unit
tests: no model is loaded and no socket is opened.

:class:`FakeLlamaServer` plays scripted payloads (what llama.cpp's callback receives) through
``handle_chat_completions``/``handle_completions`` and honours a callback that returns True
(stop). :func:`listener` is an ``httpx`` transport for the listener's ``/tokenize`` and
``/apply-template``, or one that refuses every connection (a sandbox without loopback).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import httpx

from personae.backends.embedded import EmbeddedBackend, EmbeddedOptions

Payload = dict[str, Any] | Exception


def text(piece: str, index: int = 0) -> dict[str, Any]:
    """One streamed chat chunk carrying ``piece``."""
    return {"choices": [{"index": index, "delta": {"content": piece}}]}


def finish(reason: str = "stop", index: int = 0) -> dict[str, Any]:
    return {"choices": [{"index": index, "delta": {}, "finish_reason": reason}]}


def usage(prompt: int, completion: int) -> dict[str, Any]:
    return {"choices": [], "usage": {"prompt_tokens": prompt, "completion_tokens": completion}}


def reply(*pieces: str, prompt: int = 12) -> list[Payload]:
    """A whole streamed reply: its pieces, the finish reason, the usage."""
    return [*(text(p) for p in pieces), finish(), usage(prompt, len(pieces))]


def endless() -> Iterator[Payload]:
    """Tokens until the callback says stop (a cancellation test)."""
    n = 0
    while True:
        n += 1
        yield text(f"t{n} ")


class FakeLlamaServer:
    """Plays ``script`` (one payload list, or iterable, per request; the last one is used again
    when the script runs out). An Exception in a list is raised there, as the runtime would."""

    listening_address = "http://127.0.0.1:1"  # never dialled: tests pass a transport

    def __init__(self, params: Any = None, script: Iterable[Iterable[Payload]] = ()) -> None:
        self.params = params
        self.script = list(script)
        self.requests: list[dict[str, Any]] = []
        self.sent = 0  # payloads delivered, over all requests
        self.stopped = False  # a callback returned True
        self.returned = threading.Event()  # the last handle_* call has returned

    def _next(self) -> Iterable[Payload]:
        if len(self.script) > 1:
            return self.script.pop(0)
        if not self.script:
            return reply("Hello.")
        last = self.script[0]
        return list(last) if isinstance(last, list) else last

    def handle_chat_completions(
        self, request: dict[str, Any], callback: Callable[[Any], bool]
    ) -> None:
        self.returned.clear()
        self.requests.append(json.loads(json.dumps(request)))
        try:
            for item in self._next():
                if isinstance(item, Exception):
                    raise item
                self.sent += 1
                if callback(item):
                    self.stopped = True
                    return
                if self.sent > 100_000:  # cancellation is broken: do not run for ever
                    return
        finally:
            self.returned.set()

    handle_completions = handle_chat_completions


Handler = Callable[[httpx.Request], httpx.Response]


def listener(
    *, tokens: Callable[[str], int] = lambda s: len(s.split()), template: str = "<prompt>"
) -> tuple[httpx.MockTransport, list[str]]:
    """A listener that answers ``/tokenize`` (``tokens(text)`` ids) and ``/apply-template``;
    also the list of paths it was asked for."""
    asked: list[str] = []

    def handle(request: httpx.Request) -> httpx.Response:
        asked.append(request.url.path)
        body = json.loads(request.content or b"{}")
        if request.url.path == "/tokenize":
            return httpx.Response(200, json={"tokens": list(range(tokens(body["content"])))})
        if request.url.path == "/apply-template":
            return httpx.Response(200, json={"prompt": template})
        return httpx.Response(404, json={"error": "no such route"})

    return httpx.MockTransport(handle), asked


def refusing() -> tuple[httpx.MockTransport, list[str]]:
    """A listener nobody can connect to, as in ``unshare -n``: every call fails to connect."""
    asked: list[str] = []

    def handle(request: httpx.Request) -> httpx.Response:
        asked.append(request.url.path)
        raise httpx.ConnectError("[Errno 101] Network is unreachable", request=request)

    return httpx.MockTransport(handle), asked


def gguf_file(path: Path) -> Path:
    """A file that passes the GGUF magic check (it holds no model)."""
    path.write_bytes(b"GGUF" + bytes(60))
    return path


def embedded(
    model: Path,
    server: FakeLlamaServer | None = None,
    transport: httpx.BaseTransport | None = None,
    **options: Any,
) -> tuple[EmbeddedBackend, FakeLlamaServer]:
    """An embedded backend over ``server`` (a fresh fake) and ``transport`` (a listener)."""
    fake = server or FakeLlamaServer()

    def factory(params: Any) -> FakeLlamaServer:
        fake.params = params
        return fake

    backend = EmbeddedBackend(
        EmbeddedOptions(model=str(model), **options),
        server_factory=factory,
        http_transport=transport or listener()[0],
    )
    return backend, fake
