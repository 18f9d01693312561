"""Near-duplicate detection for scenes and experiences: MinHash signatures in an LSH index
(``datasketch``, the ``[experience]`` extra), so each new item is compared with all kept ones
in about constant time.

Shingles are word trigrams for English and character trigrams of the letters for Korean (a
Korean word carries its particles, so word shingles would miss "서울에서" ≈ "서울에"); a text
too short for trigrams falls back to its words or characters.
"""

from __future__ import annotations

import re
from typing import Any

from personae.errors import ConfigError
from personae.text import has_hangul

NUM_PERM = 128
_WORD = re.compile(r"\w+")


def shingles(text: str, size: int = 3) -> set[str]:
    """The shingles two texts are compared by (see the module docstring)."""
    folded = text.casefold()
    if has_hangul(folded):
        letters = "".join(_WORD.findall(folded))
        grams = {letters[i : i + size] for i in range(len(letters) - size + 1)}
        return grams or ({letters} if letters else set())
    words = _WORD.findall(folded)
    grams = {" ".join(words[i : i + size]) for i in range(len(words) - size + 1)}
    return grams or set(words)


def _datasketch() -> Any:
    try:
        import datasketch
    except ImportError:
        raise ConfigError(
            "near-duplicate removal needs datasketch: pip install 'personae[experience]'"
        ) from None
    return datasketch


class NearDuplicates:
    """Items kept so far; :meth:`check_add` says which kept item a new text nearly repeats
    (estimated Jaccard similarity of shingles ≥ ``threshold``) or keeps it."""

    def __init__(self, threshold: float = 0.6, num_perm: int = NUM_PERM) -> None:
        if not 0.0 < threshold < 1.0:
            raise ValueError("threshold must be between 0 and 1")
        ds = _datasketch()
        self._minhash = ds.MinHash
        self._index = ds.MinHashLSH(threshold=threshold, num_perm=num_perm)
        self.threshold = threshold
        self.num_perm = num_perm
        self._keys: set[str] = set()

    def _signature(self, text: str) -> Any:
        signature = self._minhash(num_perm=self.num_perm, seed=17)
        for gram in shingles(text):
            signature.update(gram.encode("utf-8"))
        return signature

    def check_add(self, key: str, text: str) -> str | None:
        """The key of a kept item ``text`` nearly repeats, else None (and ``text`` is kept
        under ``key``). A key already kept is never compared with itself."""
        if key in self._keys:
            return None
        signature = self._signature(text)
        twins = [k for k in self._index.query(signature) if k != key]
        if twins:
            return str(sorted(twins)[0])
        self._index.insert(key, signature)
        self._keys.add(key)
        return None

    def __len__(self) -> int:
        return len(self._keys)


__all__ = ["NearDuplicates", "shingles"]
