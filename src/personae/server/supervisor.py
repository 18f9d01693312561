"""``personae serve --workers N``: N server processes on one listening socket, kept running.

The parent binds the port, then forks the workers before anything heavy happens (no model is
loaded, no thread started): each worker builds its own app and backends and accepts from a socket
of its own on that port (``SO_REUSEPORT``, see :func:`personae.server.run.bind_each`), so the
kernel gives the workers even shares of the connections; where that is missing they share one
socket. The parent keeps every socket open: connections that arrive for a worker that died wait
in its socket's queue for the worker started in its place. They share nothing but the store,
which must be PostgreSQL: chats, memories, keys and the chat locks live there (see
:meth:`personae.store.Database.try_hold_chat`), so any worker can answer any request.

A worker that dies (killed, out of memory) is started again at once; what it had acknowledged is
in the store, and a reply it was streaming stays ``incomplete`` with the text that had arrived.
Deaths by a signal always bring a new worker (an operator's or the OOM killer's kill is no
reason to stop serving), after a pause that grows while they come quickly, so a worker that
crashes at once cannot make the supervisor fork without end. A worker that *exits* with an
error within :data:`EARLY_EXIT_S` of starting, :data:`MAX_EARLY_EXITS` times in a row, is a
broken start (a bad model path, an unreachable store: it printed why) and ends the server with
an error, instead of restarting forever. Ctrl-C or SIGTERM stops the workers, letting each finish
its streams for a few seconds (uvicorn's graceful shutdown).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sys
import time
from collections.abc import Callable, Sequence
from types import FrameType

from personae.errors import PersonaeError

EARLY_EXIT_S = 10.0
MAX_EARLY_EXITS = 3
STOP_GRACE_S = 15.0
MAX_PAUSE_S = 2.0  # between restarts of workers that keep dying young


class WorkerFailed(PersonaeError):
    code = "worker_failed"


class _Stop(Exception):
    """SIGINT or SIGTERM reached the supervisor."""


def preload() -> None:
    """Load once, in the supervisor before it forks, what each worker's first stored turn would
    otherwise load by itself (then shared copy-on-write): the server, memory and agent code, and
    the English and Korean tokenizers (nltk's stemmer, Kiwi) — 3-4 s of every new worker's first
    turn on this project's CI machine, paid again after each restart. Nothing here starts a
    thread, so forking after it is safe."""
    import personae.server.jobs  # noqa: F401  (the whole serving stack)
    from personae.retrieval.tokens import retrieval_tokens

    for text in ("the fog over Baker Street", "안개 낀 런던의 밤"):
        retrieval_tokens(text)


def _child(serve: Callable[[], None]) -> int:
    # The parent's handlers are not the worker's: uvicorn installs its own for SIGINT/SIGTERM.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        serve()
    except PersonaeError as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        return 1
    except KeyboardInterrupt:
        return 0
    except BaseException as exc:  # noqa: BLE001 (the worker's last word, then its exit code)
        print(f"error: worker {os.getpid()} failed: {exc!r}", file=sys.stderr, flush=True)
        return 1
    return 0


def _spawn(serve: Callable[[], None]) -> int:
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # the worker
        code = 1
        try:
            code = _child(serve)
        finally:
            os._exit(code)
    return pid


def supervise(
    workers: int,
    sockets: Sequence[socket.socket],
    serve: Callable[[socket.socket], None],
    *,
    note: Callable[[str], None] = lambda text: print(text, file=sys.stderr, flush=True),
) -> None:
    """Run ``serve(sock)`` in ``workers`` forked processes until SIGINT/SIGTERM (see the
    module's docstring): worker ``i`` on ``sockets[i]``, or all on ``sockets[0]`` when there is
    one. ``note``: where restarts are told."""
    if len(sockets) not in (1, workers):
        raise ValueError(f"{len(sockets)} sockets for {workers} workers")

    def stop(signum: int, _: FrameType | None) -> None:
        raise _Stop  # out of os.waitpid, which a handler that returns would let go on

    def spawn(slot: int) -> int:
        mine = sockets[slot % len(sockets)]

        def worker() -> None:
            for other in sockets:  # the worker's copies of the others: not its to accept from
                if other is not mine:
                    other.close()
            serve(mine)

        return _spawn(worker)

    previous = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}
    started: dict[int, float] = {}
    slots: dict[int, int] = {}  # pid -> which socket
    early_exits = quick_deaths = 0
    try:
        for slot in range(workers):
            pid = spawn(slot)
            started[pid], slots[pid] = time.monotonic(), slot
        while True:
            try:
                pid, status = os.waitpid(-1, 0)
            except ChildProcessError:
                break
            if pid not in started:
                continue
            lived = time.monotonic() - started.pop(pid)
            slot = slots.pop(pid)
            signalled = os.WIFSIGNALED(status)
            how = (
                f"signal {os.WTERMSIG(status)}"
                if signalled
                else f"exit code {os.WEXITSTATUS(status)}"
            )
            young = lived < EARLY_EXIT_S
            early_exits = early_exits + 1 if young and not signalled else 0
            if early_exits >= MAX_EARLY_EXITS:
                raise WorkerFailed(
                    f"server workers keep exiting within {EARLY_EXIT_S:.0f} s of starting "
                    f"(last: {how}); see the lines above"
                )
            quick_deaths = quick_deaths + 1 if young else 0
            pause = min(MAX_PAUSE_S, 0.05 * 2**quick_deaths) if quick_deaths > 1 else 0.0
            note(f"worker {pid} ended ({how}) after {lived:.1f} s; starting another")
            time.sleep(pause)
            pid = spawn(slot)
            started[pid], slots[pid] = time.monotonic(), slot
    except _Stop:
        pass
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        _stop_all(list(started))


def _stop_all(pids: list[int]) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE_S
    alive = set(pids)
    while alive and time.monotonic() < deadline:
        for pid in list(alive):
            try:
                done, _ = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                done = pid
            if done:
                alive.discard(pid)
        time.sleep(0.05)
    for pid in alive:  # past the grace: they are not coming back by themselves
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)


__all__ = ["WorkerFailed", "preload", "supervise"]
