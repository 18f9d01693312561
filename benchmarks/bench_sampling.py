"""Sampling defaults: how much of its own earlier turns does a model copy, per setting?

Run: python -m benchmarks.bench_sampling                      # smollm2-135m, ~1 minute
     python -m benchmarks.bench_sampling --model qwen2.5-coder-0.5b

Four short role-play chats (a greeting, sometimes an earlier reply, then the user's turn) are
answered with greedy decoding under each setting: no repetition control, the old default
(``repeat_penalty`` 1.1), DRY at the catalogue's values (0.8 / 1.75 / 2 / whole context) with
and without ``repeat_penalty`` 1.1. For each reply: the longest run of words it shares with an
earlier assistant turn of the same chat, and whether it loops (a 4-word phrase three times or
more). Greedy, so one run is the answer for this model file; a probe of the settings, not a
fidelity measurement (that is ``bench_fidelity``).
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from typing import Any

from benchmarks._common import table, write_result
from personae.backends import GenerationParams, Message, collect, get_backend
from personae.cli.common import ensure_pulled

HOLMES = "You are Sherlock Holmes. Stay in character."
GREETING = (
    "*adjusts his coat* Good evening. I am Sherlock Holmes, consulting detective of 221B Baker "
    "Street. State your business quickly, for I have a case to solve."
)
EARLIER = (
    "Ah, Watson sent you. Sit down, sit down. You have come from the docks, I perceive, by the "
    "tar on your boots. Tell me everything about the missing ship."
)
CHATS: dict[str, list[Message]] = {
    "holmes-greeting": [
        Message("system", HOLMES),
        Message("assistant", GREETING),
        Message("user", "Hello! Who are you?"),
    ],
    "holmes-third-turn": [
        Message("system", HOLMES),
        Message("assistant", GREETING),
        Message("user", "I came about the missing ship."),
        Message("assistant", EARLIER),
        Message("user", "The ship vanished two nights ago. What do you think?"),
    ],
    "baker-greeting": [
        Message("system", "You are Mina, a cheerful baker in a small village. Reply as Mina."),
        Message(
            "assistant",
            "Welcome to my bakery! The bread is fresh from the oven and the cinnamon rolls are "
            "still warm. What can I get for you today?",
        ),
        Message("user", "What do you recommend?"),
    ],
    "pirate-third-turn": [
        Message("system", "You are a pirate captain. Reply in character."),
        Message(
            "assistant",
            "Arr, welcome aboard the Black Gull, the fastest ship on the seven seas! "
            "I be Captain Redbeard.",
        ),
        Message("user", "Tell me about yourself."),
        Message(
            "assistant",
            "I be Captain Redbeard, master of the Black Gull, the fastest ship on the seven "
            "seas! Arr!",
        ),
        Message("user", "What is your ship like?"),
    ],
}
DRY: dict[str, Any] = {
    "dry_multiplier": 0.8,
    "dry_base": 1.75,
    "dry_allowed_length": 2,
    "dry_penalty_last_n": -1,
}
SETTINGS: dict[str, dict[str, Any]] = {
    "none": {"repeat_penalty": None},
    "repeat_penalty 1.1 (old default)": {"repeat_penalty": 1.1},
    "DRY, repeat_penalty 1.0": {**DRY, "repeat_penalty": 1.0},
    "DRY + repeat_penalty 1.1": {**DRY, "repeat_penalty": 1.1},
}


def longest_shared_words(reply: str, sources: list[str]) -> int:
    """The longest run of words (case-folded, split on spaces) ``reply`` shares with a source."""
    words = reply.lower().split()
    best = 0
    for source in sources:
        other = source.lower().split()
        previous = [0] * (len(other) + 1)
        for word in words:
            current = [0] * (len(other) + 1)
            for j, candidate in enumerate(other, 1):
                if word == candidate:
                    current[j] = previous[j - 1] + 1
                    best = max(best, current[j])
            previous = current
    return best


def loops(reply: str, n: int = 4, times: int = 3) -> bool:
    words = reply.lower().split()
    grams = Counter(tuple(words[i : i + n]) for i in range(len(words) - n + 1))
    return any(count >= times for count in grams.values())


def run() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default="smollm2-135m")
    parser.add_argument("--max-tokens", type=int, default=80)
    parser.add_argument("--threads", type=int, default=1, help="llama.cpp threads")
    args = parser.parse_args()
    ensure_pulled(args.model)
    backend = get_backend("embedded", model=args.model, n_ctx=2048, threads=args.threads)
    results: list[dict[str, Any]] = []
    rows = []
    try:
        for label, setting in SETTINGS.items():
            params = GenerationParams(max_tokens=args.max_tokens, temperature=0.0, **setting)
            copied, looped = [], 0
            for chat, messages in CHATS.items():
                reply, _ = collect(backend.stream(messages, params))
                earlier = [m.content for m in messages if m.role == "assistant"]
                shared = longest_shared_words(reply, earlier)
                copied.append(shared)
                looped += loops(reply)
                results.append(
                    {"setting": label, "chat": chat, "copied_words": shared, "loops": loops(reply)}
                    | {"reply": reply}
                )
            rows.append(
                (label, " ".join(map(str, copied)), str(max(copied)), f"{looped}/{len(CHATS)}")
            )
    finally:
        backend.close()  # type: ignore[attr-defined]
    print(f"model {args.model}, greedy, max_tokens {args.max_tokens}")
    header = ("setting", "copied words per chat", "max", "loops")
    print(table(rows, header))
    path = write_result(
        f"sampling_{args.model}",
        "python -m benchmarks.bench_sampling " + " ".join(sys.argv[1:]),
        {
            "model": args.model,
            "max_tokens": args.max_tokens,
            "chats": list(CHATS),
            "settings": SETTINGS,
            "replies": results,
        },
    )
    print(f"wrote {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(run())
