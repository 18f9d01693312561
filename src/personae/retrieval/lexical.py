"""Okapi BM25 that grows and shrinks one document at a time.

Documents are token lists under integer keys. Postings are kept per term as Python lists (an
add is a few appends) with a numpy copy that a query extends by what was appended since it
last looked, so a query costs one vectorised pass per query term, whatever the number of
documents. (Re-converting a common term's whole list after each add cost 1–2 ms a term at 90k
documents, on every turn that followed a write.) Removed documents leave a tombstone until more
than half are dead, then the index compacts itself.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Sequence

import numpy as np

from personae.errors import InvalidInput

MAX_QUERY_TERMS = 16


class LexicalIndex:
    """``index.add(7, tokens)``; ``index.search(query_tokens, k)`` → ``[(key, score), …]``,
    best first, ties broken by insertion order."""

    def __init__(self, *, k1: float = 1.2, b: float = 0.75) -> None:
        if k1 < 0 or not 0 <= b <= 1:
            raise InvalidInput("BM25 needs k1 >= 0 and 0 <= b <= 1")
        self.k1 = k1
        self.b = b
        self._reset()

    def _reset(self) -> None:
        self._slot_of: dict[int, int] = {}
        self._keys: list[int] = []
        # Per slot, as numpy arrays grown by doubling: a query reads them whole, and turning
        # 100k-item lists into arrays on every query cost more than the scoring itself.
        self._lengths = np.zeros(64, dtype=np.float64)
        self._alive = np.zeros(64, dtype=bool)
        self._terms: list[tuple[str, ...]] = []
        self._postings: dict[str, tuple[list[int], list[int]]] = {}
        self._arrays: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._df: Counter[str] = Counter()
        self._total_length = 0
        self._dead = 0

    def __len__(self) -> int:
        return len(self._slot_of)

    def __contains__(self, key: object) -> bool:
        return key in self._slot_of

    def add(self, key: int, tokens: Sequence[str]) -> None:
        """Index ``tokens`` under ``key`` (replacing what was there)."""
        if key in self._slot_of:
            self.remove(key)
        counts = Counter(tokens)
        slot = self._new_slot(key, len(tokens))
        self._terms.append(tuple(counts))
        self._total_length += len(tokens)
        for term, tf in counts.items():
            slots, tfs = self._postings.setdefault(term, ([], []))
            slots.append(slot)
            tfs.append(tf)
            self._df[term] += 1

    def _new_slot(self, key: int, length: int) -> int:
        slot = len(self._keys)
        if slot == len(self._alive):
            self._lengths = np.concatenate([self._lengths, np.zeros_like(self._lengths)])
            self._alive = np.concatenate([self._alive, np.zeros_like(self._alive)])
        self._slot_of[key] = slot
        self._keys.append(key)
        self._lengths[slot] = length
        self._alive[slot] = True
        return slot

    def add_many(self, items: Iterable[tuple[int, Sequence[str]]]) -> None:
        for key, tokens in items:
            self.add(key, tokens)

    def remove(self, key: int) -> None:
        """Forget ``key``; unknown keys are ignored."""
        slot = self._slot_of.pop(key, None)
        if slot is None:
            return
        self._alive[slot] = False
        self._total_length -= int(self._lengths[slot])
        self._dead += 1
        for term in self._terms[slot]:
            self._df[term] -= 1
            if not self._df[term]:
                del self._df[term]
        if self._dead > 64 and self._dead > len(self._slot_of):
            self._compact()

    def _compact(self) -> None:
        live = [
            (self._keys[s], self._terms[s], int(self._lengths[s]))
            for s in range(len(self._keys))
            if self._alive[s]
        ]
        postings = {
            term: dict(zip(slots, tfs, strict=True))
            for term, (slots, tfs) in self._postings.items()
        }
        old_slots = [s for s in range(len(self._keys)) if self._alive[s]]
        self._reset()
        for (key, terms, length), old in zip(live, old_slots, strict=True):
            slot = self._new_slot(key, length)
            self._terms.append(terms)
            self._total_length += length
            for term in terms:
                slots, tfs = self._postings.setdefault(term, ([], []))
                slots.append(slot)
                tfs.append(postings[term][old])
                self._df[term] += 1

    def _term_arrays(self, term: str) -> tuple[np.ndarray, np.ndarray]:
        slots, tfs = self._postings[term]
        arrays = self._arrays.get(term)
        have = 0 if arrays is None else len(arrays[0])
        if arrays is None or have < len(slots):  # postings only grow until _compact resets
            new = (
                np.asarray(slots[have:], dtype=np.int64),
                np.asarray(tfs[have:], dtype=np.float64),
            )
            arrays = (
                new
                if arrays is None
                else (
                    np.concatenate([arrays[0], new[0]]),
                    np.concatenate([arrays[1], new[1]]),
                )
            )
            self._arrays[term] = arrays
        return arrays

    def scores(self, tokens: Sequence[str]) -> dict[int, float]:
        """BM25 score of every live document sharing a term with ``tokens``."""
        slots, values = self._score_slots(tokens)
        return {self._keys[s]: float(v) for s, v in zip(slots, values, strict=True)}

    def _corpus(self) -> tuple[int, int]:
        """``(documents, tokens in all)`` that idf and the mean length count."""
        return len(self._slot_of), self._total_length

    def _score_slots(
        self, tokens: Sequence[str], max_terms: int | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        terms = [t for t in dict.fromkeys(tokens) if t in self._df]
        if max_terms is not None and len(terms) > max_terms:
            # The rarest terms: they carry most of the score, and the common ones cost the most
            # to score (a 60-word message took 2-4 ms at 90k documents; 16 terms take < 1 ms).
            terms = sorted(terms, key=lambda t: self._df[t])[:max_terms]
        n, total_length = self._corpus()
        if not len(self._slot_of) or not n or not terms:
            return np.empty(0, dtype=np.int64), np.empty(0)
        avg = total_length / n or 1.0
        lengths = self._lengths
        total = np.zeros(len(self._keys))
        k1, b = self.k1, self.b
        for term in terms:
            df = self._df[term]
            idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
            slots, tfs = self._term_arrays(term)
            # idf·tf·(k1+1) / (tf + k1·(1 − b + b·len/avg)), in place: one array, not six
            part = lengths[slots]
            part *= k1 * b / avg
            part += k1 * (1 - b)
            part += tfs
            np.divide(tfs, part, out=part)
            part *= idf * (k1 + 1)
            total[slots] += part
        if self._dead:
            total[~self._alive[: len(self._keys)]] = 0.0
        hit = np.flatnonzero(total > 0)
        return hit, total[hit]

    def search(
        self,
        tokens: Sequence[str],
        k: int,
        *,
        allow: Collection[int] | Callable[[int], bool] | None = None,
        exclude: Collection[int] = (),
        max_terms: int | None = MAX_QUERY_TERMS,
    ) -> list[tuple[int, float]]:
        """The ``k`` best ``(key, score)`` pairs; ``allow`` (keys or a predicate) and
        ``exclude`` restrict which documents may be returned. A query of more than
        ``max_terms`` distinct known terms is scored on its rarest ones (None: all)."""
        if k < 0:
            raise InvalidInput(f"k must be >= 0, not {k}")
        if k == 0:
            return []
        if max_terms is not None and max_terms < 1:
            raise InvalidInput(f"max_terms must be >= 1, not {max_terms}")
        slots, values = self._score_slots(tokens, max_terms)
        check = allow if callable(allow) else (allow.__contains__ if allow is not None else None)
        out: list[tuple[int, float]] = []
        seen = 0
        want = k + len(exclude)
        while seen < len(values):
            # Sort only the best few (all ties at the cut included); widen if filters reject.
            if want < len(values):
                cut = np.partition(values, len(values) - want)[len(values) - want]
                picked = np.flatnonzero(values >= cut)
            else:
                picked = np.arange(len(values))
            ranked = picked[np.lexsort((slots[picked], -values[picked]))]
            for i in ranked[seen:]:
                key = self._keys[slots[i]]
                if key in exclude or (check is not None and not check(key)):
                    continue
                out.append((key, float(values[i])))
                if len(out) == k:
                    return out
            seen = len(ranked)
            want *= 4
        return out


class SampleLexicalIndex(LexicalIndex):
    """BM25 over the documents of a larger corpus that share a term with the query (a database
    found them), scored as the whole corpus would score them: idf and the mean length count
    ``corpus_size`` documents of ``corpus_length`` tokens in all. The query terms' document
    frequencies are exact, since every document holding one of them is in the sample."""

    def __init__(self, corpus_size: int, corpus_length: int, **bm25: float) -> None:
        super().__init__(**bm25)
        if corpus_size < 0 or corpus_length < 0:
            raise InvalidInput("a corpus has no negative size or length")
        self.corpus_size = corpus_size
        self.corpus_length = corpus_length

    def _corpus(self) -> tuple[int, int]:
        return max(self.corpus_size, len(self)), max(self.corpus_length, self._total_length)
