"""Interview and pairwise role-play evaluation on the embedded models.

1. Interview: the bundled `sherlock` answers 10 of its 14 bundled questions (every topic, three
   trap questions about things he cannot know) in single-turn mode; a judge scores each answer
   on all five Character-LLM dimensions (1-7).
2. Pairwise: smollm2-135m and qwen2.5-coder-1.5b, both playing `sherlock`, answer 4 questions;
   the judge compares each pair in both orders (win rate, ties, position consistency).

Every answer and verdict goes to a results cache as soon as it exists, so an interrupted run
resumes where it stopped (``--cache-dir``; ``--fresh`` starts over).

Run (models in $PERSONAE_MODELS_DIR, serialized with other model work):
    flock /tmp/personae-model.lock python -m benchmarks.bench_interview
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks._common import RESULTS, table, write_result
from personae.backends import Backend, GenerationParams, get_backend
from personae.checks.judge import DEFAULT_PARAMS, Judge
from personae.cli.common import ensure_pulled
from personae.evaluation.cache import ResultCache
from personae.evaluation.report import Report
from personae.evaluation.tasks._roleplay import bundled_questions
from personae.evaluation.tasks.interview import run_interview
from personae.evaluation.tasks.pairwise import Contestant, run_pairwise

# Indices into the bundled sherlock set: life, relations, values, method, era, and traps (11:
# a smartphone, 13: "you are an AI"). The pairwise run asks the first four, so the 1.5B model's
# interview answers are reused from the cache (single-turn answers are keyed by position).
INTERVIEW_QUESTIONS = [0, 4, 9, 11, 1, 3, 6, 7, 10, 13]
PAIR_QUESTIONS = INTERVIEW_QUESTIONS[:4]
REASONING_CHARS = 400  # judge reasoning kept in the committed report files


class Counting:
    """Wraps a backend to count requests and generated tokens (for the timing table)."""

    def __init__(self, backend: Backend) -> None:
        self.inner = backend
        self.name = backend.name
        self.model = backend.model
        self.n_ctx = getattr(backend, "n_ctx", None)
        self.requests = 0
        self.completion_tokens = 0

    def count_tokens(self, text: str) -> int:
        return int(self.inner.count_tokens(text))  # type: ignore[attr-defined]

    def stream(self, messages: Any, params: GenerationParams) -> Any:
        self.requests += 1
        inner = self.inner.stream(messages, params)
        try:
            for chunk in inner:
                if chunk.usage is not None:
                    self.completion_tokens += chunk.usage.completion_tokens
                yield chunk
        finally:
            close = getattr(inner, "close", None)
            if close is not None:
                close()  # stopping early must still cancel generation


def load(model: str, loaded: dict[str, Backend], n_ctx: int, threads: int | None) -> Counting:
    """A counting view of ``model`` (each model is loaded once; each caller counts alone)."""
    if model not in loaded:
        ensure_pulled(model)
        options: dict[str, Any] = {"n_ctx": n_ctx}
        if threads:
            options["threads"] = threads
        loaded[model] = get_backend("embedded", model=model, **options)
    return Counting(loaded[model])


def trimmed(report: Report) -> Report:
    """The report with long judge reasoning cut, so committed result files stay small."""
    for item in report.data.get("items", []):
        for verdict in item.get("scores", {}).values():
            text = verdict.get("reasoning", "")
            if len(text) > REASONING_CHARS:
                verdict["reasoning"] = text[:REASONING_CHARS] + " …"
        if isinstance(item.get("reasoning"), list):
            item["reasoning"] = [r[:REASONING_CHARS] for r in item["reasoning"]]
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--actor", default="qwen2.5-coder-1.5b")
    parser.add_argument("--judge", default="qwen2.5-coder-1.5b")
    parser.add_argument("--pair", nargs=2, default=["smollm2-135m", "qwen2.5-coder-1.5b"])
    parser.add_argument("--questions", type=int, default=len(INTERVIEW_QUESTIONS))
    parser.add_argument("--pair-questions", type=int, default=len(PAIR_QUESTIONS))
    parser.add_argument("--max-tokens", type=int, default=120, help="actor answer budget")
    parser.add_argument("--judge-max-tokens", type=int, default=200)
    parser.add_argument("--ctx", type=int, default=4096)
    parser.add_argument("--threads", type=int, help="llama.cpp threads (default: its own)")
    parser.add_argument("--skip-pairwise", action="store_true")
    parser.add_argument("--cache-dir", type=Path, default=Path("/tmp/personae-bench-interview"))
    parser.add_argument("--fresh", action="store_true")
    args = parser.parse_args(argv)
    command = "python -m benchmarks.bench_interview " + " ".join(argv or sys.argv[1:])
    if args.fresh and args.cache_dir.exists():
        shutil.rmtree(args.cache_dir)
    cache = ResultCache(args.cache_dir / "cache.jsonl")
    everything = bundled_questions("sherlock")
    actor_params = GenerationParams(max_tokens=args.max_tokens, seed=0)
    judge_params = DEFAULT_PARAMS.model_copy(update={"max_tokens": args.judge_max_tokens})
    loaded: dict[str, Backend] = {}
    judge_backend = load(args.judge, loaded, args.ctx, args.threads)
    judge = Judge(judge_backend, params=judge_params)

    def progress(stage: str, done: int, total: int) -> None:
        print(f"\r  {stage}: {done}/{total}", end="\n" if done == total else "", file=sys.stderr)

    results: dict[str, Any] = {"actor": args.actor, "judge": judge.fingerprint}
    actor = load(args.actor, loaded, args.ctx, args.threads)
    start = time.perf_counter()
    report = run_interview(
        "sherlock",
        actor,
        judge,
        questions=[everything[i] for i in INTERVIEW_QUESTIONS[: args.questions]],
        cache=cache,
        actor_params=actor_params,
        progress=progress,
    )
    interview_s = time.perf_counter() - start
    trimmed(report).write(RESULTS / "interview_sherlock")
    data = report.data
    rows = [
        (dim, f"{v['mean']:.2f} [{v['low']:.2f}, {v['high']:.2f}]", str(v["n"]), str(v["invalid"]))
        for dim, v in data["dimensions"].items()
    ]
    o = data["overall"]
    rows.append(("overall", f"{o['mean']:.2f} [{o['low']:.2f}, {o['high']:.2f}]", str(o["n"]), ""))
    print(f"\nInterview: sherlock played by {args.actor}, judged by {args.judge}")
    print(table(rows, ("dimension", "mean [95% CI]", "valid", "invalid")))
    validity = data["validity"]
    print(f"judge validity {validity['valid']}/{validity['judged']}, retried {validity['retried']}")
    results["interview"] = {
        "questions": len(data["items"]),
        "dimensions": data["dimensions"],
        "overall": o,
        "validity": validity,
        "seconds": interview_s,
        "actor_requests": actor.requests,
        "judge_requests": judge_backend.requests,
        "judge_completion_tokens": judge_backend.completion_tokens,
    }

    if not args.skip_pairwise:
        side_a, side_b = (load(m, loaded, args.ctx, args.threads) for m in args.pair)
        start = time.perf_counter()
        pair = run_pairwise(
            Contestant("sherlock", side_a, actor_params, f"sherlock@{side_a.model}"),
            Contestant("sherlock", side_b, actor_params, f"sherlock@{side_b.model}"),
            judge,
            questions=[everything[i] for i in PAIR_QUESTIONS[: args.pair_questions]],
            cache=cache,
            progress=progress,
        )
        pair_s = time.perf_counter() - start
        trimmed(pair).write(RESULTS / "pairwise_sherlock")
        p = pair.data
        print(f"\nPairwise: A = {args.pair[0]}, B = {args.pair[1]}, judge {args.judge}")
        print(table([(str(r[0]), str(r[1]), str(r[2])) for r in pair.tables[0].rows],
                    ("measure", "value [95% CI]", "n")))  # fmt: skip
        results["pairwise"] = {
            "a": args.pair[0],
            "b": args.pair[1],
            "questions": len(p["items"]),
            "win_rate_a": p["win_rate_a"],
            "outcomes": p["outcomes"],
            "tie_rate": p["tie_rate"],
            "position_consistency": p["position_consistency"],
            "shown_first_rate": p["shown_first_rate"],
            "validity": p["validity"],
            "seconds": pair_s,
            "judge_requests": judge_backend.requests - results["interview"]["judge_requests"],
        }
    path = write_result("interview", command, results)
    print(f"\nwrote {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
