"""Training (issue 18): per-character LoRA adapters, trained and served on this machine.

``data``: the training sets, written under --work (never into the repository: they hold the
book's lines). Holmes: his lines in The Adventures of Sherlock Holmes
(../shared/data/novels/, found by ``card from-text``'s extraction, each with the line it
answers) plus the kept experiences of benchmarks/results/experience/sherlock. Hong Gildong:
the kept experiences of results/experience/hong-gildong plus lines written for this benchmark
(benchmarks/data/training/hong-gildong_lines.jsonl). Interview questions used to evaluate are
never in them (benchmarks/data/training/*_interview.json are written separately).

``throughput``: tokens/s of ``personae train``'s code path (TRL's SFTTrainer with PEFT) over a
minimal hand-written PEFT loop (same base, data, split, LoRA, optimizer, batch and
accumulation), N optimizer steps each, one run.

``serving``: the embedded runtime with an adapter applied vs the same model without any:
time to first token and generation tokens/s over the same prompts (greedy), one run; and two
adapters taking turns in one process give what each gives alone.

Run: python -m benchmarks.bench_training data
     python -m benchmarks.bench_training throughput --base smollm2-135m --steps 24
     python -m benchmarks.bench_training serving --model smollm2-135m --adapter DIR/adapter.gguf
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks._common import RESULTS, summary, table, write_result
from personae import load_character
from personae.training.data import ChatRecord, load_records

BOOK = Path(__file__).resolve().parents[2] / "shared" / "data" / "novels"
NOVEL = BOOK / "adventures_of_sherlock_holmes.txt"
ALIASES = ["Sherlock Holmes", "Mr. Holmes", "my companion", "my friend"]
DATA = Path(__file__).resolve().parent / "data" / "training"
WORK = Path(tempfile.gettempdir()) / "personae-bench-training"


def _jsonl(path: Path, records: list[ChatRecord]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as out:
        for record in records:
            out.write(json.dumps(record.as_json(), ensure_ascii=False) + "\n")


def _interview_questions(character: str) -> set[str]:
    path = DATA / f"{character}_interview.json"
    if not path.exists():
        return set()
    return {" ".join(q["question"].split()) for q in json.loads(path.read_text("utf-8"))}


def holmes_records() -> tuple[list[ChatRecord], dict[str, int]]:
    from personae.experience.from_text.extract import extract_lines, read_book
    from personae.training.lines import line_records

    if not NOVEL.exists():
        sys.exit(f"the book is not here: {NOVEL} (../shared/data/novels/)")
    found = extract_lines(read_book(NOVEL), "Holmes", ALIASES, narrator="Watson")
    mine = found.of_character()
    pairs = [
        (f"{line.answers.speaker or 'Someone'}: {line.answers.text}" if line.answers else None,
         line.text)
        for line in mine
    ]  # fmt: skip
    book = line_records(load_character("sherlock"), pairs, source="book")
    experiences = load_records([RESULTS / "experience" / "sherlock"], "sft")
    counts = {"book_lines": len(mine), "book_rows": len(book), "experience_rows": len(experiences)}
    return _without_questions([*book, *experiences], "sherlock"), counts


def hong_records() -> tuple[list[ChatRecord], dict[str, int]]:
    from personae.training.lines import line_records

    written = [
        json.loads(line)
        for line in (DATA / "hong-gildong_lines.jsonl").read_text("utf-8").splitlines()
        if line.strip()
    ]
    lines = line_records(
        load_character("hong-gildong"),
        [(r["answers"], r["line"]) for r in written],
        source="written",
    )
    experiences = load_records([RESULTS / "experience" / "hong-gildong"], "sft")
    counts = {"written_rows": len(lines), "experience_rows": len(experiences)}
    return _without_questions([*lines, *experiences], "hong-gildong"), counts


def _without_questions(records: list[ChatRecord], character: str) -> list[ChatRecord]:
    """No row may ask an evaluation question (held out from training)."""
    asked = _interview_questions(character)
    return [
        r
        for r in records
        if not any(
            " ".join(m["content"].split()) in asked for m in r.messages if m["role"] == "user"
        )
    ]


def cmd_data(args: argparse.Namespace) -> None:
    work = Path(args.work)
    rows = []
    for name, build in (("sherlock", holmes_records), ("hong-gildong", hong_records)):
        records, counts = build()
        _jsonl(work / f"{name}.jsonl", records)
        rows.append((name, str(len(records)), json.dumps(counts)))
        print(f"wrote {work / f'{name}.jsonl'}")
    print(table(rows, ("character", "rows", "made of")))


# -- throughput ------------------------------------------------------------------------------


def _hand_loop(base_name: str, train: list[ChatRecord], steps: int, options: Any) -> dict[str, Any]:
    """A minimal PEFT loop: the same base, LoRA, tokenization, optimizer and accumulation."""
    import torch
    from peft import get_peft_model

    from personae.training.base import find_base, load_base
    from personae.training.tokens import tokenize_chat
    from personae.training.trainer import lora_config

    model, tokenizer = load_base(find_base(base_name), "cpu")
    model = get_peft_model(model, lora_config(options))
    model.train()
    rows = [tokenize_chat(tokenizer, r.messages, options.max_length) for r in train]
    optimizer = torch.optim.AdamW(
        [p for p in model.parameters() if p.requires_grad], lr=options.learning_rate
    )
    tokens, position = 0, 0
    started = time.perf_counter()
    for _ in range(steps):
        for _ in range(options.grad_accum):
            row = rows[position % len(rows)]
            position += 1
            ids = torch.tensor([row.input_ids])
            labels = torch.tensor([row.labels])
            loss = model(input_ids=ids, labels=labels).loss / options.grad_accum
            loss.backward()
            tokens += len(row.input_ids)
        optimizer.step()
        optimizer.zero_grad()
    seconds = time.perf_counter() - started
    return {"tokens": tokens, "seconds": round(seconds, 1), "tokens_per_second": tokens / seconds}


def cmd_throughput(args: argparse.Namespace) -> None:
    from personae.training.adapters import AdapterRegistry
    from personae.training.data import split_records
    from personae.training.options import TrainOptions
    from personae.training.run import train_adapter

    records = load_records([Path(args.data)], "sft")[: args.rows]
    options = TrainOptions(
        max_steps=args.steps, grad_accum=4, max_length=args.max_length, save_steps=10**6
    )
    train, _ = split_records(records, options.held_out)
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        run = train_adapter(
            AdapterRegistry(Path(folder)), "sherlock", "speed", records, args.base, options
        )
        manifest = run.manifest
        results["personae train"] = {
            "tokens": manifest["tokens_seen"],
            "seconds": manifest["train_seconds"],
            "tokens_per_second": manifest["tokens_seen"] / manifest["train_seconds"],
        }
    results["hand-written PEFT loop"] = _hand_loop(args.base, train, args.steps, options)
    ours = results["personae train"]["tokens_per_second"]
    hand = results["hand-written PEFT loop"]["tokens_per_second"]
    rows = [
        (name, str(r["tokens"]), f"{r['seconds']:.1f}", f"{r['tokens_per_second']:.1f}")
        for name, r in results.items()
    ]
    print(table(rows, ("path", "tokens", "seconds", "tok/s")))
    print(f"personae train / hand loop: {ours / hand:.3f} (goal >= 0.95)")
    command = " ".join(["python -m benchmarks.bench_training", *sys.argv[1:]])
    path = write_result(
        f"training_throughput_{args.base}",
        command,
        {
            "base": args.base,
            "steps": args.steps,
            "rows": len(records),
            "options": options.as_json(),
            "results": results,
            "ratio": ours / hand,
        },
    )
    print(f"wrote {path}")


# -- serving -----------------------------------------------------------------------------------


PROMPTS = [
    "Who are you, and what do you do all day?",
    "What do you make of the man who just left?",
    "Tell me about your brother.",
    "Why do you play the violin at night?",
    "What is the most important quality for your work?",
    "Where were you last night?",
]


def _timed(backend: Any, system: str, params: Any) -> list[dict[str, float]]:
    from personae.backends import Message

    out = []
    for prompt in PROMPTS:
        messages = [Message("system", system), Message("user", prompt)]
        started = time.perf_counter()
        first = None
        tokens = 0
        for chunk in backend.stream(messages, params):
            if chunk.text and first is None:
                first = time.perf_counter()
            if chunk.usage is not None:
                tokens = chunk.usage.completion_tokens or tokens
        end = time.perf_counter()
        first = first or end
        out.append(
            {
                "ttft_ms": (first - started) * 1000,
                "tok_s": max(tokens - 1, 1) / max(end - first, 1e-6),
            }
        )
    return out


def _taking_turns_equal_alone(
    model: str, adapters: dict[str, Path], system: str, params: Any
) -> bool:
    """Each adapter alone on a fresh runtime, then both taking turns on another: the same
    prompts in the same order per adapter (so each slot's cache sees the same history), and so
    the same greedy replies unless a cache or an adapter leaks across."""
    from personae.backends import Message, collect, get_backend

    def replies(order: list[tuple[str, str]]) -> dict[str, list[str]]:
        backend: Any = get_backend(
            "embedded", model=model, n_ctx=2048, n_parallel=len(adapters) + 1, adapters=adapters
        )
        out: dict[str, list[str]] = {name: [] for name in adapters}
        with backend:
            for name, prompt in order:
                messages = [Message("system", system), Message("user", prompt)]
                out[name].append(collect(backend.with_adapters(name).stream(messages, params))[0])
        return out

    prompts = PROMPTS[:3]
    alone = {n: replies([(n, p) for p in prompts])[n] for n in adapters}
    turns = replies([(n, p) for p in prompts for n in adapters])
    for name in adapters:
        for i, (a, b) in enumerate(zip(alone[name], turns[name], strict=True)):
            if a != b:
                print(f"differs: {name} prompt {i}: {a[:80]!r} vs {b[:80]!r}")
    return alone == turns


def cmd_serving(args: argparse.Namespace) -> None:
    from personae.backends import GenerationParams, get_backend
    from personae.training.lines import compact_system_prompt

    system = compact_system_prompt(load_character("sherlock"))
    params = GenerationParams(max_tokens=args.max_tokens, temperature=0.0, seed=1)
    adapters = {"a": Path(args.adapter)}
    if args.second:
        adapters["b"] = Path(args.second)
    runs: dict[str, list[dict[str, float]]] = {}
    plain = get_backend("embedded", model=args.model, n_ctx=2048, n_parallel=len(adapters) + 1)
    with plain:
        _timed(plain, system, params)  # warm-up
        runs["no adapter loaded"] = _timed(plain, system, params)
    loaded = get_backend(
        "embedded", model=args.model, n_ctx=2048, n_parallel=len(adapters) + 1, adapters=adapters
    )
    equal = None
    with loaded:
        view = loaded.with_adapters("a")  # type: ignore[attr-defined]
        _timed(view, system, params)
        runs["adapter applied"] = _timed(view, system, params)
    if args.second:
        equal = _taking_turns_equal_alone(args.model, adapters, system, params)
    stats = {
        name: {
            "ttft_ms": summary([r["ttft_ms"] for r in rs]),
            "tok_s": summary([r["tok_s"] for r in rs]),
        }
        for name, rs in runs.items()
    }
    base, adapted = stats["no adapter loaded"], stats["adapter applied"]
    ttft_ratio = base["ttft_ms"]["p50"] / adapted["ttft_ms"]["p50"]
    speed_ratio = adapted["tok_s"]["p50"] / base["tok_s"]["p50"]
    rows = [
        (name, f"{s['ttft_ms']['p50']:.0f}", f"{s['tok_s']['p50']:.1f}")
        for name, s in stats.items()
    ]
    print(table(rows, ("", "TTFT p50 ms", "tok/s p50")))
    print(
        f"with ÷ without: TTFT speed {ttft_ratio:.2f}, generation {speed_ratio:.2f} (goal >= 0.9)"
    )
    if equal is not None:
        print(f"two adapters taking turns == each alone: {equal}")
    command = " ".join(["python -m benchmarks.bench_training", *sys.argv[1:]])
    path = write_result(
        f"training_serving_{args.model}",
        command,
        {
            "model": args.model,
            "prompts": len(PROMPTS),
            "max_tokens": args.max_tokens,
            "stats": stats,
            "ttft_ratio": ttft_ratio,
            "generation_ratio": speed_ratio,
            "taking_turns_equal_alone": equal,
        },
    )
    print(f"wrote {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    data = sub.add_parser("data")
    data.add_argument("--work", default=str(WORK))
    speed = sub.add_parser("throughput")
    speed.add_argument("--base", default="smollm2-135m")
    speed.add_argument("--data", default=str(WORK / "sherlock.jsonl"))
    speed.add_argument("--steps", type=int, default=24)
    speed.add_argument("--rows", type=int, default=400)
    speed.add_argument("--max-length", type=int, default=256)
    serving = sub.add_parser("serving")
    serving.add_argument("--model", default="smollm2-135m")
    serving.add_argument("--adapter", required=True)
    serving.add_argument("--second", help="A second adapter, for the taking-turns check.")
    serving.add_argument("--max-tokens", type=int, default=64)
    args = parser.parse_args()
    {"data": cmd_data, "throughput": cmd_throughput, "serving": cmd_serving}[args.cmd](args)


if __name__ == "__main__":
    main()
