"""The --workers supervisor with stand-in workers (forked for real): killed workers come back
however fast they are killed, each on the socket of the worker it replaces; workers that exit
with an error at start end it with one line. And the sockets: one per worker on one port, which
the kernel gives even shares of the connections."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import threading
import time
from pathlib import Path

import psutil
import pytest

from personae.errors import InvalidInput, PersonaeError
from personae.server.run import bind_each
from personae.server.supervisor import WorkerFailed, supervise

needs_reuse_port = pytest.mark.skipif(
    not hasattr(socket, "SO_REUSEPORT") or os.name == "nt", reason="no SO_REUSEPORT here"
)


def _socket() -> socket.socket:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    return sock


def test_killed_workers_always_come_back() -> None:
    notes: list[str] = []
    kills = 0

    def live_children() -> list[psutil.Process]:
        # a killed worker stays a child (a zombie) until the supervisor reaps it
        live = []
        for child in psutil.Process().children():
            with contextlib.suppress(psutil.NoSuchProcess):  # reaped meanwhile
                if child.status() != psutil.STATUS_ZOMBIE:
                    live.append(child)
        return live

    def killer() -> None:
        nonlocal kills
        deadline = time.monotonic() + 30
        while kills < 6 and time.monotonic() < deadline:
            children = live_children()
            # the previous death told and its worker replaced: kill a young one again
            if len(children) == 2 and len(notes) == kills:
                children[0].send_signal(signal.SIGKILL)
                kills += 1
            time.sleep(0.05)
        while (len(live_children()) < 2 or len(notes) < kills) and time.monotonic() < deadline:
            time.sleep(0.05)
        os.kill(os.getpid(), signal.SIGTERM)  # Ctrl-C's twin: the supervisor stops them all

    thread = threading.Thread(target=killer)
    thread.start()
    supervise(2, [_socket()], lambda _: time.sleep(60), note=notes.append)
    thread.join()
    assert kills == 6
    assert sum("signal 9" in n for n in notes) == 6
    assert psutil.Process().children() == []  # stopped and reaped


def test_workers_that_cannot_start_end_the_server() -> None:
    def broken(_: socket.socket) -> None:
        raise PersonaeError("no model at /nowhere.gguf")

    with pytest.raises(WorkerFailed, match="keep exiting within 10 s of starting"):
        supervise(2, [_socket()], broken, note=lambda _: None)
    assert psutil.Process().children() == []


@needs_reuse_port
def test_a_replacement_worker_serves_the_socket_of_the_one_it_replaces(tmp_path: Path) -> None:
    sockets = bind_each("127.0.0.1", 0, 3)
    told = tmp_path / "told"

    def serve(sock: socket.socket) -> None:
        open_fds = {s.fileno() for s in sockets if s.fileno() != -1}
        with told.open("a") as f:  # one line per worker: its pid, its socket, what it holds
            f.write(f"{os.getpid()} {sock.fileno()} {sorted(open_fds)}\n")
        time.sleep(60)

    def lines() -> list[list[str]]:
        return (
            [line.split(" ", 2) for line in told.read_text().splitlines()] if told.exists() else []
        )

    def killer() -> None:
        deadline = time.monotonic() + 30
        while len(lines()) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        os.kill(int(lines()[1][0]), signal.SIGKILL)
        while len(lines()) < 4 and time.monotonic() < deadline:
            time.sleep(0.05)
        os.kill(os.getpid(), signal.SIGTERM)

    thread = threading.Thread(target=killer)
    thread.start()
    try:
        supervise(3, sockets, serve, note=lambda _: None)
    finally:
        thread.join()
        for sock in sockets:
            sock.close()
    told_lines = lines()
    assert len(told_lines) == 4
    first, killed, third, replacement = told_lines
    assert len({first[1], killed[1], third[1]}) == 3  # a socket each
    assert replacement[1] == killed[1]  # and the new worker takes over the dead one's
    for _, fd, held in told_lines:
        assert held == f"[{fd}]"  # each worker holds only its own


def test_one_socket_per_worker_shares_a_port_and_refuses_a_busy_one() -> None:
    sockets = bind_each("127.0.0.1", 0, 4)
    try:
        ports = {s.getsockname()[1] for s in sockets}
        expected = 4 if hasattr(socket, "SO_REUSEPORT") and os.name != "nt" else 1
        assert len(sockets) == expected and len(ports) == 1
        for sock in sockets:
            sock.listen(8)
        with pytest.raises(InvalidInput, match="cannot listen on 127.0.0.1:.*choose another"):
            bind_each("127.0.0.1", ports.pop(), 2)  # a server is there: not joined
    finally:
        for sock in sockets:
            sock.close()
    assert len(bind_each("127.0.0.1", 0, 1)) == 1


@needs_reuse_port
def test_the_kernel_gives_each_workers_socket_a_share_of_the_connections() -> None:
    """What one shared socket does not do: there the process that wakes first takes a whole
    burst (94 of 256 connections to one of four in benchmarks/bench_scale)."""
    sockets = bind_each("127.0.0.1", 0, 4)
    clients: list[socket.socket] = []
    accepted = [0] * 4
    try:
        for sock in sockets:
            sock.listen(256)
            sock.setblocking(False)
        port = sockets[0].getsockname()[1]
        for _ in range(200):
            clients.append(socket.create_connection(("127.0.0.1", port)))
        time.sleep(0.2)
        for i, sock in enumerate(sockets):
            while True:
                try:
                    conn, _ = sock.accept()
                except BlockingIOError:
                    break
                conn.close()
                accepted[i] += 1
    finally:
        for sock in [*sockets, *clients]:
            sock.close()
    assert sum(accepted) == 200
    # by a hash of each connection's addresses: 50 each on average; under 20 would be a fault
    assert min(accepted) >= 20, accepted
