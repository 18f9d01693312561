"""P3 (part): prompt assembly incl. lorebook scan, 200 lorebook entries × 200 turns of history.

Run: python -m benchmarks.bench_prompt_assembly
Measures PromptBuilder.build() for each of 200 consecutive turns (history growing to 200+ turns),
with the token counter cached as in a real chat (each message is counted once), and once cold.
"""

from __future__ import annotations

import random
import sys
import time

from benchmarks._common import summary, table, write_result
from personae.agent.prompt import PromptBuilder, Turn
from personae.agent.tokens import CachedCounter
from personae.characters import Character, Lorebook, LoreEntry
from personae.text.token_estimate import estimate_tokens

TOPICS_EN = ["violin", "moriarty", "baker street", "scotland yard", "opium", "bees", "london"]
TOPICS_KO = ["활빈당", "율도국", "아버지", "한양", "도술", "탐관오리", "길동"]


def make_book(rng: random.Random, n: int = 200) -> Lorebook:
    entries = []
    for i in range(n):
        topic = rng.choice(TOPICS_EN + TOPICS_KO)
        keys = [f"{topic}{i}", topic] if i % 3 else [f"key{i}"]
        fields: dict[str, object] = {}
        if i % 17 == 0:
            keys = [f"/{topic}\\d+/i"]
            fields["use_regex"] = True
        if i % 11 == 0:
            fields.update(selective=True, secondary_keys=[rng.choice(TOPICS_EN)])
        if i % 50 == 0:
            fields["constant"] = True
        entries.append(
            LoreEntry(
                keys=keys,
                content=f"Fact {i} about {topic}: " + "detail " * rng.randint(5, 30),
                insertion_order=rng.randint(0, 200),
                priority=rng.randint(0, 10),
                **fields,
            )
        )
    return Lorebook(entries=entries, scan_depth=4, token_budget=600, recursive_scanning=True)


def main() -> None:
    rng = random.Random(7)
    character = Character(
        name="Holmes",
        description="A consulting detective. " * 20,
        personality="observant",
        scenario="Baker Street",
        first_mes="Hello.",
        mes_example="<START>\n{{user}}: Hi\n{{char}}: Good evening.\n" * 3,
        character_book=make_book(rng),
    )
    turns: list[Turn] = [Turn("assistant", "Hello.")]
    for i in range(400):
        topic = rng.choice(TOPICS_EN + TOPICS_KO)
        words = " ".join(rng.choice(["the", "a", "case", topic, "왜", "그래서"]) for _ in range(40))
        turns.append(Turn("user" if i % 2 == 0 else "assistant", f"{words} {i}"))

    results = {}
    for label, counter in (
        ("cached counter (real chat)", CachedCounter(estimate_tokens)),
        ("cold counter", estimate_tokens),
    ):
        builder = PromptBuilder(character, user_name="Mina", count_tokens=counter, n_ctx=8192)
        builder.build(turns[:200], max_tokens=256)  # compiles the lorebook's matchers once
        times = []
        for t in range(200):
            history = turns[: 200 + 2 * t // 2 + 1]
            start = time.perf_counter()
            prompt = builder.build(history, max_tokens=256)
            times.append((time.perf_counter() - start) * 1000)
        results[label] = {**summary(times), "last_lore_entries": len(prompt.lore)}

    rows = [
        (k, f"{v['p50']:.2f}", f"{v['p95']:.2f}", f"{v['max']:.2f}") for k, v in results.items()
    ]
    print(table(rows, ("case (200 entries, 200+ turns)", "p50 ms", "p95 ms", "max ms")))
    path = write_result(
        "p3_prompt_assembly",
        "python -m benchmarks.bench_prompt_assembly",
        {"lorebook_entries": 200, "history_turns": "200-400", "results_ms": results},
    )
    print(f"wrote {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
