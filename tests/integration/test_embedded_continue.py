"""Continuing a message on the real embedded runtime (xllamacpp + SmolLM2): a prefix message
is written on from its last word; any other last assistant message is a finished turn."""

from __future__ import annotations

import pytest

from personae.backends import GenerationParams, Message, collect, get_backend

pytestmark = pytest.mark.integration

PARTIAL = "My ship, the Black Gull, has three masts and"


def test_a_prefix_is_continued_and_a_finished_message_is_followed_by_a_new_one(
    real_model: str,
) -> None:
    backend = get_backend("embedded", model=real_model, n_ctx=1024)
    base = [Message("system", "You are a pirate."), Message("user", "Tell me about your ship.")]
    params = GenerationParams(max_tokens=8, temperature=0.0)
    try:
        _, anew = collect(backend.stream([*base, Message("assistant", PARTIAL)], params))
        text, cont = collect(
            backend.stream([*base, Message("assistant", PARTIAL, prefix=True)], params)
        )
    finally:
        backend.close()  # type: ignore[attr-defined]
    assert anew.usage is not None and cont.usage is not None
    # A new turn closes the message and opens another; a continuation's prompt ends inside it.
    assert cont.usage.prompt_tokens < anew.usage.prompt_tokens
    assert cont.usage.cached_tokens > 0  # the same rendered prefix: the prompt cache is shared
    assert text.strip() and "Black Gull" not in text  # the rest of it, not the message again
