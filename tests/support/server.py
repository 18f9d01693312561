"""Building the server app over a scripted backend, reading its SSE streams, and running it for
real with uvicorn on 127.0.0.1 in a background thread."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from personae.backends.base import Backend
from personae.config import Settings
from personae.server import create_app
from personae.server.run import bind, make_server
from personae.store import CharacterRepository, Database
from tests.support.factories import make_character
from tests.support.scripted import ScriptedBackend

DEFAULT_MODEL = "scripted-default"


@dataclass
class Backends:
    """The factory the app gets: one scripted backend per model name, made on demand."""

    default: ScriptedBackend = field(default_factory=lambda: ScriptedBackend(DEFAULT_MODEL))
    built: dict[str, ScriptedBackend] = field(default_factory=dict)
    asked: list[str] = field(default_factory=list)

    def __call__(self, model: str) -> Backend:
        self.asked.append(model)
        if model == DEFAULT_MODEL:
            return self.default
        return self.built.setdefault(model, ScriptedBackend(model))


def make_store(path: Path | str) -> Path | str:
    """A store (a SQLite file, or a PostgreSQL URL) with Holmes (id ``holmes``) and Irene (id
    ``irene``)."""
    with Database(path) as db:
        repo = CharacterRepository(db)
        repo.add(make_character())
        repo.add(make_character("Irene", description="Irene Adler, an opera singer."))
    return path


def make_app(
    tmp_path: Path,
    backends: Backends | None = None,
    *,
    guard: bool = False,
    server: dict[str, Any] | None = None,
    store: Path | str | None = None,
    **options: Any,
) -> FastAPI:
    """The server over a fresh store and scripted backends. Reply guards are off unless
    ``guard``: scripted replies are not role-play, and the server's tests are about serving.
    ``server``: the ``[server]`` settings (per-character reply strategies …)."""
    options.setdefault("memory", False)
    # TestClient's requests say "Host: testserver", a name an open server answers only if told.
    options.setdefault("allowed_hosts", ["testserver"])
    return create_app(
        make_store(store or tmp_path / "server.db"),
        settings=Settings(
            backend="scripted",
            model=DEFAULT_MODEL,
            user_name="Watson",
            reply_guard=guard,
            server=server or {},
        ),
        backend_factory=backends or Backends(),
        **options,
    )


def sse_events(lines: Iterable[str]) -> list[str]:
    """The ``data:`` payloads of an SSE body, checking the framing on the way."""
    events: list[str] = []
    for line in lines:
        if not line:
            continue
        assert line.startswith("data: "), line
        events.append(line.removeprefix("data: "))
    return events


def sse_body(text: str) -> list[str]:
    assert text.endswith("\n\n"), text[-40:]
    blocks = text.split("\n\n")[:-1]
    assert all("\n" not in b for b in blocks), "one data line per event"
    return sse_events(blocks)


def chunks(events: list[str]) -> list[dict[str, Any]]:
    """Decoded chunks of a finished stream (which must end with [DONE])."""
    assert events[-1] == "[DONE]", events[-3:]
    decoded: list[dict[str, Any]] = [json.loads(e) for e in events[:-1]]
    return decoded


@contextmanager
def live_server(app: FastAPI) -> Iterator[str]:
    """Serve ``app`` with uvicorn on 127.0.0.1 (a free port); yields the base URL (``…/v1``)."""
    sock = bind("127.0.0.1", 0)
    port = sock.getsockname()[1]
    server = make_server(app, log_level="warning")
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="test-uvicorn", daemon=True
    )
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not server.started:
            assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.02)
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        server.should_exit = True
        thread.join(timeout=20)
        sock.close()


def wait_until(condition: Callable[[], bool], timeout: float = 15, what: str = "") -> None:
    """Poll ``condition`` until it holds; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what or condition}"
        time.sleep(0.01)
