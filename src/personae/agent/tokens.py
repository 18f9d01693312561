"""Token counting for context budgeting.

The backend's own tokenizer when it has one (:class:`~personae.backends.TokenCounter`), else a
deliberately pessimistic estimate (:func:`personae.text.token_estimate.estimate_tokens`), so a
prompt we think fits really does.
"""

from __future__ import annotations

from collections.abc import Callable

from personae.backends.base import Backend, TokenCounter
from personae.text.token_estimate import estimate_tokens

CountTokens = Callable[[str], int]


def token_counter(backend: Backend) -> CountTokens:
    """The best counter this backend offers."""
    if isinstance(backend, TokenCounter):
        return backend.count_tokens
    return estimate_tokens


class CachedCounter:
    """Memoises a counter: a chat re-counts the same history every turn."""

    def __init__(self, count: CountTokens, limit: int = 8192) -> None:
        self._count = count
        self._cache: dict[str, int] = {}
        self._limit = limit

    def __call__(self, text: str) -> int:
        hit = self._cache.get(text)
        if hit is None:
            hit = self._count(text)
            if len(self._cache) >= self._limit:
                self._cache.pop(next(iter(self._cache)))
            self._cache[text] = hit
        return hit


__all__ = ["CachedCounter", "CountTokens", "estimate_tokens", "token_counter"]
