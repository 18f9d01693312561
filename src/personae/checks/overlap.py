"""Copy, echo and repeat measures: n-gram overlap between a reply and an earlier text.

Units depend on the reply's language, and both texts are cut the same way:

- English: lowercased Unicode words (``default`` tokens), compared as word 4-grams; a shared
  run is counted in words.
- Korean: Hangul letters with spaces dropped (Korean spacing varies from one reply to the next
  and says nothing about copying), compared as character 6-grams; a shared run is counted in
  characters. A 6-gram is two or three words of Korean — the length where two independent
  sentences stop sharing endings and particles by chance ("하였습니다" is five).

Action markup (``*…*``), quotation marks and punctuation never count. Three numbers come out
of one comparison (see :class:`Overlap`): how much of the reply comes from the source
(``containment``), how much of the source is in the reply (``coverage``), and the longest run
the two share, with where it starts in the reply (``run`` / ``run_start``).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass

from personae.text import Language, split_sentences

# n for the n-gram shares; see the module notes for why these lengths.
WORD_N = 4
CHAR_N = 6

_WORD = re.compile(r"[^\W_]+")
# A quotation: double or curly quotes, corner brackets, or straight single quotes that open
# after a non-letter and close before one (so "don't … can't" is not a quote).
_QUOTE = re.compile(
    r'"[^"\n]{1,500}"|“[^”\n]{1,500}”|‘[^’\n]{1,500}’|「[^」\n]{1,500}」|『[^』\n]{1,500}』'
    r"|(?<![^\W_])'[^'\n]{2,500}?'(?![^\W_])"
)
_MARKUP = re.compile(r"[*_~`>#\"'“”‘’「」『』()\[\]]")


@dataclass(frozen=True)
class Units:
    """One text cut into comparison units, with its n-grams (tuples for words, str for chars)."""

    tokens: tuple[str, ...]
    grams: frozenset[object]
    n: int
    folded: str  # the text the tokens were cut from, for excerpts
    spans: tuple[tuple[int, int], ...]  # each token's place in ``folded``
    quoted: tuple[bool, ...]  # whether each token stands inside quotation marks
    positions: dict[str, tuple[int, ...]]  # where each token occurs, for the run search

    def all_quoted(self, start: int, length: int) -> bool:
        """Whether every token of the run stands inside quotation marks."""
        return length > 0 and all(self.quoted[start : start + length])

    def excerpt(self, start: int, length: int) -> str:
        """The folded text from token ``start`` over ``length`` tokens."""
        if length <= 0:
            return ""
        return " ".join(
            self.folded[self.spans[start][0] : self.spans[start + length - 1][1]].split()
        )


def quotations(text: str) -> list[tuple[int, int]]:
    """Where ``text`` has quotations (start and end, quotation marks included)."""
    return [m.span() for m in _QUOTE.finditer(text)]


@functools.lru_cache(maxsize=4096)
def units(text: str, language: Language) -> Units:
    """``text`` as words (English) or characters without spaces (Korean), with its n-grams.

    Cached: a chat's history is compared with every later reply, and the corpus repeats it."""
    lowered = unicodedata.normalize("NFKC", text).lower()
    inside = [False] * len(lowered)
    for start, end in quotations(lowered):
        inside[start:end] = [True] * (end - start)
    folded = _MARKUP.sub(" ", lowered)  # one character for one: positions stay
    words = list(_WORD.finditer(folded))
    if language == "ko":
        spans = tuple((m.start() + k, m.start() + k + 1) for m in words for k in range(len(m[0])))
        tokens = tuple(folded[a] for a, _ in spans)
        n = CHAR_N
        grams: frozenset[object] = frozenset(
            "".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1)
        )
    else:
        spans = tuple(m.span() for m in words)
        tokens = tuple(m[0] for m in words)
        n = WORD_N
        grams = frozenset(tokens[i : i + n] for i in range(len(tokens) - n + 1))
    quoted = tuple(inside[a] for a, _ in spans)
    positions: dict[str, list[int]] = {}
    for j, token in enumerate(tokens):
        positions.setdefault(token, []).append(j)
    return Units(
        tokens, grams, n, folded, spans, quoted, {k: tuple(v) for k, v in positions.items()}
    )


def normalized(text: str) -> str:
    """``text`` for an exact-repeat test: NFKC, lowercased, markup and punctuation dropped,
    spaces collapsed."""
    folded = _MARKUP.sub(" ", unicodedata.normalize("NFKC", text).lower())
    return " ".join(_WORD.findall(folded))


