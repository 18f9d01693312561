"""Sentences of a chat message, in either language.

A sentence ends at . ! ? … ~ (and the full-width 。！？), with any closing quotation marks or
brackets after it, before whitespace; a line break ends one too. Korean writes the same marks,
so one rule serves both languages. The closing ``*`` of an action before a space ends one as
well ("*nods* Come in."). The reply guards use :func:`complete_length` on a reply that is still
streaming: a sentence is complete once the space after its end has arrived.
"""

from __future__ import annotations

import re

# An end mark and what closes after it (quotes, brackets, an action's ``*``), before a space.
_END = re.compile(r"[.!?…~。！？][\"'”’」』)\]*]*(?=\s)|\*(?=\s)|\n")


def split_sentences(text: str) -> list[str]:
    """The non-empty sentences of ``text``, stripped, in order."""
    out: list[str] = []
    start = 0
    for match in _END.finditer(text):
        out.append(text[start : match.end()])
        start = match.end()
    out.append(text[start:])
    return [part.strip() for part in out if part.strip()]


def complete_length(text: str) -> int:
    """How much of ``text`` is whole sentences (0 when not even one is complete yet)."""
    end = 0
    for match in _END.finditer(text):
        end = match.end()
    return end


__all__ = ["complete_length", "split_sentences"]
