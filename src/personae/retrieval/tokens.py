"""Tokens for lexical retrieval, in Korean and English.

Korean text goes through kiwipiepy: content morphemes only (nouns, verb and adjective stems,
roots, foreign words, numbers), so "강아지가" and "강아지를" both give "강아지". Without kiwipiepy
(the ``korean`` extra), Hangul words become character bigrams, which match across particles
less precisely but still match. Everything else is Unicode words, lowercased and Porter-stemmed
("dogs" finds "dog"), minus a short list of English function words.
"""

from __future__ import annotations

import functools
import re
import threading
import unicodedata
from typing import Any

from personae.text.tokenizers import default_tokens, stem

_HANGUL = re.compile(r"[\uac00-\ud7a3]")
# Kiwi tags worth matching on: nouns (NN*), numbers (SN), foreign and Chinese words (SL, SH),
# verb/adjective stems (VV, VA), roots (XR) and general adverbs (MAG).
_KIWI_KEEP = ("NN", "NR", "NP", "SN", "SL", "SH", "VV", "VA", "XR", "MAG")
_STOP_WORDS = (
    "a an the and or but if of to in on at by for with from as is are was were be been being "
    "am do does did have has had i you he she it we they me him her us them my your his its our "
    "their this that these those what which who whom there here so not no can could will would "
    "shall should may might must just very too"
)
_STOP = frozenset(_STOP_WORDS.split())


_lock = threading.Lock()  # a Kiwi instance is not safe to share between threads


@functools.lru_cache(maxsize=1)
def _kiwi() -> Any:
    try:
        from kiwipiepy import Kiwi
    except ImportError:
        return None
    return Kiwi()


def kiwi_available() -> bool:
    return _kiwi() is not None


def tokenizer_name() -> str:
    """Recorded beside stored tokens, so a change of tokenizer re-tokenizes them."""
    return "kiwi-content+porter" if kiwi_available() else "bigram+porter"


def _latin(text: str) -> list[str]:
    return [stem(t) for t in default_tokens(text) if t not in _STOP]


def _bigrams(word: str) -> list[str]:
    return [word] if len(word) < 2 else [word[i : i + 2] for i in range(len(word) - 1)]


def retrieval_tokens(text: str) -> list[str]:
    """The tokens BM25 indexes and queries with (see the module docstring)."""
    text = unicodedata.normalize("NFKC", text)
    if not _HANGUL.search(text):
        return _latin(text)
    kiwi = _kiwi()
    if kiwi is None:
        out: list[str] = []
        for token in default_tokens(text):
            out.extend(_bigrams(token) if _HANGUL.search(token) else _latin(token))
        return out
    with _lock:
        morphemes = kiwi.tokenize(text)
    out = []
    for m in morphemes:
        if m.tag.startswith(_KIWI_KEEP):
            form = m.form.lower()
            if m.tag == "SL":
                if form in _STOP:
                    continue
                form = stem(form)
            out.append(form)
    return out