@dataclass(frozen=True)
class Overlap:
    """How a reply overlaps one source text.

    ``containment``: share of the reply's n-grams found in the source (1.0: every phrase of the
    reply is the source's). ``coverage``: share of the source's n-grams found in the reply (1.0:
    the whole source is inside the reply). ``run``: the longest stretch of units the two share,
    starting at unit ``run_start`` of the reply (words in English, letters in Korean);
    ``run_quoted``: the reply has that run inside quotation marks.
    """

    containment: float
    coverage: float
    run: int
    run_start: int
    excerpt: str
    run_quoted: bool = False

    @property
    def opening(self) -> int:
        """The shared run's length when it starts the reply, else 0."""
        return self.run if self.run_start == 0 else 0


NO_OVERLAP = Overlap(0.0, 0.0, 0, 0, "")


def compare(reply: str, source: str, language: Language) -> Overlap:
    """How ``reply`` overlaps ``source``, both cut into ``language``'s units."""
    r, s = units(reply, language), units(source, language)
    if not r.tokens or not s.tokens:
        return NO_OVERLAP
    shared = len(r.grams & s.grams)
    if not shared:
        # No common n-gram: any shared run is shorter than n, below every threshold, and
        # not worth the search (most comparisons of a chat end here).
        return NO_OVERLAP
    containment, coverage = shared / len(r.grams), shared / len(s.grams)
    run, start = _longest_run(r.tokens, s.positions)
    excerpt = r.excerpt(start, run)
    return Overlap(containment, coverage, run, start, excerpt, r.all_quoted(start, run))


def _longest_run(a: tuple[str, ...], where: dict[str, tuple[int, ...]]) -> tuple[int, int]:
    """Length and start (in ``a``) of the longest run ``a`` shares with the text whose token
    positions are ``where``.

    Dynamic programming over positions of equal units only, so the cost follows the number of
    matching pairs, not the product of the lengths."""
    best, best_start = 0, 0
    previous: dict[int, int] = {}
    for i, unit in enumerate(a):
        current: dict[int, int] = {}
        for j in where.get(unit, ()):
            length = previous.get(j - 1, 0) + 1
            current[j] = length
            if length > best:
                best, best_start = length, i - length + 1
        previous = current
    return best, best_start


# --- decisions ---------------------------------------------------------------------------------
#
# Thresholds, from the 150-reply hand-written chats in benchmarks/data/longchat_{en,ko}.json
# (each reply compared with the twelve before it: what replies that copy nothing look like) and
# the bundled cards' example lines compared with each other:
#   English: largest containment 0.067, longest shared run 5 words, longest shared opening 3.
#   Korean:  largest containment 0.039, longest shared run 7 letters, longest shared opening 5.
# The thresholds sit well above those (no false alarm on natural replies) and well below what a
# copy looks like (the copied stage direction is a run of 20+ words).

COPY_CONTAINMENT = 0.5
"""Half of the reply's n-grams from one source: the reply is mostly that text, reworded."""
MIN_GRAMS = 3
"""Containment needs a reply of at least this many n-grams (6 words, 8 letters): on shorter
replies one shared phrase would be half the reply."""
COPY_RUN = {"en": 8, "ko": 16}
"""A shared run this long anywhere (8 words; 16 Hangul letters ≈ 5–6 Korean words) is a copied
sentence, not a shared phrase: natural replies share at most 5 words / 7 letters."""
COPY_OPENING = {"en": 6, "ko": 12}
"""A shared opening this long (6 words; 12 letters ≈ 4 Korean words): the issue's failure is
every reply opening with the greeting's or the last reply's first line. Natural replies share
openings of at most 3 words / 5 letters ("Ah, my dear Watson" is 4)."""
ECHO_CONTAINMENT = 0.5
"""Half of the reply's n-grams are the user's: the reply is mostly their message."""
ECHO_LEAD = {"en": 3, "ko": 8}
"""An echo at the start may follow a short lead-in ("Ah,", "죄송합니다만,")."""
ECHO_MIN_RUN = {"en": 5, "ko": 10}
"""…and must be at least this long: a reply and its prompt naturally share up to 4 words /
8 letters (a name, "the letter", "서방님을")."""
ECHO_USER_SHARE = 0.85
"""…and cover this share of the user's message: all of it but a word or an ending. Less would
catch a Korean answer that restates the question's topic before answering ("아버지를 아버지라
부르지 못하는 마음은 …" to "… 마음이 어떠하오?": 73% of it), which is how Korean answers."""
ECHO_SHORT_MIN = {"en": 3, "ko": 6}
"""A short message (under :data:`ECHO_MIN_RUN`) is an echo when the reply opens with all of
it (:data:`ECHO_WHOLE_SHARE`) and it has at least this many units: "특별 라떼는 뭐예요? 그건
비밀이에요" repeats an 8-letter question; "응" or "ok" said back is too short to tell from an
answer."""
ECHO_WHOLE_SHARE = 0.9
"""Later in the reply, an unquoted repeat is an echo only when it is (nearly) the whole
message: 홍길동 "repeated the question back inside his reply". Answering in the user's words
changes them ("you keep bees" → "I keep bees"), which breaks the run; quoting marks itself."""


