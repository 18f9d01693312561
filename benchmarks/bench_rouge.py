"""P5: our ROUGE against `rouge-score` on DialogSum dev — same numbers, at least 5× faster.

Run: python -m benchmarks.bench_rouge [--repeats 5]

Data: the 500 DialogSum dev dialogues (../shared/data/dialogsum/dialogsum.dev.jsonl).
Prediction: LEAD-3, the first three turns of the dialogue, one turn per line.
References, three per item, all realistic texts of the kind a summarizer is scored against:
  1. the human summary;
  2. LONGEST-3, an extractive summary: the three longest turns (by characters; ties to the
     earlier turn) of the same dialogue, in dialogue order, one per line — it shares many words
     with LEAD-3, so the LCS tables are long and dense;
  3. the human summary of the next item (the last item takes the first one's): an on-topic-looking
     but wrong reference, the low end of the scale.
Both scorers run ROUGE-1/2/L/Lsum with the Porter stemmer and score every (prediction, reference)
pair (1,500 pairs); every precision, recall and F-measure must be equal (==). They alternate within
each repeat; our stem cache is emptied before each of our runs, so every run is cold. Then
`score_multi` (max over references) is timed the same way. Korean with the kiwi tokenizer is timed
on the bundled Korean character cards, for information.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks._common import table, write_result
from personae.metrics import RougeScorer, corpus_rouge
from personae.text.tokenizers import stem

DIALOGSUM = Path(__file__).resolve().parents[2] / "shared" / "data" / "dialogsum"
DEV = DIALOGSUM / "dialogsum.dev.jsonl"
TYPES = ["rouge1", "rouge2", "rougeL", "rougeLsum"]
KOREAN_CARDS = ("hong-gildong", "chunhyang", "mina")


def load_items() -> list[dict[str, str]]:
    if not DEV.exists():
        sys.exit(
            f"P5 needs DialogSum dev at {DEV} (the reference data beside the project); "
            "it is not there, so nothing was measured"
        )
    with DEV.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def lead3(dialogue: str) -> str:
    return "\n".join(dialogue.split("\n")[:3])


def longest3(dialogue: str) -> str:
    turns = dialogue.split("\n")
    top = sorted(range(len(turns)), key=lambda i: (-len(turns[i]), i))[:3]
    return "\n".join(turns[i] for i in sorted(top))


def build_corpus(items: list[dict[str, str]]) -> tuple[list[str], list[list[str]]]:
    predictions = [lead3(item["dialogue"]) for item in items]
    references = [
        [item["summary"], longest3(item["dialogue"]), items[(i + 1) % len(items)]["summary"]]
        for i, item in enumerate(items)
    ]
    return predictions, references


def timed(function: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


def as_tuples(scores: dict[str, Any]) -> dict[str, tuple[float, float, float]]:
    return {k: (float(s.precision), float(s.recall), float(s.fmeasure)) for k, s in scores.items()}


def compare(ours: list[Any], theirs: list[Any], what: str) -> int:
    """Count the numbers compared; stop the benchmark on the first difference."""
    compared = 0
    for index, (a, b) in enumerate(zip(ours, theirs, strict=True)):
        pairs = zip(a, b, strict=True) if isinstance(a, list) else [(a, b)]
        for mine, reference in pairs:
            # rouge-score returns int 0 for an empty side; == still holds for 0 == 0.0.
            if as_tuples(mine) != {k: tuple(v) for k, v in reference.items()}:
                sys.exit(f"P5 FAILED: {what}, item {index}: {as_tuples(mine)} != {reference}")
            compared += 3 * len(mine)
    return compared


def korean_sample() -> list[str]:
    from personae import load_character

    sentences: list[str] = []
    for card in KOREAN_CARDS:
        character = load_character(card)
        text = " ".join(
            [character.description, character.personality, character.first_mes]
            + [character.mes_example, character.scenario]
        )
        for piece in re.split(r"(?<=[.!?])\s+|\n+", text):
            if len(re.findall(r"[가-힣]", piece)) >= 8:
                sentences.append(piece.strip())
    return sentences


def bench_kiwi(repeats: int) -> dict[str, Any]:
    sentences = korean_sample()
    n = len(sentences)
    predictions = sentences
    references = [[sentences[(i + 1) % n], sentences[(i + 2) % n], sentences[i]] for i in range(n)]
    scorer = RougeScorer(TYPES, tokenizer="kiwi")
    scorer.score("준비", "준비")  # loads the kiwi model once, outside the timing
    times = []
    for _ in range(repeats):
        seconds, _ = timed(
            lambda: [scorer.score_all(p, r) for p, r in zip(predictions, references, strict=True)]
        )
        times.append(seconds)
    result = corpus_rouge(predictions, references, scorer=scorer)
    return {
        "items": n,
        "references_per_item": 3,
        "pairs": 3 * n,
        "median_s": statistics.median(times),
        "ms_per_pair": statistics.median(times) / (3 * n) * 1000,
        "times_s": times,
        "corpus_mean_f": {k: v.fmeasure for k, v in result.means.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    from rouge_score import rouge_scorer  # type: ignore[import-untyped]

    items = load_items()
    predictions, references = build_corpus(items)
    pairs = list(zip(predictions, references, strict=True))
    theirs = rouge_scorer.RougeScorer(TYPES, use_stemmer=True)
    ours = RougeScorer(TYPES, stemmer=True)

    def theirs_each() -> list[list[Any]]:
        # rouge-score's order is score(target, prediction).
        return [[theirs.score(r, p) for r in refs] for p, refs in pairs]

    def ours_each() -> list[list[Any]]:
        return [ours.score_all(p, refs) for p, refs in pairs]

    def theirs_max() -> list[Any]:
        return [theirs.score_multi(refs, p) for p, refs in pairs]

    def ours_max() -> list[Any]:
        return [ours.score_multi(p, refs, reduce="max") for p, refs in pairs]

    cases = {
        "each reference (1,500 pairs)": (theirs_each, ours_each),
        "score_multi, max (500 items)": (theirs_max, ours_max),
    }
    times: dict[str, dict[str, list[float]]] = {k: {"rouge_score": [], "ours": []} for k in cases}
    compared = 0
    for _ in range(args.repeats):
        for label, (their_fn, our_fn) in cases.items():
            seconds, their_out = timed(their_fn)
            times[label]["rouge_score"].append(seconds)
            stem.cache_clear()  # cold: every run stems its words afresh
            seconds, our_out = timed(our_fn)
            times[label]["ours"].append(seconds)
            compared += compare(our_out, their_out, label)
    warm_s = min(timed(ours_each)[0] for _ in range(args.repeats))

    results: dict[str, Any] = {}
    rows: list[tuple[str, ...]] = []
    for label, by_side in times.items():
        theirs_s = statistics.median(by_side["rouge_score"])
        ours_s = statistics.median(by_side["ours"])
        results[label] = {
            "rouge_score_median_s": theirs_s,
            "ours_median_s": ours_s,
            "speedup": theirs_s / ours_s,
            "rouge_score_s": by_side["rouge_score"],
            "ours_s": by_side["ours"],
        }
        rows.append((label, f"{theirs_s:.3f}", f"{ours_s:.3f}", f"{theirs_s / ours_s:.1f}×"))
    print(table(rows, ("P5: ROUGE-1/2/L/Lsum, stemmer", "rouge_score s", "ours s", "speed-up")))
    headline = results["each reference (1,500 pairs)"]["speedup"]
    print(f"all {compared:,} numbers identical (==); ours warm (stem cache kept): {warm_s:.3f} s")
    print(f"P5 {'PASS' if headline >= 5 else 'FAIL'}: {headline:.1f}× (goal ≥ 5×)")

    lead = corpus_rouge(predictions, references, scorer=ours)
    lead_human = corpus_rouge(predictions, [r[0] for r in references], scorer=ours)
    kiwi = bench_kiwi(args.repeats)
    print(
        f"kiwi (Korean, {kiwi['pairs']} pairs from the bundled Korean cards): "
        f"{kiwi['median_s']:.3f} s, {kiwi['ms_per_pair']:.2f} ms per pair"
    )
    path = write_result(
        "p5_rouge",
        "python -m benchmarks.bench_rouge" + (f" --repeats {args.repeats}"),
        {
            "data": str(DEV.name),
            "items": len(items),
            "references_per_item": 3,
            "references": ["human summary", "LONGEST-3 turns", "next item's human summary"],
            "prediction": "LEAD-3 turns",
            "settings": {"types": TYPES, "stemmer": True, "tokenizer": "default"},
            "repeats": args.repeats,
            "numbers_compared_equal": compared,
            "results": results,
            "ours_warm_best_s": warm_s,
            "goal_speedup": 5,
            "passed": headline >= 5,
            "lead3_f": {
                "mean_of_3_references": {k: v.fmeasure for k, v in lead.means.items()},
                "human_summary_only": {k: v.as_dict() for k, v in lead_human.fmeasure.items()},
            },
            "kiwi_korean": kiwi,
        },
    )
    print(f"wrote {path}", file=sys.stderr)
    if headline < 5:
        sys.exit(1)


if __name__ == "__main__":
    main()
