"""Style and length: does a reply sound like the character's own lines, and is it their length?

``style_similarity`` is the cosine of character 1–3-gram counts. Character n-grams see what
a voice is made of below the level of meaning — punctuation, particles and verb endings
("하옵니다", "하였소"), contractions, the "*…*" action habit — and need no tokenizer, so they
work the same in English and Korean and cost microseconds. It is a score to compare systems
on, not a flag, and a coarse one. Measured against the bundled cards' example lines (the
hand-written chats in benchmarks/data/longchat_*.json as the character's replies): Sherlock's
replies score 0.91 with his lines, assistant-style replies 0.83; 민아's 0.67, assistant-style
Korean 0.49. But Sherlock's replies score as high with Elizabeth Bennet's lines (0.91): it
separates an assistant's register from a character's, not two characters of one era and
language (2–4-grams or 3–5-grams did no better at that). ``benchmarks/bench_voice.py`` uses
the same function.
"""

from __future__ import annotations

import functools
import math
import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from personae.text import is_hangul

# One Hangul syllable says about what two and a half Latin letters do (see
# personae.text.language); lengths are counted in Latin-letter equivalents so that a Korean reply
# can be measured against an English card's lines and the other way round.
HANGUL_WEIGHT = 2.5


def char_ngrams(text: str, n_max: int = 3) -> Counter[str]:
    """Counts of the lowercased, space-collapsed text's character 1- to ``n_max``-grams."""
    text = " ".join(text.lower().split())
    grams: Counter[str] = Counter()
    for n in range(1, n_max + 1):
        grams.update(text[i : i + n] for i in range(len(text) - n + 1))
    return grams


def _norm(grams: Counter[str]) -> float:
    return math.sqrt(sum(v * v for v in grams.values()))


def style_similarity(a: str, b: str) -> float:
    """Cosine of character 1–3-gram counts of ``a`` and ``b``; 0 when either is empty."""
    return StyleProfile.of([b]).similarity(a)


@dataclass(frozen=True)
class StyleProfile:
    """The n-gram counts of a set of lines, ready to compare replies with (norm computed once)."""

    grams: Counter[str]
    norm: float

    @classmethod
    def of(cls, lines: Iterable[str]) -> StyleProfile:
        grams: Counter[str] = Counter()
        for line in lines:
            grams.update(char_ngrams(line))
        return cls(grams, _norm(grams))

    def similarity(self, text: str) -> float:
        """Cosine between ``text`` and the profile's lines (0 when either is empty)."""
        x = _counts(text)
        norm = self.norm * _norm(x)
        if not norm:
            return 0.0
        grams = self.grams
        return sum(v * grams[k] for k, v in x.items() if k in grams) / norm


@functools.lru_cache(maxsize=1024)
def _counts(text: str) -> Counter[str]:
    return char_ngrams(text)


def text_length(text: str) -> float:
    """Length in Latin-letter equivalents: letters and digits count 1, Hangul syllables
    :data:`HANGUL_WEIGHT`; spaces, punctuation and markup count nothing."""
    return sum(HANGUL_WEIGHT if is_hangul(ch) else 1.0 for ch in text if ch.isalnum())


def typical_length(lines: Sequence[str]) -> float:
    """The median :func:`text_length` of ``lines`` (NaN when there are none)."""
    lengths = [text_length(line) for line in lines if line.strip()]
    return statistics.median(lengths) if lengths else math.nan


def length_ratio(text: str, typical: float) -> float:
    """``text``'s length over the typical length (NaN when there is no typical length)."""
    if math.isnan(typical) or typical <= 0:
        return math.nan
    return text_length(text) / typical


def length_fit(ratio: float) -> float:
    """1.0 at the typical length, falling symmetrically in log scale: half or twice the typical
    length both score 0.5, a third or three times 0.33 (NaN stays NaN, an empty reply 0)."""
    if math.isnan(ratio):
        return math.nan
    if ratio <= 0:
        return 0.0
    return min(ratio, 1 / ratio)
