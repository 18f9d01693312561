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
    # A particle glued to a macro agrees with the name's last syllable (춘향 has a final
    # consonant: 은, not 는); one that does not vary (에게) is left alone.
    assert expand_macros("{{char}}는 {{user}}에게", char="춘향", user="몽룡") == "춘향은 몽룡에게"


@pytest.mark.parametrize(
    ("user", "expected"),
    [
        ("당신", "당신과 나누는 대화, 당신과의 약속, 당신은 나그네, 당신을 본다, 당신이 온다."),
        ("민수", "민수와 나누는 대화, 민수와의 약속, 민수는 나그네, 민수를 본다, 민수가 온다."),
        ("Ana", "Ana와 나누는 대화, Ana와의 약속, Ana는 나그네, Ana를 본다, Ana가 온다."),
    ],
)
def test_korean_particles_agree_with_the_name(user: str, expected: str) -> None:
    text = (
        "{{user}}와 나누는 대화, {{user}}와의 약속, {{user}}는 나그네, {{user}}를 본다, "
        "{{user}}가 온다."
    )
    assert expand_macros(text, char="춘향", user=user) == expected


def test_a_syllable_after_the_macro_that_is_not_a_particle_is_left_alone() -> None:
    # "가게" (a shop) and the copula "이다" start a word; only a particle ending the word agrees.
    assert expand_macros("{{user}}가게 {{user}}이다", char="a", user="민수") == "민수가게 민수이다"


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
