"""Card macros: case-insensitive, {{original}}, one pass, unknown macros kept."""

from __future__ import annotations

from typing import Any

import pytest

from personae.characters import expand_macros
from personae.errors import InvalidInput


def test_all_spellings_expand_case_insensitively() -> None:
    text = "{{char}} {{Char}} <BOT> <bot> {{USER}} <User> {{Original}}"
    assert expand_macros(text, char="A", user="B", original="O") == "A A A A B B O"


def test_original_defaults_to_empty() -> None:
    assert expand_macros("[{{original}}] rules", char="A", user="B") == "[] rules"


def test_values_are_not_expanded_again() -> None:
    out = expand_macros("{{user}} meets {{char}}", char="<USER>", user="{{char}}")
    assert out == "{{char}} meets <USER>"


def test_unknown_macros_are_left_alone() -> None:
    text = "{{random:a,b}} {{ char }} {char} <START> {{charx}}"
    assert expand_macros(text, char="A", user="B") == text


def test_korean_text_around_macros() -> None:
    assert expand_macros("{{char}}는 {{user}}에게", char="춘향", user="몽룡") == "춘향는 몽룡에게"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"text": None, "char": "a", "user": "b"},
        {"text": "x", "char": 1, "user": "b"},
        {"text": "x", "char": "a", "user": None},
        {"text": "x", "char": "a", "user": "b", "original": 3},
    ],
)
def test_non_strings_are_invalid_input(kwargs: dict[str, Any]) -> None:
    text = kwargs.pop("text")
    with pytest.raises(InvalidInput):
        expand_macros(text, **kwargs)
