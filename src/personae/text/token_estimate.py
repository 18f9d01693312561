"""The token estimate used where no tokenizer is at hand: deliberately pessimistic, so a prompt
we think fits really does (a backend's own tokenizer counts exactly; see
:mod:`personae.agent.tokens`)."""

from __future__ import annotations


def estimate_tokens(text: str) -> int:
    """Upper-bound-ish estimate: ~3 ASCII characters per token, one token per other character
    (Hangul syllables are often a full token, sometimes more with byte-level BPE)."""
    ascii_chars = len(text.encode("ascii", "ignore"))
    other = len(text) - ascii_chars
    return (ascii_chars + 2) // 3 + int(other * 1.2)


__all__ = ["estimate_tokens"]
