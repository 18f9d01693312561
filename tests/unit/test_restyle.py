from __future__ import annotations

import pytest

from personae.agent.restyle import MAX_RESTYLE_CHARS, restyle, restyle_lines
from personae.characters import bundled_characters
from personae.errors import InvalidInput
from tests.support.factories import make_character
from tests.support.scripted import ScriptedBackend


def test_each_line_is_restyled_and_quotes_trimmed() -> None:
    backend = ScriptedBackend().enqueue('"Most singular, Watson."', "「Capital!」")
    out = restyle(make_character(), backend, "That is odd.\n\nGreat!")
    assert out == "Most singular, Watson.\nCapital!"
    asked = backend.calls[0][0][-1].content
    assert "That is odd." in asked and "Holmes" in asked and "{{" not in asked


def test_korean_character_gets_a_korean_instruction() -> None:
    backend = ScriptedBackend().enqueue("고맙소.")
    hong = bundled_characters()["hong-gildong"]
    assert list(restyle_lines(hong, backend, "고마워요")) == ["고맙소."]
    assert "말투" in backend.calls[0][0][-1].content


@pytest.mark.parametrize("text", ["", "   \n ", "x" * (MAX_RESTYLE_CHARS + 1)])
def test_bad_inputs(text: str) -> None:
    with pytest.raises(InvalidInput):
        list(restyle_lines(make_character(), ScriptedBackend(), text))
