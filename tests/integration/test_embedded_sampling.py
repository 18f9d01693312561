"""The repetition controls on the real embedded runtime (xllamacpp + SmolLM2): llama.cpp takes
the DRY and penalty fields under the names we send, and DRY does what it is there for: greedy
decoding that copies a sentence from the prompt word for word stops copying it."""

from __future__ import annotations

import pytest

from personae.backends import GenerationParams, Message, collect, get_backend
from personae.backends.sampling import default_params

pytestmark = pytest.mark.integration

SENTENCE = "The old lighthouse keeper counted seven ships sailing past the northern rocks at dawn."
MESSAGES = [
    Message("system", "You repeat what you are told, word for word."),
    Message("user", f"Repeat this sentence exactly: {SENTENCE}"),
]


def test_dry_and_penalties_are_taken_and_dry_stops_a_copy(real_model: str) -> None:
    backend = get_backend("embedded", model=real_model, n_ctx=1024)
    greedy = GenerationParams(max_tokens=40, temperature=0.0, repeat_penalty=None)
    try:
        copied, _ = collect(backend.stream(MESSAGES, greedy))
        dry = greedy.model_copy(update={"dry_multiplier": 3.0, "dry_penalty_last_n": -1})
        not_copied, _ = collect(backend.stream(MESSAGES, dry))
        others = greedy.model_copy(
            update={"presence_penalty": 1.5, "frequency_penalty": 1.0, "repeat_last_n": -1}
        )
        penalized, penalized_end = collect(backend.stream(MESSAGES, others))
        # The catalogue's defaults for this model, as `personae chat` sends them.
        played, played_end = collect(
            backend.stream(MESSAGES, default_params(real_model, max_tokens=40, seed=0))
        )
    finally:
        backend.close()  # type: ignore[attr-defined]
    assert SENTENCE in copied  # without DRY the model copies the prompt
    assert not_copied.strip() and SENTENCE not in not_copied
    assert penalized.strip() and penalized_end.finish_reason in ("stop", "length")
    assert played.strip() and played_end.finish_reason in ("stop", "length")
