"""ROUGE-N, ROUGE-L and summary-level ROUGE-Lsum with an explicit tokenizer.

With ``tokenizer="default"`` (and ``stemmer=True`` or not) the numbers equal the `rouge-score`
package's on English text; unlike it, Korean is not thrown away (`rouge-score` drops every
character outside [a-z0-9]). Each text is tokenized once per scorer call and LCS is
bit-parallel (:mod:`personae.metrics.lcs`).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from personae.errors import InvalidInput
from personae.metrics.lcs import lcs_indices, lcs_length, token_masks
from personae.text.tokenizers import TOKENIZER_NAMES, get_tokenizer

ROUGE_TYPES = ("rouge1", "rouge2", "rougeL", "rougeLsum")
_ROUGE_N = re.compile(r"rouge([1-9])")


@dataclass(frozen=True)
class Score:
    precision: float
    recall: float
    fmeasure: float

    def as_dict(self) -> dict[str, float]:
        return {"precision": self.precision, "recall": self.recall, "fmeasure": self.fmeasure}


ZERO = Score(0.0, 0.0, 0.0)


def fmeasure(precision: float, recall: float) -> float:
    if precision + recall > 0:
        return 2 * precision * recall / (precision + recall)
    return 0.0


@dataclass(frozen=True)
class _Tokenized:
    tokens: list[str]
    sentences: list[list[str]]


def _ngrams(tokens: Sequence[str], n: int) -> Counter[tuple[str, ...]]:
    return Counter(zip(*(tokens[i:] for i in range(n)), strict=False))


def _score_ngrams(reference: Sequence[str], prediction: Sequence[str], n: int) -> Score:
    ref = _ngrams(reference, n)
    pred = _ngrams(prediction, n)
    overlap = sum(min(count, pred[gram]) for gram, count in ref.items())
    precision = overlap / max(sum(pred.values()), 1)
    recall = overlap / max(sum(ref.values()), 1)
    return Score(precision, recall, fmeasure(precision, recall))


def _score_lcs(reference: Sequence[str], prediction: Sequence[str]) -> Score:
    if not reference or not prediction:
        return ZERO
    length = lcs_length(reference, prediction)
    precision = length / len(prediction)
    recall = length / len(reference)
    return Score(precision, recall, fmeasure(precision, recall))


def _score_lsum(reference: list[list[str]], prediction: list[list[str]]) -> Score:
    """Summary-level LCS (ROUGE paper §3.2): per reference sentence, the union of its LCS with
    every predicted sentence, each token counted at most as often as both sides have it."""
    m = sum(map(len, reference))
    n = sum(map(len, prediction))
    if not reference or not prediction or not m or not n:
        return ZERO
    left_ref: Counter[str] = Counter()
    left_pred: Counter[str] = Counter()
    for sentence in reference:
        left_ref.update(sentence)
    for sentence in prediction:
        left_pred.update(sentence)
    candidates = [(candidate, token_masks(candidate)) for candidate in prediction if candidate]
    hits = 0
    for sentence in reference:
        union: set[int] = set()
        for candidate, masks in candidates:
            union.update(lcs_indices(sentence, candidate, masks=masks))
        for index in sorted(union):
            token = sentence[index]
            if left_pred[token] > 0 and left_ref[token] > 0:
                hits += 1
                left_pred[token] -= 1
                left_ref[token] -= 1
    recall = hits / m
    precision = hits / n
    return Score(precision, recall, fmeasure(precision, recall))


class RougeScorer:
    """``RougeScorer(tokenizer="kiwi").score(prediction, reference)`` → ``{"rouge1": Score, …}``.

    ``rougeLsum`` treats each line as a sentence (put one sentence per line for it to differ
    from ``rougeL``).
    """

    name = "rouge"

    def __init__(
        self,
        types: Sequence[str] = ROUGE_TYPES,
        *,
        tokenizer: str = "default",
        stemmer: bool = False,
    ) -> None:
        if not types:
            raise InvalidInput("choose at least one ROUGE type")
        for rouge_type in types:
            if rouge_type not in ("rougeL", "rougeLsum") and not _ROUGE_N.fullmatch(rouge_type):
                raise InvalidInput(
                    f"unknown ROUGE type {rouge_type!r}; use rouge1 … rouge9, rougeL or rougeLsum"
                )
        if tokenizer not in TOKENIZER_NAMES:
            raise InvalidInput(
                f"unknown tokenizer {tokenizer!r}; choose one of: {', '.join(TOKENIZER_NAMES)}"
            )
        self.types = tuple(types)
        self.tokenizer = tokenizer
        self.stemmer = stemmer
        self._tokenize = get_tokenizer(tokenizer, stemmer=stemmer)

    @property
    def settings(self) -> dict[str, object]:
        """What produced the numbers — store it next to them."""
        return {"types": list(self.types), "tokenizer": self.tokenizer, "stemmer": self.stemmer}

    def tokenize(self, text: str) -> _Tokenized:
        sentences = [self._tokenize(line) for line in text.split("\n") if line]
        tokens = [t for sentence in sentences for t in sentence]
        return _Tokenized(tokens, sentences)

    def _score(self, reference: _Tokenized, prediction: _Tokenized) -> dict[str, Score]:
        result: dict[str, Score] = {}
        for rouge_type in self.types:
            if rouge_type == "rougeL":
                result[rouge_type] = _score_lcs(reference.tokens, prediction.tokens)
            elif rouge_type == "rougeLsum":
                result[rouge_type] = _score_lsum(reference.sentences, prediction.sentences)
            else:
                n = int(rouge_type[5:])
                result[rouge_type] = _score_ngrams(reference.tokens, prediction.tokens, n)
        return result

    def score(self, prediction: str, reference: str) -> dict[str, Score]:
        return self._score(self.tokenize(reference), self.tokenize(prediction))

    def score_all(self, prediction: str, references: Sequence[str]) -> list[dict[str, Score]]:
        """One score per reference (the prediction is tokenized once)."""
        if not references:
            raise InvalidInput("score against at least one reference")
        pred = self.tokenize(prediction)
        return [self._score(self.tokenize(ref), pred) for ref in references]

    def score_multi(
        self, prediction: str, references: Sequence[str], *, reduce: str = "mean"
    ) -> dict[str, Score]:
        """Against several references: ``mean`` of each of P/R/F, or the ``max`` by F-measure
        (ties: the first reference, as `rouge-score` does)."""
        per_reference = self.score_all(prediction, references)
        return reduce_scores(per_reference, reduce)

    def __call__(self, prediction: str, references: Sequence[str]) -> dict[str, float]:
        """The metric protocol: mean-over-references F-measures, keyed by ROUGE type."""
        return {k: s.fmeasure for k, s in self.score_multi(prediction, references).items()}


def reduce_scores(per_reference: Sequence[dict[str, Score]], reduce: str) -> dict[str, Score]:
    if reduce not in ("mean", "max"):
        raise InvalidInput(f"reduce must be 'mean' or 'max', not {reduce!r}")
    out: dict[str, Score] = {}
    for rouge_type in per_reference[0]:
        scores = [s[rouge_type] for s in per_reference]
        if reduce == "max":
            out[rouge_type] = max(scores, key=lambda s: s.fmeasure)  # first of equals
        else:
            k = len(scores)
            out[rouge_type] = Score(
                sum(s.precision for s in scores) / k,
                sum(s.recall for s in scores) / k,
                sum(s.fmeasure for s in scores) / k,
            )
    return out
