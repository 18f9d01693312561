"""Fidelity conversation set: play every scripted conversation on one model, keep the replies.

Run: python -m benchmarks.bench_fidelity --model smollm2-135m
     python -m benchmarks.bench_fidelity --model qwen2.5-coder-0.5b
     python -m benchmarks.bench_fidelity --model qwen2.5-coder-1.5b
     python -m benchmarks.bench_fidelity --model smollm2-135m --character sherlock  # one

The set (src/personae/evaluation/data/fidelity/, issue 14) holds 13 scripted user turns for each
bundled character and two role-template characters. Each conversation is played through the
real Chat with every memory on, in a throwaway library, with the default sampling and a fixed
seed (replies capped at --max-tokens, 160 by default). Writes
results/fidelity/transcripts_<model>.jsonl (one record a reply: the fidelity scorer's input),
results/fidelity/replies_<model>.md (to read) and results/fidelity_<model>.json (what the run
cost: wall time, TTFT, prompt tokens processed).

Model calls are cached (results/fidelity/cache/<model>.jsonl, committed) by the exact request, so
an interrupted run resumes, and a change to how prompts are built is played afresh. When the
fidelity scorer is installed (personae.evaluation.fidelity), its table is printed too.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks._common import RESULTS, summary, table, write_result
from personae.backends import get_backend
from personae.cli.common import ensure_pulled
from personae.errors import PersonaeError
from personae.evaluation.tasks.fidelity_play import (
    DEFAULT_MAX_TOKENS,
    ReplayCache,
    default_params,
    play_set,
)
from personae.evaluation.tasks.fidelity_set import load_set, select
from personae.evaluation.tasks.fidelity_transcripts import model_slug, transcript_paths
from personae.runtime import tune_allocator
from personae.settings.reply import ReplyStrategy

OUT = RESULTS / "fidelity"
ROOT = RESULTS.parents[1]


def shown(path: Path) -> str:
    """``path`` relative to the repository when it is inside it (results are committed)."""
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def main() -> int:
    try:
        return run()
    except PersonaeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


def run() -> int:
    tune_allocator()  # as the `personae` command does
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default="smollm2-135m")
    parser.add_argument(
        "--character", help="only the conversations with these characters (comma-separated)"
    )
    parser.add_argument("--set", dest="set_path", help="a conversation file or folder")
    parser.add_argument("--max-tokens", type=int, default=DEFAULT_MAX_TOKENS)
    parser.add_argument("--ctx", type=int, default=4096)
    parser.add_argument("--threads", type=int, default=None, help="llama.cpp threads (all cores)")
    parser.add_argument("--out", default=str(OUT))
    parser.add_argument("--label", help='names this run\'s files apart, e.g. "before"')
    parser.add_argument("--cache", default=str(OUT / "cache"))
    parser.add_argument(
        "--strategy",
        default="single",
        help="reply strategy: single (default), best-of-n, refine or auto (issue 15)",
    )
    parser.add_argument("--n", type=int, default=4, help="candidates for best-of-n and auto")
    parser.add_argument("--rounds", type=int, default=1, help="refine rounds")
    args = parser.parse_args()
    every = load_set(args.set_path)
    if args.character:
        wanted = {c.id for name in args.character.split(",") for c in select(every, name)}
        conversations = [c for c in every if c.id in wanted]
    else:
        conversations = every
    strategy = ReplyStrategy.from_mapping(
        {"strategy": args.strategy, "n": args.n, "rounds": args.rounds}
    )
    ensure_pulled(args.model)
    # Candidates are asked for on threads through the cache (one request each, by seed); the
    # model's parallel slots decode them together.
    inner = get_backend(
        "embedded",
        model=args.model,
        n_ctx=args.ctx,
        threads=args.threads,
        n_parallel=strategy.candidates,
    )
    backend = ReplayCache(inner, Path(args.cache) / f"{model_slug(args.model)}.jsonl")
    start = time.perf_counter()
    played = play_set(
        conversations,
        backend,
        args.out,
        params=default_params(args.model, args.max_tokens),
        n_ctx=args.ctx,
        progress=lambda line: print(line, file=sys.stderr),
        label=args.label,
        strategy=strategy,
    )
    wall = time.perf_counter() - start
    rows, per_conversation = [], []
    for p in played:
        ttft = [r["ttft_ms"] for r in p.records if r["ttft_ms"] is not None]
        # Warm turns only: turn 1 processes the whole card once.
        processed = [
            r["prompt_tokens_processed"]
            for r in p.records[1:]
            if r["prompt_tokens_processed"] is not None
        ]
        per_conversation.append(
            {
                "conversation": p.conversation.id,
                "replies": len(p.records),
                "wall_s": p.wall_s,
                "model_s": p.model_s,
                "cache_hits": p.hits,
                "cache_misses": p.misses,
                "ttft_ms": summary(ttft),
                "prompt_tokens_processed_warm": summary([float(n) for n in processed]),
                "empty_replies": sum(not r["reply"] for r in p.records),
                "memory_errors": p.memory_errors,
                "errors": p.errors,
            }
        )
        rows.append(
            (
                p.conversation.id,
                str(len(p.records)),
                f"{p.wall_s:.0f} s",
                f"{p.model_s:.0f} s",
                f"{p.hits}/{p.hits + p.misses}",
                _median(ttft, "{:.0f} ms"),
                _median(processed, "{:.0f}"),
            )
        )
    print(f"model {args.model}, ctx {args.ctx}, max_tokens {args.max_tokens}, wall {wall:.0f} s")
    header = (
        "conversation",
        "replies",
        "wall",
        "model time",
        "cached",
        "TTFT p50",
        "warm prompt tok p50",
    )
    print(table(rows, header))
    jsonl, markdown = transcript_paths(args.out, args.model, args.label)
    name = jsonl.stem.removeprefix("transcripts_")
    scored = _score(jsonl, Path(args.out) / f"report_{name}")
    path = write_result(
        f"fidelity_{name}",
        "python -m benchmarks.bench_fidelity " + " ".join(sys.argv[1:]),
        {
            "model": args.model,
            "ctx": args.ctx,
            "max_tokens": args.max_tokens,
            "strategy": {"name": strategy.name, "n": strategy.n, "rounds": strategy.rounds},
            "params": default_params(args.model, args.max_tokens).model_dump(mode="json"),
            "wall_s": wall,
            "model_s": sum(p.model_s for p in played),
            "replies": sum(len(p.records) for p in played),
            "conversations": per_conversation,
            "transcripts": shown(jsonl),
            "scores": scored,
        },
    )
    print(f"wrote {jsonl}, {markdown} and {path}", file=sys.stderr)
    return 0


def _median(values: list[Any], fmt: str) -> str:
    return fmt.format(statistics.median(values)) if values else "-"


def _score(jsonl: Path, stem: Path) -> Any:
    """Score the transcripts with the fidelity scorer (personae.evaluation.fidelity, built
    beside this runner) and write its report next to them; None when it is not there yet."""
    try:
        from personae.evaluation.fidelity.report import fidelity_report, score_rows
        from personae.evaluation.fidelity.transcripts import read_transcripts
    except ImportError:
        print("(the fidelity scorer is not installed yet: transcripts only)", file=sys.stderr)
        return None
    report = fidelity_report(score_rows(read_transcripts(jsonl)), source=shown(jsonl))
    paths = report.write(stem)
    print(report.to_markdown(), file=sys.stderr)
    print("wrote " + ", ".join(str(p) for p in paths), file=sys.stderr)
    return report.to_json()


if __name__ == "__main__":
    sys.exit(main())
