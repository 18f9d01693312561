"""Okapi BM25 over token lists, with a pluggable tokenizer (Korean: kiwi morphemes)."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence

from personae.errors import InvalidInput


class BM25Index:
    """``BM25Index(texts, tokenize).top(query, k)`` → ``[(index, score), …]`` best first."""

    def __init__(
        self,
        texts: Sequence[str],
        tokenize: Callable[[str], list[str]],
        *,
        k1: float = 1.2,
        b: float = 0.75,
    ) -> None:
        if k1 < 0 or not 0 <= b <= 1:
            raise InvalidInput("BM25 needs k1 >= 0 and 0 <= b <= 1")
        self.tokenize = tokenize
        self.k1 = k1
        self.b = b
        self._docs = [Counter(tokenize(t)) for t in texts]
        self._lengths = [sum(d.values()) for d in self._docs]
        self._avg = (sum(self._lengths) / len(self._lengths)) if self._lengths else 0.0
        df: Counter[str] = Counter()
        for doc in self._docs:
            df.update(doc.keys())
        n = len(self._docs)
        self._idf = {t: math.log(1 + (n - f + 0.5) / (f + 0.5)) for t, f in df.items()}
        self._postings: dict[str, list[int]] = {}
        for i, doc in enumerate(self._docs):
            for term in doc:
                self._postings.setdefault(term, []).append(i)

    def __len__(self) -> int:
        return len(self._docs)

    def scores(self, query: str) -> dict[int, float]:
        """Score of every document sharing a term with ``query``."""
        out: dict[int, float] = {}
        avg = self._avg or 1.0
        for term in set(self.tokenize(query)):
            idf = self._idf.get(term)
            if idf is None:
                continue
            for i in self._postings[term]:
                tf = self._docs[i][term]
                norm = self.k1 * (1 - self.b + self.b * self._lengths[i] / avg)
                out[i] = out.get(i, 0.0) + idf * tf * (self.k1 + 1) / (tf + norm)
        return out

    def top(self, query: str, k: int, *, exclude: Sequence[int] = ()) -> list[tuple[int, float]]:
        if k < 0:
            raise InvalidInput(f"k must be >= 0, not {k}")
        skip = set(exclude)
        ranked = sorted(
            ((i, s) for i, s in self.scores(query).items() if i not in skip),
            key=lambda pair: (-pair[1], pair[0]),
        )
        return ranked[:k]
