"""Personality: the BFI administered in character (InCharacter interview method), compared with
our own label for the character.

Option scoring: the actor answers each item in its own words, then picks a number 1–5.
Judge scoring: a judge rates how much each (cached) answer agrees with the statement.
Both share the interview answers through the results cache, so running judge after option only
costs the judge calls. The questionnaire is external data (../shared/data/questionnaires).

Run: flock /tmp/personae-model.lock python -m benchmarks.bench_personality \
         --model smollm2-135m --character sherlock
     flock /tmp/personae-model.lock python -m benchmarks.bench_personality \
         --model qwen2.5-coder-1.5b --limit 15 --scoring option,judge
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks._common import RESULTS, embedded_actor_and_judge, table, write_result
from personae.backends import GenerationParams
from personae.characters import bundled_characters
from personae.evaluation.cache import ResultCache
from personae.evaluation.labels import bundled_label
from personae.evaluation.questionnaire import load_questionnaire
from personae.evaluation.report import Report
from personae.evaluation.tasks.personality import run_personality

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def plain(value: Any) -> Any:
    """A report's JSON with its Estimates as plain dicts."""
    return json.loads(json.dumps(value, default=lambda v: v.as_dict()))


def redact(report: Report) -> Report:
    """The questionnaire is external data that stays out of the repository: committed results
    keep item ids, dimensions and the character's answers, not the items' wording."""
    for item in report.data["items"]:
        item["statement"] = None
        item["question"] = None
    for items in report.tables:
        if items.title == "Items":
            at = items.columns.index("statement")
            for row in items.rows:
                row[at] = f"{report.settings['questionnaire']} item {row[0]}"
    return report


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="smollm2-135m", help="actor model")
    parser.add_argument("--character", default="sherlock")
    parser.add_argument("--questionnaire", default=str(DATA / "questionnaires" / "BFI.json"))
    parser.add_argument("--limit", type=int, help="items, spread over dimensions (default all)")
    parser.add_argument("--scoring", default="option", help="option, judge or option,judge")
    parser.add_argument("--judge-model", default="qwen2.5-coder-1.5b")
    parser.add_argument("--judge-max-tokens", type=int, default=120)
    parser.add_argument("--max-tokens", type=int, default=120, help="answer length")
    parser.add_argument("--ctx", type=int, default=4096)
    parser.add_argument("--cache-dir", default="/tmp/personae-bench-cache")
    args = parser.parse_args()

    qpath = Path(args.questionnaire)
    if not qpath.is_file():
        print(f"questionnaire {qpath} not found (external data): nothing to run", file=sys.stderr)
        return 1
    q = load_questionnaire(qpath)
    char = bundled_characters()[args.character]
    found = bundled_label(args.character, q)
    label, source = found if found else (None, "")
    scorings = [s.strip() for s in args.scoring.split(",") if s.strip()]
    actor, judge = embedded_actor_and_judge(
        args.model,
        args.judge_model if "judge" in scorings else None,
        ctx=args.ctx,
        judge_max_tokens=args.judge_max_tokens,
    )
    cache = ResultCache(
        Path(args.cache_dir) / f"personality-{args.character}-{q.name}-{args.model}.jsonl"
    )
    params = GenerationParams(max_tokens=args.max_tokens, temperature=0.0, seed=0)
    runs: dict[str, Any] = {}
    rows = []
    for scoring in scorings:
        start = time.perf_counter()
        report = run_personality(
            char,
            actor,
            q,
            character_id=args.character,
            scoring="judge" if scoring == "judge" else "option",
            judge=judge,
            label=label,
            label_source=source,
            limit=args.limit,
            cache=cache,
            params=params,
            on_item=lambda done, total, s=scoring: print(
                f"\r{s} {done}/{total}", end="", flush=True
            ),
        )
        print()
        redact(report)
        seconds = time.perf_counter() - start
        data = report.data
        runs[scoring] = {"seconds_this_run": round(seconds, 1), "report": plain(report.to_json())}
        for dim in q.dimensions:
            d = data["dimensions"][dim.name]
            check = next((c for c in data["label_checks"] if c["dimension"] == dim.name), None)
            mean = d["mean"]
            rows.append(
                (
                    scoring,
                    dim.name,
                    f"{mean['mean']:.2f} [{mean['low']:.2f}, {mean['high']:.2f}]",
                    str(d["level"]),
                    f"{d['answered']}/{d['total']}",
                    check["expected"] if check else "",
                    ("yes" if check["agrees"] else "no") if check else "",
                )
            )
        acc = data["accuracy"]
        rows.append(
            (
                scoring,
                "label accuracy",
                "–" if acc is None else f"{acc:.2f}",
                "",
                f"unscored {data['unanswered']}",
                "",
                "",
            )
        )
    header = ("scoring", "dimension", "mean [95% CI]", "level", "scored", "label", "agrees")
    print(f"{char.name}, {q.name}, actor {args.model}, judge {args.judge_model if judge else '–'}")
    print(table(rows, header))
    limit = f"_limit{args.limit}" if args.limit else ""
    path = write_result(
        f"personality_{q.name.lower()}_{args.character}_{args.model}{limit}",
        "python -m benchmarks.bench_personality " + " ".join(sys.argv[1:]),
        {
            "actor": args.model,
            "judge": args.judge_model if judge else None,
            "character": args.character,
            "questionnaire": q.name,
            "limit": args.limit,
            "answer_max_tokens": args.max_tokens,
            "label": label,
            "threads": os.cpu_count(),
            "runs": runs,
        },
    )
    report.write(RESULTS / "reports" / path.stem)
    print(f"wrote {path} and reports/{path.stem}.md/.html (last scoring)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
