"""English rules for facts the user states about themselves; :mod:`profile_rules` says what
counts as one and runs these through :func:`english` on each sentence."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import partial

from personae.memory.profile_rules_base import Handler, Pair, _compile, _one, _set
from personae.memory.profile_rules_en_refer import resolve_references
from personae.memory.profile_rules_en_words import _JOBS, _NOT_NAMES, FAMILY, KIN, PARTNER, PET

__all__ = ["FAMILY", "KIN", "PARTNER", "PET", "english"]

_EN_LEAD = re.compile(
    r"^(?:(?:well|oh|ah|so|and|but|also|actually|honestly|btw|anyway|anyways|yes|yeah|yep|no|"
    r"nope|ok|okay|um+|uh+|hm+|hi|hello|hey|lol|haha+|sure|by the way|to be honest|tbh|"
    r"fun fact|do you know|you know|you see|i must (?:admit|say|confess|tell you)|"
    r"i have to (?:admit|say)|i confess|as it happens|in fact|besides|mind you|truth be told|"
    r"funnily enough|at last|speaking of [^,]+)\b[\s,.!:-]*)+",
    re.I,
)
_EN_SPLIT = re.compile(
    r"\s*[;:]\s+|\s+[-–—]+\s+"
    r"|\s*,\s*(?:(?:and|but|so|plus|because|though|although|while|since|for)\s+)?"
    r"(?=(?:i|i'm|im|my|call me)\b)"
    # not before an apposition: "the Pickwick Papers, my favourite book in the world, …"
    r"(?!my (?:own |very )?(?:all-time )?favou?rite [\w-]+(?: (?!(?:is|are|was)\b)[\w-]+){0,3}?"
    r"\s*(?:,|$))"
    r"|\s+(?:and|but|so|plus|because|though|although|while|whereas|since)\s+(?=(?:i|im|my)\b)"
    r"|,?\s+but\s+",
    re.I,
)
_EN_NEG = re.compile(
    r"\b(?:not|never|no|none|nothing|nobody|neither|nor|hardly|barely|\w+n't|cannot|dont|"
    r"doesnt|didnt|isnt|arent|wasnt|cant|wont|aint)\b",
    re.I,
)
_EN_STAND = re.compile(r"\b(?:can't|cannot|can not|cant)\s+stand\b", re.I)
_EN_SKIP = re.compile(  # hypotheticals, hedges, hearsay: first clause drops the sentence
    r"\b(?:if|unless|suppose|imagine|pretend|pretending|wish|would|could|might|maybe|perhaps|"
    r"whether|said|says|told|tells|asked|think|thinks|thought|believes|claims|guess|kidding|"
    r"joking|lying|dream|dreamt|dreamed|roleplay|role-play|\w+'d)\b",
    re.I,
)
_BAD_START = _set(
    "it it's its this that these those them him her he she they we us you your yours u ur me "
    "myself yourself everything everyone everybody anything anyone nothing something someone one "
    "how when what where why who whom which whether here there so too very all some such with "
    "around along for at on in out our ours his their theirs"
)
_BAD_ANY = _set("me you your yours u ur i i'm im myself yourself")
_ANAPHORS = _set("creatures things ones stuff same beasts animals brutes thing one lot")
_BAD_TO = _set("be think say know see hear believe imagine tell ask let help talk chat call hope")
_THING_CUT = re.compile(
    r"\s*(?:[,(]|\s-\s|\b(?:because|cause|since|when|whenever|which|who|that|but|if|though|"
    r"although|so much|a lot|lots|very much|too much|more than|the most|best|too|as well|either|"
    r"anyway|haha+|lol|right now|these days|nowadays|sometimes)\b).*$",
    re.I,
)
_CAP = r"(?:[A-Z\u00c0-\u00de][\w'.&-]*|[\uac00-\ud7a3]+)"
_PLACE = re.compile(
    rf"(?:[Tt]he\s+)?{_CAP}(?:\s+(?:(?:of|upon|on|de|del|la|le|du|am|an|der|y)\s+)?{_CAP})*"
    rf"(?:,\s*{_CAP}(?:\s+{_CAP})*)?"
)
_ORG_CUT = re.compile(r"\s+(?:as|in|near|since|for|because|but|and|where|which|who|that|with)\b")
_JOB_CUT = re.compile(
    r"\s+(?:at|for|in|with|since|because|but|and|who|which|where|on|during|when|now|by)\b.*|,.*",
    re.I,
)
_NAME_CUT = re.compile(
    r"\s*(?:,|\b(?:and|but|btw|by the way|here|from|nice to|though|lol|haha+|lmao)\b).*",
    re.I,
)
_NAME_WORD = re.compile(r"(?:Mr|Mrs|Ms|Dr|Sir|Miss|Lady|Lord)\.?|[^\W\d_]+(?:[-'][^\W\d_]+)*")
_MONTH = (
    r"(?:january|february|march|april|may|june|july|august|september|october|november|december|"
    r"jan|feb|mar|apr|jun|jul|aug|sept?|oct|nov|dec)\.?"
)
_DAY = r"(?:[12]\d|3[01]|0?[1-9])(?:st|nd|rd|th)?"
_DATE = re.compile(
    rf"(?:the\s+)?(?:{_DAY}\s+(?:of\s+)?{_MONTH}|{_MONTH}\s+(?:the\s+)?{_DAY})"
    r"(?:,?\s+(?:19|20)\d\d)?",
    re.I,
)
_WHEN = re.compile(r"\s+(?:next \w+|this \w+|in \w+(?: \w+)?|soon|tomorrow)$", re.I)


def _name(raw: str, *, strict: bool) -> str | None:
    raw = _NAME_CUT.sub("", raw).strip(" .!'\"")
    words = raw.split()
    if not 1 <= len(words) <= 3:
        return None
    for w in words:
        if not _NAME_WORD.fullmatch(w) or w.lower() in _NOT_NAMES:
            return None
        if strict and (w[0].islower() or (w.isupper() and len(w) > 3)):
            return None
    return raw.title() if raw.islower() else raw


_strict, _loose = partial(_name, strict=True), partial(_name, strict=False)


def _thing(raw: str, *, max_words: int = 6) -> str | None:
    value = " ".join(_THING_CUT.sub("", raw).strip(" .,!?;:'\"").split())
    words = [w.lower().strip(".,!'") for w in value.split()]
    if not words or len(words) > max_words or len(value) > 60 or not re.search(r"\w", value):
        return None
    if words[0] in _BAD_START or words[1:2] in (["way"], ["idea"], ["fact"]):
        return None
    if words[0] == "the" and words[-1] in _ANAPHORS:  # "terrified of the creatures": which?
        return None
    if any(w in _BAD_ANY for w in words):
        return None
    if words[0] == "to" and (len(words) < 2 or words[1] in _BAD_TO or len(words) > 4):
        return None
    return re.sub(r"\bmy\b", "their", value, flags=re.I)


def _place(raw: str, *, inner: bool = False) -> str | None:
    found = _PLACE.match(raw.strip())
    if found is None and inner:  # "a small flat in Leeds"
        found = re.search(rf"\bin\s+({_PLACE.pattern})", raw)
    value = found.group(found.lastindex or 0).rstrip(" .,'") if found else ""
    if not value or value.lower() in ("work", "home", "school", "here", "there", "i", "a"):
        return None
    return value if len(value.split()) <= 6 else None


def _org(raw: str) -> str | None:
    value = _place(raw)
    if value is None:  # "a hospital", "a small bakery"
        lower = re.match(r"(?:a|an)\s+[a-z][a-z'-]*(?:\s+[a-z][a-z'-]*){0,2}", raw.strip())
        value = _ORG_CUT.split(lower.group(0))[0] if lower else None
    if value is None or value.lower() in ("a living", "a while", "a bit", "a lot", "a change"):
        return None
    return value


def _job(listed: bool) -> Handler:
    """A job (from the list only, when ``listed``) and the place after "at"/"for"."""

    def handle(m: re.Match[str]) -> list[Pair]:
        raw = m.group("v")
        head = re.sub(r"^(?:an?|the)\s+", "", _JOB_CUT.sub("", raw).strip(" ."), flags=re.I)
        words = head.split()
        if not 1 <= len(words) <= (3 if listed else 4) or words[0].lower() in _BAD_START:
            return []
        if not all(re.fullmatch(r"[A-Za-z][A-Za-z'-]*", w) for w in words):
            return []
        if listed and (words[-1].lower() not in _JOBS or any(w[0].isupper() for w in words)):
            return []
        at = re.search(r"\s(?:at|for)\s+(.+)$", raw)
        where = _org(at.group(1)) if at else None
        school = words[-1].lower() in ("student", "pupil")
        return [("job", head), *([("school" if school else "workplace", where)] if where else [])]

    return handle


def _kin_label(rel: str) -> str:
    base = re.sub(
        r"^(?:little|younger|older|big|baby|twin|elder|eldest|youngest|oldest|half)\s+", "", rel
    )
    if re.fullmatch(PET, base):
        return "pet"
    return "partner" if re.fullmatch(PARTNER, base) else "family"


def _kin(how: str) -> Handler:
    """ "my sister is called X" (``named``), "my sister is X" (``is``: a capitalised name and
    nothing after it), "my sister X …" (``apposition``: the capitalised words after it)."""

    def handle(m: re.Match[str]) -> list[Pair]:
        rel, raw = " ".join(m.group("rel").lower().split()), m.group("v")
        if how == "apposition":
            words = []
            for w in raw.split()[:3]:
                if _strict(w) != w:
                    break
                words.append(w)
            name = " ".join(words)
        else:
            name = _name(raw, strict=how == "is") or ""
            if how == "is" and len(raw.split()) > len(name.split()):
                name = ""
        return [(_kin_label(rel), f"{rel} {name}")] if name else []

    return handle


def _kin_have(m: re.Match[str]) -> list[Pair]:
    count, typed = m.group("n").lower(), " ".join(m.group("rel").lower().split())
    rel = typed if re.fullmatch(KIN, typed) else re.sub(r"e?s$", "", typed)
    name = _loose(m.group("v")) if m.group("v") else None
    if not re.fullmatch(KIN, rel) or (m.group("v") and not name):
        return []
    if count in ("a", "an", "one"):
        return [(_kin_label(rel), f"{rel} {name}" if name else rel)]
    return [] if name else [(_kin_label(rel), f"{count} {typed}")]


def _age(raw: str) -> str | None:
    return raw if 1 <= int(raw) <= 120 else None


def _birthday(raw: str) -> str | None:
    found = _DATE.match(raw)
    if not found or raw[found.end() :][:1] not in ("", ",", ";", " "):
        return None
    return re.sub(r"^the\s+", "", " ".join(found.group(0).split()), flags=re.I)


def _workplace(m: re.Match[str]) -> list[Pair]:
    where = _org(m.group("v"))
    job = re.search(r"\sas\s+(?P<v>.+)$", m.group("v"))
    return [("workplace", where), *(_job(False)(job) if job else [])] if where else []


def _school(named: bool) -> Callable[[str], str | None]:
    def value(raw: str) -> str | None:
        where = _place(raw)
        school = r"\b(?:School|University|College|Academy|Institute|Uni|High)\b"
        return where if where and (not named or re.search(school, where)) else None

    return value


def _third_person(verb: str) -> str:
    """tune → tunes, teach → teaches, carry → carries."""
    if re.search(r"[^aeiou]y$", verb):
        return verb[:-1] + "ies"
    return verb + ("es" if re.search(r"(?:s|sh|ch|x|z|o)$", verb) else "s")


def _living(raw: str) -> str | None:
    """ "I tune pianos for a living" → "tunes pianos for a living"."""
    words = raw.lower().split()
    if not 2 <= len(words) <= 3 or words[0] in _BAD_TO or words[0] in ("do", "work"):
        return None
    if any(w in _BAD_ANY or w in _BAD_START for w in words[1:]):
        return None
    return " ".join([_third_person(words[0]), *words[1:], "for a living"])


def _rank_in_family(raw: str) -> str | None:
    """ "the eldest of nine children" → "eldest of nine children"."""
    found = re.fullmatch(
        r"(?:the )?(?P<v>(?:eldest|oldest|youngest|middle|second|third|only) "
        r"(?:child |one |son |daughter )?of (?:\w+) (?:children|kids|siblings|brothers|sisters))"
        r"(?: .*)?",
        raw,
        re.I,
    )
    return found.group("v").lower() if found else None


def _group(raw: str) -> str | None:
    """ "the bell-ringing band at St Mary's" → "the bell-ringing band"."""
    found = re.match(
        r"(?:the |a |an )?(?P<v>(?:[\w-]+ ){0,2}(?:band|club|choir|team|society|"
        r"orchestra|troupe|league|circle))\b",
        raw,
        re.I,
    )
    return found.group("v") if found else None


_COLOURS = (
    "red|orange|yellow|green|blue|purple|violet|pink|brown|black|white|grey|gray|gold|silver|"
    "lavender|lilac|teal|navy|maroon|crimson|scarlet|turquoise|beige|cream|indigo"
)
_FAVOURED = (
    "book|novel|film|movie|song|band|album|play|opera|show|series|game|author|writer|poet|"
    "painter|singer|composer|dish|food|drink|flower|season|place|city|team|sport"
)


_PLAYED = _set(
    "piano guitar violin viola cello bass drums flute clarinet saxophone sax trumpet harp ukulele "
    "keyboard tennis football soccer basketball baseball volleyball golf chess badminton hockey "
    "rugby cricket games poker cards go baduk minecraft"
)


def _hobby(m: re.Match[str]) -> list[Pair]:
    """ "I collect stamps"; "I play" only an instrument, a sport or games ("I play the fool")."""
    verb, thing = m.group("verb").lower(), _thing(m.group("v"))
    words = (thing or "").split()
    if verb == "play":  # up to the instrument or game: "tennis every weekend" → "tennis"
        played = [i for i, w in enumerate(words[:3]) if w.lower() in _PLAYED]
        words = words[: played[0] + 1] if played else []
    return [("hobby", f"{verb}ing {' '.join(words)}")] if 1 <= len(words) <= 3 else []


def _plan(raw: str) -> str | None:
    value = _THING_CUT.sub("", raw).strip(" .")
    words = value.lower().split()
    bad = len(words) < 2 or len(words) > 9 or words[1] in _BAD_TO
    return None if bad or any(w in _BAD_ANY for w in words) else value


def _move(raw: str) -> str | None:
    where = _place(raw)
    when = _WHEN.search(raw[len(where) :]) if where and raw.startswith(where) else None
    return f"to move to {where}{when.group(0) if when else ''}" if where else None


_IM = r"i(?:'m| am|m)"
_ADV = (
    r"(?:(?:really|also|absolutely|just|totally|truly|genuinely|do|so|still|actually|honestly|"
    r"personally|definitely|seriously|always|especially|quite|kinda|deeply|secretly) )*"
)
_SEVERE = r"(?:an? )?(?:(?:severe|serious|bad|mild|slight) )?"
_HAVE_KIN = r"i (?:also )?(?:have|have got|got) (?P<n>an?|one|two|three|four|five|\d) "
# fmt: off
_EN_RULES = _compile([
    ("(?:my|the) name(?:'s| is)", _one("name", _loose)),
    ("(?:(?:you can|you may|please|just|everyone|people|friends) )*calls? me",
     _one("name", _strict)),
    (rf"{_IM} (?P<v>\d{{1,3}})(?:\s*(?:years?|yrs?)(?: old| of age)?|\s*y/?o)?",
     _one("age", _age)),
    (r"i (?:just )?turned (?P<v>\d{1,3})(?: (?:years old|today|yesterday|last \w+))?",
     _one("age", _age)),
    (r"my age is (?P<v>\d{1,3})", _one("age", _age)),
    ("(?:my )?(?:birthday|bday|b-day)(?:'s| is| falls)(?: on)?", _one("birthday", _birthday)),
    ("i was born on", _one("birthday", _birthday)),
    (rf"{_IM} (?:originally |actually )?from", _one("hometown", _place)),
    ("i (?:originally )?come from", _one("hometown", _place)),
    ("i (?:grew up|was (?:born and raised|born|raised)) in", _one("hometown", _place)),
    ("my hometown is", _one("hometown", _place)),
    (rf"i {_ADV}(?:live|reside) in", _one("lives_in", partial(_place, inner=True))),
    (rf"{_IM} (?:currently |now )?(?:living|based) in",
     _one("lives_in", partial(_place, inner=True))),
    ("i (?:just |recently )?moved to", _one("lives_in", _place)),
    (rf"i {_ADV}work as", _job(False)),
    (rf"{_IM} (?:currently |now )?(?:working|employed) as", _job(False)),
    ("my (?:profession|occupation) is", _job(False)),
    ("my job is", _job(True)),
    (rf"i {_ADV}work (?:at|for)", _workplace),
    (rf"{_IM} (?:currently |now )?working (?:at|for)", _workplace),
    ("i (?:currently )?study at", _one("school", _school(False))),
    (rf"{_IM} (?:currently )?(?:studying (?:\w+ ){{0,2}}?at|enrolled at)",
     _one("school", _school(False))),
    ("i (?:go to|attend)", _one("school", _school(True))),
    (rf"{_IM} (?:an? )?(?P<v>vegetarian|vegan|pescatarian|left-handed|lactose intolerant)",
     _one("other", str.lower)),
    (rf"{_IM} an?", _job(True)),
    (rf"(?:my|our) (?P<rel>{KIN})(?:'s name is| is called| is named| goes by)", _kin("named")),
    (rf"(?:my|our) (?P<rel>{KIN}) is", _kin("is")),
    (rf"(?:my|our) (?P<rel>{KIN}),?", _kin("apposition")),
    (rf"{_HAVE_KIN}(?P<rel>{KIN}(?:e?s)?)(?: (?:called|named) (?P<v>[^,]+?))?"
     r"(?: (?:who|which|that|and)\b.*)?", _kin_have),
    (rf"{_IM} (?:happily )?married to", _one("partner", _strict)),
    (rf"i {_ADV}(?:love|like|adore|enjoy)", _one("likes", _thing)),
    (rf"{_IM} {_ADV}(?:a )?(?:big |huge |great )?fan of", _one("likes", _thing)),
    (rf"{_IM} {_ADV}into", _one("likes", _thing)),
    (r"my (?:own |very )?(?:all-time )?favou?rite(?: [\w-]+){0,2}? (?:is|are)",
     _one("likes", _thing)),
    (rf"i {_ADV}(?:hate|dislike|detest|loathe|despise|(?:can't|cannot|can not|cant) stand)",
     _one("dislikes", _thing)),
    (rf"{_IM} {_ADV}(?:very |severely |deathly |highly |mildly |slightly )?allergic to",
     _one("allergy", _thing)),
    (rf"i have {_SEVERE}allerg(?:y|ies) to", _one("allergy", _thing)),
    (rf"i have {_SEVERE}(?P<v>[\w-]+(?: [\w-]+)?) allerg(?:y|ies)", _one("allergy", _thing)),
    (rf"{_IM} {_ADV}(?:afraid|scared|terrified|frightened|petrified) of", _one("fear", _thing)),
    (r"i have (?:an? )?(?:\w+ )?(?:fear|phobia) of", _one("fear", _thing)),
    (rf"i {_ADV}fear", _one("fear", _thing)),
    ("my (?:favou?rite )?hobb(?:y|ies) (?:is|are|include)", _one("hobby", _thing)),
    (rf"i {_ADV}(?P<verb>play|collect)", _hobby),
    (rf"(?:i {_ADV}plan|{_IM} {_ADV}planning) (?P<v>(?:to|on) .+)", _one("plan", _plan)),
    ("my plan is (?P<v>to .+)", _one("plan", _plan)),
    (rf"{_IM} (?:moving|relocating) to", _one("plan", _move)),
    (rf"i {_ADV}(?P<v>[a-z]+(?: [a-z]+){{1,2}}) for a living", _one("job", _living)),
    (r"i(?:'ve| have) (?:been|worked as) an?", _job(True)),
    (rf"{_IM} the", _one("family", _rank_in_family)),
    (rf"{_IM} (?:one of|a member of|in)", _one("hobby", _group)),
    (r"(?:i|we)(?:'ve| have)? (?:\w+ )?(?:taken|rented|found|bought) (?:an? |two |three |some |"
     r"the )?(?:\w+ )?(?:rooms?|flat|apartment|house|cottage|lodgings) (?:in|on|at)",
     _one("lives_in", _place)),
    (r"(?:i|we)(?:'ve| have) decided (?P<v>to .+)", _one("plan", _plan)),
    (_IM, _one("name", _strict)),
], re.I)
# Found anywhere in a clause, when no rule above matched it at its start.
_EN_INSIDE = [
    (re.compile(rf"\b(?:my|our) (?P<rel>{KIN}),? (?P<v>[A-Z][\w'-]+(?: [A-Z][\w'-]+)?)"),
     _kin("apposition")),
    (re.compile(rf"(?P<v>(?:the |The )?[A-Z][\w']*(?: (?:[A-Z][\w']*|of|the|and|in|on))*),? "
                rf"(?:which is )?my (?:own )?(?:very )?favou?rite (?:{_FAVOURED})\b"),
     _one("likes", _thing)),
    (re.compile(rf"(?P<v>(?:[a-z]+ )?(?:{_COLOURS})),? which (?:is|was) my (?:own )?favou?rite "
                r"colou?r\b", re.I),
     _one("likes", _thing)),
]
# "His name is Pilchard" names the pet or relative the message last mentioned.
_EN_MENTION = re.compile(rf"\b(?:my|our) (?P<rel>{KIN})\b|\b(?P<engaged>{_IM} engaged)\b", re.I)
_EN_PRONOUN_NAME = re.compile(
    r"^(?P<pronoun>his|her|its|their) name(?:'s| is) (?P<v>.+)$"
    r"|^(?P<pronoun2>he|she|it)(?:'s| is) (?:called|named) (?P<v2>.+)$",
    re.I,
)
_MALE = _set("brother father dad son husband boyfriend uncle nephew grandfather grandpa "
             "stepfather stepbrother fiancé fiance")
_FEMALE = _set("sister mother mom mum daughter wife girlfriend aunt auntie niece grandmother "
               "grandma granny stepmother stepsister fiancée fiancee")
# fmt: on


def _named_by_pronoun(clause: str, kin: str | None) -> list[Pair]:
    found = _EN_PRONOUN_NAME.match(clause)
    if found is None or kin is None:
        return []
    pronoun = (found.group("pronoun") or found.group("pronoun2")).lower()
    base = kin.split()[-1]
    if (pronoun in ("her", "she") and base in _MALE) or (
        pronoun in ("his", "he") and base in _FEMALE
    ):
        return []
    value = found.group("v") or found.group("v2")
    matched = re.match(rf"(?P<rel>{re.escape(kin)}) (?P<v>.+)", f"{kin} {value}")
    return _kin("named")(matched) if matched else []


def english(sentence: str, mentioned: list[str] | None = None, earlier: str = "") -> list[Pair]:
    """The facts in one sentence. ``mentioned`` carries, from sentence to sentence of one
    message, the relatives and pets it spoke of ("my dog …"), so that a later "His name is
    Pilchard" names the dog; ``earlier`` is the message before the sentence, for what "their
    stings" are (:mod:`profile_rules_en_refer`)."""
    sentence = resolve_references(sentence, earlier)
    kin = mentioned[-1] if mentioned else None
    if mentioned is not None:
        for m in _EN_MENTION.finditer(sentence):
            mentioned.append(
                " ".join(m.group("rel").lower().split()) if m.group("rel") else "fiancée"
            )
    out: list[Pair] = []
    for i, part in enumerate(_EN_SPLIT.split(sentence)):
        # A hypothetical or hearsay opening ("If I had a dog, …") covers the whole sentence; a
        # later clause ("…, and my sister asks whether …") drops only itself.
        if _EN_SKIP.search(part):
            if i == 0:
                return []
            continue
        clause = _EN_LEAD.sub("", part.strip()).strip(" ,")
        if not clause or _EN_NEG.search(_EN_STAND.sub("", clause)):
            continue
        facts = _named_by_pronoun(clause, kin)
        for pattern, handler in _EN_RULES:
            if facts:
                break
            if found := pattern.match(clause):
                facts = handler(found)
        for pattern, handler in _EN_INSIDE:
            if facts:
                break
            if found := pattern.search(clause):
                facts = handler(found)
        out += facts
    return out
