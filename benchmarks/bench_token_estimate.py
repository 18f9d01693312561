"""How the token estimate fits the catalogue models' tokenizers: where the rates of
``personae.text.token_estimate`` and ``ModelSpec.token_rates`` come from.

Run: python -m benchmarks.bench_token_estimate [--models smollm2-135m,qwen2.5-coder-1.5b]

Needs the models pulled and two packages that personae itself does not use:
``pip install gguf tokenizers``. No model is loaded: each tokenizer is rebuilt from the
vocabulary and merges stored in the GGUF file, with the pre-tokenizer llama.cpp uses for it
(``tokenizer.ggml.pre``: "smollm" splits every digit, then GPT-2's pattern; "qwen2" its own
pattern), and byte-level BPE on top.

Texts: every string of 20 characters or more in the bundled cards and evaluation data (English
and Korean) and the system message each bundled card makes; where ``../shared/data`` is present,
also 1,500 paragraphs of The Adventures of Sherlock Holmes and 300 DialogSum dialogues. For each
model it prints the rates measured (ASCII characters a token on English texts, tokens a Hangul
syllable on Korean ones) and, for each set of rates, estimate ÷ true by group and the texts the
estimate fell short on.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

from benchmarks._common import table, write_result
from personae.models import CATALOGUE, model_path
from personae.text.language import hangul_count
from personae.text.token_estimate import (
    BYTE_LEVEL_RATES,
    GENERIC_RATES,
    TokenRates,
    estimate_tokens,
)

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
NOVEL = SHARED / "novels" / "adventures_of_sherlock_holmes.txt"
DIALOGSUM = SHARED / "dialogsum" / "dialogsum.dev.jsonl"
# llama.cpp's pre-tokenizer patterns (llama-vocab.cpp) for the catalogue's tokenizers.
QWEN2 = (
    r"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}"
    r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)


def tokenizer(path: Path) -> Any:
    """The GGUF file's tokenizer, rebuilt with the ``tokenizers`` package."""
    try:
        from gguf import GGUFReader
        from tokenizers import Regex, Tokenizer, models, pre_tokenizers
    except ImportError:
        sys.exit("this benchmark needs two more packages: pip install gguf tokenizers")
    fields = GGUFReader(str(path)).fields

    def strings(key: str) -> list[str]:
        field = fields[key]
        return [bytes(field.parts[i]).decode("utf-8") for i in field.data]

    if strings("tokenizer.ggml.model") != ["gpt2"]:
        sys.exit(f"{path}: only byte-level BPE ('gpt2') tokenizers are rebuilt here")
    vocab = {token: i for i, token in enumerate(strings("tokenizer.ggml.tokens"))}
    merges = [tuple(m.split(" ", 1)) for m in strings("tokenizer.ggml.merges")]
    built = Tokenizer(models.BPE(vocab, merges))
    pre = strings("tokenizer.ggml.pre")[0]
    if pre == "qwen2":
        split = pre_tokenizers.Split(Regex(QWEN2), behavior="isolated")
        byte_level = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)
        built.pre_tokenizer = pre_tokenizers.Sequence([split, byte_level])
    elif pre == "smollm":
        digits = pre_tokenizers.Digits(individual_digits=True)
        byte_level = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
        built.pre_tokenizer = pre_tokenizers.Sequence([digits, byte_level])
    else:
        sys.exit(f"{path}: pre-tokenizer {pre!r} is not rebuilt here")
    return built


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def texts() -> list[tuple[str, str]]:
    """(group, text): "ko" for mostly-Hangul texts, else where the text comes from."""
    from personae.agent.prompt import PromptBuilder
    from personae.characters.bundled import bundled_characters

    found: list[tuple[str, str]] = []
    package = resources.files("personae")
    folders = ["characters/bundled", "evaluation/data", "evaluation/data/fidelity"]
    for folder in folders:
        for entry in sorted(package.joinpath(folder).iterdir(), key=lambda e: e.name):
            if entry.name.endswith(".json"):
                data = json.loads(entry.read_text(encoding="utf-8"))
                found += [("data", s) for s in _strings(data) if len(s) >= 20]
    for character in bundled_characters().values():
        builder = PromptBuilder(character, user_name="User", count_tokens=len, n_ctx=4096)
        found.append(("card", builder.system_text()))
    if NOVEL.exists():
        paragraphs = NOVEL.read_text(encoding="utf-8").split("\n\n")
        found += [("novel", p) for p in paragraphs if len(p) >= 20][:1500]
    if DIALOGSUM.exists():
        with DIALOGSUM.open(encoding="utf-8") as fh:
            found += [
                ("dialogsum", json.loads(line)["dialogue"])
                for line, _ in zip(fh, range(300), strict=False)
            ]
    return [("ko" if _korean(t) else group, t) for group, t in found]


