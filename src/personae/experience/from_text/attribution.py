"""Who says each quotation: speech tags first, then action beats, pronouns, the paragraph a
line shares with an attributed one, and alternation in a two-person exchange.

Quotations of one paragraph joined only by a short tag ("“I think,” said he, “that …”") are
one utterance. Each utterance's speaker is decided in this order, and ``how`` records which
rule decided it (filter on it to trade recall for precision):

``tag``          a speech verb names the speaker ("said Holmes", ``홈즈가 말했다``)
``narrator``     the narrator's "I" (``나``) speaks or acts ("said I", "I answered")
``pronoun``      "he said" / "she cried": the most recent person of that gender who is not
                 the one just answered (named in the paragraph, speaking, or mentioned)
``beat``         the subject of an action in the same paragraph ("Holmes laughed. “…”")
``paragraph``    another quotation of the same paragraph was attributed
``alternation``  untagged, in a run of quotations in consecutive paragraphs: the speaker
                 before the last (two people take turns)
``unknown``      none of these: ``speaker`` is None
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from personae.experience.from_text.names import Cast, name_key
from personae.experience.from_text.quotes import Paragraph, Quote
from personae.experience.from_text.tags import Mention, beat, tag_after, tag_before

MAX_CONTEXT = 400
_INTERRUPTION_WORDS = 12
_RUN_LOOKBACK = 6
_RECENT = 8
_TITLED = re.compile(r"(?:Mr|Mrs|Miss|Ms|Dr|Sir|Lady|Lord|Inspector|Captain|Colonel)\.?\s")
_QUOTED = re.compile(r"“[^”]*”?|\"[^\"]*\"?|「[^」]*」?")


@dataclass(frozen=True, slots=True)
class Answer:
    """The utterance a line answers: its speaker (None when unknown) and text."""

    speaker: str | None
    text: str


@dataclass(frozen=True, slots=True)
class ExtractedLine:
    """One utterance: who (canonical name, or None), what, where (character offset of its
    opening quotation mark), how it was attributed, what it answers and the narration around
    it."""

    speaker: str | None
    text: str
    offset: int
    how: str
    answers: Answer | None = None
    context: str = ""
    paragraph: int = 0


@dataclass(slots=True)
class _Utterance:
    quotes: list[Quote]
    mentions: list[Mention] = field(default_factory=list)
    speaker: str | None = None
    how: str = "unknown"

    @property
    def paragraph(self) -> int:
        return self.quotes[0].paragraph

    @property
    def last_paragraph(self) -> int:
        return self.quotes[-1].last_paragraph

    @property
    def text(self) -> str:
        # "“Kindly look her up,” murmured Holmes." is the line "Kindly look her up."
        text = ""
        for quote in self.quotes:
            if text.endswith(",") and quote.text[:1].isupper() and not quote.text.startswith("I "):
                text = text[:-1] + "."  # "“Quite so,” said he. “You see…”"
            text = f"{text} {quote.text}" if text else quote.text
        return text[:-1] + "." if text.endswith(",") else text


def _same(a: Mention, b: Mention) -> bool:
    if a.kind != b.kind:
        return False
    return a.kind != "name" or name_key(a.name) == name_key(b.name)


def _joins(current: _Utterance, quote: Quote, tags: list[Mention], after: Mention | None) -> bool:
    last = current.quotes[-1]
    if last.last_paragraph != quote.paragraph or quote.index == 0:
        return False
    if len(quote.before.split()) > _INTERRUPTION_WORDS:
        return False
    # "“Is it?” asked Holmes. “It is,” said the inspector." is two speakers.
    return after is None or not tags or _same(tags[-1], after)


def _close(utterance: _Utterance, tags: list[Mention], language: str) -> None:
    utterance.mentions[:0] = tags  # tags after (or inside) before a tag before
    first, last = utterance.quotes[0], utterance.quotes[-1]
    for found in (beat(first.before, language, last=True), beat(last.after, language, last=False)):
        if found is not None:
            utterance.mentions.append(found)


def group(quotes: list[Quote], language: str) -> list[_Utterance]:
    """Quotations joined into utterances, each with the mentions the narration beside it
    makes, most telling first (tags inside and after, then before; then beats)."""
    out: list[_Utterance] = []
    current: _Utterance | None = None
    tags: list[Mention] = []
    for quote in quotes:
        after = tag_after(quote.after, language)
        if current is not None and _joins(current, quote, tags, after):
            current.quotes.append(quote)
        else:
            if current is not None:
                _close(current, tags, language)
                out.append(current)
            current, tags = _Utterance([quote]), []
            before = tag_before(quote.before, quote.after, language)
            if before is not None:
                current.mentions.append(before)
        if after is not None:
            tags.append(after)
    if current is not None:
        _close(current, tags, language)
        out.append(current)
    return out


class _Resolver:
    """Pass two: each utterance's speaker, in book order, from what came before it."""

    def __init__(self, pars: list[Paragraph], cast: Cast, language: str) -> None:
        self.pars = pars
        self.cast = cast
        self.language = language
        self.done: list[_Utterance] = []
        names = [n for n in cast.known() if language == "ko" or n[:1].isupper() or " " in n]
        if names or language != "ko":
            alternation = "|".join(re.escape(n) for n in names)
            if language != "ko":  # anyone with a title is a person: "Mrs. Garrow came in"
                alternation += r"|" + _TITLED.pattern + r"[A-Z][a-z]+(?:-[A-Z]?[a-z]+)?"
            edge = r"(?<![가-힣])" if language == "ko" else r"\b"
            self.names: re.Pattern[str] | None = re.compile(
                rf"{edge}(?:{alternation})" + ("" if language == "ko" else r"\b"),
                0 if language == "ko" else re.IGNORECASE,
            )
        else:
            self.names = None

    def mentioned(self, narration: str) -> list[str]:
        """Speakers named in ``narration``, most recent (last) first."""
        if self.names is None:
            return []
        found = []
        for match in self.names.finditer(narration):
            word = match.group(0)
            if self.language != "ko" and word[:1].islower() and " " not in word:
                continue
            found.append(self.cast.canonical(word))
        return found[::-1]

    def narration(self, number: int) -> str:
        if 0 <= number < len(self.pars):
            return _QUOTED.sub(" ", self.pars[number].text)
        return ""

    def run_partner(self, utterance: _Utterance) -> str | None:
        """In a run of quotations in consecutive paragraphs, the latest speaker other than
        the previous utterance's; when that one is unknown, the speaker two turns back."""
        if not self.done:
            return None
        prev = self.done[-1]
        if prev.last_paragraph < utterance.paragraph - 1:
            return None
        later = prev
        for steps, earlier in enumerate(reversed(self.done[-_RUN_LOOKBACK:-1]), start=2):
            if earlier.last_paragraph < later.paragraph - 1:
                break
            if prev.speaker is None:
                return earlier.speaker if steps == 2 else None
            if earlier.speaker is not None and earlier.speaker != prev.speaker:
                return earlier.speaker
            later = earlier
        return None

    def pronoun(self, utterance: _Utterance, mention: Mention) -> str | None:
        first = utterance.quotes[0]
        candidates = self.mentioned(first.before)
        partner = self.run_partner(utterance)
        if partner is not None:
            candidates.append(partner)
        for earlier in reversed(self.done[-_RECENT:]):
            if earlier.last_paragraph < utterance.paragraph - 6:
                break
            if earlier.speaker is not None:
                candidates.append(earlier.speaker)
        for back in range(1, 4):
            candidates += self.mentioned(self.narration(utterance.paragraph - back))
        prev = self.done[-1] if self.done else None
        # A new paragraph is a new speaker: "he" is not the one just heard. (When no one else
        # is known, the line stays unattributed rather than go to the wrong man.)
        just = (
            prev.speaker
            if prev is not None and first.index == 0 and prev.last_paragraph >= first.paragraph - 1
            else None
        )
        allowed = [c for c in candidates if c not in (just, self.cast.narrator)]
        # Someone known to be of that gender first, then someone whose gender is unknown.
        for wanted in (mention.gender, None):
            for candidate in allowed:
                if self.cast.gender(candidate) == wanted:
                    return candidate
        return None

    def resolve(self, utterance: _Utterance) -> None:
        for mention in utterance.mentions:
            if mention.kind == "narrator":
                utterance.speaker, utterance.how = self.cast.narrator, "narrator"
                break
            if mention.kind == "pronoun":
                who = self.pronoun(utterance, mention)
                if who is not None:
                    utterance.speaker, utterance.how = who, "pronoun"
                    break
                continue
            if mention.beat:
                known = (
                    self.cast.is_character(mention.name)
                    or self.mentioned(mention.name)
                    or _TITLED.match(mention.name)
                )
                if known:
                    utterance.speaker, utterance.how = self.cast.canonical(mention.name), "beat"
                    break
                continue
            utterance.speaker, utterance.how = self.cast.canonical(mention.name), "tag"
            break
        else:
            prev = self.done[-1] if self.done else None
            if prev is not None and prev.last_paragraph == utterance.paragraph and prev.speaker:
                utterance.speaker, utterance.how = prev.speaker, "paragraph"
            elif (partner := self.run_partner(utterance)) is not None:
                utterance.speaker, utterance.how = partner, "alternation"
        self.done.append(utterance)


