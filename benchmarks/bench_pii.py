"""R5: PII detection against presidio's generated sentences, and redaction throughput.

Run: python -m benchmarks.bench_pii [--lines 10000] [--repeats 3] [--show-misses]

Data: ../shared/data/pii/presidio_generated_small.json (100 sentences from presidio's synthetic
data generator, with gold spans). Presidio types map to ours: EMAIL_ADDRESS→EMAIL,
PHONE_NUMBER→PHONE, CREDIT_CARD, US_SSN, IP_ADDRESS, IBAN_CODE→IBAN, ADDRESS/STREET_ADDRESS→ADDRESS.
Every other gold type (PERSON, LOCATION, ORGANIZATION, DATE_TIME, TITLE, DOMAIN_NAME,
US_DRIVER_LICENSE …) is out of scope: listed with its count, never detected.

Counting, per mapped type T:
  recall    = gold T spans overlapped by at least one predicted T span / gold T spans
  exact     = gold T spans with a predicted T span of exactly the same offsets / gold T spans
  precision = predicted T spans overlapping at least one gold T span / predicted T spans
A predicted span that overlaps no gold span of its own type is a false positive, whatever else it
overlaps; the false positives are broken down by what they hit (an out-of-scope gold span, an
in-scope gold span of another type, or nothing). "Structured" pools EMAIL, PHONE, CREDIT_CARD,
US_SSN and IP_ADDRESS (micro average); ADDRESS is reported on its own.

Throughput: `redact()` (mask mode, all types) over a synthetic corpus of short mixed English and
Korean lines (a third carry PII), generated here with a fixed seed; best of --repeats runs.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from benchmarks._common import table, write_result
from personae.privacy import PiiSpan, find_pii, redact
from personae.privacy.patterns import luhn

DATA = (
    Path(__file__).resolve().parents[2]
    / "shared"
    / "data"
    / "pii"
    / "presidio_generated_small.json"
)
TYPE_MAP = {
    "EMAIL_ADDRESS": "EMAIL",
    "PHONE_NUMBER": "PHONE",
    "CREDIT_CARD": "CREDIT_CARD",
    "US_SSN": "US_SSN",
    "IP_ADDRESS": "IP_ADDRESS",
    "IBAN_CODE": "IBAN",
    "ADDRESS": "ADDRESS",
    "STREET_ADDRESS": "ADDRESS",
}
STRUCTURED = ("EMAIL", "PHONE", "CREDIT_CARD", "US_SSN", "IP_ADDRESS")
REPORTED = (*STRUCTURED, "ADDRESS", "IBAN", "KR_RRN")


def load() -> list[dict[str, Any]]:
    if not DATA.exists():
        sys.exit(
            f"R5 needs presidio's generated PII sentences at {DATA} (the reference data beside "
            "the project); it is not there, so nothing was measured"
        )
    rows: list[dict[str, Any]] = json.loads(DATA.read_text(encoding="utf-8"))
    return rows


def overlaps(a_start: int, a_end: int, b_start: int, b_end: int) -> bool:
    return a_start < b_end and b_start < a_end


def score(rows: list[dict[str, Any]], show_misses: bool) -> dict[str, Any]:
    gold_n: Counter[str] = Counter()
    found: Counter[str] = Counter()
    exact: Counter[str] = Counter()
    pred_n: Counter[str] = Counter()
    true_pos: Counter[str] = Counter()
    fp_kind: Counter[str] = Counter()
    out_of_scope: Counter[str] = Counter()
    misses: list[tuple[str, str]] = []
    false_alarms: list[tuple[str, str]] = []
    for row in rows:
        text = row["full_text"]
        preds: list[PiiSpan] = find_pii(text)
        golds = [
            (
                TYPE_MAP.get(s["entity_type"]),
                s["entity_type"],
                s["start_position"],
                s["end_position"],
            )
            for s in row["spans"]
        ]
        for ours, theirs, start, end in golds:
            if ours is None:
                out_of_scope[theirs] += 1
                continue
            gold_n[ours] += 1
            same = [p for p in preds if p.type == ours]
            if any(overlaps(p.start, p.end, start, end) for p in same):
                found[ours] += 1
            else:
                misses.append((ours, text[start:end]))
            if any(p.start == start and p.end == end for p in same):
                exact[ours] += 1
        for p in preds:
            pred_n[p.type] += 1
            hit = [g for g in golds if overlaps(p.start, p.end, g[2], g[3])]
            if any(g[0] == p.type for g in hit):
                true_pos[p.type] += 1
            else:
                kind = (
                    "nothing"
                    if not hit
                    else "out-of-scope gold"
                    if all(g[0] is None for g in hit)
                    else "other in-scope type"
                )
                fp_kind[kind] += 1
                false_alarms.append((p.type, f"{p.text!r} ({kind})"))
    if show_misses:
        for kind, text in misses:
            print(f"miss  {kind:12} {text!r}")
        for kind, text in false_alarms:
            print(f"false {kind:12} {text}")

    def ratio(a: int, b: int) -> float | None:
        return a / b if b else None

    per_type = {
        t: {
            "gold": gold_n[t],
            "found": found[t],
            "recall": ratio(found[t], gold_n[t]),
            "exact": ratio(exact[t], gold_n[t]),
            "predicted": pred_n[t],
            "true_positive": true_pos[t],
            "precision": ratio(true_pos[t], pred_n[t]),
        }
        for t in REPORTED
    }
    g = sum(gold_n[t] for t in STRUCTURED)
    structured = {
        "gold": g,
        "recall": ratio(sum(found[t] for t in STRUCTURED), g),
        "exact": ratio(sum(exact[t] for t in STRUCTURED), g),
        "predicted": sum(pred_n[t] for t in STRUCTURED),
        "precision": ratio(
            sum(true_pos[t] for t in STRUCTURED), sum(pred_n[t] for t in STRUCTURED)
        ),
    }
    return {
        "sentences": len(rows),
        "per_type": per_type,
        "structured": structured,
        "false_positives_by_what_they_hit": dict(fp_kind),
        "out_of_scope_gold": dict(out_of_scope.most_common()),
    }


FIRST = ["James", "Maria", "Wei", "Olivia", "Noah", "민준", "서연", "지우", "하준", "도윤"]
STREETS = ["Main St", "Oak Avenue", "Maple Drive", "Sunset Blvd", "Lakeview Road", "Elm Court"]
KR_ROADS = [
    "서울특별시 강남구 테헤란로",
    "부산광역시 해운대구 센텀중앙로",
    "경기도 성남시 분당구 판교역로",
    "대전광역시 유성구 대학로",
]
EN_PLAIN = [
    "I think the weather will be nice tomorrow, don't you?",
    "She finished chapter 12 of the book in 1998 and again in 2004.",
    "The meeting moved to 2024-03-15 at 10:30; bring the 3 reports.",
    "Holmes lit his pipe and stared at the fire for 20 minutes.",
    "Version 2.1.0 fixed 17 bugs, the release notes say.",
    "We walked 5 miles down the road before lunch.",
]
KO_PLAIN = [
    "오늘 날씨가 정말 좋네요. 산책이라도 갈까요?",
    "1592년에 임진왜란이 일어났고 3명의 장수가 활약했다.",
    "회의는 2024년 3월 15일 오후 2시로 미뤄졌습니다.",
    "길동은 활빈당을 이끌고 탐관오리를 벌했다.",
    "그 책은 총 12권이고 가격은 15,000원이에요.",
    "친구와 함께 카페에서 3시간 동안 이야기했어요.",
]


def synthetic(n: int, seed: int = 0) -> tuple[list[str], int]:
    """``n`` lines and how many of them carry one planted piece of PII."""
    rng = random.Random(seed)

    def digits(k: int) -> str:
        return "".join(rng.choice("0123456789") for _ in range(k))

    def pii_line() -> str:
        name = rng.choice(FIRST)
        choice = rng.randrange(9)
        if choice == 0:
            return f"You can email {name} at {name.lower()}{digits(2)}@example.com anytime."
        if choice == 1:
            return f"Call me at ({rng.randint(201, 989)}) {rng.randint(201, 989)}-{digits(4)}, ok?"
        if choice == 2:
            return f"제 번호는 010-{digits(4)}-{digits(4)}이에요, {name}님."
        if choice == 3:
            body = "4" + digits(14)
            card = next(body + c for c in "0123456789" if luhn(body + c))
            groups = " ".join(card[i : i + 4] for i in range(0, 16, 4))
            return f"My card is {groups} and it expires soon."
        if choice == 4:
            birth = f"{rng.randint(70, 99)}0{rng.randint(1, 9)}15"
            return f"{name}의 주민등록번호는 {birth}-1{digits(6)}입니다."
        if choice == 5:
            return f"The server at 10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.7 is down."
        if choice == 6:
            return f"I moved to {rng.randint(1, 9999)} {rng.choice(STREETS)} last year."
        if choice == 7:
            return f"새 주소는 {rng.choice(KR_ROADS)} {rng.randint(1, 300)}입니다."
        return (
            f"SSN {rng.randint(100, 665)}-{rng.randint(10, 99)}-{rng.randint(1000, 9999)} on file."
        )

    lines = []
    planted = 0
    for _ in range(n):
        if rng.random() < 1 / 3:
            lines.append(pii_line())
            planted += 1
        else:
            lines.append(rng.choice(EN_PLAIN if rng.random() < 0.5 else KO_PLAIN))
    return lines, planted


def throughput(lines: list[str], repeats: int) -> dict[str, float]:
    """Best-of-``repeats`` timing of ``redact()`` over ``lines``."""
    best = float("inf")
    spans = 0
    for _ in range(repeats):
        start = time.perf_counter()
        spans = sum(len(redact(line).spans) for line in lines)
        best = min(best, time.perf_counter() - start)
    chars = sum(len(line) for line in lines)
    return {
        "lines": len(lines),
        "chars": chars,
        "spans": spans,
        "seconds": best,
        "lines_per_s": len(lines) / best,
        "chars_per_s": chars / best,
    }


def fmt(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--lines", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--show-misses", action="store_true", help="Print misses and false alarms.")
    args = parser.parse_args()

    result = score(load(), args.show_misses)
    rows = []
    for t in REPORTED:
        r = result["per_type"][t]
        rows.append(
            (
                t,
                str(r["gold"]),
                fmt(r["recall"]),
                fmt(r["exact"]),
                str(r["predicted"]),
                fmt(r["precision"]),
            )
        )
    s = result["structured"]
    rows.append(
        (
            "structured",
            str(s["gold"]),
            fmt(s["recall"]),
            fmt(s["exact"]),
            str(s["predicted"]),
            fmt(s["precision"]),
        )
    )
    print(table(rows, ("type", "gold", "recall", "exact", "predicted", "precision")))
    print("false positives by what they hit:", result["false_positives_by_what_they_hit"])
    print("out of scope (not detected):", result["out_of_scope_gold"])

    lines, planted = synthetic(args.lines)
    speed = {**throughput(lines, args.repeats), "planted": planted}
    print(
        f"throughput: {speed['lines_per_s']:,.0f} lines/s ({speed['chars_per_s'] / 1e6:.2f} M "
        f"chars/s) on {speed['lines']:,} synthetic EN/KO lines; {speed['spans']:,} spans for "
        f"{planted:,} planted, "
        f"best of {args.repeats}"
    )
    path = write_result(
        "pii_presidio",
        "python -m benchmarks.bench_pii " + " ".join(sys.argv[1:]),
        {**result, "throughput": speed},
    )
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
