"""The token estimate: the generic rates give exactly what personae always estimated; the
byte-level rates never count Korean, digits or symbols low."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from personae.text.token_estimate import (
    BYTE_LEVEL_RATES,
    GENERIC_RATES,
    TokenRates,
    estimate_tokens,
)


def previous_estimate(text: str) -> int:
    """The estimate as it was before rates existed (agent/tokens.py)."""
    ascii_chars = len(text.encode("ascii", "ignore"))
    other = len(text) - ascii_chars
    return (ascii_chars + 2) // 3 + int(other * 1.2)


@given(st.text(alphabet=st.sampled_from("ab 1.é한글ㅋ😀\n"), max_size=400))
def test_the_generic_rates_give_the_estimate_personae_always_used(text: str) -> None:
    assert estimate_tokens(text) == previous_estimate(text)
    assert estimate_tokens(text, GENERIC_RATES) == previous_estimate(text)


@pytest.mark.parametrize(
    ("text", "generic", "byte_level"),
    [
        ("", 0, 0),
        ("Hello there", 4, 5),  # ceil(11 / 3) = 4; × 1.1 → 5
        ("1234567890", 4, 11),  # a digit is a token: 10 × 1.1
        ("안녕하세요", 6, 17),  # 5 syllables: 1.2 each, or 3 each (their UTF-8 bytes) × 1.1
        ("ㅋㅋㅋ", 3, 10),  # jamo are Hangul too
        ("😀", 1, 4),
    ],
)
def test_each_kind_of_character_is_priced(text: str, generic: int, byte_level: int) -> None:
    assert estimate_tokens(text) == generic
    assert estimate_tokens(text, BYTE_LEVEL_RATES) == byte_level


def test_korean_on_a_tokenizer_that_learned_no_korean_is_counted_as_bytes() -> None:
    # SmolLM2's tokenizer spends 35 tokens on this line (measured by bench_token_estimate):
    # the generic estimate said 18, the byte-level rates do not fall short.
    line = "안녕하세요, 저는 춘향입니다."
    assert estimate_tokens(line) < 35 <= estimate_tokens(line, BYTE_LEVEL_RATES)


def test_the_margin_is_exact_for_round_numbers() -> None:
    # 10 × 1.1 is 11.000000000000002 in floating point: still 11 tokens.
    assert estimate_tokens("a" * 30, TokenRates(margin=1.1)) == 11


@pytest.mark.parametrize(
    "bad",
    [
        {"ascii_chars": 0},
        {"ascii_chars": -3.0},
        {"ascii_chars": float("nan")},
        {"digit": -1.0},
        {"hangul": -0.5},
        {"other": float("nan")},
        {"margin": 0.9},
        {"margin": float("nan")},
    ],
)
def test_rates_that_make_no_sense_are_refused(bad: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        TokenRates(**bad)
