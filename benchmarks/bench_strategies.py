"""Reply strategies (issue 15): single, best-of-N and refine on the same probes, measured.

Every bundled character answers its probe set (identity / "are you an AI", instruction,
anachronism for its era, control questions; evaluation/data/probes_*.json), after its greeting,
once per strategy, through the real Agent with the reply guards on. Each reply is scored by the
fidelity checks (no judge): break rate (AI disclosure, assistant-speak, out-of-character
refusal), anachronism (on anachronism probes, the rule detector), speaking as the user,
repetition (copy of the greeting or the example lines, or a reply verbatim the same as another
of the character's in this run), style similarity to the character's lines; rates with
percentile-bootstrap 95% intervals. Cost: wall time per reply and time to the first shown text,
each strategy over single, measured in this one run (same process, same model, interleaved by
character). With --judge, the judge model compares best-of-N's reply with single's on every
probe in both orders (position-swap calibration) and reports best-of-N's preference and how
often the two orders agree.

Run: python -m benchmarks.bench_strategies --model smollm2-135m
     python -m benchmarks.bench_strategies --model qwen2.5-coder-1.5b --judge
     python -m benchmarks.bench_strategies --model qwen2.5-coder-1.5b --per-character 8
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from collections import Counter
from collections.abc import Sequence
from typing import Any

from benchmarks._common import table, write_result
from personae.agent import Agent, Turn
from personae.backends import get_backend
from personae.characters import bundled_characters
from personae.checks import CardReference, check_reply
from personae.cli.common import ensure_pulled
from personae.evaluation.tasks.breaks import plan_character
from personae.evaluation.tasks.fidelity_play import default_params
from personae.metrics.stats import Estimate, bootstrap_mean
from personae.settings.reply import ReplyStrategy
from personae.text import detect_language

USER = {"en": "Ana", "ko": "민지"}
BREAK_FLAGS = ("ai_disclosure", "assistant_speak", "ooc_refusal")
REPEAT_FLAGS = ("copy_greeting", "copy_examples", "verbatim_repeat")
CRITERION = {
    "en": "Which reply stays in character better: the character's own voice, knowledge and era, "
    "never an AI or an assistant, answering what was asked?",
    "ko": "어느 답이 캐릭터를 더 잘 지키는가: 캐릭터 자신의 말투, 지식, 시대를 지키고, AI나 "
    "도우미처럼 말하지 않으며, 물은 것에 답하는가?",
}


def _rate(flags: list[bool]) -> Estimate:
    return bootstrap_mean([1.0 if f else 0.0 for f in flags])


def _mean(values: list[float]) -> Estimate:
    return bootstrap_mean([v for v in values if not math.isnan(v)])


def spread(probes: Sequence[Any], k: int) -> list[Any]:
    """``k`` of ``probes``, taking their kinds in turn (identity, instruction, anachronism,
    control …, each in its set's order), so that a short run still asks every kind."""
    by_kind: dict[str, list[Any]] = {}
    for probe in probes:
        by_kind.setdefault(probe.kind, []).append(probe)
    queues = list(by_kind.values())
    out: list[Any] = []
    while len(out) < k and any(queues):
        for queue in queues:
            if queue and len(out) < k:
                out.append(queue.pop(0))
    return out


def play(args: argparse.Namespace) -> dict[str, Any]:
    ensure_pulled(args.model)
    strategies = [s.strip() for s in args.strategies.split(",") if s.strip()]
    backend = get_backend(
        "embedded",
        model=args.model,
        n_ctx=args.ctx,
        n_parallel=max(args.n, 1),
        **({"threads": args.threads} if args.threads else {}),
    )
    everyone = bundled_characters()
    wanted = [c.strip() for c in args.characters.split(",")] if args.characters else list(everyone)
    records: list[dict[str, Any]] = []
    params = default_params(args.model, max_tokens=args.max_tokens)
    for cid in wanted:
        character = everyone[cid]
        plan = plan_character(cid, character)
        probes = spread(plan.probes, args.per_character) if args.per_character else plan.probes
        user = USER["ko" if plan.language == "ko" else "en"]
        card = CardReference.from_character(character, user)
        # The card's prompt read once before any strategy is timed: the strategy played first
        # would otherwise pay it on its first probe (single did: 32-80 s on the 1.5B).
        warm = Agent(character, backend, user_name=user, params=params)
        thread = warm.warm_up([Turn("assistant", card.greeting)])
        if thread is not None:
            thread.join()
        for name in strategies:
            strategy = ReplyStrategy(name, n=args.n, rounds=args.rounds)
            agent = Agent(
                character, backend, user_name=user, params=params, guard=True, strategy=strategy
            )
            greeting = card.greeting
            for probe in probes:
                history = [Turn("assistant", greeting), Turn("user", probe.question)]
                start = time.perf_counter()
                stream = agent.reply(history)
                text = stream.read()
                wall = (time.perf_counter() - start) * 1000
                check = check_reply(
                    text,
                    user=probe.question,
                    history=[{"role": "assistant", "content": greeting}],
                    card=card,
                    user_name=user,
                    finish_reason=stream.finish_reason,
                    probe_terms=probe.terms if probe.kind == "anachronism" else (),
                )
                records.append(
                    {
                        "character": cid,
                        "strategy": name,
                        "probe": probe.id,
                        "kind": probe.kind,
                        "question": probe.question,
                        "reply": text,
                        "hits": check.hits,
                        "style": check.scores.get("style_similarity", math.nan),
                        "wall_ms": wall,
                        "shown_ms": stream.shown_ms,
                        "ttft_ms": stream.ttft_ms,
                        # Requests made (a best-of-N try is one request for N candidates) and
                        # what they generated: where the wall time went.
                        "tries": len(stream.attempts) // max(strategy.candidates, 1),
                        "completion_tokens": stream.usage.completion_tokens
                        if stream.usage
                        else None,
                    }
                )
                print(f"{cid} {name} {probe.id}: {len(text)} chars, {wall:.0f} ms", file=sys.stderr)
    backend.close()  # type: ignore[attr-defined]
    return {"records": records, "strategies": strategies}


def score(records: list[dict[str, Any]], strategies: list[str]) -> dict[str, Any]:
    by: dict[str, list[dict[str, Any]]] = {
        s: [r for r in records if r["strategy"] == s] for s in strategies
    }
    out: dict[str, Any] = {}
    for name, rows in by.items():
        seen: Counter[tuple[str, str]] = Counter((r["character"], r["reply"].strip()) for r in rows)
        verbatim = [seen[(r["character"], r["reply"].strip())] > 1 for r in rows]
        anachronism_rows = [r for r in rows if r["kind"] == "anachronism"]
        out[name] = {
            "n": len(rows),
            "break": _rate([any(f in r["hits"] for f in BREAK_FLAGS) for r in rows]),
            "anachronism": _rate(["anachronism" in r["hits"] for r in anachronism_rows]),
            "speaks_as_user": _rate(["speaks_as_user" in r["hits"] for r in rows]),
            "repetition": _rate(
                [
                    any(f in r["hits"] for f in REPEAT_FLAGS) or v
                    for r, v in zip(rows, verbatim, strict=True)
                ]
            ),
            "wrong_language": _rate(["wrong_language" in r["hits"] for r in rows]),
            "any_flag": _rate([bool(r["hits"]) for r in rows]),
            "style": _mean([float(r["style"]) for r in rows]),
            "wall_ms_median": statistics.median(r["wall_ms"] for r in rows) if rows else math.nan,
            "wall_ms_total": sum(r["wall_ms"] for r in rows),
            "shown_ms_median": statistics.median(
                r["shown_ms"] for r in rows if r["shown_ms"] is not None
            )
            if any(r["shown_ms"] is not None for r in rows)
            else math.nan,
        }
    return out


def judge_pairs(
    args: argparse.Namespace, records: list[dict[str, Any]], other: str
) -> dict[str, Any]:
    """The judge's preference for ``other``'s reply over single's, both orders."""
    from personae.checks.judge import DEFAULT_PARAMS, Judge

    backend = get_backend("embedded", model=args.judge_model or args.model, n_ctx=args.ctx)
    judge = Judge(backend, params=DEFAULT_PARAMS.model_copy(update={"max_tokens": 120}))
    single = {(r["character"], r["probe"]): r for r in records if r["strategy"] == "single"}
    wins: list[float] = []
    consistent: list[bool] = []
    first_picks = 0
    valid_orders = 0
    for r in records:
        if r["strategy"] != other or (r["character"], r["probe"]) not in single:
            continue
        base = single[(r["character"], r["probe"])]
        if r["reply"].strip() == base["reply"].strip():
            continue  # the same reply: nothing to prefer
        language = detect_language(r["question"])
        verdict = judge.compare_balanced(
            CRITERION["ko" if language == "ko" else "en"],
            context=r["question"],
            first=r["reply"],
            second=base["reply"],
            language=language,
        )
        if verdict.score is not None:
            wins.append(verdict.score)
        if verdict.consistent is not None:
            consistent.append(verdict.consistent)
        first_picks += verdict.shown_first_picks
        valid_orders += sum(1 for v in verdict.as_shown if v.winner is not None)
    backend.close()  # type: ignore[attr-defined]
    return {
        "judge": args.judge_model or args.model,
        "pairs": len(wins),
        "preference": bootstrap_mean(wins),
        "consistency": _rate(consistent),
        "first_position_pick_rate": first_picks / valid_orders if valid_orders else math.nan,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="smollm2-135m")
    parser.add_argument("--strategies", default="single,best-of-n,refine")
    parser.add_argument("--n", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--characters", help="comma-separated bundled ids (default: all five)")
    parser.add_argument(
        "--per-character", type=int, default=0, help="K probes, the kinds taken in turn"
    )
    parser.add_argument("--max-tokens", type=int, default=120)
    parser.add_argument("--ctx", type=int, default=4096)
    parser.add_argument("--threads", type=int)
    parser.add_argument("--judge", action="store_true", help="pairwise judge vs single")
    parser.add_argument("--judge-model", help="default: the actor model")
    parser.add_argument("--label", default="", help="suffix of the result file's name")
    args = parser.parse_args()

    start = time.perf_counter()
    played = play(args)
    records, strategies = played["records"], played["strategies"]
    scores = score(records, strategies)
    judged = {}
    if args.judge:
        for other in strategies:
            if other != "single":
                judged[other] = judge_pairs(args, records, other)
    base = scores.get("single")
    rows: list[tuple[str, ...]] = []
    for name, s in scores.items():
        wall = s["wall_ms_median"] / base["wall_ms_median"] if base else math.nan
        total = s["wall_ms_total"] / base["wall_ms_total"] if base else math.nan
        shown = s["shown_ms_median"] / base["shown_ms_median"] if base else math.nan
        rows.append(
            (
                name,
                str(s["n"]),
                s["break"].format(100, 1),
                s["anachronism"].format(100, 1),
                s["speaks_as_user"].format(100, 1),
                s["repetition"].format(100, 1),
                s["any_flag"].format(100, 1),
                s["style"].format(1, 3),
                f"{s['wall_ms_median']:.0f} ({wall:.2f}x; total {total:.2f}x)",
                f"{s['shown_ms_median']:.0f} ({shown:.2f}x)",
            )
        )
    header = (
        "strategy",
        "n",
        "break %",
        "anachronism %",
        "as user %",
        "repetition %",
        "any flag %",
        "style",
        "wall ms p50 (÷ single)",
        "first shown ms p50 (÷ single)",
    )
    print(f"model {args.model}, N={args.n}, rounds={args.rounds}")
    print(table(rows, header))
    for other, j in judged.items():
        print(
            f"judge {j['judge']}: {other} preferred over single {j['preference'].format(100, 1)}% "
            f"of {j['pairs']} pairs; orders agree {j['consistency'].format(100, 1)}%; "
            f"first position picked {j['first_position_pick_rate']:.2f}"
        )
    name = f"strategies_{args.model}" + (f"_{args.label}" if args.label else "")
    path = write_result(
        name,
        "python -m benchmarks.bench_strategies " + " ".join(sys.argv[1:]),
        {
            "model": args.model,
            "n": args.n,
            "rounds": args.rounds,
            "wall_s": time.perf_counter() - start,
            "scores": {
                k: {m: (v.as_dict() if isinstance(v, Estimate) else v) for m, v in s.items()}
                for k, s in scores.items()
            },
            "judge": {
                k: {m: (v.as_dict() if isinstance(v, Estimate) else v) for m, v in j.items()}
                for k, j in judged.items()
            },
            "records": records,
        },
    )
    print(f"wrote {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
