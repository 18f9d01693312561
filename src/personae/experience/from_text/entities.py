"""People, places and things that recur in a book, found by rules, for the card's lorebook.

English: capitalised names (with titles: "Mrs. Hudson", "Lord St. Simon") counted where they
are not just the first word of a sentence, and kept when the lower-case word is rarer than the
name ("Well" opens sentences; "Baker Street" is a name). Korean: proper nouns from kiwipiepy
when it is installed (optional), and the speakers the extractor found. Each entity comes with
a few short sentences of the book that mention it, for the model (or the fallback) to
describe it from.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from personae.experience.from_text.names import Cast, name_key
from personae.experience.from_text.tags import wordset

MAX_ENTITIES = 12
MAX_SNIPPET = 220
_CAP = r"(?:St\.\s+)?[A-Z](?:[a-z]+[A-Z])?[a-z’'\-]+"  # "St. Simon", "McCarthy"
_NAME = re.compile(
    r"(?<![\w’'])(?:(?:Mr|Mrs|Miss|Dr|Sir|Lady|Lord|Inspector|Colonel|Captain)\.?\s+)?"
    rf"{_CAP}(?:\s+(?:of\s+|de\s+)?{_CAP}){{0,3}}"
)
_FEMALE = ("Mrs", "Miss", "Lady", "Mrs.")
_ABBREVIATION = re.compile(r"\b(?:Mr|Mrs|Dr|St|Mme|Messrs)\.$")
_COMMON = wordset(
    "I The A An And But Or So Then There Here What Why How When Where Who Which While This That "
    "These Those It Its He She His Her They We You Your My Our Yes No Oh Well Ah Now Yet Still "
    "If As At In On Of To For With Not Do Did Is Was Be Had Has Have Never Perhaps Pray Very "
    "Only Just Good Come Look See Let Mr Mrs Miss Dr Sir Lady Lord God Heaven Monday Tuesday "
    "Wednesday Thursday Friday Saturday Sunday January February March April May June July "
    "August September October November December English French German Doctor Madam Chapter "
    "Project Gutenberg Adventure Adventures One Two Three Four Five Six Seven Eight Nine Ten "
    "Holy Street Road Square Lane House Hall Mister Majesty Highness Gutenberg Gutenberg-tm"
)
_PLACE_WORDS = wordset(
    "Street Road Square Lane Hall House Court Yard Bridge Station Hotel Inn Park Abbey Manor "
    "Place Terrace Gardens Avenue Row Hill Cross Valley Grange Farm Castle Tower Wharf Dock "
    "Church Chapel London Paris England America 거리 마을 저택 궁 성 역"
)
_PLACE_BEFORE = re.compile(r"\b(?:in|at|to|from|near|into|towards|through)\s+$")
_SENTENCE = re.compile(r"[^.!?\n]*(?:[.!?]|$)")
_KO_PROPER = "NNP"


@dataclass(slots=True)
class Entity:
    """A recurring name: what it is called (``keys``: the name and its shorter forms), a guess
    at its kind (person, place, thing), how often it appears, and sentences mentioning it."""

    name: str
    keys: list[str]
    kind: str
    count: int
    snippets: list[str] = field(default_factory=list)


def _sentence_initial(text: str, start: int) -> bool:
    before = text[max(0, start - 4) : start].rstrip(" “\"'‘(—\n\t")
    return not before or before[-1] in ".!?:;"


def _english(text: str, cast: Cast) -> tuple[Counter[str], dict[str, int]]:
    counts: Counter[str] = Counter()
    places: dict[str, int] = defaultdict(int)
    for match in _NAME.finditer(text):
        name = " ".join(match.group(0).split())
        name = re.sub(r"[’']s?$", "", name)  # "Holmes’", "Watson's"
        words = name.split()
        if len(words) > 1 and words[0] in _COMMON and words[0].rstrip(".") not in _TITLES:
            name = " ".join(words[1:])  # "Then Holmes" → "Holmes"
            words = words[1:]
        if len(words) == 1 and (words[0] in _COMMON or _sentence_initial(text, match.start())):
            continue
        if cast.is_character(name):
            continue
        counts[name] += 1
        if _PLACE_BEFORE.search(text[max(0, match.start() - 12) : match.start()]):
            places[name] += 1
    lower = Counter(w.lower() for w in re.findall(r"\b[a-z][a-z’'\-]+\b", text))
    for name in list(counts):
        if len(name.split()) == 1 and lower[name.lower()] > counts[name] / 2:
            del counts[name]
    return counts, places


def _korean(text: str, speakers: Iterable[str]) -> Counter[str]:
    counts: Counter[str] = Counter()
    try:
        from kiwipiepy import Kiwi
    except ImportError:
        kiwi = None
    else:
        kiwi = Kiwi()
    if kiwi is not None:
        for token in kiwi.tokenize(text[:2_000_000]):
            if token.tag == _KO_PROPER and len(token.form) >= 2:
                counts[token.form] += 1
    for name in speakers:
        if name not in counts:
            counts[name] = len(re.findall(re.escape(name), text))
    return counts


def _merge(counts: Counter[str]) -> dict[str, tuple[int, list[str]]]:
    """One entity for a name and its shorter forms ("Irene Adler", "Adler", "Miss Adler"),
    under the form of several words seen most often."""
    longest = sorted(counts, key=lambda n: (-len(n.split()), -counts[n]))
    merged: dict[str, tuple[int, list[str]]] = {}
    owner: dict[str, str] = {}
    for name in longest:
        last = name.split()[-1]
        head = owner.get(last) if last not in _PLACE_WORDS else None
        # "Mrs. Rucastle" is not "Mr. Rucastle"; "Miss Hunter" may be "Violet Hunter".
        clash = head is not None and (name.startswith(_FEMALE) != head.startswith(_FEMALE))
        if head is not None and not (clash and head.split()[0].rstrip(".") in _TITLES):
            total, keys = merged[head]
            merged[head] = (total + counts[name], [*keys, name])
            continue
        merged[name] = (counts[name], [name])
        owner.setdefault(last, name)
    return merged


def _sentence_around(text: str, start: int, end: int) -> str:
    """The sentence of ``text`` that holds ``start:end`` (abbreviations such as "Mr." do not
    end one), from at most 300 characters either side."""
    lo = max(0, start - 300)
    begin = lo
    for match in re.finditer(r"[.!?][”’\"]?\s+|\n\s*\n", text[lo:start]):
        if not _ABBREVIATION.search(text[lo : lo + match.start() + 1]):
            begin = lo + match.end()
    stop = min(len(text), end + 300)
    finish = stop
    for match in re.finditer(r"[.!?][”’\"]?(?=\s)|\n\s*\n", text[end:stop]):
        if not _ABBREVIATION.search(text[: end + match.end()][-6:]):
            finish = end + match.end()
            break
    return " ".join(text[begin:finish].split()).strip(' “”"‘’')


def _snippets(text: str, keys: list[str], limit: int = 3) -> list[str]:
    out: list[str] = []
    pattern = re.compile("|".join(re.escape(k) for k in sorted(keys, key=len, reverse=True)))
    for match in pattern.finditer(text):
        snippet = _sentence_around(text, match.start(), match.end())
        if 20 <= len(snippet) <= MAX_SNIPPET and snippet not in out:
            out.append(snippet)
            if len(out) >= limit:
                break
    return out


def recurring_entities(
    text: str, cast: Cast, speakers: Iterable[str] = (), *, limit: int = MAX_ENTITIES
) -> list[Entity]:
    """The names that recur most in ``text`` (the character and the narrator aside), at most
    ``limit``, each with its kind and up to three sentences that mention it."""
    speakers = [s for s in speakers if s not in (cast.character, cast.narrator)]
    if cast.language == "ko":
        counts, places = _korean(text, speakers), dict[str, int]()
    else:
        counts, places = _english(text, cast)
    narrator = name_key(cast.narrator)
    counts = Counter(
        {
            n: c
            for n, c in counts.items()
            if c >= 3 and not cast.is_character(n) and name_key(n) != narrator
        }
    )
    people = set(speakers)
    entities: list[Entity] = []
    for name, (total, keys) in sorted(_merge(counts).items(), key=lambda kv: -kv[1][0]):
        words = set(name.split())
        placed = sum(places.get(k, 0) for k in keys)
        if words & _PLACE_WORDS or placed > 0.4 * total:
            kind = "place"
        elif any(k in people for k in keys) or name.split()[0].rstrip(".") in _TITLES:
            kind = "person"
        else:
            kind = "person" if cast.gender(name) else "thing"
        short = [k for k in keys if k != name]
        entities.append(Entity(name, [name, *short], kind, total, _snippets(text, keys)))
        if len(entities) >= limit:
            break
    return entities


_TITLES = wordset("Mr Mrs Miss Dr Sir Lady Lord Inspector Colonel Captain")

__all__ = ["Entity", "MAX_ENTITIES", "recurring_entities"]
