"""Best-of-N on the real embedded runtime: llama.cpp's parallel slots decode several replies to
one prompt together (the request's ``n``), each tagged with its candidate and ended once."""

from __future__ import annotations

import pytest

from personae.backends import GenerationParams, Message, get_backend
from personae.backends.candidates import stream_candidates

pytestmark = pytest.mark.integration


def test_parallel_slots_give_distinct_candidates_from_one_prompt(real_model: str) -> None:
    backend = get_backend("embedded", model=real_model, n_ctx=512, n_parallel=3)
    messages = [Message("user", "Tell me a very short story about a cat.")]
    params = GenerationParams(max_tokens=16, temperature=1.0, seed=5)
    texts: dict[int, str] = {}
    ends: dict[int, str] = {}
    usage = None
    try:
        for chunk in stream_candidates(backend, messages, params, 3):
            texts[chunk.candidate] = texts.get(chunk.candidate, "") + chunk.text
            if chunk.finish_reason:
                ends[chunk.candidate] = chunk.finish_reason
                usage = chunk.usage or usage
        # More than the slots: groups, one after another.
        grouped = {
            c.candidate for c in stream_candidates(backend, messages, params, 4) if c.finish_reason
        }
    finally:
        backend.close()  # type: ignore[attr-defined]
    assert sorted(ends) == [0, 1, 2] and set(ends.values()) <= {"stop", "length"}
    assert all(t.strip() for t in texts.values())
    assert len(set(texts.values())) > 1  # sampled apart, not one reply three times
    assert usage is not None and usage.completion_tokens >= 3
    assert grouped == {0, 1, 2, 3}


def test_next_token_logprobs_give_a_yes_no_verdict(real_model: str) -> None:
    import math

    backend = get_backend("embedded", model=real_model, n_ctx=512)
    question = [Message("user", "Is the sky blue on a clear day? Answer with one word: yes or no.")]
    try:
        top = backend.next_token_logprobs(question, top=10)  # type: ignore[attr-defined]
    finally:
        backend.close()  # type: ignore[attr-defined]
    assert 1 <= len(top) <= 10
    assert all(v <= 0.0 for v in top.values())
    assert sum(math.exp(v) for v in top.values()) <= 1.0 + 1e-6
    assert any(t.strip().lower() in ("yes", "no") for t in top)
