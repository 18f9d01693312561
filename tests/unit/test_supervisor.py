"""The --workers supervisor with stand-in workers (forked for real): killed workers come back
however fast they are killed; workers that exit with an error at start end it with one line."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import threading
import time

import psutil
import pytest

from personae.errors import PersonaeError
from personae.server.supervisor import WorkerFailed, supervise


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
    supervise(2, _socket(), lambda _: time.sleep(60), note=notes.append)
    thread.join()
    assert kills == 6
    assert sum("signal 9" in n for n in notes) == 6
    assert psutil.Process().children() == []  # stopped and reaped


def test_workers_that_cannot_start_end_the_server() -> None:
    def broken(_: socket.socket) -> None:
        raise PersonaeError("no model at /nowhere.gguf")

    with pytest.raises(WorkerFailed, match="keep exiting within 10 s of starting"):
        supervise(2, _socket(), broken, note=lambda _: None)
    assert psutil.Process().children() == []
