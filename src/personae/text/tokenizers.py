"""Tokenizers for overlap metrics. Which one scored a number is part of the number.

- ``default``: Unicode word tokens (letters and digits, NFKC, lowercased); on ASCII text exactly
  the tokens `rouge-score` makes, so English scores match it. Optional Porter stemming applies to
  ASCII words longer than three characters, as `rouge-score` does.
- ``whitespace``: lowercased, split on whitespace, punctuation kept — what the Korean dialogue
  summarization competition's baseline scored with.
- ``kiwi``: Korean morphemes from kiwipiepy (particles and endings become their own tokens, so
  "학교에" and "학교를" share "학교"); punctuation dropped. Needs ``personae[korean]``.
- ``char``: every non-space character.
"""

from __future__ import annotations

import functools
import re
import threading
import unicodedata
from collections.abc import Callable
from typing import Any

from personae.errors import ConfigError, InvalidInput

Tokenizer = Callable[[str], list[str]]

TOKENIZER_NAMES = ("default", "whitespace", "kiwi", "char")

_WORD = re.compile(r"[^\W_]+")
_ASCII_WORD = re.compile(r"[a-z0-9]+")
_KIWI_DROP = frozenset({"SF", "SP", "SS", "SSO", "SSC", "SE", "SO", "SW", "W_SERIAL"})


@functools.lru_cache(maxsize=1)
def _porter() -> Callable[[str], str]:
    try:
        from nltk.stem.porter import PorterStemmer
    except ImportError as exc:  # pragma: no cover - nltk is a dependency
        raise ConfigError("stemming needs nltk: run `pip install nltk`") from exc
    stemmer: Callable[[str], str] = PorterStemmer().stem
    return stemmer


# Porter stemming is the slowest step of tokenizing and a corpus repeats its words endlessly,
# so each distinct word is stemmed once (``stem.cache_clear()`` to measure it cold).
@functools.lru_cache(maxsize=200_000)
def stem(token: str) -> str:
    """Porter-stem an ASCII word longer than three characters; leave anything else alone."""
    if len(token) > 3 and _ASCII_WORD.fullmatch(token):
        return _porter()(token)
    return token


def default_tokens(text: str, stemmer: bool = False) -> list[str]:
    tokens = _WORD.findall(unicodedata.normalize("NFKC", text).lower())
    if stemmer:
        tokens = [stem(t) for t in tokens]
    return tokens


def whitespace_tokens(text: str, stemmer: bool = False) -> list[str]:
    tokens = text.lower().split()
    if stemmer:
        tokens = [stem(t) for t in tokens]
    return tokens


def char_tokens(text: str, stemmer: bool = False) -> list[str]:
    return [c for c in unicodedata.normalize("NFKC", text).lower() if not c.isspace()]


_kiwi_lock = threading.Lock()


@functools.lru_cache(maxsize=1)
def _kiwi() -> Any:
    try:
        from kiwipiepy import Kiwi
    except ImportError as exc:
        raise ConfigError(
            "the kiwi tokenizer needs kiwipiepy: run `pip install 'personae[korean]'`"
        ) from exc
    return Kiwi()


def kiwi_tokens(text: str, stemmer: bool = False) -> list[str]:
    kiwi = _kiwi()
    with _kiwi_lock:
        morphemes = kiwi.tokenize(unicodedata.normalize("NFKC", text))
    tokens = [m.form.lower() for m in morphemes if m.tag not in _KIWI_DROP]
    if stemmer:
        tokens = [stem(t) for t in tokens]
    return tokens


_TOKENIZERS: dict[str, Callable[..., list[str]]] = {
    "default": default_tokens,
    "whitespace": whitespace_tokens,
    "kiwi": kiwi_tokens,
    "char": char_tokens,
}


def get_tokenizer(name: str, *, stemmer: bool = False) -> Tokenizer:
    """The tokenizer called ``name`` (see :data:`TOKENIZER_NAMES`)."""
    try:
        function = _TOKENIZERS[name]
    except KeyError:
        raise InvalidInput(
            f"unknown tokenizer {name!r}; choose one of: {', '.join(TOKENIZER_NAMES)}"
        ) from None
    if name == "kiwi":
        _kiwi()  # fail now, with the install hint, rather than on the first text
    return functools.partial(function, stemmer=stemmer)
