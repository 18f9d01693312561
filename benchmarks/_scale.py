"""Helpers for ``bench_scale``: the scripted engine and a ``personae serve`` cluster as child
processes (their stderr kept in files), API keys made with the CLI, a streaming client for
stored chats, and the test of a whole scripted reply."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psutil
from tests.support.scripted_engine import _piece

ROOT = Path(__file__).resolve().parent.parent


def source_state() -> dict[str, Any]:
    """The commit measured, and whether its src/ had changes not committed."""

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
        return done.stdout.strip() if done.returncode == 0 else ""

    changed = git("status", "--porcelain", "--", "src").splitlines()
    return {"commit": git("rev-parse", "HEAD") or None, "src_changes_not_committed": len(changed)}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(url: str, *, timeout: float = 90, headers: dict[str, str] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            httpx.get(url, timeout=2, headers=headers)
            return
        time.sleep(0.2)
    raise RuntimeError(f"{url} never answered")


def _stop(proc: subprocess.Popen[bytes], sig: int, grace: float) -> None:
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextlib.contextmanager
def engine(tokens: int, delay: float, log_dir: Path) -> Iterator[str]:
    """``tests.support.scripted_engine`` on a free loopback port; yields its /v1 URL."""
    port = free_port()
    with (log_dir / "engine.stderr").open("wb") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "tests.support.scripted_engine", "--port", str(port),
             "--tokens", str(tokens), "--delay", str(delay)],
            cwd=ROOT, stderr=err,
        )  # fmt: skip
        try:
            wait_for(f"http://127.0.0.1:{port}/v1/models")
            yield f"http://127.0.0.1:{port}/v1"
        finally:
            _stop(proc, signal.SIGTERM, 10)


def personae_env(home: Path, database_url: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PERSONAE_DATABASE_URL"}
    env["PERSONAE_HOME"] = str(home)
    if database_url:
        env["PERSONAE_DATABASE_URL"] = database_url
    return env


def create_key(env: dict[str, str], user: str) -> str:
    """``personae keys create --user USER``; returns the key it prints."""
    done = subprocess.run(
        [sys.executable, "-m", "personae", "keys", "create", "--user", user],
        env=env, cwd=ROOT, capture_output=True, text=True, check=True, timeout=120,
    )  # fmt: skip
    return done.stdout.strip().splitlines()[-1].strip()


class Cluster:
    """``personae serve --workers N`` for the length of a ``with`` block; its stderr goes to
    ``stderr_path``."""

    def __init__(
        self,
        env: dict[str, str],
        engine_url: str,
        *,
        workers: int,
        parallel: int,
        max_queue: int,
        stderr_path: Path,
        reuse_port: bool = True,
    ) -> None:
        self.env = env
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.stderr_path = stderr_path
        self.workers = workers
        self.args = [
            sys.executable, "-m", "personae", "serve", "--workers", str(workers),
            "--parallel", str(parallel), "--max-queue", str(max_queue), "--port", str(self.port),
            "--backend", "openai", "--base-url", engine_url, "--model", "scripted",
            "--log-level", "warning", "--reuse-port" if reuse_port else "--no-reuse-port",
        ]  # fmt: skip
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Cluster:
        with self.stderr_path.open("ab") as err:
            self.proc = subprocess.Popen(self.args, env=self.env, cwd=ROOT, stderr=err)
        wait_for(f"{self.base}/v1/models")
        self.wait_workers()
        return self

    def __exit__(self, *_: object) -> None:
        if self.proc is not None:
            _stop(self.proc, signal.SIGINT, 40)

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def worker_processes(self) -> list[psutil.Process]:
        """The supervisor's workers (with ``--workers 1`` the server is the process itself)."""
        assert self.proc is not None
        if self.workers == 1:
            return [psutil.Process(self.proc.pid)]
        alive = []
        with contextlib.suppress(psutil.NoSuchProcess):
            for child in psutil.Process(self.proc.pid).children():
                # a killed worker stays a zombie until the supervisor has reaped it
                with contextlib.suppress(psutil.NoSuchProcess):
                    if child.status() != psutil.STATUS_ZOMBIE:
                        alive.append(child)
        return alive

    def wait_workers(self, timeout: float = 60) -> float:
        """Wait until all workers run; returns the seconds waited."""
        start = time.monotonic()
        while len(self.worker_processes()) < self.workers:
            if not self.alive:
                raise RuntimeError(f"the server ended: see {self.stderr_path}")
            if time.monotonic() - start > timeout:
                raise RuntimeError(f"the workers did not come back within {timeout} s")
            time.sleep(0.02)
        return time.monotonic() - start

    def connection_owners(self) -> dict[int, int]:
        """The client end's port of every established connection a worker holds, and the
        worker's pid."""
        owners: dict[int, int] = {}
        for proc in self.worker_processes():
            with contextlib.suppress(psutil.Error):
                for c in proc.net_connections("tcp"):
                    if (
                        c.laddr
                        and c.raddr
                        and c.laddr.port == self.port
                        and c.status == psutil.CONN_ESTABLISHED
                    ):
                        owners[c.raddr.port] = proc.pid
        return owners


