"""Which of a character's lines to show: a sample spread through the book, the most
characteristic first, within a token budget (for the model's prompt), and real exchanges
(a line with the line it answers) for the card's example dialogue.

A line is *characteristic* when its words are ones the character uses more than everyone
else does (the mean log-ratio of the word's rate in the character's lines to its rate in the
others'); very short lines ("Yes.") and very long ones (a story told over pages) are skipped.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence

from personae.experience.from_text.attribution import ExtractedLine
from personae.text.token_estimate import estimate_tokens

MIN_WORDS = 5
MAX_WORDS = 90
_WORD = re.compile(r"[^\W\d_]{3,}")


def _words(text: str) -> list[str]:
    return [w.casefold() for w in _WORD.findall(text)]


def _scores(mine: Sequence[ExtractedLine], others: Sequence[ExtractedLine]) -> list[float]:
    own = Counter(w for line in mine for w in set(_words(line.text)))
    rest = Counter(w for line in others for w in set(_words(line.text)))
    n_own, n_rest = max(1, len(mine)), max(1, len(others))

    def weight(word: str) -> float:
        return math.log((own[word] + 1) / n_own) - math.log((rest[word] + 1) / n_rest)

    out = []
    for line in mine:
        words = set(_words(line.text))
        out.append(sum(map(weight, words)) / len(words) if words else 0.0)
    return out


def _usable(line: ExtractedLine) -> bool:
    return MIN_WORDS <= len(line.text.split()) <= MAX_WORDS


def sample_lines(
    mine: Sequence[ExtractedLine],
    others: Sequence[ExtractedLine] = (),
    *,
    budget_tokens: int = 1200,
    buckets: int = 8,
) -> list[ExtractedLine]:
    """Lines of ``mine`` (the character's, in book order) that fit ``budget_tokens``: the book
    cut into ``buckets`` stretches, the best line of each stretch taken in turn, then the
    second best, …; returned in book order."""
    usable = [line for line in mine if _usable(line)] or list(mine)
    if not usable:
        return []
    scores = dict(zip((id(line) for line in usable), _scores(usable, others), strict=True))
    start, end = usable[0].offset, usable[-1].offset + 1
    width = max(1, (end - start) / max(1, buckets))
    groups: list[list[ExtractedLine]] = [[] for _ in range(buckets)]
    for line in usable:
        groups[min(buckets - 1, int((line.offset - start) / width))].append(line)
    for group in groups:
        group.sort(key=lambda line: -scores[id(line)])
    chosen: list[ExtractedLine] = []
    used = 0
    for rank in range(max(len(g) for g in groups)):
        for group in groups:
            if rank >= len(group):
                continue
            cost = estimate_tokens(group[rank].text) + 4
            if used + cost > budget_tokens:
                return sorted(chosen, key=lambda line: line.offset)
            chosen.append(group[rank])
            used += cost
    return sorted(chosen, key=lambda line: line.offset)


def example_exchanges(
    mine: Sequence[ExtractedLine], others: Sequence[ExtractedLine] = (), *, count: int = 4
) -> list[ExtractedLine]:
    """Up to ``count`` of the character's lines that answer someone's line (both of a usable
    length), the most characteristic spread through the book, in book order."""
    answered = [
        line
        for line in mine
        if line.answers is not None
        and line.answers.text.strip()
        and len(line.answers.text.split()) <= MAX_WORDS
        and _usable(line)
    ]
    if not answered:
        return []
    scores = _scores(answered, others)
    start, end = answered[0].offset, answered[-1].offset + 1
    width = max(1, (end - start) / count)
    best: dict[int, tuple[float, ExtractedLine]] = {}
    for line, score in zip(answered, scores, strict=True):
        stretch = min(count - 1, int((line.offset - start) / width))
        if stretch not in best or score > best[stretch][0]:
            best[stretch] = (score, line)
    return sorted((line for _, line in best.values()), key=lambda line: line.offset)


__all__ = ["MAX_WORDS", "MIN_WORDS", "example_exchanges", "sample_lines"]
