"""`card from-text` on a real book: how many utterances, how many attributed, how many to the
character and by which rule; the precision of 100 of the character's lines checked by hand;
a small Korean check on sentences written here; and (with --draft) the card drafted by a model.

Run: python -m benchmarks.bench_card_from_text [--book PATH] [--draft --model qwen2.5-coder-1.5b]
     python -m benchmarks.bench_card_from_text --show-sample   # print the 100 for checking

Data: ../shared/data/novels/adventures_of_sherlock_holmes.txt (public domain; read from there,
never copied into the repo), or --book / PERSONAE_NOVEL. Skipped cleanly when absent.

The hand check: 100 of Holmes's attributed lines, one from each hundredth of the book (by
offset, seed 17), each read with its narration; the verdicts are in
results/from_text/holmes_attribution_check.json (offset, the line's first 60 characters, the
rule that attributed it, correct or not, the true speaker when wrong). Precision = correct/100.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from benchmarks._common import RESULTS, table, write_result
from personae.experience.from_text import ExtractedLine, draft_card, extract_lines, read_book

BOOK = Path(__file__).resolve().parents[2] / "shared" / "data" / "novels"
DEFAULT = BOOK / "adventures_of_sherlock_holmes.txt"
OUT = RESULTS / "from_text"
CHECK = OUT / "holmes_attribution_check.json"
ALIASES = ["Sherlock Holmes", "Mr. Holmes", "my companion", "my friend"]

# A small Korean check, written for this benchmark: (text, expected speakers in order).
KOREAN = (
    "“오늘 밤은 안개가 짙겠군.” 하고 홈즈가 말했다.\n\n"
    "왓슨은 “그걸 어떻게 아나?”라고 물었다.\n\n"
    "“창밖을 보게. 굴뚝 연기가 땅으로 깔리고 있지 않나.”\n\n"
    "“연기야 매일 보는 것이지.”\n\n"
    "“자네는 보기만 하고 관찰하지 않는다네.”라고 그가 대답했다.\n\n"
    "그때 허드슨 부인이 문을 열었다.\n\n"
    "“손님이 오셨어요.” 하고 허드슨 부인이 말했다.\n\n"
    "「들어오시라고 하게.」 홈즈가 말했다.\n\n"
    "「알겠어요.」라고 그녀가 대답했다."
)
KOREAN_SPEAKERS = ["홈즈", "왓슨", "홈즈", "왓슨", "홈즈", "허드슨 부인", "홈즈", "허드슨 부인"]


def hand_sample(lines: list[ExtractedLine], n: int, seed: int) -> list[ExtractedLine]:
    """One line from each of ``n`` equal stretches of the character's lines (by offset)."""
    rng = random.Random(seed)
    ordered = sorted(lines, key=lambda line: line.offset)
    out = []
    for k in range(n):
        lo, hi = k * len(ordered) // n, (k + 1) * len(ordered) // n
        if hi > lo:
            out.append(ordered[rng.randrange(lo, hi)])
    return out