def _korean(text: str) -> bool:
    return hangul_count(text) * 2 > len(text.strip())


def measure(model: str, samples: list[tuple[str, str]]) -> dict[str, Any]:
    spec = CATALOGUE[model]
    built = tokenizer(model_path(model))
    counts = [len(built.encode(text).ids) for _, text in samples]
    english = [(t, n) for (_, t), n in zip(samples, counts, strict=True) if t.isascii()]
    ascii_rate = sum(len(t) for t, _ in english) / sum(n for _, n in english)
    korean = [(t, n) for (g, t), n in zip(samples, counts, strict=True) if g == "ko"]
    per_syllable = [
        (n - (len(t) - hangul_count(t)) / ascii_rate) / hangul_count(t) for t, n in korean
    ]
    rate_sets = {
        "generic": GENERIC_RATES,
        "catalogue": spec.token_rates,
        "byte-level": BYTE_LEVEL_RATES,
    }
    return {
        "ascii_chars_per_token": ascii_rate,
        "hangul_tokens_per_syllable": {
            "all": (
                sum(n for _, n in korean)
                - sum(len(t) - hangul_count(t) for t, _ in korean) / ascii_rate
            )
            / sum(hangul_count(t) for t, _ in korean),
            "max_text": max(per_syllable),
        },
        "rates": {name: fit(rates, samples, counts) for name, rates in rate_sets.items()},
    }


def fit(rates: TokenRates, samples: list[tuple[str, str]], counts: list[int]) -> dict[str, Any]:
    """Estimate ÷ true by group, and the texts estimated short."""
    totals: dict[str, list[int]] = {}
    short: list[tuple[int, int, str, int]] = []
    for (group, text), true in zip(samples, counts, strict=True):
        guess = estimate_tokens(text, rates)
        pair = totals.setdefault(group, [0, 0])
        pair[0] += guess
        pair[1] += true
        if guess < true:
            short.append((true - guess, true, group, len(text)))
    short.sort(reverse=True)
    return {
        "rates": {
            k: getattr(rates, k) for k in ("ascii_chars", "digit", "hangul", "other", "margin")
        },
        "ratio": {group: guess / true for group, (guess, true) in sorted(totals.items())},
        "short_texts": len(short),
        "short_tokens": sum(s[0] for s in short),
        # Sizes only: the texts from ../shared/data may not be copied into the repository.
        "worst": [{"missing": m, "true": t, "group": g, "chars": c} for m, t, g, c in short[:3]],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default=",".join(CATALOGUE))
    args = parser.parse_args()
    samples = texts()
    results = {model: measure(model, samples) for model in args.models.split(",")}
    groups = sorted({g for g, _ in samples})
    rows = []
    for model, result in results.items():
        for name, fitted in result["rates"].items():
            rows.append(
                (
                    model,
                    name,
                    *(f"{fitted['ratio'].get(g, float('nan')):.2f}" for g in groups),
                    f"{fitted['short_texts']} ({fitted['short_tokens']} tok)",
                )
            )
    print(
        f"{len(samples)} texts: "
        + ", ".join(f"{g} {sum(1 for s, _ in samples if s == g)}" for g in groups)
    )
    for model, result in results.items():
        hangul = result["hangul_tokens_per_syllable"]
        print(
            f"{model}: {result['ascii_chars_per_token']:.2f} ASCII characters a token on English; "
            f"{hangul['all']:.2f} tokens a Hangul syllable on Korean, "
            f"{hangul['max_text']:.2f} at most in one text"
        )
    print(table(rows, ("model", "rates", *(f"{g} est/true" for g in groups), "estimated short")))
    path = write_result(
        "token_estimate",
        "python -m benchmarks.bench_token_estimate " + " ".join(sys.argv[1:]),
        {"texts": {g: sum(1 for s, _ in samples if s == g) for g in groups}, "models": results},
    )
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
