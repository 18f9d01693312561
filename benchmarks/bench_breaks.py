"""Character breaks: every bundled character against the bundled probe sets (English for
sherlock, elizabeth and mina; Korean for 홍길동 and 춘향), rule detectors on every reply, and an
optional judge on anachronism replies.

Run: flock /tmp/personae-model.lock python -m benchmarks.bench_breaks --model smollm2-135m
     flock /tmp/personae-model.lock python -m benchmarks.bench_breaks \
         --model qwen2.5-coder-1.5b --only SUBSET --judge-model qwen2.5-coder-1.5b
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks._common import RESULTS, embedded_actor_and_judge, table, write_result
from personae.backends import GenerationParams
from personae.characters import bundled_characters
from personae.evaluation.cache import ResultCache
from personae.evaluation.tasks.breaks import run_breaks
from personae.metrics.stats import Estimate


def _ids(text: str | None) -> list[str] | None:
    return [t.strip() for t in text.split(",") if t.strip()] if text else None


def plain(value: Any) -> Any:
    """A report's JSON with its Estimates as plain dicts."""
    return json.loads(json.dumps(value, default=lambda v: v.as_dict()))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="smollm2-135m", help="actor model")
    parser.add_argument("--characters", help="comma-separated ids (default: all bundled)")
    parser.add_argument("--only", help="comma-separated probe ids (default: all that apply)")
    parser.add_argument("--judge-model", help="judge anachronism replies with this model")
    parser.add_argument("--judge-only", help="comma-separated probe ids the judge rates")
    parser.add_argument("--judge-max-tokens", type=int, default=120)
    parser.add_argument("--max-tokens", type=int, default=120, help="reply length")
    parser.add_argument("--ctx", type=int, default=4096)
    parser.add_argument("--cache-dir", default="/tmp/personae-bench-cache")
    parser.add_argument("--tag", default="", help="suffix of the result file name")
    args = parser.parse_args()

    everyone = bundled_characters()
    wanted = _ids(args.characters) or list(everyone)
    chars = {cid: everyone[cid] for cid in wanted}
    actor, judge = embedded_actor_and_judge(
        args.model, args.judge_model, ctx=args.ctx, judge_max_tokens=args.judge_max_tokens
    )
    cache = ResultCache(Path(args.cache_dir) / f"breaks-{args.model}.jsonl")
    start = time.perf_counter()
    report = run_breaks(
        chars,
        actor,
        probe_ids=_ids(args.only),
        judge=judge,
        judge_probe_ids=_ids(args.judge_only),
        cache=cache,
        params=GenerationParams(max_tokens=args.max_tokens, temperature=0.0, seed=0),
        on_probe=lambda done, total: print(f"\rprobes {done}/{total}", end="", flush=True),
    )
    print()
    seconds = time.perf_counter() - start
    rates: dict[str, Any] = report.data["rates"]
    rows = [
        (
            kind,
            str(r["replies"]),
            str(r["breaks"]),
            f"{r['rate']['mean'] * 100:.1f}% [{r['rate']['low'] * 100:.1f}, "
            f"{r['rate']['high'] * 100:.1f}]",
        )
        for kind, r in rates.items()
    ]
    print(f"actor {args.model}, judge {args.judge_model or '–'}, {len(chars)} characters")
    print(table(rows, ("kind", "replies", "breaks", "rate [95% CI]")))
    by_char = next(t for t in report.tables if t.title == "By character")
    char_rows = [
        tuple(v.format(scale=100, digits=0) if isinstance(v, Estimate) else str(v) for v in row)
        for row in by_char.rows
    ]
    print(table(char_rows, tuple(by_char.columns)))
    name = f"breaks_{args.model}{('_' + args.tag) if args.tag else ''}"
    path = write_result(
        name,
        "python -m benchmarks.bench_breaks " + " ".join(sys.argv[1:]),
        {
            "actor": args.model,
            "judge": args.judge_model,
            "characters": list(chars),
            "reply_max_tokens": args.max_tokens,
            "seconds_this_run": round(seconds, 1),
            "report": plain(report.to_json()),
        },
    )
    report.write(RESULTS / "reports" / path.stem)
    print(f"wrote {path} and reports/{path.stem}.md/.html")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