def stderr_problems(path: Path) -> list[str]:
    """The lines of a server's stderr that tell of trouble (tracebacks, errors), worker
    restarts left out."""
    if not path.exists():
        return []
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    usual = re.compile(r"worker \d+ ended \(signal 9\)|serving \d+ characters on |interrupted$")
    return [line for line in lines if line.strip() and not usual.match(line)]


# -- clients pinned to the processes that accepted them ------------------------------------------


def _our_ports(server_port: int) -> set[int]:
    return {
        c.laddr.port
        for c in psutil.Process().net_connections("tcp")
        if c.raddr and c.raddr.port == server_port and c.status == psutil.CONN_ESTABLISHED
    }


async def open_clients(cluster: Cluster, count: int, timeout: float) -> list[Pinned]:
    """``count`` clients of one keep-alive connection each, opened one after another, each
    with the pid of the server process that accepted its connection."""
    pinned: list[Pinned] = []
    seen = _our_ports(cluster.port)
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    for _ in range(count):
        client = httpx.AsyncClient(limits=limits, timeout=httpx.Timeout(timeout, connect=30))
        await client.get(f"{cluster.base}/v1/models")
        now = _our_ports(cluster.port)
        ours = now - seen
        seen = now
        pinned.append(Pinned(client, next(iter(ours)) if len(ours) == 1 else 0))
    owners = cluster.connection_owners()
    for p in pinned:
        p.pid = owners.get(p.port, 0)
    return pinned


@dataclass
class Pinned:
    client: httpx.AsyncClient
    port: int  # our end of its connection
    pid: int = 0  # the server process holding the other end (0: not found)


# -- a stored-chat turn, streamed ------------------------------------------------------------------


@dataclass
class Turn:
    """One streamed request to a stored chat, as its client saw it."""

    status: int | str  # HTTP status, or the exception's name
    chat_id: int | None = None  # from X-Personae-Chat-Id
    acknowledged: bool = False  # 200 and data arrived: the turn began, the user message is in
    done: bool = False  # [DONE] arrived
    text: str = ""
    ttft: float | None = None  # seconds from sending to the first content event
    total: float | None = None  # seconds from sending to [DONE]
    last: float | None = None  # seconds from sending to the last content event
    tokens: int = 0  # content events
    completion_tokens: int | None = None  # from the usage chunk
    error: str | None = None  # an error event, or how the stream broke off
    body: str = ""  # the start of a refusal's body
    local_port: int = 0  # our end of the connection it went over


