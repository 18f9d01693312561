"""What ranking best-of-N candidates costs: ``Verifiers.default().rank`` (the rule verifiers:
fidelity, anachronism, style, length) on 4 candidates with a 12-turn history.

Run: python -m benchmarks.bench_verifier_cost [--turns 12] [--repeat 100] [--n 4]
(writes results/verifier_cost.json; with another ``--n``, results/verifier_cost_n{N}.json)

Histories come from the hand-written chats in benchmarks/data/longchat_{en,ko}.json (Sherlock
in English with the bundled ``sherlock`` card, 민아 in Korean with ``mina``), as in
bench_fidelity_cost. For each user turn after the twelfth, the candidates are: the script's own
reply, a reply from later in the script (natural, but not this one), the previous reply again
(a copy: the slow path, a shared-run search) and the user's message followed by the reply (an
echo); with ``--n`` above 4, more later replies. A fresh :class:`ReplyContext` each turn, as in a
chat. Two conditions:

* cold: every cache emptied first (the card prepared again, every history text cut again): the
  first turn of a chat;
* warm: the history's texts already cut (the reply guards checked them on earlier turns): every
  later turn. The candidates are new to the caches in both;
* bare: as warm, but ``check_reply`` called once per candidate and nothing else: what the
  verifier layer adds over the fidelity check it is built on is warm minus bare.

"gated" is how many of a turn's candidates failed a gate; "top natural" how often the candidate
ranked first was a natural reply (not the copy or the echo): a sanity check, not a measure of
quality. The machine's load average is recorded with the result: another benchmark on the same cores
slows every figure here.

The judge is not timed (it is a model call per pair); neither is ``consistency`` (an embedding).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from typing import Any

from benchmarks._common import summary, table, write_result
from benchmarks.bench_longchat import DATA
from personae.agent.verifiers import Candidate, ReplyContext, Verifiers
from personae.backends.base import Message
from personae.characters.bundled import bundled_characters
from personae.checks import CardReference, check_reply
from personae.checks import language as language_module
from personae.checks import reply as check_module
from personae.checks import style as style_module
from personae.checks.overlap import units

CARDS = {"en": "sherlock", "ko": "mina"}


def cases(language: str, turns: int, n: int) -> list[dict[str, Any]]:
    script = json.loads((DATA / f"longchat_{language}.json").read_text(encoding="utf-8"))
    messages = script["messages"]
    replies = [m["content"] for m in messages if m["role"] == "assistant"]
    out = []
    for i in range(2 * turns, len(messages) - 1, 2):
        user, reply = messages[i], messages[i + 1]
        if user["role"] != "user" or reply["role"] != "assistant":
            continue
        history = messages[i - 2 * turns : i]
        k = (i + 1) // 2  # this reply's place in ``replies``
        later = [replies[(k + 5 + j) % len(replies)] for j in range(max(1, n - 3))]
        candidates = [reply["content"], later[0], history[-1]["content"]]
        candidates.append(f"{user['content']} {reply['content']}")
        candidates += later[1:]
        out.append(
            {
                "user": user["content"],
                "history": history,
                "candidates": candidates[:n],
                "user_name": script["user_name"],
            }
        )
    return out


def clear_caches() -> None:
    units.cache_clear()
    check_module._reference.cache_clear()
    style_module._counts.cache_clear()
    language_module._words.cache_clear()


def warm_history(character: Any, row: dict[str, Any], language: str) -> None:
    """What the guards did on earlier turns: every history text cut and cached."""
    card = CardReference.from_character(character, row["user_name"])
    history = row["history"]
    check_reply(
        history[-1]["content"],
        user=history[-2]["content"],
        history=history[:-2],
        card=card,
        language=language,  # type: ignore[arg-type]
        user_name=row["user_name"],
    )


def bare(character: Any, row: dict[str, Any], language: str) -> None:
    """``check_reply`` once per candidate, nothing else."""
    card = CardReference.from_character(character, row["user_name"])
    for text in row["candidates"]:
        check_reply(
            text,
            user=row["user"],
            history=row["history"],
            card=card,
            language=language,  # type: ignore[arg-type]
            user_name=row["user_name"],
            finish_reason="stop",
        )


def measure(language: str, turns: int, repeat: int, n: int, *, condition: str) -> dict[str, Any]:
    """Times per turn (ms) of ``rank`` under ``condition``; under "warm", the bare checks too,
    timed on the same turn right before or after (alternating), so that both see the same
    load and their paired difference is what the verifier layer costs."""
    character = bundled_characters()[CARDS[language]]
    verifiers = Verifiers.default()
    out: dict[str, Any] = {"rank": [], "bare": [], "gated": [], "top": []}
    for k, row in enumerate(cases(language, turns, n)[:repeat]):
        history = [Message(m["role"], m["content"]) for m in row["history"]]
        candidates = [Candidate(text, "stop") for text in row["candidates"]]
        order = ("rank", "bare") if k % 2 == 0 else ("bare", "rank")
        for what in order if condition == "warm" else ("rank",):
            clear_caches()
            if condition == "warm":
                warm_history(character, row, language)
            start = time.perf_counter()
            if what == "bare":
                bare(character, row, language)
            else:
                context = ReplyContext(character, row["user_name"], row["user"], history, language)  # type: ignore[arg-type]
                ranked = verifiers.rank(candidates, context)
            out[what].append((time.perf_counter() - start) * 1e3)
        out["gated"].append(sum(not r.passed for r in ranked))
        out["top"].append(ranked[0].index)
    return out


def row_of(language: str, condition: str, stats: dict[str, Any]) -> tuple[str, ...]:
    def fmt(key: str, spec: str) -> str:
        value = stats.get(key)
        return "-" if value is None else format(value, spec)

    return (
        language,
        condition,
        str(stats["n"]),
        f"{stats['mean']:.2f}",
        f"{stats['p50']:.2f}",
        f"{stats['p95']:.2f}",
        f"{stats['max']:.2f}",
        f"{stats['per_candidate_p50']:.2f}",
        fmt("gated_per_turn", ".1f"),
        fmt("top_natural_share", ".0%"),
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--turns", type=int, default=12, help="history length in exchanges")
    parser.add_argument("--repeat", type=int, default=100, help="turns per language (at most)")
    parser.add_argument("--n", type=int, default=4, help="candidates per turn")
    args = parser.parse_args()
    if args.turns < 1 or args.repeat < 1 or not 1 <= args.n <= 16:
        print("--turns and --repeat must be at least 1, --n 1 to 16", file=sys.stderr)
        return 2
    results: dict[str, Any] = {}
    layer: dict[str, Any] = {}  # rank minus bare, paired per turn
    rows: list[tuple[str, ...]] = []
    for language in ("en", "ko"):
        measure(language, args.turns, 5, args.n, condition="warm")  # imports, regexes
        for condition in ("cold", "warm"):
            got = measure(language, args.turns, args.repeat, args.n, condition=condition)
            stats = summary(got["rank"])
            stats["per_candidate_p50"] = stats["p50"] / args.n
            stats["gated_per_turn"] = statistics.fmean(got["gated"])
            # A natural reply (the script's own or a later one, never the copy or the echo)
            # ranked first: a sanity check of the ranking, not a measure of quality.
            stats["top_natural_share"] = statistics.fmean(t not in (2, 3) for t in got["top"])
            results[f"{language}/{condition}"] = stats
            rows.append(row_of(language, condition, stats))
            if condition == "warm":
                plain = summary(got["bare"])
                plain["per_candidate_p50"] = plain["p50"] / args.n
                results[f"{language}/bare"] = plain
                rows.append(row_of(language, "bare", plain))
                paired = [a - b for a, b in zip(got["rank"], got["bare"], strict=True)]
                layer[language] = summary(paired)
    print(f"Verifiers.default().rank: {args.n} candidates, {args.turns}-turn history, ms per turn")
    header = (
        "language",
        "caches",
        "turns",
        "mean",
        "p50",
        "p95",
        "max",
        "p50/cand",
        "gated",
        "top natural",
    )
    print(table(rows, header))
    for language, diff in layer.items():
        print(
            f"{language}: rank minus bare checks, paired per turn: median {diff['p50']:+.2f} ms, "
            f"mean {diff['mean']:+.2f} ms"
        )
    load = os.getloadavg()[0]
    print(f"load average (1 min) at the end: {load:.2f} on {os.cpu_count()} cores")
    path = write_result(
        "verifier_cost" if args.n == 4 else f"verifier_cost_n{args.n}",
        "python -m benchmarks.bench_verifier_cost " + " ".join(sys.argv[1:]),
        {
            "turns": args.turns,
            "candidates": args.n,
            "verifiers": Verifiers.default().weights,
            "unit": "milliseconds per rank (all candidates of one turn)",
            "load_average_1min": load,
            "results": results,
            "layer_overhead_ms": layer,
        },
    )
    print(f"wrote {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