def korean_check() -> dict[str, Any]:
    found = extract_lines(KOREAN, "홈즈", ["셜록 홈즈"], narrator="왓슨")
    got = [line.speaker for line in found.lines]
    right = sum(a == b for a, b in zip(got, KOREAN_SPEAKERS, strict=False))
    return {
        "utterances": len(found.lines),
        "expected": len(KOREAN_SPEAKERS),
        "correct": right,
        "got": [[line.speaker, line.how] for line in found.lines],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--book", type=Path, default=Path(os.environ.get("PERSONAE_NOVEL", DEFAULT))
    )
    parser.add_argument("--character", default="Holmes")
    parser.add_argument("--narrator", default="Watson")
    parser.add_argument("--sample", type=int, default=100)
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--show-sample", action="store_true", help="Print the sample to check.")
    parser.add_argument("--draft", action="store_true", help="Draft the card with --model.")
    parser.add_argument("--model", default="qwen2.5-coder-1.5b")
    parser.add_argument("--ctx", type=int, default=4096)
    args = parser.parse_args()
    if not args.book.exists():
        print(f"skipped: {args.book} is not here (see ../shared/data/README)")
        return 0
    text = read_book(args.book)
    started = time.perf_counter()
    found = extract_lines(text, args.character, ALIASES, narrator=args.narrator)
    seconds = time.perf_counter() - started
    mine = found.of_character()
    sample = hand_sample(mine, args.sample, args.seed)
    if args.show_sample:
        for i, line in enumerate(sample):
            before = " ".join(text[max(0, line.offset - 420) : line.offset].split())
            after = " ".join(text[line.offset : line.offset + 200].split())
            print(f"#{i} {line.offset} [{line.how}]\n  …{before}\n  >>> {after}\n")
        return 0
    attributed = sum(1 for line in found.lines if line.speaker is not None)
    methods = found.methods(args.character)
    everyone = found.methods()
    rows = [
        (how, str(everyone[how]), str(methods.get(how, 0)))
        for how in ("tag", "narrator", "pronoun", "beat", "paragraph", "alternation", "unknown")
    ]
    rows.append(("total", str(len(found.lines)), str(len(mine))))
    print(f"{args.book.name}: {len(text):,} characters, read in {seconds:.2f} s")
    print(
        f"utterances {len(found.lines)}, attributed {attributed}, to {args.character} {len(mine)}"
    )
    print(table(rows, ("attributed by", "all speakers", args.character)))
    print("top speakers:", ", ".join(f"{s} {n}" for s, n in found.speakers().most_common(10)))
    result: dict[str, Any] = {
        "book": args.book.name,
        "characters": len(text),
        "seconds": round(seconds, 3),
        "utterances": len(found.lines),
        "attributed": attributed,
        "character": args.character,
        "character_lines": len(mine),
        "by_method_all": dict(everyone),
        "by_method_character": dict(methods),
        "top_speakers": dict(found.speakers().most_common(15)),
    }
    if CHECK.exists():
        checked = json.loads(CHECK.read_text(encoding="utf-8"))["lines"]
        offsets = {line.offset for line in sample}
        verdicts = [row for row in checked if row["offset"] in offsets]
        correct = sum(row["verdict"] == "correct" for row in verdicts)
        per_how: dict[str, Counter[str]] = {}
        for row in verdicts:
            per_how.setdefault(row["how"], Counter())[row["verdict"]] += 1
        print(f"hand check: {correct}/{len(verdicts)} correct (of {len(sample)} sampled)")
        print(
            table(
                [(h, str(c["correct"]), str(sum(c.values()))) for h, c in sorted(per_how.items())],
                ("attributed by", "correct", "checked"),
            )
        )
        result["hand_check"] = {
            "checked": len(verdicts),
            "correct": correct,
            "precision": correct / len(verdicts) if verdicts else None,
            "by_method": {h: dict(c) for h, c in per_how.items()},
        }
    korean = korean_check()
    print(f"Korean check: {korean['correct']}/{korean['expected']} speakers right")
    result["korean_check"] = korean
    OUT.mkdir(parents=True, exist_ok=True)
    path = write_result(
        "from_text/card_from_text", "python -m benchmarks.bench_card_from_text", result
    )
    print(f"wrote {path}")
    if args.draft:  # its own file, so that recounting does not lose the draft
        command = f"python -m benchmarks.bench_card_from_text --draft --model {args.model}"
        path = write_result("from_text/card_from_text_draft", command, draft(found, text, args))
        print(f"wrote {path}")
    return 0


def draft(found: Any, text: str, args: argparse.Namespace) -> dict[str, Any]:
    from personae.backends import get_backend
    from personae.backends.base import GenerationParams
    from personae.cli.common import ensure_pulled

    ensure_pulled(args.model)
    backend = get_backend("embedded", model=args.model, n_ctx=args.ctx)
    started = time.perf_counter()
    params = GenerationParams(temperature=0.3, max_tokens=600, seed=17)
    drafted = draft_card(
        found, text, title="The Adventures of Sherlock Holmes", backend=backend, params=params
    )
    seconds = time.perf_counter() - started
    card = drafted.character.to_card_dict()
    OUT.mkdir(parents=True, exist_ok=True)
    target = OUT / f"holmes_card_{args.model}.json"
    target.write_text(json.dumps(card, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(
        f"drafted in {seconds:.0f} s; model wrote {drafted.from_model}; rules: {drafted.fallback}"
    )
    print(json.dumps(card["data"], ensure_ascii=False, indent=2)[:4000])
    return {
        "model": args.model,
        "seconds": round(seconds, 1),
        "from_model": drafted.from_model,
        "fallback": drafted.fallback,
        "replies": drafted.replies,
        "card": str(target.relative_to(RESULTS.parent)),
    }


if __name__ == "__main__":
    sys.exit(main())
