"""Before/after table for the fidelity set: both transcripts rescored with today's scorer.

Run: python -m benchmarks.fidelity_compare --model qwen2.5-coder-1.5b
     python -m benchmarks.fidelity_compare --model smollm2-135m --before before --after after

Reads results/fidelity/transcripts_<model>_<label>.jsonl for the two labels (as
benchmarks/bench_fidelity.py wrote them), scores both with the current fidelity scorer (so a
detector added since a run counts on both sides), rewrites each label's report, and prints one
table: every goal and flag with its rate and bootstrap 95% interval, before and after, plus what
the replies cost (prompt tokens processed on warm turns) and what the reply guards did (tries per
reply, retried and cut replies). Writes results/fidelity_compare_<model>.json.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path
from typing import Any

from benchmarks._common import RESULTS, table, write_result
from personae.evaluation.fidelity.report import fidelity_report, score_rows
from personae.evaluation.fidelity.transcripts import read_transcripts
from personae.evaluation.tasks.fidelity_transcripts import transcript_paths

OUT = RESULTS / "fidelity"
ROOT = RESULTS.parents[1]


def _rate(value: Any) -> str:
    """An estimate (an ``Estimate`` or its JSON dict) as "rate [low, high]" in %."""
    mean, low, high = (
        (value[k] for k in ("mean", "low", "high"))
        if isinstance(value, dict)
        else (value.mean, value.low, value.high)
    )
    return f"{100 * mean:.1f} [{100 * low:.1f}, {100 * high:.1f}]"


def _side(model: str, label: str) -> dict[str, Any]:
    jsonl, _ = transcript_paths(OUT, model, label)
    rows = read_transcripts(jsonl)
    source = str(jsonl.resolve().relative_to(ROOT))
    report = fidelity_report(score_rows(rows), source=source)
    report.write(OUT / f"report_{jsonl.stem.removeprefix('transcripts_')}")
    data = report.to_json()["data"]
    records = _raw(jsonl)  # the player's fields the scorer does not read (cost, tries)
    warm = [
        r["prompt_tokens_processed"]
        for r in records
        if r.get("turn", 0) > 1 and r.get("prompt_tokens_processed") is not None
    ]
    tries = [len(r.get("attempts") or [None]) for r in records]
    return {
        "transcripts": source,
        "replies": len(records),
        "goals": data["goals"],
        "flags": data["flags"],
        "warm_prompt_tokens": {
            "median": statistics.median(warm) if warm else None,
            "p90": sorted(warm)[int(0.9 * (len(warm) - 1))] if warm else None,
            "max": max(warm) if warm else None,
            "n": len(warm),
            "over_150": sum(w > 150 for w in warm),
        },
        "guard": {
            "mean_tries": statistics.mean(tries) if tries else None,
            "retried": sum("retry" in (r.get("attempts") or []) for r in records),
            "cut": sum("cut" in (r.get("attempts") or []) for r in records),
            "skipped_opening": sum(
                any(g.startswith("skip") for g in r.get("guard") or []) for r in records
            ),
        },
    }


def _raw(path: Path) -> list[dict[str, Any]]:
    import json

    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", required=True)
    parser.add_argument("--before", default="before")
    parser.add_argument("--after", default="after")
    args = parser.parse_args()
    before, after = _side(args.model, args.before), _side(args.model, args.after)
    rows = []
    for goal, value in before["goals"].items():
        limit = f"≤ {100 * value['limit']:g}%"
        rows.append(
            (f"**{goal}** ({limit})", _rate(value["rate"]), _rate(after["goals"][goal]["rate"]))
        )
    for flag, value in before["flags"].items():
        rows.append((flag, _rate(value), _rate(after["flags"][flag])))
    for side in (before, after):
        w = side["warm_prompt_tokens"]
        side["warm_text"] = (
            "-"
            if w["median"] is None
            else f"{w['median']:.0f} / {w['p90']} / {w['max']} "
            f"({w['over_150']} of {w['n']} over 150)"
        )
        g = side["guard"]
        side["guard_text"] = (
            f"{g['mean_tries']:.2f} tries; {g['retried']} retried, {g['cut']} cut, "
            f"{g['skipped_opening']} skipped an opening"
        )
    rows.append(
        (
            "warm prompt tokens processed, median / p90 / max",
            before["warm_text"],
            after["warm_text"],
        )
    )
    rows.append(("reply guard", before["guard_text"], after["guard_text"]))
    print(
        f"{args.model}: {before['replies']} replies {args.before}, {after['replies']} {args.after}"
    )
    print(table(rows, ("rate % [95% CI]", args.before, args.after)))
    path = write_result(
        f"fidelity_compare_{args.model}",
        "python -m benchmarks.fidelity_compare " + " ".join(sys.argv[1:]),
        {"model": args.model, args.before: before, args.after: after},
    )
    print(f"wrote {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