def _backfill(utterances: list[_Utterance]) -> None:
    """An untagged quotation that opens a run takes the turn before the next two: "“What is
    it?” / “A letter,” said Holmes. / “From whom?” said I." makes the first mine."""
    for i in range(len(utterances) - 3, -1, -1):
        u, v, w = utterances[i : i + 3]
        if u.speaker is not None:
            continue
        if v.paragraph != u.last_paragraph + 1 or w.paragraph != v.last_paragraph + 1:
            continue
        if v.speaker and w.speaker and v.speaker != w.speaker:
            u.speaker, u.how = w.speaker, "alternation"


def _clip(text: str, limit: int, *, tail: bool) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    if tail:
        cut = text[-limit:]
        return "…" + cut[cut.find(" ") + 1 :] if " " in cut else "…" + cut
    cut = text[:limit]
    return (cut[: cut.rfind(" ")] if " " in cut else cut) + "…"


def _context(utterance: _Utterance, pars: list[Paragraph]) -> str:
    first, last = utterance.quotes[0], utterance.quotes[-1]
    parts = [_clip(first.before, MAX_CONTEXT // 3, tail=True), _clip(last.after, 140, tail=False)]
    if first.index == 0 and first.paragraph > 0:
        previous = pars[first.paragraph - 1].text
        if not _QUOTED.search(previous):
            parts.insert(0, _clip(previous, MAX_CONTEXT // 3, tail=True))
    return _clip(" … ".join(p for p in parts if p), MAX_CONTEXT, tail=False)


def _answers(utterances: list[_Utterance], i: int) -> Answer | None:
    u = utterances[i]
    for j in range(i - 1, max(-1, i - 4), -1):
        prev = utterances[j]
        if prev.last_paragraph < u.paragraph - 2:
            return None
        if prev.speaker is None or prev.speaker != u.speaker:
            return Answer(prev.speaker, prev.text)
    return None


def attribute(
    pars: list[Paragraph], quotes: list[Quote], cast: Cast, *, book: str = ""
) -> list[ExtractedLine]:
    """The utterances of ``quotes`` with their speakers (see the module's note). ``cast``
    learns every name a tag uses, and (from ``book``) the gender of each."""
    utterances = group(quotes, cast.language)
    for utterance in utterances:
        for mention in utterance.mentions:
            if mention.kind == "name" and not mention.beat:
                cast.see(mention.name)
    if book:
        tagged = {cast.canonical(m.name) for u in utterances for m in u.mentions if not m.beat}
        cast.learn_genders(book, tagged)
    resolver = _Resolver(pars, cast, cast.language)
    for utterance in utterances:
        resolver.resolve(utterance)
    _backfill(utterances)
    return [
        ExtractedLine(
            speaker=u.speaker,
            text=u.text,
            offset=u.quotes[0].offset,
            how=u.how,
            answers=_answers(utterances, i),
            context=_context(u, pars),
            paragraph=u.paragraph,
        )
        for i, u in enumerate(utterances)
    ]


__all__ = ["Answer", "ExtractedLine", "MAX_CONTEXT", "attribute", "group"]
