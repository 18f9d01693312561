"""Several replies to one prompt at once (best-of-N, issue 15).

:func:`stream_candidates` interleaves the chunks of ``n`` replies, each tagged with its
``Chunk.candidate``; each candidate ends with a chunk that carries its finish reason (and its
usage, where the backend tells it per candidate). A backend that can decode them together from one
processed prompt says so with ``stream_candidates`` of its own (:class:`CandidateStreamer`; the
embedded backend does, through llama.cpp's parallel slots: the prompt is read once and copied to
the other slots). Any other backend gets ``n`` ordinary requests at once, one thread each, with
seeds ``seed``, ``seed + 1``, … (a server that batches requests, as vLLM does, decodes them
together; one with a single slot serves them one after another).

Breaking out of the iteration cancels every candidate still running.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator, Sequence
from typing import Any, Protocol, runtime_checkable

from personae.backends.base import Backend, Chunk, GenerationParams, Message

MAX_CANDIDATES = 16


@runtime_checkable
class CandidateStreamer(Protocol):
    """Optional capability: ``n`` replies decoded together, the prompt processed once.
    ``max_candidates`` is how many it can decode at once."""

    max_candidates: int

    def stream_candidates(
        self, messages: Sequence[Message], params: GenerationParams, n: int
    ) -> Iterator[Chunk]: ...


def stream_candidates(
    backend: Backend, messages: Sequence[Message], params: GenerationParams, n: int
) -> Iterator[Chunk]:
    """``n`` replies to ``messages`` (1 ≤ n ≤ :data:`MAX_CANDIDATES`), their chunks interleaved
    as they come (see the module docstring). Each candidate ends with exactly one chunk whose
    ``finish_reason`` is set: "error" when its request failed and others did not; when all of
    them fail, the backend's error is raised."""
    if not 1 <= n <= MAX_CANDIDATES:
        raise ValueError(f"n must be between 1 and {MAX_CANDIDATES}, not {n}")
    if isinstance(backend, CandidateStreamer) and n > 1:
        width = max(1, int(backend.max_candidates))
        if n <= width:
            return backend.stream_candidates(messages, params, n)
        return _in_groups(backend, messages, params, n, width)
    return threaded_candidates(backend, messages, params, n)


def _in_groups(
    backend: CandidateStreamer,
    messages: Sequence[Message],
    params: GenerationParams,
    n: int,
    width: int,
) -> Iterator[Chunk]:
    """More candidates than the backend decodes at once: groups of ``width``, one after
    another (the later groups find the prompt cached)."""
    done = 0
    while done < n:
        size = min(width, n - done)
        seed = None if params.seed is None else params.seed + done
        group = params.model_copy(update={"seed": seed})
        for chunk in backend.stream_candidates(messages, group, size):
            yield _as(chunk, chunk.candidate + done)
        done += size


def _as(chunk: Chunk, candidate: int) -> Chunk:
    return Chunk(chunk.text, chunk.finish_reason, chunk.usage, candidate)


_END = object()


def threaded_candidates(
    backend: Backend, messages: Sequence[Message], params: GenerationParams, n: int
) -> Iterator[Chunk]:
    """``n`` ordinary requests at once, one thread each, seeds ``seed``, ``seed + 1``, …; the
    chunks interleaved as they come, as :func:`stream_candidates` describes."""
    events: queue.SimpleQueue[Any] = queue.SimpleQueue()
    cancel = threading.Event()

    def run(index: int) -> None:
        seed = None if params.seed is None else params.seed + index
        stream = backend.stream(list(messages), params.model_copy(update={"seed": seed}))
        ended = False
        try:
            for chunk in stream:
                if cancel.is_set():
                    break
                events.put(_as(chunk, index))
                ended = ended or chunk.is_final
        except Exception as exc:  # this candidate failed; the others go on
            events.put((index, exc))
            ended = True
        finally:
            close = getattr(stream, "close", None)
            if close is not None:
                close()
            if not ended and not cancel.is_set():
                events.put(Chunk(finish_reason="stop", candidate=index))
            events.put(_END)

    workers = [
        threading.Thread(target=run, args=(i,), name=f"personae-candidate-{i}", daemon=True)
        for i in range(n)
    ]
    for w in workers:
        w.start()
    errors: list[Exception] = []
    try:
        running = n
        while running:
            item = events.get()
            if item is _END:
                running -= 1
            elif isinstance(item, tuple):
                index, exc = item
                errors.append(exc)
                if len(errors) == n:
                    raise errors[0]  # every candidate failed: that is the backend's error
                yield Chunk(finish_reason="error", candidate=index)
            else:
                yield item
    finally:
        cancel.set()
        for w in workers:
            w.join()


__all__ = ["MAX_CANDIDATES", "CandidateStreamer", "stream_candidates", "threaded_candidates"]
