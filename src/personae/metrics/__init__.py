"""Metrics on text, with nothing above them but :mod:`personae.text`: ROUGE (:mod:`.rouge` on
:mod:`.lcs`), corpus ROUGE with bootstrap intervals (:mod:`.corpus`), and the statistics the
evaluations report with (:mod:`.stats`)."""

from personae.metrics.corpus import CorpusRouge, corpus_rouge
from personae.metrics.rouge import ROUGE_TYPES, RougeScorer, Score, reduce_scores
from personae.text.tokenizers import TOKENIZER_NAMES, get_tokenizer

__all__ = [
    "ROUGE_TYPES",
    "TOKENIZER_NAMES",
    "CorpusRouge",
    "RougeScorer",
    "Score",
    "corpus_rouge",
    "get_tokenizer",
    "reduce_scores",
]
