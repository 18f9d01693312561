"""The DialogSum benchmark: summarize every dialogue, score R-1/R-2/R-L F1 against the human
summaries, and read the numbers against LEAD-3 and LONGEST-3 computed on the same items.

One results cache holds every (model, strategy, item) prediction, so runs resume after an
interruption and the report covers every model and strategy run so far on these items. A
row's baseline delta is measured on exactly the items that row covers.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from personae.backends import Backend
from personae.errors import InvalidInput
from personae.evaluation.cache import ResultCache
from personae.evaluation.report import BarChart, Report, Table
from personae.metrics.corpus import corpus_rouge
from personae.metrics.rouge import RougeScorer
from personae.metrics.stats import Estimate, bootstrap_mean
from personae.summarization import BASELINES, DemoPool, Summarizer, SummaryConfig, parse_dialogue
from personae.text.files import read_jsonl

TYPES = ("rouge1", "rouge2", "rougeL")
# Published reference point (DialogSum README: BART-large fine-tuned, test set vs summary1,
# rouge_score with the Porter stemmer).
BART_LARGE = {"rouge1": 45.95, "rouge2": 21.36, "rougeL": 38.72}

STRATEGIES: dict[str, SummaryConfig] = {
    "zero-shot": SummaryConfig(),
    "few-shot": SummaryConfig(shots=2),
    "consensus": SummaryConfig(shots=2, samples=5),
}


@dataclass(frozen=True)
class Item:
    id: str
    dialogue: str
    references: tuple[str, ...]
    topic: str = ""


def load_dialogsum(path: str | os.PathLike[str]) -> list[Item]:
    """DialogSum JSONL: ``dialogue`` plus ``summary`` (dev/train) or ``summary1``…``summaryN``
    (test, several references); ``fname`` names the item."""
    items: list[Item] = []
    seen: set[str] = set()
    for number, row in read_jsonl(Path(path)):
        where = f"{path}: line {number}"
        dialogue = row.get("dialogue")
        if not isinstance(dialogue, str) or not dialogue.strip():
            raise InvalidInput(f"{where} has no 'dialogue' text")
        keys = (
            ["summary"] if "summary" in row else sorted(k for k in row if k.startswith("summary"))
        )
        references = tuple(str(row[k]) for k in keys if str(row[k]).strip())
        if not references:
            raise InvalidInput(f"{where} has no 'summary' (or 'summary1', …) reference")
        item_id = str(row.get("fname") or row.get("id") or f"line-{number}")
        if item_id in seen:
            raise InvalidInput(f"{where}: the id {item_id!r} appears twice")
        seen.add(item_id)
        try:
            parse_dialogue(dialogue)
        except InvalidInput as exc:
            raise InvalidInput(f"{where}: {exc}") from None
        items.append(Item(item_id, dialogue, references, str(row.get("topic", ""))))
    if not items:
        raise InvalidInput(f"{path} has no dialogues")
    return items


def strategy_config(
    name: str, *, shots: int | None = None, samples: int | None = None
) -> SummaryConfig:
    try:
        config = STRATEGIES[name]
    except KeyError:
        raise InvalidInput(
            f"unknown strategy {name!r}; choose one of: {', '.join(STRATEGIES)}"
        ) from None
    changes: dict[str, Any] = {}
    if shots is not None and config.shots:
        changes["shots"] = shots
    if samples is not None and config.samples > 1:
        changes["samples"] = samples
    return dataclasses.replace(config, **changes)


def cache_key(model: str, strategy: str, item_id: str) -> str:
    return f"{model}|{strategy}|{item_id}"


Progress = Callable[[str, int, int], None]


def predict(
    items: Sequence[Item],
    backend: Backend,
    config: SummaryConfig,
    cache: ResultCache,
    *,
    pool: DemoPool | None = None,
    progress: Progress | None = None,
) -> int:
    """Summarize every item not cached yet for (backend.model, strategy); returns how many
    were new. Few-shot demonstrations never include the item itself."""
    summarizer = Summarizer(backend, config, pool)
    label = f"{backend.model} {config.strategy}"
    new = 0
    for done, item in enumerate(items):
        key = cache_key(backend.model, config.strategy, item.id)
        if key not in cache:
            summary = summarizer.summarize(item.dialogue, exclude_demo=item.id)
            cache.put(
                key,
                {
                    "text": summary.text,
                    "candidates": list(summary.candidates),
                    "demos": list(summary.demos),
                    "prompt_tokens": summary.usage.prompt_tokens,
                    "completion_tokens": summary.usage.completion_tokens,
                },
            )
            new += 1
        if progress is not None:
            progress(label, done + 1, len(items))
    return new


@dataclass(frozen=True)
class Row:
    system: str
    model: str
    strategy: str
    n: int
    scores: dict[str, Estimate]  # rouge1/2/L F and "mean", in 0-1
    vs_lead: float | None = None  # mean ROUGE minus LEAD-3's on the same items


def _row(
    system: str,
    model: str,
    strategy: str,
    predictions: Sequence[str],
    items: Sequence[Item],
    scorer: RougeScorer,
    lead_means: Sequence[float] | None,
) -> tuple[Row, list[float]]:
    result = corpus_rouge(predictions, [i.references for i in items], scorer=scorer)
    item_means = [sum(s[t].fmeasure for t in TYPES) / len(TYPES) for s in result.per_item]
    scores = {t: result.fmeasure[t] for t in TYPES}
    scores["mean"] = bootstrap_mean(item_means)
    delta = None
    if lead_means is not None:
        delta = scores["mean"].mean - sum(lead_means) / len(lead_means)
    return Row(system, model, strategy, len(items), scores, delta), item_means


def score_runs(
    items: Sequence[Item], cache: ResultCache, scorer: RougeScorer
) -> tuple[list[Row], dict[str, Any]]:
    """Rows for the baselines and for every (model, strategy) with cached predictions on
    ``items``; plus per-item data for the JSON report."""
    by_id = {item.id: item for item in items}
    lead_row, lead_means = _row(
        "baseline",
        "-",
        "lead-3",
        [BASELINES["lead-3"](parse_dialogue(i.dialogue)) for i in items],
        items,
        scorer,
        None,
    )
    lead_by_id = dict(zip((i.id for i in items), lead_means, strict=True))
    longest_row, _ = _row(
        "baseline",
        "-",
        "longest-3",
        [BASELINES["longest-3"](parse_dialogue(i.dialogue)) for i in items],
        items,
        scorer,
        lead_means,
    )
    rows = [dataclasses.replace(lead_row, vs_lead=0.0), longest_row]
    runs: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}
    for key, value in cache.items():
        model, _, rest = key.partition("|")
        strategy, _, item_id = rest.rpartition("|")
        if item_id in by_id:
            runs.setdefault((model, strategy), {})[item_id] = value
    per_item: dict[str, dict[str, str]] = {}
    for (model, strategy), predictions in sorted(runs.items()):
        covered = [i for i in items if i.id in predictions]
        leads = [lead_by_id[i.id] for i in covered]
        texts = [str(predictions[i.id]["text"]) for i in covered]
        row, _ = _row("llm", model, strategy, texts, covered, scorer, leads)
        rows.append(row)
        samples = [predictions[i.id].get("candidates") or [] for i in covered]
        if all(samples):  # consensus runs: what one sample alone would have scored
            single = strategy.split("+")[0] + " (1 sample)"
            row, _ = _row("llm", model, single, [s[0] for s in samples], covered, scorer, leads)
            rows.append(row)
        for item, text in zip(covered, texts, strict=True):
            per_item.setdefault(item.id, {})[f"{model} {strategy}"] = text
    return rows, per_item


def build_report(
    rows: Sequence[Row], items: Sequence[Item], scorer: RougeScorer, data_path: str
) -> Report:
    def pct(e: Estimate) -> str:
        return f"{e.mean * 100:.2f}"

    table = Table(
        "ROUGE F1 (×100), mean over references; Δ LEAD-3 on the same items",
        ["system", "model", "strategy", "n", "R-1", "R-2", "R-L", "mean [95% CI]", "Δ LEAD-3"],
        [
            [
                r.system,
                r.model,
                r.strategy,
                r.n,
                pct(r.scores["rouge1"]),
                pct(r.scores["rouge2"]),
                pct(r.scores["rougeL"]),
                r.scores["mean"].format(scale=100),
                "" if r.vs_lead is None else f"{r.vs_lead * 100:+.2f}",
            ]
            for r in rows
        ],
    )
    bart = sum(BART_LARGE.values()) / 3
    reference = Table(
        "Published reference (test set, fine-tuned)",
        ["system", "R-1", "R-2", "R-L", "mean"],
        [["BART-large (DialogSum README)", *BART_LARGE.values(), f"{bart:.2f}"]],
    )
    chart = BarChart.of_estimates(
        "Mean of R-1/R-2/R-L F1 (×100) with 95% CI",
        {
            f"{r.model} {r.strategy}" if r.model != "-" else r.strategy: r.scores["mean"]
            for r in rows
        },
        scale=100,
    )
    return Report(
        title="DialogSum",
        description=(
            f"{len(items)} dialogues from {data_path}. Few-shot demonstrations are retrieved "
            "(BM25) from the same file, never the item itself. Consensus: 5 samples at "
            "T=0.7, the one with the highest mean ROUGE against the others; '(1 sample)' "
            "scores the first sample alone."
        ),
        settings={**scorer.settings, "items": len(items)},
        tables=[table, reference],
        charts=[chart],
        data={
            "rows": [
                {
                    "system": r.system,
                    "model": r.model,
                    "strategy": r.strategy,
                    "n": r.n,
                    "scores": {k: v.as_dict() for k, v in r.scores.items()},
                    "vs_lead3": r.vs_lead,
                }
                for r in rows
            ],
            "bart_large": BART_LARGE,
        },
    )


def run_dialogsum(
    data: str | os.PathLike[str],
    *,
    backend: Backend | None = None,
    strategies: Sequence[str] = ("zero-shot",),
    limit: int | None = None,
    cache_path: str | os.PathLike[str],
    tokenizer: str = "default",
    stemmer: bool = True,
    shots: int | None = None,
    samples: int | None = None,
    progress: Progress | None = None,
) -> Report:
    """Predict with ``backend`` for each strategy (skipping cached items), then score every run
    in the cache on these items. Without a backend only the cached runs and baselines count."""
    items = load_dialogsum(data)
    if limit is not None:
        if limit < 1:
            raise InvalidInput(f"limit must be at least 1, not {limit}")
        items = items[:limit]
    configs = [strategy_config(s, shots=shots, samples=samples) for s in strategies]
    cache = ResultCache(cache_path)
    if backend is not None:
        pool = DemoPool.from_jsonl(data) if any(c.shots for c in configs) else None
        for config in configs:
            predict(items, backend, config, cache, pool=pool, progress=progress)
    scorer = RougeScorer(TYPES, tokenizer=tokenizer, stemmer=stemmer)
    rows, _ = score_runs(items, cache, scorer)
    return build_report(rows, items, scorer, str(data))
