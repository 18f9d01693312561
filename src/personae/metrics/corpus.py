"""ROUGE over a corpus: per-item scores, corpus means, and bootstrap intervals on F-measures.

Each item's references are reduced first (``mean`` of P/R/F over references, or the ``max`` by
F-measure), then items are averaged — the usual "mean over references per item, then over items".
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from personae.errors import InvalidInput
from personae.metrics.rouge import RougeScorer, Score, reduce_scores
from personae.metrics.stats import Estimate, bootstrap_mean


@dataclass(frozen=True)
class CorpusRouge:
    """What :func:`corpus_rouge` measured, with the settings that produced it."""

    means: dict[str, Score]
    """Corpus mean of precision, recall and F-measure per ROUGE type."""
    fmeasure: dict[str, Estimate]
    """The F-measure means again, with bootstrap confidence intervals over items."""
    per_item: list[dict[str, Score]]
    """Each item's score, its references already reduced."""
    settings: dict[str, Any]
    """The scorer's settings (types, tokenizer, stemmer) plus ``reduce``."""

    @property
    def n(self) -> int:
        return len(self.per_item)

    def as_dict(self) -> dict[str, dict[str, float]]:
        """``{"rouge1": {"precision": …, "recall": …, "fmeasure": …}, …}`` in 0–1."""
        return {rouge_type: score.as_dict() for rouge_type, score in self.means.items()}


def corpus_rouge(
    predictions: Sequence[str],
    references_per_item: Sequence[Sequence[str] | str],
    *,
    scorer: RougeScorer,
    reduce: str = "mean",
    confidence: float = 0.95,
    seed: int = 0,
) -> CorpusRouge:
    """Score ``predictions[i]`` against ``references_per_item[i]`` (a list of references, or
    one string) for every item and average over items."""
    if reduce not in ("mean", "max"):
        raise InvalidInput(f"reduce must be 'mean' or 'max', not {reduce!r}")
    if isinstance(predictions, str):
        raise InvalidInput("predictions must be a list of texts, not one string")
    if len(predictions) != len(references_per_item):
        raise InvalidInput(
            f"{len(predictions)} predictions but {len(references_per_item)} reference lists: "
            "give one list of references per prediction"
        )
    if not predictions:
        raise InvalidInput("nothing to score: there are no predictions")
    per_item: list[dict[str, Score]] = []
    for index, (prediction, references) in enumerate(
        zip(predictions, references_per_item, strict=True)
    ):
        refs = [references] if isinstance(references, str) else list(references)
        if not refs:
            raise InvalidInput(f"item {index + 1} has no reference")
        per_item.append(reduce_scores(scorer.score_all(prediction, refs), reduce))

    n = len(per_item)
    means: dict[str, Score] = {}
    estimates: dict[str, Estimate] = {}
    for rouge_type in scorer.types:
        column = [item[rouge_type] for item in per_item]
        f_values = [s.fmeasure for s in column]
        means[rouge_type] = Score(
            math.fsum(s.precision for s in column) / n,
            math.fsum(s.recall for s in column) / n,
            math.fsum(f_values) / n,
        )
        estimate = bootstrap_mean(f_values, confidence=confidence, seed=seed)
        # One number everywhere: the interval's centre is the same mean the table shows.
        estimates[rouge_type] = dataclasses.replace(estimate, mean=means[rouge_type].fmeasure)
    return CorpusRouge(
        means=means,
        fmeasure=estimates,
        per_item=per_item,
        settings={**scorer.settings, "reduce": reduce},
    )
