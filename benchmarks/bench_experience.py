"""Experience data (issue 17): datasets built on a real model, and generation throughput.

``dataset``: builds (or resumes) a character's experience directory under
benchmarks/results/experience/NAME from its bundled card plus a profile written for this
benchmark (benchmarks/data/profiles/), then prints the stats table (scenes, experiences,
protective, turns, tokens, drops by reason) and three samples, and writes the JSON.

``throughput``: experiences per hour on the same scenes (taken from a built directory, so no
scene extraction is timed), generated one request at a time (sequential) and batched through
the embedded backend's parallel slots (several scenes at once; several candidates of one scene
at once), all in one run with one loaded model.

Run: python -m benchmarks.bench_experience dataset --character sherlock \\
         --profile benchmarks/data/profiles/sherlock_en.txt --model qwen2.5-coder-1.5b
     python -m benchmarks.bench_experience dataset --character hong-gildong \\
         --profile benchmarks/data/profiles/hong-gildong_ko.txt --model qwen2.5-coder-1.5b
     python -m benchmarks.bench_experience throughput --from sherlock --scenes 6 \\
         --model qwen2.5-coder-1.5b
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks._common import RESULTS, table, write_result
from personae import load_character
from personae.backends import get_backend
from personae.cli.common import ensure_pulled
from personae.experience.build import BuildOptions, build_experiences, manifest_of
from personae.experience.export import interaction_of
from personae.experience.interaction import render_interaction
from personae.experience.profile import make_profile, read_profile_file
from personae.experience.records import EXPERIENCES, SCENES, ExperienceDir
from personae.experience.stats import dataset_stats

DATASETS = RESULTS / "experience"
CTX = 4096


def _profile(character: str, profile_file: str | None) -> Any:
    card = load_character(character)
    text = read_profile_file(profile_file) if profile_file else ""
    return make_profile(card.name, text, card)


def _printer(label: str) -> Any:
    start = time.perf_counter()
    last = [0.0]

    def progress(stage: str, done: int, total: int) -> None:
        now = time.perf_counter() - start
        if done == total or now - last[0] > 30:
            last[0] = now
            print(f"[{label}] {stage} {done}/{total} at {now:.0f} s", file=sys.stderr, flush=True)

    return progress


def dataset(args: argparse.Namespace) -> None:
    ensure_pulled(args.model)
    profile = _profile(args.character, args.profile)
    out = DATASETS / args.character
    options = BuildOptions(
        scenes=args.scenes,
        protective_ratio=args.protective_ratio,
        candidates=args.candidates,
        parallel=args.parallel,
        rounds=args.rounds,
        max_tokens=args.max_tokens,
    )
    slots = options.parallel * options.candidates
    backend = get_backend("embedded", model=args.model, n_parallel=slots, n_ctx=CTX)
    try:
        report = build_experiences(
            backend, profile, out, options, model=args.model, progress=_printer(args.character)
        )
    finally:
        backend.close()
    stats = dataset_stats(ExperienceDir.open(out))
    rows = [
        (key, str(stats[key]))
        for key in (
            "scenes",
            "experiences",
            "protective",
            "turns",
            "thinking_turns",
            "tokens",
            "redacted",
            "pending",
        )
    ]
    rows += [(f"dropped: {k}", str(v)) for k, v in stats["dropped"].items()]
    rows += [(f"rejected candidate: {k}", str(v)) for k, v in stats["rejected_candidates"].items()]
    print(table(rows, ("what", "count")))
    experiences = ExperienceDir.open(out).rows(EXPERIENCES)
    picks = random.Random(0).sample(experiences, min(3, len(experiences)))
    protective = [r for r in experiences if r["scene"].get("protective")]
    if protective and not any(r["scene"].get("protective") for r in picks):
        picks[-1] = random.Random(0).choice(protective)
    samples = [
        {"scene": r["scene"], "text": render_interaction(interaction_of(r), profile.language)}
        for r in picks
    ]
    for sample in samples:
        print(f"\n── {sample['scene']['id']}\n{sample['text']}")
    run = {
        "seconds": round(report.seconds, 1),
        "resumed": report.resumed,
        "kept": report.kept,
        "generated_candidates": report.generated,
        "completion_tokens": report.completion_tokens,
    }
    path = write_result(
        f"experience_dataset_{args.character}",
        " ".join(["python -m benchmarks.bench_experience", *sys.argv[1:]]),
        {
            "model": args.model,
            "options": options.manifest(),
            "stats": stats,
            "last_run": run,
            "samples": samples,
        },
    )
    print(f"\nwrote {path}")


def _seeded_dir(
    source: Path, target: Path, profile: Any, options: BuildOptions, model: str, count: int
) -> None:
    """A fresh directory holding ``count`` of ``source``'s scenes (ordinary and protective in
    the source's order), so a build there only generates experiences."""
    rows = ExperienceDir.open(source).rows(SCENES)
    scenes = [s for r in rows for s in r.get("scenes", ())]
    ordinary = [s for s in scenes if not s.get("protective")]
    protective = [s for s in scenes if s.get("protective")]
    share = max(1, count // 5) if protective else 0
    chosen = ordinary[: count - share] + protective[:share]
    directory, _ = ExperienceDir.create_or_resume(target, manifest_of(profile, options, model))
    for i, scene in enumerate(chosen):
        key = f"protective-{i}" if scene.get("protective") else f"seed-{i}"
        directory.append(SCENES, {"key": key, "scenes": [scene], "dropped": {}})


def throughput(args: argparse.Namespace) -> None:
    ensure_pulled(args.model)
    source = DATASETS / args.source
    manifest = json.loads((source / "manifest.json").read_text(encoding="utf-8"))
    profile = _profile(args.source, args.profile)
    modes = [
        ("sequential", 1, 1),
        ("batched: scenes", args.slots, 1),
        ("batched: candidates", args.slots // 2, 2),
    ]
    backend = get_backend("embedded", model=args.model, n_parallel=args.slots, n_ctx=CTX)
    results: list[dict[str, Any]] = []
    scratch = Path(tempfile.mkdtemp(prefix="bench-experience-"))
    try:
        for label, parallel, candidates in modes:
            options = BuildOptions(
                scenes=1,
                protective_ratio=0.0,
                candidates=candidates,
                parallel=parallel,
                rounds=1,
                max_tokens=args.max_tokens,
            )
            target = scratch / label.replace(" ", "").replace(":", "-")
            _seeded_dir(source, target, profile, options, args.model, args.scenes)
            report = build_experiences(
                backend, profile, target, options, model=args.model, progress=_printer(label)
            )
            hours = report.seconds / 3600
            results.append(
                {
                    "mode": label,
                    "parallel": parallel,
                    "candidates": candidates,
                    "scenes": args.scenes,
                    "kept": report.kept,
                    "generated": report.generated,
                    "seconds": round(report.seconds, 1),
                    "experiences_per_hour": round(report.kept / hours, 1),
                    "candidates_per_hour": round(report.generated / hours, 1),
                    "tokens_per_second": round(report.completion_tokens / report.seconds, 2),
                }
            )
    finally:
        backend.close()
        shutil.rmtree(scratch, ignore_errors=True)
    base = results[0]
    rows = [
        (
            r["mode"],
            f"{r['parallel']}x{r['candidates']}",
            str(r["kept"]),
            str(r["generated"]),
            f"{r['seconds']:.0f}",
            f"{r['experiences_per_hour']:.0f}",
            f"{r['candidates_per_hour']:.0f}",
            f"{r['tokens_per_second']:.1f}",
            f"{r['candidates_per_hour'] / base['candidates_per_hour']:.2f}x",
        )
        for r in results
    ]
    print(
        table(
            rows,
            (
                "mode",
                "scenes x cand",
                "kept",
                "generated",
                "s",
                "kept/h",
                "cand/h",
                "tok/s",
                "cand/h vs seq",
            ),
        )
    )
    path = write_result(
        f"experience_throughput_{args.source}",
        " ".join(["python -m benchmarks.bench_experience", *sys.argv[1:]]),
        {"model": args.model, "language": manifest.get("language"), "results": results},
    )
    print(f"wrote {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="what", required=True)
    build = sub.add_parser("dataset")
    build.add_argument("--character", required=True)
    build.add_argument("--profile")
    build.add_argument("--model", default="qwen2.5-coder-1.5b")
    build.add_argument("--scenes", type=int, default=50)
    build.add_argument("--protective-ratio", type=float, default=0.2)
    build.add_argument("--candidates", type=int, default=2)
    build.add_argument("--parallel", type=int, default=2)
    build.add_argument("--rounds", type=int, default=2)
    build.add_argument("--max-tokens", type=int, default=700)
    speed = sub.add_parser("throughput")
    speed.add_argument("--from", dest="source", required=True, help="a built dataset's name")
    speed.add_argument("--profile")
    speed.add_argument("--model", default="qwen2.5-coder-1.5b")
    speed.add_argument("--scenes", type=int, default=6)
    speed.add_argument("--slots", type=int, default=4)
    speed.add_argument("--max-tokens", type=int, default=700)
    args = parser.parse_args()
    dataset(args) if args.what == "dataset" else throughput(args)


if __name__ == "__main__":
    main()
