"""What one reply's fidelity check costs: ``check_reply`` on a 12-turn history.

Run: python -m benchmarks.bench_fidelity_cost [--turns 12] [--repeat 200]

Histories come from the hand-written chats in benchmarks/data/longchat_{en,ko}.json (Sherlock
in English with the bundled ``sherlock`` card, 민아 in Korean with ``mina``): for each reply
after the twelfth user turn, the reply is checked against the ``--turns`` exchanges before it.
Two conditions:

* cold: every cache emptied before each call (the card prepared again, every history text cut
  into n-grams again) — the first check of a chat;
* warm: the card and the history's n-grams cached, as on every later turn of a chat (each
  earlier message was cut when it was itself checked) — what best-of-N verification pays
  per candidate.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from benchmarks._common import table, write_result
from benchmarks.bench_longchat import DATA
from personae.characters.bundled import bundled_characters
from personae.checks import CardReference, check_reply
from personae.checks import language as language_module
from personae.checks import reply as check_module
from personae.checks import style as style_module
from personae.checks.overlap import units

CARDS = {"en": "sherlock", "ko": "mina"}


def cases(language: str, turns: int) -> list[dict[str, Any]]:
    script = json.loads((DATA / f"longchat_{language}.json").read_text(encoding="utf-8"))
    messages = script["messages"]
    out = []
    for i in range(2 * turns, len(messages) - 1, 2):
        user, reply = messages[i], messages[i + 1]
        if user["role"] != "user" or reply["role"] != "assistant":
            continue
        out.append(
            {
                "user": user["content"],
                "reply": reply["content"],
                "history": messages[i - 2 * turns : i],
                "user_name": script["user_name"],
            }
        )
    return out


def clear_caches() -> None:
    units.cache_clear()
    check_module._reference.cache_clear()
    style_module._counts.cache_clear()
    language_module._words.cache_clear()


def measure(language: str, turns: int, repeat: int, *, cold: bool) -> list[float]:
    character = bundled_characters()[CARDS[language]]
    rows = cases(language, turns)[:repeat]
    times = []
    for row in rows:
        if cold:
            clear_caches()
        else:  # the history was checked on earlier turns; this reply is new
            card = CardReference.from_character(character, row["user_name"])
            check_reply(
                row["history"][-1]["content"],
                user=row["history"][-2]["content"],
                history=row["history"][:-2],
                card=card,
                language=language,  # type: ignore[arg-type]
                user_name=row["user_name"],
            )
        start = time.perf_counter()
        card = CardReference.from_character(character, row["user_name"])
        check_reply(
            row["reply"],
            user=row["user"],
            history=row["history"],
            card=card,
            language=language,  # type: ignore[arg-type]
            user_name=row["user_name"],
            finish_reason="stop",
        )
        times.append((time.perf_counter() - start) * 1e6)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--turns", type=int, default=12, help="history length in exchanges")
    parser.add_argument("--repeat", type=int, default=200, help="replies per language (at most)")
    args = parser.parse_args()
    if args.turns < 1 or args.repeat < 1:
        print("--turns and --repeat must be at least 1", file=sys.stderr)
        return 2
    from benchmarks._common import summary

    results: dict[str, Any] = {}
    rows = []
    for language in ("en", "ko"):
        measure(language, args.turns, 5, cold=False)  # imports, regex compilation
        for condition in ("cold", "warm"):
            times = measure(language, args.turns, args.repeat, cold=condition == "cold")
            stats = summary(times)
            results[f"{language}/{condition}"] = stats
            rows.append(
                (
                    language,
                    condition,
                    str(stats["n"]),
                    f"{stats['mean']:.0f}",
                    f"{stats['p50']:.0f}",
                    f"{stats['p95']:.0f}",
                    f"{stats['max']:.0f}",
                )
            )
    print(f"check_reply on a {args.turns}-turn history, µs per reply")
    print(table(rows, ("language", "caches", "n", "mean µs", "p50 µs", "p95 µs", "max µs")))
    path = write_result(
        "fidelity_cost",
        "python -m benchmarks.bench_fidelity_cost " + " ".join(sys.argv[1:]),
        {"turns": args.turns, "unit": "microseconds per reply", "results": results},
    )
    print(f"wrote {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
