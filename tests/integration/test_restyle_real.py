"""Restyle on the real embedded runtime (SmolLM2-135M): the editing prompt with its prefilled
opening quotation mark runs end to end, one short line out for each line in."""

from __future__ import annotations

import pytest

from personae.agent.restyle import restyle_lines
from personae.backends import GenerationParams, get_backend
from personae.characters import bundled_characters

pytestmark = pytest.mark.integration


def test_each_line_comes_back_as_one_short_line(real_model: str) -> None:
    backend = get_backend("embedded", model=real_model, n_ctx=2048)
    text = "Thank you for your help today.\n\nThe bridge is 40 steps long."
    params = GenerationParams(temperature=0.5, max_tokens=200, seed=0)
    try:
        out = list(restyle_lines(bundled_characters()["sherlock"], backend, text, params=params))
    finally:
        backend.close()  # type: ignore[attr-defined]
    assert len(out) == 2
    for line in out:
        assert "\n" not in line and "{{" not in line
        assert len(line) < 300  # capped near three times the input, whatever the model says