async def stored_turn(
    client: httpx.AsyncClient,
    base: str,
    body: dict[str, Any],
    headers: dict[str, str] | None = None,
) -> Turn:
    start = time.perf_counter()
    turn = Turn(0)
    parts: list[str] = []
    try:
        async with client.stream(
            "POST", f"{base}/v1/chat/completions", json=body, headers=headers
        ) as response:
            turn.status = response.status_code
            stream = response.extensions.get("network_stream")
            if stream is not None:
                with contextlib.suppress(Exception):
                    turn.local_port = int(stream.get_extra_info("client_addr")[1])
            if response.status_code != 200:
                turn.body = (await response.aread()).decode("utf-8", "replace")[:300]
                turn.total = time.perf_counter() - start
                return turn
            chat = response.headers.get("x-personae-chat-id")
            turn.chat_id = int(chat) if chat else None
            # Read to the end of the body, past [DONE]: a response left unread closes its
            # connection, and the client's next request would go over a new one.
            async for line in response.aiter_lines():
                if not line.startswith("data: ") or turn.done or turn.error:
                    continue
                turn.acknowledged = True
                data = line[6:]
                if data == "[DONE]":
                    turn.done = True
                    turn.total = time.perf_counter() - start
                elif data.startswith('{"error"'):
                    turn.error = json.loads(data)["error"].get("code") or "error"
                elif '"content":' in data:
                    for choice in json.loads(data)["choices"]:
                        parts.append(choice["delta"].get("content") or "")
                    turn.tokens += 1
                    turn.last = time.perf_counter() - start
                    if turn.ttft is None:
                        turn.ttft = turn.last
                elif '"usage":{' in data:
                    turn.completion_tokens = json.loads(data)["usage"]["completion_tokens"]
    except httpx.HTTPError as exc:
        turn.error = type(exc).__name__
        if turn.status == 0:  # no response at all
            turn.status = turn.error
    turn.text = "".join(parts)
    if not turn.done and turn.error is None:
        turn.error = "no [DONE]"
    return turn


# -- stored chats ---------------------------------------------------------------------------------


def chat_body(user: str, text: str, chat: int | None) -> dict[str, Any]:
    """A streamed stored-chat request: a new chat of ``user``'s, or turn in ``chat``."""
    body: dict[str, Any] = {
        "model": "sherlock",
        "user": user,
        "stream": True,
        "stream_options": {"include_usage": True},
        "messages": [{"role": "user", "content": text}],
    }
    body.update({"chat_id": chat} if chat is not None else {"new_chat": True})
    return body


async def chat(
    client: httpx.AsyncClient,
    base: str,
    user: str,
    texts: list[str],
    headers: dict[str, str] | None = None,
) -> list[Turn]:
    """One stored chat of ``user``'s: the first request starts it, the others continue it."""
    turns: list[Turn] = []
    chat_id: int | None = None
    for text in texts:
        turn = await stored_turn(client, base, chat_body(user, text, chat_id), headers)
        chat_id = turn.chat_id or chat_id
        turns.append(turn)
    return turns


async def warm_up(
    cluster: Cluster,
    text: str,
    *,
    turns: int = 3,
    user: str | None = None,
    headers: dict[str, str] | None = None,
) -> dict[int, list[Turn]]:
    """A few turns of a chat on one connection to every process, untimed (a process's first
    stored turns import and load what memory needs: seconds). ``user``: whose chats (default:
    ``warm<pid>``). Returns each process's turns."""
    first: dict[int, Pinned] = {}
    opened: list[Pinned] = []
    try:
        for _ in range(8):  # the kernel picks the process: open connections until all are hit
            opened += await open_clients(cluster, 4 * cluster.workers, timeout=300)
            for p in opened:
                if p.pid:
                    first.setdefault(p.pid, p)
            if len(first) >= cluster.workers:
                break
        done = await asyncio.gather(
            *(
                chat(p.client, cluster.base, user or f"warm{pid}", [text] * turns, headers)
                for pid, p in first.items()
            )
        )
    finally:
        await asyncio.gather(*(p.client.aclose() for p in opened))
    return dict(zip(first, done, strict=True))


def card_line_copies(location: str) -> dict[str, int]:
    """The card lines memory holds: rows and distinct texts (concurrent first chats with a
    character each index its card's lines: rows > distinct is that race)."""
    from personae.store import Database

    with Database(location) as db:
        row = db.conn.execute(
            "SELECT count(*), count(DISTINCT text) FROM memories WHERE kind = 'line'"
        ).fetchone()
    return {"rows": int(row[0]), "distinct": int(row[1])}


# -- what the scripted engine writes -----------------------------------------------------------

_FIRST = re.compile(r"^[A-Za-z]+(\d+)\b")


def whole_reply(text: str, tokens: int) -> bool:
    """Whether ``text`` is one whole reply of the scripted engine (``tokens`` pieces, the last
    ending in '.'): its first word carries the request's number, from which the rest follows."""
    found = _FIRST.match(text)
    if found is None:
        return False
    n = int(found.group(1))
    return text == "".join(_piece(n, i) for i in range(tokens)) + "."
