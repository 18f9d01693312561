"""`personae serve --workers N` for real: processes sharing a port and a PostgreSQL store, a
scripted engine in its own process standing in for vLLM, and a worker killed mid-stream."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from personae.store import ChatRepository, Database
from personae.store.local_postgres import _free_port
from tests.support.stores import postgres_or_skip
from tests.unit.test_cli import one_line_error, run

ROOT = Path(__file__).resolve().parents[2]


@contextlib.contextmanager
def engine(tokens: int, delay: float) -> Iterator[str]:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.support.scripted_engine", "--port", str(port),
         "--tokens", str(tokens), "--delay", str(delay)],
        cwd=ROOT,
    )  # fmt: skip
    try:
        _wait_for(f"http://127.0.0.1:{port}/v1/models")
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        proc.terminate()
        proc.wait(10)


def _wait_for(url: str, headers: dict[str, str] | None = None) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            httpx.get(url, timeout=2, headers=headers)
            return
        time.sleep(0.2)
    raise AssertionError(f"{url} never answered")


@contextlib.contextmanager
def cluster(store: str, engine_url: str, workers: int, home: Path) -> Iterator[tuple[str, int]]:
    port = _free_port()
    env = dict(os.environ, PERSONAE_DATABASE_URL=store, PERSONAE_HOME=str(home))
    proc = subprocess.Popen(
        [sys.executable, "-m", "personae", "serve", "--workers", str(workers),
         "--port", str(port), "--backend", "openai", "--base-url", engine_url,
         "--model", "scripted", "--log-level", "warning"],
        env=env, cwd=home, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        _wait_for(f"http://127.0.0.1:{port}/v1/models")
        yield f"http://127.0.0.1:{port}", proc.pid
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def workers_of(pid: int) -> list[psutil.Process]:
    return psutil.Process(pid).children()


def test_workers_need_a_postgresql_store() -> None:
    err = one_line_error(run("serve", "--workers", "2", "--port", "8999"))
    assert "--workers above 1 needs a PostgreSQL store" in err


def test_a_worker_killed_mid_stream_loses_nothing_acknowledged(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = postgres_or_skip(request).fresh()
    monkeypatch.setenv("PERSONAE_DATABASE_URL", store)
    key = run("keys", "create", "--user", "ana").stdout.strip()
    auth = {"Authorization": f"Bearer {key}"}
    body = {
        "model": "sherlock",
        "user": "ana",
        "stream": True,
        "messages": [{"role": "user", "content": "Tell me about the fog."}],
    }
    with (
        engine(tokens=40, delay=0.1) as engine_url,
        cluster(store, engine_url, 2, tmp_path) as (
            base,
            supervisor,
        ),
    ):
        assert len(workers_of(supervisor)) == 2
        # The key made before the start holds in every process: none of them is open.
        for _ in range(6):
            assert httpx.get(f"{base}/v1/models", timeout=10).status_code == 401
        # A finished turn first, so the chat exists and holds acknowledged messages.
        done = httpx.post(
            f"{base}/v1/chat/completions", json={**body, "stream": False}, headers=auth, timeout=60
        )
        assert done.status_code == 200, done.text
        chat_id = int(done.headers["x-personae-chat-id"])
        # Now a slow streamed turn on the same chat, from a thread; kill the process that
        # serves it while the reply is being written (the reply guard holds the stream's first
        # bytes until the reply passes, so the store is watched instead of the stream).
        streamed: list[str] = []

        def stream() -> None:
            with (
                contextlib.suppress(httpx.HTTPError),
                httpx.Client(timeout=60, headers=auth) as client,
                client.stream(
                    "POST", f"{base}/v1/chat/completions", json={**body, "chat_id": chat_id}
                ) as resp,
            ):
                streamed.extend(resp.iter_lines())

        streaming = threading.Thread(target=stream)
        streaming.start()
        statuses: list[str] = []
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and (not statuses or statuses[-1] != "incomplete"):
            detail = httpx.get(f"{base}/api/chats/{chat_id}", headers=auth, timeout=10)
            statuses = [m["status"] for m in detail.json()["messages"]]
        # Seen from whichever process answered: the reply in progress, as incomplete.
        assert statuses[-1] == "incomplete" and statuses[:-1].count("incomplete") == 0
        local_port = _local_port(int(base.rsplit(":", 1)[1]))
        serving = [
            w
            for w in workers_of(supervisor)
            if any(c.raddr and c.raddr.port == local_port for c in w.net_connections("tcp"))
        ]
        assert len(serving) == 1
        serving[0].send_signal(signal.SIGKILL)
        streaming.join(30)
        assert not any("[DONE]" in line for line in streamed)  # it never finished
        # The supervisor starts another; the chat is free again (its lock died with the
        # process) and the next turn on it completes.
        deadline = time.monotonic() + 30
        while len(workers_of(supervisor)) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert len(workers_of(supervisor)) == 2
        _wait_for(f"{base}/v1/models")
        again = httpx.post(
            f"{base}/v1/chat/completions",
            json={**body, "stream": False, "chat_id": chat_id},
            headers=auth,
            timeout=60,
        )
        assert again.status_code == 200, again.text
    with Database(store) as db:
        messages = ChatRepository(db).messages(chat_id, include_hidden=True)
    users = [m for m in messages if m.role == "user"]
    assert [m.content for m in users] == ["Tell me about the fog."] * 3  # every one acknowledged
    replies = [m for m in messages if m.role == "assistant" and m.status != "superseded"]
    # the greeting, the first reply and the last complete; the killed one stayed incomplete,
    # never marked complete
    assert [m.status for m in replies] == ["complete", "complete", "incomplete", "complete"]
    assert replies[2].completed_at is None


def _local_port(server_port: int) -> int:
    """Our side's port of the one connection this test holds open to the server."""
    mine = [
        c
        for c in psutil.Process().net_connections("tcp")
        if c.raddr and c.raddr.port == server_port and c.status == psutil.CONN_ESTABLISHED
    ]
    assert len(mine) == 1, mine
    return int(mine[0].laddr.port)
