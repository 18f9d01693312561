"""Before/after a character's LoRA (issue 18): the same base model with and without the adapter,
in one process (one runtime, the adapter chosen per request), on the same prompts and seeds.

- Interview questions held out from training (benchmarks/data/training/CHARACTER_interview.json,
  with reference answers written from the character's profile and the facts each should name):
  ROUGE-L F1 against the reference, fact score (share of the facts named), style similarity to
  the character's own lines (the card's example dialogue; for Holmes also his lines in the
  book), each a mean with a bootstrap 95% interval, and the paired difference after − before.
- The break probes (identity, instruction, anachronism, control) of the roleplay breaks task:
  the share of replies with any break, and of anachronism probes answered with knowledge.
- The fidelity suite's conversation set for the character, played through the real chat:
  each goal's flag rate (copy, echo, AI-speak, wrong language).

The chat's own prompt (the card's full system prompt) is used for both sides.

Run: python -m benchmarks.bench_training_compare --character sherlock \\
         --model qwen2.5-coder-0.5b --adapter ADAPTER.gguf
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from benchmarks._common import table, write_result
from personae import load_character
from personae.metrics.stats import Estimate, bootstrap_mean

DATA = Path(__file__).resolve().parent / "data" / "training"
MAX_TOKENS = 160
SEED = 7


def fact_score(reply: str, facts: list[list[str]]) -> float:
    """Share of ``facts`` (each a list of alternative words) that ``reply`` names."""
    text = reply.casefold()
    return sum(
        1 for alternatives in facts if any(a.casefold() in text for a in alternatives)
    ) / len(facts)


def _interview(view: Any, character: Any, questions: list[dict[str, Any]]) -> list[str]:
    from personae.agent import Agent, Turn
    from personae.backends import GenerationParams

    params = GenerationParams(max_tokens=MAX_TOKENS, seed=SEED)
    replies = []
    for q in questions:
        agent = Agent(character, view, user_name="User", params=params, guard=False)
        replies.append(agent.reply([Turn("user", q["question"])]).read())
    return replies


def _probes(view: Any, cid: str, character: Any) -> dict[str, Any]:
    from personae.backends import GenerationParams
    from personae.evaluation.tasks.breaks import run_breaks

    params = GenerationParams(max_tokens=MAX_TOKENS, seed=SEED)
    report = run_breaks({cid: character}, view, params=params)
    results = report.data["results"]
    broke = [1.0 if r["hits"] else 0.0 for r in results]
    anach = [
        1.0 if any(h["kind"] == "anachronism" for h in r["hits"]) else 0.0
        for r in results
        if r["kind"] == "anachronism"
    ]
    return {
        "break": bootstrap_mean(broke),
        "anachronism": bootstrap_mean(anach),
        "replies": [{"probe": r["probe"], "reply": r["reply"], "hits": r["hits"]} for r in results],
    }


def _fidelity(view: Any, cid: str, work: Path) -> dict[str, Estimate]:
    from personae.evaluation.fidelity.report import GOALS, score_rows
    from personae.evaluation.fidelity.transcripts import read_transcripts
    from personae.evaluation.tasks.fidelity_play import ReplayCache, play_set
    from personae.evaluation.tasks.fidelity_set import load_set, select
    from personae.evaluation.tasks.fidelity_transcripts import transcript_paths
    from personae.memory.bank import MemoryBank

    backend = ReplayCache(view, work / "cache.jsonl")
    play_set(select(load_set(), cid), backend, work, make_bank=MemoryBank)
    rows = read_transcripts(transcript_paths(work, view.model, None)[0])
    scored = score_rows(rows)
    rates = {
        g.name: bootstrap_mean([1.0 if g.hit(s.check) else 0.0 for s in scored]) for g in GOALS
    }
    rates["any flag"] = bootstrap_mean([1.0 if s.check.hits else 0.0 for s in scored])
    return rates


def _style_lines(character: Any, cid: str) -> dict[str, list[str]]:
    from personae.memory.lines import lines_for

    card_lines = [line.text for line in lines_for(character)]
    sets = {"card lines": card_lines}
    if cid == "sherlock":
        from benchmarks.bench_training import ALIASES, NOVEL
        from personae.experience.from_text.extract import extract_lines, read_book

        found = extract_lines(read_book(NOVEL), "Holmes", ALIASES, narrator="Watson")
        sets["book lines"] = [line.text for line in found.of_character()]
    return sets


def _side(
    view: Any,
    cid: str,
    character: Any,
    questions: list[dict[str, Any]],
    work: Path,
    *,
    fidelity: bool,
) -> dict[str, Any]:
    from personae.checks.style import StyleProfile
    from personae.metrics.rouge import RougeScorer

    replies = _interview(view, character, questions)
    language = "ko" if cid == "hong-gildong" else "en"
    scorer = RougeScorer(["rougeL"], tokenizer="kiwi" if language == "ko" else "default")
    rouge = [
        scorer.score(r, q["reference"])["rougeL"].fmeasure
        for r, q in zip(replies, questions, strict=True)
    ]
    facts = [fact_score(r, q["facts"]) for r, q in zip(replies, questions, strict=True)]
    styles = {
        name: [StyleProfile.of(lines).similarity(r) for r in replies]
        for name, lines in _style_lines(character, cid).items()
    }
    print(f"  interview done ({len(replies)})", file=sys.stderr)
    probes = _probes(view, cid, character)
    print("  probes done", file=sys.stderr)
    rates = _fidelity(view, cid, work) if fidelity else {}
    print("  fidelity done", file=sys.stderr)
    return {
        "replies": replies,
        "per_question": {
            "rougeL": rouge,
            "facts": facts,
            **{f"style: {k}": v for k, v in styles.items()},
        },
        "probes": probes,
        "fidelity": rates,
    }


def _paired(before: list[float], after: list[float]) -> Estimate:
    return bootstrap_mean([a - b for a, b in zip(after, before, strict=True)])


def summarize(sides: dict[str, dict[str, Any]]) -> tuple[list[tuple[str, ...]], dict[str, Any]]:
    """The table rows and the JSON summary of a base and an adapter side."""
    before, after = sides["base"], sides["adapter"]
    rows = []
    summary: dict[str, Any] = {}
    for metric in before["per_question"]:
        b, a = before["per_question"][metric], after["per_question"][metric]
        entry = {
            "base": bootstrap_mean(b),
            "adapter": bootstrap_mean(a),
            "difference": _paired(b, a),
        }
        summary[metric] = entry
        rows.append(
            (metric, *(entry[k].format(digits=3) for k in ("base", "adapter", "difference")))
        )
    for metric in ("break", "anachronism"):
        entry = {"base": before["probes"][metric], "adapter": after["probes"][metric]}
        summary[f"probes: {metric} rate"] = entry
        rows.append(
            (
                f"probes: {metric} rate",
                entry["base"].format(100, 1),
                entry["adapter"].format(100, 1),
                "",
            )
        )
    for goal in before["fidelity"]:
        entry = {"base": before["fidelity"][goal], "adapter": after["fidelity"][goal]}
        summary[f"fidelity: {goal}"] = entry
        rows.append(
            (f"fidelity: {goal}", entry["base"].format(100, 1), entry["adapter"].format(100, 1), "")
        )
    return rows, summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--character", required=True, choices=["sherlock", "hong-gildong"])
    parser.add_argument("--model", default="qwen2.5-coder-0.5b")
    parser.add_argument("--adapter", required=True, help="The adapter's GGUF file.")
    parser.add_argument("--label", default="", help="What the adapter was trained on.")
    parser.add_argument("--limit", type=int, help="Only the first N questions (a smoke run).")
    parser.add_argument("--no-fidelity", action="store_true", help="Skip the conversation set.")
    args = parser.parse_args()
    from personae.backends import get_backend

    cid = args.character
    character = load_character(cid)
    questions = json.loads((DATA / f"{cid}_interview.json").read_text("utf-8"))[: args.limit]
    backend = get_backend(
        "embedded", model=args.model, n_ctx=4096, adapters={"adapter": Path(args.adapter)}
    )
    sides: dict[str, dict[str, Any]] = {}
    with backend, tempfile.TemporaryDirectory() as tmp:
        for name, view in (
            ("base", backend.with_adapters()),  # type: ignore[attr-defined]
            ("adapter", backend.with_adapters("adapter")),  # type: ignore[attr-defined]
        ):
            print(f"{name} …", file=sys.stderr)
            sides[name] = _side(
                view, cid, character, questions, Path(tmp) / name, fidelity=not args.no_fidelity
            )
    rows, summary = summarize(sides)
    before, after = sides["base"], sides["adapter"]
    print(table(rows, ("metric", "base", "with adapter", "after − before")))
    command = " ".join(["python -m benchmarks.bench_training_compare", *sys.argv[1:]])
    path = write_result(
        f"training_compare_{cid}_{args.model}",
        command,
        {
            "character": cid,
            "model": args.model,
            "adapter": args.label or Path(args.adapter).parent.name,
            "questions": len(questions),
            "summary": {k: {s: e.as_dict() for s, e in v.items()} for k, v in summary.items()},
            "interview": [
                {"question": q["question"], "base": b, "adapter": a}
                for q, b, a in zip(questions, before["replies"], after["replies"], strict=True)
            ],
            "probes": {"base": before["probes"]["replies"], "adapter": after["probes"]["replies"]},
        },
    )
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
