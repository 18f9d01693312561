"""Several replies to one prompt at once: interleaved, tagged, each ended once, cancellable,
and one failed request does not take the others with it."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from typing import ClassVar

import pytest

from personae.backends.base import Chunk, GenerationParams, Message, Usage
from personae.backends.candidates import MAX_CANDIDATES, stream_candidates
from personae.errors import BackendError

PROMPT = [Message("user", "Tell me something.")]


class SeededBackend:
    """Replies by seed: "reply <seed> word word…"; the seeds in ``fail`` raise mid-way."""

    name: ClassVar[str] = "seeded"

    def __init__(self, fail: Sequence[int] = (), words: int = 5, delay: float = 0.0) -> None:
        self.model = "seeded"
        self.fail = set(fail)
        self.words = words
        self.delay = delay
        self.seeds: list[int | None] = []
        self.closed = 0
        self.lock = threading.Lock()

    def stream(self, messages: Sequence[Message], params: GenerationParams) -> Iterator[Chunk]:
        with self.lock:
            self.seeds.append(params.seed)
        return self._run(params)

    def _run(self, params: GenerationParams) -> Iterator[Chunk]:
        try:
            yield Chunk(text=f"reply {params.seed}")
            for i in range(self.words):
                if self.delay:
                    time.sleep(self.delay)
                if params.seed in self.fail and i == 2:
                    raise BackendError("the server went away")
                yield Chunk(text=" word")
            yield Chunk(finish_reason="stop", usage=Usage(10, self.words + 2))
        finally:
            with self.lock:
                self.closed += 1


def gather(chunks: Iterator[Chunk]) -> tuple[dict[int, str], dict[int, str]]:
    texts: dict[int, str] = {}
    ends: dict[int, str] = {}
    for chunk in chunks:
        assert chunk.candidate not in ends, "no text after a candidate's end"
        texts[chunk.candidate] = texts.get(chunk.candidate, "") + chunk.text
        if chunk.finish_reason:
            ends[chunk.candidate] = chunk.finish_reason
    return texts, ends


def test_each_candidate_gets_its_own_seed_and_ends_once() -> None:
    backend = SeededBackend()
    texts, ends = gather(stream_candidates(backend, PROMPT, GenerationParams(seed=7), 3))
    assert sorted(backend.seeds) == [7, 8, 9]  # type: ignore[type-var]
    assert {i: t.split()[1] for i, t in texts.items()} == {0: "7", 1: "8", 2: "9"}
    assert ends == {0: "stop", 1: "stop", 2: "stop"}


def test_one_failed_candidate_ends_as_error_and_the_others_finish() -> None:
    backend = SeededBackend(fail=[8])
    texts, ends = gather(stream_candidates(backend, PROMPT, GenerationParams(seed=7), 3))
    assert ends == {0: "stop", 1: "error", 2: "stop"}
    assert texts[0].endswith("word word word word word")


def test_when_every_candidate_fails_the_error_is_raised() -> None:
    backend = SeededBackend(fail=[1, 2])
    with pytest.raises(BackendError, match="went away"):
        gather(stream_candidates(backend, PROMPT, GenerationParams(seed=1), 2))


def test_stopping_early_cancels_every_candidate() -> None:
    backend = SeededBackend(words=200, delay=0.005)
    stream = stream_candidates(backend, PROMPT, GenerationParams(seed=1), 3)
    for _ in range(4):
        next(stream)
    stream.close()  # type: ignore[attr-defined]
    assert backend.closed == 3  # every request was closed, none ran to its end


@pytest.mark.parametrize("n", [0, -1, MAX_CANDIDATES + 1])
def test_a_bad_number_of_candidates_is_refused(n: int) -> None:
    with pytest.raises(ValueError, match="n must be between"):
        stream_candidates(SeededBackend(), PROMPT, GenerationParams(), n)


class GroupBackend(SeededBackend):
    """Decodes at most two candidates together (a native ``stream_candidates``)."""

    max_candidates = 2

    def __init__(self) -> None:
        super().__init__()
        self.groups: list[tuple[int | None, int]] = []

    def stream_candidates(
        self, messages: Sequence[Message], params: GenerationParams, n: int
    ) -> Iterator[Chunk]:
        self.groups.append((params.seed, n))
        for i in range(n):
            yield Chunk(text=f"c{i}", candidate=i)
        for i in range(n):
            yield Chunk(finish_reason="stop", candidate=i)


def test_a_native_backend_gets_groups_no_wider_than_its_slots() -> None:
    backend = GroupBackend()
    texts, ends = gather(stream_candidates(backend, PROMPT, GenerationParams(seed=3), 5))
    assert backend.groups == [(3, 2), (5, 2), (7, 1)]
    assert sorted(ends) == [0, 1, 2, 3, 4]
    assert texts == {0: "c0", 1: "c1", 2: "c0", 3: "c1", 4: "c0"}
