"""Metrics: a registry (``register_metric``/``get_metric``), tokenizers, ROUGE."""

from personae.evaluation.metrics.registry import Metric, get_metric, metric_names, register_metric
from personae.evaluation.metrics.rouge import ROUGE_TYPES, RougeScorer, Score, reduce_scores
from personae.evaluation.metrics.tokenizers import TOKENIZER_NAMES, get_tokenizer

__all__ = [
    "ROUGE_TYPES",
    "TOKENIZER_NAMES",
    "Metric",
    "RougeScorer",
    "Score",
    "get_metric",
    "get_tokenizer",
    "metric_names",
    "reduce_scores",
    "register_metric",
]
