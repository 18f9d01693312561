"""Token estimates, for when no tokenizer can be asked: one function, with rates per tokenizer.

An estimate is meant to err on the safe side: a prompt budgeted with it must really fit. It
counts characters by kind and prices each kind (:class:`TokenRates`):

* ASCII (letters, spaces, punctuation): about :attr:`~TokenRates.ascii_chars` a token. English
  prose runs 3.6 characters a token on SmolLM2's tokenizer and 3.9 on Qwen2.5's;
* ASCII digits, when priced apart: both tokenizers above read every digit as a token;
* Hangul (syllables and compatibility jamo): a tokenizer that learned Korean (Qwen2.5) spends
  about 1.0 token a syllable (1.2 at most in any one bundled text), one that did not (SmolLM2)
  falls back to bytes, 2.8 a syllable — never more than its three UTF-8 bytes;
* any other character (accents, CJK, emoji, curly quotes).

``benchmarks/bench_token_estimate.py`` measures these rates on the tokenizers inside the
catalogue's GGUF files (no model is loaded) and prints how far each set of rates over- or
under-counts on English and Korean text.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from personae.text.language import hangul_count

_DIGITS = "0123456789"


@dataclass(frozen=True, slots=True)
class TokenRates:
    """What text costs, by kind of character. ``digit`` None counts digits as any other ASCII
    character; ``margin`` multiplies the sum (rounded up)."""

    ascii_chars: float = 3.0  # ASCII characters a token
    digit: float | None = None  # tokens an ASCII digit
    hangul: float = 1.2  # tokens a Hangul syllable or jamo
    other: float = 1.2  # tokens any other character
    margin: float = 1.0

    def __post_init__(self) -> None:
        if not self.ascii_chars > 0:
            raise ValueError(f"ascii_chars must be positive, not {self.ascii_chars}")
        for name in ("digit", "hangul", "other"):
            value = getattr(self, name)
            if value is not None and not value >= 0:
                raise ValueError(f"{name} must be zero or more, not {value}")
        if not self.margin >= 1.0:
            raise ValueError(f"margin must be at least 1 (estimates err high), not {self.margin}")


# What a backend without a tokenizer of its own gets (a remote server's model, whatever its
# tokenizer): the estimate personae has always used.
GENERIC_RATES = TokenRates()

# The bound for a byte-level BPE tokenizer that learned no Korean (SmolLM2, and what a .gguf file
# of unknown make is assumed to be): a non-ASCII character costs up to its UTF-8 bytes, three for
# Hangul, CJK and most symbols; a digit is a token; 10% on top for text denser than prose (short
# dialogue lines, names in capitals).
BYTE_LEVEL_RATES = TokenRates(digit=1.0, hangul=3.0, other=3.0, margin=1.1)


def estimate_tokens(text: str, rates: TokenRates = GENERIC_RATES) -> int:
    """How many tokens ``text`` is, estimated on the high side at ``rates``.

    With the default rates: about 3 ASCII characters a token and 1.2 tokens any other character.
    """
    ascii_chars = len(text.encode("ascii", "ignore"))
    non_ascii = len(text) - ascii_chars
    digits = sum(map(text.count, _DIGITS)) if rates.digit is not None else 0
    hangul = hangul_count(text) if non_ascii and rates.hangul != rates.other else 0
    # Summed in this order so that GENERIC_RATES gives exactly ceil(ascii / 3) +
    # floor(1.2 × non-ASCII), the estimate this replaces, rounding included.
    priced = non_ascii * rates.other + hangul * (rates.hangul - rates.other)
    priced += digits * (rates.digit or 0.0)
    tokens = math.ceil((ascii_chars - digits) / rates.ascii_chars) + int(priced)
    return math.ceil(round(tokens * rates.margin, 6))  # 10 × 1.1 is 11.000000000000002


__all__ = ["BYTE_LEVEL_RATES", "GENERIC_RATES", "TokenRates", "estimate_tokens"]