def copy_reason(o: Overlap, language: Language, reply_grams: int) -> str | None:
    """Why overlap ``o`` counts as copying, or None (see the thresholds above)."""
    if o.opening >= COPY_OPENING[language]:
        return f"opens with the same {o.opening} {_unit(language)}"
    if o.run >= COPY_RUN[language]:
        return f"shares a run of {o.run} {_unit(language)}"
    if reply_grams >= MIN_GRAMS and o.containment >= COPY_CONTAINMENT:
        return f"{o.containment:.0%} of its phrases are the source's"
    return None


def echo_reason(o: Overlap, language: Language, reply_grams: int, user_units: int) -> str | None:
    """Why a reply with overlap ``o`` against the user's message is an echo, or None.

    Three forms: the reply opens (after a short lead-in) with most of the user's message, not
    in quotation marks; it repeats the whole message unquoted further on; or it is mostly the
    user's words. The user's words quoted in a longer answer are none of these: a quotation is
    marked as one, and the answer's own words dilute containment."""
    if (
        not o.run_quoted
        and o.run_start <= ECHO_LEAD[language]
        and o.run >= ECHO_MIN_RUN[language]
        and o.run >= ECHO_USER_SHARE * user_units
    ):
        return f"opens with the user's words ({o.run} {_unit(language)})"
    if (
        not o.run_quoted
        and o.run_start <= ECHO_LEAD[language]
        and o.run >= ECHO_SHORT_MIN[language]
        and o.run >= ECHO_WHOLE_SHARE * user_units
    ):
        return f"opens with the user's whole message ({o.run} {_unit(language)})"
    if (
        not o.run_quoted
        and o.run >= ECHO_MIN_RUN[language]
        and o.run >= ECHO_WHOLE_SHARE * user_units
    ):
        return f"repeats the user's whole message ({o.run} {_unit(language)})"
    if reply_grams >= MIN_GRAMS and o.containment >= ECHO_CONTAINMENT:
        return f"{o.containment:.0%} of its phrases are the user's"
    return None


def said_back_sentence(reply: str, user: str, language: Language) -> str | None:
    """The reply's first sentence when it is one of the user's sentences, whole, said back
    (at least :data:`ECHO_SHORT_MIN` units; speech marks around it change nothing: "You ask,
    '…'" is not the sentence alone): after the guards skip an echoed self-introduction, its next
    sentence ("고등학교 2학년이에요.") is the same echo going on."""
    first = next(iter(split_sentences(reply)), "")
    if not first:
        return None
    mine = normalized(first)
    if len(units(first, language).tokens) < ECHO_SHORT_MIN[language]:
        return None
    for sentence in split_sentences(user):
        if normalized(sentence) == mine:
            return first.strip()
    return None


def user_repeat_reason(
    reply: str, earlier: str, language: Language, reply_grams: int
) -> str | None:
    """Why ``reply`` repeats ``earlier``, a message of the user's before the one it answers, or
    None: it is mostly that message (:data:`COPY_CONTAINMENT` of its phrases), or one of its
    sentences is one of that message's, whole and unquoted (at least :data:`ECHO_MIN_RUN`
    units). The 1.5B answers 홍길동's user with their own question of four turns before.

    Narrower than :func:`copy_reason`: a character who remembers what the user said repeats
    some of their words ("you told me your sister Winifred lives in Ludlow"), which is recall,
    not a stuck model; a shared run alone is not enough. Natural replies (the 300 hand-written
    long-chat replies against the twelve user messages before each) share at most 6.7% of
    their phrases and no sentence with an earlier user message."""
    o = compare(reply, earlier, language)
    if not o.run or o.run_quoted:
        return None  # nothing shared, or "'…,' you said": a quotation marks itself as one
    if reply_grams >= MIN_GRAMS and o.containment >= COPY_CONTAINMENT:
        return f"{o.containment:.0%} of its phrases are that message's: “{o.excerpt[:160]}”"
    theirs = {normalized(s) for s in split_sentences(earlier)}
    for sentence in split_sentences(reply):
        mine = normalized(sentence)
        if mine in theirs and len(units(sentence, language).tokens) >= ECHO_MIN_RUN[language]:
            return f"says one of its sentences back: “{sentence.strip()[:160]}”"
    return None


def _unit(language: Language) -> str:
    return "letters" if language == "ko" else "words"
