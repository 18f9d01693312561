"""Reciprocal rank fusion: merge rankings that score on different scales.

BM25 scores are unbounded and cosines sit in a narrow band, so their values do not add up; their
ranks do. Each list gives a key ``1 / (k + rank)`` (rank from 1) and the sums decide. ``k = 60``
is the constant of Cormack, Clarke and Büttcher (SIGIR 2009): large enough that one list's top
hit cannot outvote agreement between lists.
"""

from __future__ import annotations

from collections.abc import Sequence

from personae.errors import InvalidInput

RRF_K = 60


def reciprocal_rank_fusion(
    rankings: Sequence[Sequence[int]], *, k: int = RRF_K, weights: Sequence[float] | None = None
) -> list[tuple[int, float]]:
    """``[(key, fused score), …]`` best first; ties keep the order keys were first seen."""
    if weights is not None and len(weights) != len(rankings):
        raise InvalidInput("reciprocal_rank_fusion needs one weight per ranking")
    scores: dict[int, float] = {}
    for n, ranking in enumerate(rankings):
        weight = 1.0 if weights is None else weights[n]
        for rank, key in enumerate(ranking, start=1):
            scores[key] = scores.get(key, 0.0) + weight / (k + rank)
    return sorted(scores.items(), key=lambda item: -item[1])
