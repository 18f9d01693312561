"""Hybrid retrieval: BM25 and dense vectors over the same keys, fused by reciprocal rank.

Lexical search finds the exact name or number a user mentioned ("Biscuit", "010-…"); dense search
finds the paraphrase and crosses languages ("my dog" ↔ "우리 강아지"). Either can be missing: an
index without vectors (no embedder) is plain BM25.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np

from personae.errors import InvalidInput
from personae.retrieval.fusion import reciprocal_rank_fusion
from personae.retrieval.lexical import LexicalIndex
from personae.retrieval.vectors import EXACT_LIMIT, VectorIndex


@dataclass(frozen=True)
class Hit:
    """One result: its fused score and, where it was found that way, its BM25 score and
    cosine similarity."""

    key: int
    score: float
    lexical: float | None = None
    dense: float | None = None


class HybridIndex:
    """Keys indexed by tokens and (when ``dim`` is given) by a vector."""

    def __init__(self, dim: int | None = None, *, exact_limit: int = EXACT_LIMIT) -> None:
        self.lexical = LexicalIndex()
        self.vectors = VectorIndex(dim, exact_limit=exact_limit) if dim else None

    def __len__(self) -> int:
        return len(self.lexical)

    def __contains__(self, key: object) -> bool:
        return key in self.lexical

    def add(
        self,
        key: int,
        tokens: Sequence[str],
        *,
        vector: np.ndarray | None = None,
        code: tuple[np.ndarray, float] | None = None,
    ) -> None:
        """Index ``key``; give its embedding as a float ``vector`` or a stored int8 ``code``
        (codes, scale). Without either it is found by words only."""
        self.lexical.add(key, tokens)
        if self.vectors is None:
            return
        if code is not None:
            self.vectors.add_codes([key], code[0], np.asarray([code[1]]))
        elif vector is not None:
            self.vectors.add([key], vector)
        else:
            self.vectors.remove(key)

    def remove(self, key: int) -> None:
        self.lexical.remove(key)
        if self.vectors is not None:
            self.vectors.remove(key)

    def search(
        self,
        tokens: Sequence[str],
        k: int,
        *,
        vector: np.ndarray | None = None,
        allow: Collection[int] | None = None,
        exclude: Collection[int] = (),
        depth: int | None = None,
    ) -> list[Hit]:
        """The ``k`` best keys. Each method ranks ``depth`` candidates (default ``max(4k,
        20)``) before fusion; without a query vector the result is the BM25 ranking."""
        if k < 0:
            raise InvalidInput(f"k must be >= 0, not {k}")
        if k == 0:
            return []
        depth = depth or max(4 * k, 20)
        lexical = self.lexical.search(tokens, depth, allow=allow, exclude=exclude)
        dense: list[tuple[int, float]] = []
        if vector is not None and self.vectors is not None:
            dense = self.vectors.search(vector, depth, allow=allow, exclude=exclude)
        return fuse(lexical, dense, k)


def fuse(
    lexical: Sequence[tuple[int, float]], dense: Sequence[tuple[int, float]], k: int
) -> list[Hit]:
    """The ``k`` best of a BM25 ranking and a dense one, by reciprocal rank fusion (the BM25
    ranking alone when there is no dense one). Both indexes, in process and in the database,
    end here."""
    if not dense:
        return [Hit(key, score, lexical=score) for key, score in lexical[:k]]
    by_lexical, by_dense = dict(lexical), dict(dense)
    fused = reciprocal_rank_fusion([[key for key, _ in lexical], [key for key, _ in dense]])
    return [
        Hit(key, score, lexical=by_lexical.get(key), dense=by_dense.get(key))
        for key, score in fused[:k]
    ]
