"""The ``openai`` backend's several replies at once: OpenAI's ``n`` where the server answers it
(one request, choices told apart by ``index``), separate requests where it does not — against a
real HTTP stub on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from personae.backends.base import Chunk, GenerationParams, Message, Usage
from personae.backends.candidates import stream_candidates
from personae.backends.chunk_decoder import ChunkDecoder
from personae.backends.openai_compat import OpenAICompatBackend, OpenAICompatOptions
from tests.support.stub_openai import DONE, Reply, StubOpenAI, chunk, completion, usage_chunk

PROMPT = [Message("user", "Tell me something.")]
PARAMS = GenerationParams(max_tokens=16, seed=5)


@pytest.fixture
def stub() -> Iterator[StubOpenAI]:
    with StubOpenAI() as server:
        yield server


@pytest.fixture
def backend(stub: StubOpenAI) -> Iterator[OpenAICompatBackend]:
    options = OpenAICompatOptions(base_url=stub.url, model="m", retry_backoff=0.0)
    with OpenAICompatBackend(options, sleep=lambda _: None) as made:
        yield made


def choice(index: int, content: str | None = None, finish: str | None = None) -> dict[str, Any]:
    event = chunk(content, finish=finish)
    event["choices"][0]["index"] = index
    return event


def texts(chunks: list[Chunk]) -> dict[int, str]:
    out: dict[int, str] = {}
    for c in chunks:
        out[c.candidate] = out.get(c.candidate, "") + c.text
    return out


def test_one_request_with_n_gives_every_candidate_once_ended(
    stub: StubOpenAI, backend: OpenAICompatBackend
) -> None:
    events: list[dict[str, Any] | str] = [
        choice(0, "Elementary"),
        choice(2, "The fog"),
        choice(1, "A letter"),
        choice(0, ", Watson.", "stop"),
        choice(2, " lifts.", "length"),
        choice(1, " came.", "stop"),
        usage_chunk(30, 9, 24),
        DONE,
    ]
    stub.enqueue(Reply(events=events))
    chunks = list(stream_candidates(backend, PROMPT, PARAMS, 3))
    assert texts(chunks) == {0: "Elementary, Watson.", 1: "A letter came.", 2: "The fog lifts."}
    ends = [c for c in chunks if c.is_final]
    assert sorted(c.candidate for c in ends) == [0, 1, 2]
    assert {c.candidate: c.finish_reason for c in ends} == {0: "stop", 1: "stop", 2: "length"}
    # The request's usage covers all three: it rides on the last end chunk only.
    assert [c.usage for c in ends] == [None, None, Usage(30, 9, 24)]
    (request,) = stub.requests
    assert request.body["n"] == 3 and request.body["seed"] == 5


def test_a_server_that_ignores_n_gets_the_rest_as_separate_requests(
    stub: StubOpenAI, backend: OpenAICompatBackend
) -> None:
    stub.enqueue(
        Reply(events=completion("First.")),
        Reply(events=completion("Second.")),
        Reply(events=completion("Third.")),
    )
    chunks = list(stream_candidates(backend, PROMPT, PARAMS, 3))
    assert sorted(texts(chunks).values()) == ["First.", "Second.", "Third."]
    assert texts(chunks)[0] == "First."
    assert sorted(c.candidate for c in chunks if c.is_final) == [0, 1, 2]
    first, *rest = stub.requests
    assert first.body["n"] == 3
    assert all("n" not in r.body for r in rest)
    assert sorted(r.body["seed"] for r in rest) == [6, 7]  # new seeds, not the first one's
    # Known from now on: the next call does not ask for n again.
    stub.enqueue(Reply(events=completion("A.")), Reply(events=completion("B.")))
    assert sorted(texts(list(stream_candidates(backend, PROMPT, PARAMS, 2))).values()) == [
        "A.",
        "B.",
    ]
    assert all("n" not in r.body for r in stub.requests[3:])


def test_a_choice_naming_a_candidate_that_was_not_asked_for_is_skipped(
    stub: StubOpenAI, backend: OpenAICompatBackend
) -> None:
    events: list[dict[str, Any] | str] = [
        choice(1, "Yes."),
        choice(7, "Who asked?"),
        choice(-1, "Nor I."),
        choice(0, "No.", "stop"),
        choice(1, None, "stop"),
        DONE,
    ]
    stub.enqueue(Reply(events=events))
    chunks = list(stream_candidates(backend, PROMPT, PARAMS, 2))
    assert texts(chunks) == {1: "Yes.", 0: "No."}
    assert len(stub.requests) == 1


@pytest.mark.parametrize("n", [0, -1, 17])
def test_a_count_out_of_range_is_refused(backend: OpenAICompatBackend, n: int) -> None:
    with pytest.raises(ValueError, match="n must be between 1 and 16"):
        backend.stream_candidates(PROMPT, PARAMS, n)


def test_the_decoder_reads_usage_timings_and_odd_fields() -> None:
    decoder = ChunkDecoder(2)
    payload = {
        "choices": ["not a choice", {"index": True, "delta": {"content": "x"}}],
        "usage": {"prompt_tokens": 4, "completion_tokens": "2", "prompt_tokens_details": 3},
        "timings": {"prompt_ms": 12.5, "predicted_ms": -1},
    }
    chunks = list(decoder.feed(payload))
    # ``index: true`` is not a number: read as 0, like a missing index.
    assert [(c.text, c.candidate) for c in chunks] == [("x", 0)]
    assert decoder.usage == Usage(4, 0, 0, prompt_ms=12.5, generation_ms=None)
    assert not decoder.finished
    with pytest.raises(ValueError, match="at least 1"):
        ChunkDecoder(0)
