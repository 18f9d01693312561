"""Metrics: a registry (``register_metric``/``get_metric``), tokenizers, ROUGE, corpus ROUGE."""

from personae.evaluation.metrics.corpus import CorpusRouge, corpus_rouge
from personae.evaluation.metrics.registry import Metric, get_metric, metric_names, register_metric
from personae.evaluation.metrics.rouge import ROUGE_TYPES, RougeScorer, Score, reduce_scores
from personae.evaluation.metrics.tokenizers import TOKENIZER_NAMES, get_tokenizer

__all__ = [
    "ROUGE_TYPES",
    "TOKENIZER_NAMES",
    "CorpusRouge",
    "Metric",
    "RougeScorer",
    "Score",
    "corpus_rouge",
    "get_metric",
    "get_tokenizer",
    "metric_names",
    "reduce_scores",
    "register_metric",
]
