"""Quoted speech in narrative prose: paragraphs, and the quotations in them with the narration
on either side.

A paragraph is a block between blank lines; a block whose lines each end a sentence (one
paragraph a line, as web novels and many Korean texts are written) is split into its lines.
Quotation marks are “…”, "…" and 「…」; single quotes (‘…’) are left alone, because they are
quotes within a quote and apostrophes. English convention carries a speech over several
paragraphs by opening each with a quotation mark and closing only the last: a paragraph that
ends inside a quote continues in the next when that one opens with a quotation mark.
Offsets are character offsets into the text as given.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

OPENERS = {"“": "”", '"': '"', "「": "」"}
_BLANK = re.compile(r"\n[ \t\r\f\v]*\n\s*")
_SENTENCE_END = tuple(".!?…:;。！？”\"」’'）)*다요죠까네")


@dataclass(frozen=True, slots=True)
class Paragraph:
    """A paragraph: where it starts in the text, and its text as written."""

    start: int
    text: str


@dataclass(frozen=True, slots=True)
class Quote:
    """One quotation, merged over the paragraphs it continues across.

    ``before`` is the narration between the previous quotation of the same paragraph (or the
    paragraph's start) and this one; ``after`` the narration up to the next quotation of its
    last paragraph (or that paragraph's end). ``index`` counts quotations in the paragraph it
    starts in, from 0."""

    text: str
    offset: int
    end: int
    paragraph: int
    last_paragraph: int
    index: int
    before: str
    after: str


def paragraphs(text: str) -> list[Paragraph]:
    """The non-blank paragraphs of ``text``, in order."""
    out: list[Paragraph] = []
    pos = 0
    bounds: list[tuple[int, int]] = []
    for match in _BLANK.finditer(text):
        bounds.append((pos, match.start()))
        pos = match.end()
    bounds.append((pos, len(text)))
    for start, end in bounds:
        block = text[start:end]
        if not block.strip():
            continue
        lines = block.split("\n")
        filled = [line for line in lines if line.strip()]
        if len(filled) >= 3 and _one_per_line(filled):
            at = start
            for line in lines:
                if line.strip():
                    out.append(_trimmed(at, line))
                at += len(line) + 1
        else:
            out.append(_trimmed(start, block))
    return out


def _trimmed(start: int, text: str) -> Paragraph:
    lead = len(text) - len(text.lstrip())
    return Paragraph(start + lead, text.strip())


def _one_per_line(lines: list[str]) -> bool:
    # Hard-wrapped prose ends most lines mid-sentence; a paragraph-a-line text ends nearly all
    # of them with a sentence mark or a closing quote.
    ends = sum(line.rstrip().endswith(_SENTENCE_END) for line in lines)
    return ends >= 0.8 * len(lines)


def _spans(text: str) -> list[tuple[int, int, bool]]:
    """``(start, end, closed)`` of each quotation in a paragraph; ``start`` at the opening
    mark, ``end`` after the closing one (or at the paragraph's end when it is not closed)."""
    spans: list[tuple[int, int, bool]] = []
    open_at, close = -1, ""
    for i, ch in enumerate(text):
        if open_at < 0:
            if ch in OPENERS:
                open_at, close = i, OPENERS[ch]
        elif ch == close:
            spans.append((open_at, i + 1, True))
            open_at = -1
        elif ch == "“" and close == "”":
            # A second opening mark inside an open quote: the first was never closed (a typo);
            # end it here rather than swallow the rest of the paragraph.
            spans.append((open_at, i, False))
            open_at = i
    if open_at >= 0:
        spans.append((open_at, len(text), False))
    return spans


def _inner(text: str, start: int, end: int, closed: bool) -> str:
    body = text[start + 1 : end - 1] if closed else text[start + 1 : end]
    return " ".join(body.split())


@dataclass(slots=True)
class _Open:
    """A quotation still open at the end of a paragraph, waiting for its continuation."""

    parts: list[str]
    offset: int
    end: int
    paragraph: int
    last: int
    index: int
    before: str
    mark: str

    def done(self, end: int, last: int, after: str) -> Quote:
        return Quote(
            text="\n".join(p for p in self.parts if p),
            offset=self.offset,
            end=end,
            paragraph=self.paragraph,
            last_paragraph=last,
            index=self.index,
            before=self.before,
            after=after,
        )


def find_quotes(text: str, pars: list[Paragraph] | None = None) -> list[Quote]:
    """Every quotation in ``text`` (paragraphs from :func:`paragraphs` unless given), in
    order, a speech carried over several paragraphs as one."""
    pars = paragraphs(text) if pars is None else pars
    quotes: list[Quote] = []
    carry: _Open | None = None
    for number, par in enumerate(pars):
        spans = _spans(par.text)
        shift = 0
        if carry is not None:
            first = spans[0] if spans else None
            if first is not None and first[0] == 0 and par.text[0] == carry.mark:
                carry.parts.append(_inner(par.text, *first))
                carry.end, carry.last = par.start + first[1], number
                if not first[2]:
                    continue  # the speech goes on through this whole paragraph
                nxt = spans[1][0] if len(spans) > 1 else len(par.text)
                quotes.append(carry.done(carry.end, number, par.text[first[1] : nxt]))
                spans, shift = spans[1:], 1
            else:
                quotes.append(carry.done(carry.end, carry.last, ""))
            carry = None
        prev_end = 0
        for k, (start, end, closed) in enumerate(spans):
            before = par.text[prev_end:start]
            prev_end = end
            nxt = spans[k + 1][0] if k + 1 < len(spans) else len(par.text)
            body = _inner(par.text, start, end, closed)
            if not closed and k + 1 == len(spans):
                carry = _Open(
                    [body],
                    par.start + start,
                    par.start + end,
                    number,
                    number,
                    k + shift,
                    before,
                    par.text[start],
                )
                continue
            quotes.append(
                Quote(
                    text=body,
                    offset=par.start + start,
                    end=par.start + end,
                    paragraph=number,
                    last_paragraph=number,
                    index=k + shift,
                    before=before,
                    after=par.text[end:nxt],
                )
            )
    if carry is not None:
        quotes.append(carry.done(carry.end, carry.last, ""))
    return [q for q in quotes if q.text]


__all__ = ["OPENERS", "Paragraph", "Quote", "find_quotes", "paragraphs"]
