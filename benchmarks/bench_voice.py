"""Voice: do retrieved lines make replies sound more like the character?

Run: python -m benchmarks.bench_voice --model qwen2.5-coder-1.5b
     python -m benchmarks.bench_voice --model smollm2-135m --limit 3  # smoke

The character's lines are the replies in benchmarks/data/longchat_{en,ko}.json (Sherlock
Holmes in English, 민아 in Korean — 150 replies each, written for this project). Every fifth
exchange is held back; the rest are imported as a script with the same parser as
``personae card add-lines`` (``Name: line``), so each stored line keeps the user's turn before
it. For each held-back exchange the character answers the user's message on its own (no
history), once with the card alone and once with the card plus the ``--lines-k`` lines
retrieved for that message, and the reply is compared with the held-back line:

* ROUGE-L F1 (the evaluation harness; ``default`` tokens with Porter stemming for English,
  ``kiwi`` morphemes for Korean);
* style similarity: cosine of character 1–3-gram counts (punctuation, particles and endings
  count, which is much of a voice) between the reply and the held-back line.

Both come with bootstrap 95% intervals and the paired difference (lines − card only). Model
calls are cached on disk (``--cache``): greedy decoding, so a rerun only scores.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from benchmarks._common import RESULTS, table, write_result
from benchmarks.bench_longchat import DATA, CachedBackend, scripted_chat
from personae.agent import Turn
from personae.backends import GenerationParams, get_backend
from personae.checks.style import style_similarity
from personae.cli.common import ensure_pulled
from personae.memory.lines import import_lines, parse_script
from personae.memory.manager import MemorySettings
from personae.metrics.rouge import RougeScorer
from personae.metrics.stats import bootstrap_mean

HOLD_EVERY = 5
CONDITIONS = ("card only", "card + lines")


def exchanges(script: dict[str, Any]) -> list[tuple[str, str]]:
    """(user message, the character's reply) pairs, in order."""
    messages = script["messages"]
    return [
        (a["content"], b["content"])
        for a, b in zip(messages, messages[1:], strict=False)
        if a["role"] == "user" and b["role"] == "assistant"
    ]


def split(pairs: list[tuple[str, str]]) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(kept, held back): every fifth exchange is held back."""
    kept = [p for i, p in enumerate(pairs) if i % HOLD_EVERY != HOLD_EVERY - 1]
    held = [p for i, p in enumerate(pairs) if i % HOLD_EVERY == HOLD_EVERY - 1]
    return kept, held


def script_text(pairs: list[tuple[str, str]], user: str, char: str) -> str:
    return "\n".join(f"{user}: {u}\n{char}: {c}" for u, c in pairs)


def run_language(
    backend: CachedBackend,
    script: dict[str, Any],
    language: str,
    *,
    limit: int,
    lines_k: int,
    params: GenerationParams,
    n_ctx: int,
) -> dict[str, Any]:
    kept, held = split(exchanges(script))
    held = held[:limit]
    scorer = RougeScorer(
        ["rougeL"], tokenizer="kiwi" if language == "ko" else "default", stemmer=language != "ko"
    )
    rows: list[dict[str, Any]] = []
    settings = MemorySettings.only(["lines"], lines_k=lines_k)
    with scripted_chat(backend, script, params, n_ctx, settings) as chat:
        assert chat.memory is not None
        bank = chat.memory.bank
        char_name = chat.agent.character.name
        parsed = parse_script(
            script_text(kept, script["user_name"], char_name),
            speakers=[char_name],
        )
        imported = import_lines(bank, chat.stored.id, parsed, source="bench:voice")
        for user_text, reference in held:
            turns = [Turn("user", user_text)]
            prepared = chat.memory.prepare(user_text)
            row: dict[str, Any] = {"user": user_text, "reference": reference}
            for condition, memory in zip(CONDITIONS, (None, prepared.prompt), strict=True):
                reply = chat.agent.reply(turns, params, memory).read().strip()
                row[condition] = {
                    "reply": reply,
                    "rougeL": scorer.score(reply, reference)["rougeL"].fmeasure,
                    "style": style_similarity(reply, reference),
                }
            row["retrieved"] = [r.item.text for r in prepared.lines]
            rows.append(row)
    out: dict[str, Any] = {
        "language": language,
        "character": script["character"],
        "lines_indexed": imported,
        "held_back": len(rows),
        "rows": rows,
    }
    for metric in ("rougeL", "style"):
        base = [r[CONDITIONS[0]][metric] for r in rows]
        with_lines = [r[CONDITIONS[1]][metric] for r in rows]
        out[metric] = {
            CONDITIONS[0]: bootstrap_mean(base).as_dict(),
            CONDITIONS[1]: bootstrap_mean(with_lines).as_dict(),
            "difference": bootstrap_mean(
                [b - a for a, b in zip(base, with_lines, strict=True)]
            ).as_dict(),
        }
    return out


def _fmt(estimate: dict[str, float], scale: float = 100) -> str:
    m, lo, hi = (estimate[k] * scale for k in ("mean", "low", "high"))
    return f"{m:.1f} [{lo:.1f}, {hi:.1f}]"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default="qwen2.5-coder-1.5b")
    parser.add_argument("--languages", default="en,ko")
    parser.add_argument("--limit", type=int, default=30, help="held-back lines per language")
    parser.add_argument("--lines-k", type=int, default=2)
    parser.add_argument("--ctx", type=int, default=4096)
    parser.add_argument("--max-tokens", type=int, default=80)
    parser.add_argument("--threads", type=int, default=None, help="llama.cpp threads (all cores)")
    parser.add_argument("--cache", default=str(RESULTS / "voice" / "cache"))
    args = parser.parse_args()
    if args.limit < 1 or args.lines_k < 1:
        print("--limit and --lines-k must be at least 1", file=sys.stderr)
        return 2
    ensure_pulled(args.model)
    inner = get_backend("embedded", model=args.model, n_ctx=args.ctx, threads=args.threads)
    cache_dir = Path(args.cache)
    cache_dir.mkdir(parents=True, exist_ok=True)
    backend = CachedBackend(inner, cache_dir / f"{args.model}.jsonl")
    params = GenerationParams(max_tokens=args.max_tokens, temperature=0.0, seed=0)
    results = []
    rows = []
    for language in args.languages.split(","):
        script = json.loads((DATA / f"longchat_{language}.json").read_text(encoding="utf-8"))
        print(f"{language} …", file=sys.stderr)
        result = run_language(
            backend,
            script,
            language,
            limit=args.limit,
            lines_k=args.lines_k,
            params=params,
            n_ctx=args.ctx,
        )
        results.append(result)
        for metric in ("rougeL", "style"):
            r = result[metric]
            rows.append(
                (
                    language,
                    metric,
                    str(result["held_back"]),
                    _fmt(r[CONDITIONS[0]]),
                    _fmt(r[CONDITIONS[1]]),
                    _fmt(r["difference"]),
                )
            )
    print(f"model {args.model}, lines_k {args.lines_k}, cache hits {backend.hits}")
    print(table(rows, ("language", "metric", "n", *CONDITIONS, "difference [95% CI]")))
    path = write_result(
        f"voice_{args.model}",
        "python -m benchmarks.bench_voice " + " ".join(sys.argv[1:]),
        {"model": args.model, "lines_k": args.lines_k, "results": results},
    )
    print(f"wrote {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
