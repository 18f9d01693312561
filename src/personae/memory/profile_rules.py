"""Rules that find facts the user states about themselves, in English and Korean chat messages.

Precision over recall. A rule fires only on a clause that *starts* with the user as subject
("I …", "my …"; in Korean "저는 …" or no subject at all), that is not a question, not negated,
not hypothetical and not reported speech, and whose value passes a shape check: a capitalised
name, a place with capitals, a job from a list, an object that is not a pronoun. Text in quotes,
brackets or ``*actions*`` is skipped: in a role-play chat that is usually the user's character
speaking, not the user. :func:`find` returns ``(label, value, language)`` triples.

Rule tables are written compactly: each pattern is anchored at both ends, a space stands for
``\\s+``, and a pattern with neither a ``v`` group nor a closing ``$`` gets `` (?P<v>.+)``
appended.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator
from functools import partial

Pair = tuple[str, str]
Handler = Callable[[re.Match[str]], list[Pair]]
MAX_CHARS = 8000  # a pasted document is not a chat message; its tail is not read


def _words(text: str) -> list[str]:
    return text.split()


def _set(text: str) -> frozenset[str]:
    return frozenset(_words(text))


def _compile(
    rules: list[tuple[str, Handler]], flags: int = 0
) -> list[tuple[re.Pattern[str], Handler]]:
    out = []
    for spec, handler in rules:
        pattern = spec.replace(" ", r"\s+")
        if "(?P<v>" not in pattern and not pattern.endswith("$"):
            pattern += r"\s+(?P<v>.+)"
        out.append((re.compile(f"^{pattern.removesuffix('$')}$", flags), handler))
    return out


def _one(label: str, fn: Callable[[str], str | None]) -> Handler:
    def handle(m: re.Match[str]) -> list[Pair]:
        value = fn(m.group("v"))
        return [(label, value)] if value else []

    return handle


# -- sentences (both languages) -----------------------------------------------------------------

_LAUGH = re.compile(r"[ㅋㅎㅠㅜ]{2,}|[~♡♥]+|\^\^")  # before NFKC, which rewrites these jamo
_ASIDE = re.compile(r"\"[^\"\n]*\"|\*[^*\n]*\*|\([^)\n]*\)|\[[^\]\n]*\]|「[^」\n]*」|『[^』\n]*』")
_BREAK = re.compile(r"(?<=[.!?。])\s+|[\n。]+")
_ABBREV = re.compile(r"(?:^|\s)(?:mr|mrs|ms|dr|st|jr|sr|mt|prof|no|vs|etc|ave)\.$", re.I)
_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"'})


def sentences(text: str) -> Iterator[tuple[str, bool]]:
    """``(sentence without its closing punctuation, is_question)`` pairs."""
    if len(text) > MAX_CHARS:  # keep whole sentences: a cut one could end in half a word
        text = text[: max(text.rfind(end, 0, MAX_CHARS) for end in ".!?。\n") + 1]
    text = unicodedata.normalize("NFKC", _LAUGH.sub("\n", text)).translate(_QUOTES)
    merged: list[str] = []
    for part in _BREAK.split(_ASIDE.sub("\n", text)):
        if merged and _ABBREV.search(merged[-1]):
            merged[-1] += " " + part
        else:
            merged.append(part)
    for raw in merged:
        sentence = " ".join(raw.split())
        body = sentence.rstrip(".!?…, ")
        if body:
            yield body, "?" in sentence[len(body) :]


# -- English ------------------------------------------------------------------------------------

_EN_LEAD = re.compile(
    r"^(?:(?:well|oh|ah|so|and|but|also|actually|honestly|btw|anyway|anyways|yes|yeah|yep|no|"
    r"nope|ok|okay|um+|uh+|hm+|hi|hello|hey|lol|haha+|sure|by the way|to be honest|tbh|"
    r"fun fact)\b[\s,.!:-]*)+",
    re.I,
)
_EN_SPLIT = re.compile(
    r"\s*[;:]\s+|\s+[-–—]+\s+"
    r"|\s*,\s*(?:(?:and|but|so|plus|because|though|although|while|since)\s+)?"
    r"(?=(?:i|i'm|im|my|call me)\b)"
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
_EN_SKIP = re.compile(  # hypotheticals, hedges and reported speech: the whole sentence goes
    r"\b(?:if|unless|suppose|imagine|pretend|pretending|wish|would|could|might|maybe|perhaps|"
    r"whether|said|says|told|tells|asked|think|thinks|thought|believes|claims|guess|kidding|"
    r"joking|lying|dream|dreamt|dreamed|roleplay|role-play|\w+'d)\b",
    re.I,
)
_NOT_NAMES = _set(
    "sorry fine good great ok okay tired bored hungry thirsty sleepy here back home ready done "
    "busy sick ill happy sad angry upset lost new old free alone single married divorced engaged "
    "sure right wrong late early excited nervous scared afraid glad well better worse cold hot "
    "warm not just so very really also actually still always never only going coming leaving "
    "trying looking working living thinking feeling doing getting the a an and but or no yes "
    "yeah hi hello hey in on at from with to for of by your you his her their our me she he "
    "they it this that what who secret unknown private irrelevant important complicated funny "
    "boring english korean american british canadian australian irish scottish welsh french "
    "german spanish italian dutch swedish polish russian chinese japanese vietnamese thai "
    "filipino indian mexican brazilian african asian european latino hispanic jewish muslim "
    "christian catholic buddhist hindu atheist gay lesbian bi straight trans human ai bot robot "
    "god vegan vegetarian monday tuesday wednesday thursday friday saturday sunday january "
    "february march april may june july august september october november december today "
    "tomorrow yesterday tonight mom mum dad sir madam boss"
)
_JOBS = _set(
    "nurse doctor physician surgeon dentist pharmacist teacher professor lecturer tutor student "
    "engineer developer programmer designer architect lawyer attorney accountant banker chef cook "
    "baker barista waiter waitress bartender cashier clerk manager librarian scientist researcher "
    "journalist writer author editor artist painter musician photographer actor actress farmer "
    "firefighter officer electrician plumber carpenter mechanic pilot driver paramedic therapist "
    "psychologist veterinarian vet consultant analyst secretary receptionist cleaner soldier "
    "translator interpreter salesperson entrepreneur freelancer technician intern caregiver "
    "midwife hairdresser barber butcher tailor janitor postman courier coach athlete dancer "
    "singer streamer nanny housewife homemaker retiree pensioner undergraduate pupil"
)
PET = (
    "dog|cat|puppy|kitten|hamster|rabbit|bunny|parrot|bird|budgie|goldfish|fish|turtle|tortoise|"
    "snake|lizard|gecko|horse|pony|ferret|guinea pig|hedgehog|rat|mouse"
)
FAMILY = (
    "mother|mom|mum|father|dad|sister|brother|sibling|son|daughter|kid|child|baby|grandmother|"
    "grandma|granny|grandfather|grandpa|aunt|auntie|uncle|cousin|niece|nephew|twin|stepmother|"
    "stepfather|stepsister|stepbrother"
)
PARTNER = "wife|husband|girlfriend|boyfriend|partner|fianc[eé]e?|spouse"
KIN = (
    r"(?:(?:little|younger|older|big|baby|twin|elder|eldest|youngest|oldest|half)\s+)?"
    rf"(?:{PET}|{FAMILY}|{PARTNER})"
)
_BAD_START = _set(
    "it it's its this that these those them him her he she they we us you your yours u ur me "
    "myself yourself everything everyone everybody anything anyone nothing something someone one "
    "how when what where why who whom which whether here there so too very all some such with "
    "around along for at on in out our ours"
)
_BAD_ANY = _set("me you your yours u ur i i'm im myself yourself")
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
    (rf"{_IM} (?P<v>\d{{1,3}})(?:\s*(?:years?|yrs?)(?: old)?|\s*y/?o)?", _one("age", _age)),
    (r"i (?:just )?turned (?P<v>\d{1,3})(?: (?:years old|today|yesterday|last \w+))?",
     _one("age", _age)),
    (r"my age is (?P<v>\d{1,3})", _one("age", _age)),
    ("(?:my )?(?:birthday|bday|b-day)(?:'s| is)(?: on)?", _one("birthday", _birthday)),
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
    (r"my (?:all-time )?favou?rite(?: [\w-]+){0,2}? (?:is|are)", _one("likes", _thing)),
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
    (_IM, _one("name", _strict)),
], re.I)
# fmt: on


def english(sentence: str) -> list[Pair]:
    if _EN_SKIP.search(sentence):
        return []
    out: list[Pair] = []
    for part in _EN_SPLIT.split(sentence):
        clause = _EN_LEAD.sub("", part.strip()).strip(" ,")
        if not clause or _EN_NEG.search(_EN_STAND.sub("", clause)):
            continue
        for pattern, handler in _EN_RULES:
            found = pattern.match(clause)
            if found and (facts := handler(found)):
                out += facts
                break
    return out


# -- Korean -------------------------------------------------------------------------------------

_KO_LEAD = re.compile(
    r"^(음+|아+|어+|네+|넵|예|응+|그리고|근데|그런데|사실|참고로|아무튼|암튼|그냥|저기요?|"
    r"안녕하세요|안녕|반가워요|반갑습니다|저는|전|나는|난|제가|내가|저도|나도|저|나|"
    r"요즘(?:은|에는)?|지금(?:은)?|현재(?:는)?|요새|원래|평소에(?:는)?|일단)[,.!\s]+"
)
_KO_FIRST_PERSON = _set("저는 전 나는 난 제가 내가 저도 나도 저 나")
_KO_CONN = re.compile(  # clause ends that join two statements; "살고 있어요" is one
    r"(지만|는데|은데|인데|거든요|거든|[았었였랐]고|하고|이고|있고|살고|우고|니고|해서|라서|"
    r"어서|아서|여서)[,\s]+(?!있|싶|계)"
)
_KO_JOIN = re.compile(r"\s*,\s*|\s+(?:그리고|근데|그런데|하지만|그래도|그래서)\s+")
_KO_NEG = re.compile(
    r"(?:^|\s)(?:안|못)\s|않|없|아니(?:에요|예요|야|요|다|고|라|죠|었)|별로|전혀|말고"
)
_KO_SKIP = re.compile(  # conditionals, hearsay ("-대요", "-다고 했어요"), dreams and role-play
    r"만약|만일|\S(?:다면|라면|으면|었으면|았으면|였으면)(?=[\s,.]|$)|[대래]요(?:\s|$)|다고\s|"
    r"라고\s*(?:했|말했|들었|하더|그러)|더라|답니다|랍니다|척\b|꿈|역할|캐릭터|상상"
)
_KO_BAD = _set(
    "너 너를 널 당신 그쪽 자기 이거 그거 저거 이것 그것 저것 여기 거기 저기 이곳 그곳 뭐 무엇 "
    "누구 어디 언제 그 이 저 다 모두 전부 아무거나 제 내 우리 저희 나의 저의 비밀 친구 동생 "
    "언니 누나 형 오빠 엄마 아빠 남편 아내 그녀 걔 얘 쟤 사람들 다들 가족 집"
)
_KO_ADV = _set(
    "정말 진짜 너무 아주 엄청 많이 제일 가장 완전 되게 특히 무척 꽤 좀 참 정말로 진심으로 늘 "
    "항상 매우 워낙 은근히 엄청나게"
)
_KO_JOBS = _set(
    "간호사 의사 치과의사 약사 선생님 교사 교수 강사 학생 대학생 고등학생 중학생 초등학생 "
    "대학원생 회사원 직장인 공무원 개발자 프로그래머 엔지니어 디자이너 건축가 변호사 회계사 "
    "요리사 셰프 제빵사 바리스타 기자 작가 편집자 화가 음악가 가수 배우 사진작가 농부 소방관 "
    "경찰 경찰관 군인 정비사 조종사 운전기사 간병인 상담사 수의사 컨설턴트 연구원 과학자 "
    "비서 번역가 통역사 사업가 자영업자 프리랜서 인턴 미용사 승무원 주부 은행원 유튜버 "
    "트레이너 운동선수 사회복지사 물리치료사 알바생"
)
_KO_ADJ = _set("작은 좋은 많은 높은 깊은 넓은 짧은 얇은 맑은 젊은 같은 낮은 밝은 검은")
_KO_KEEP = _set("고양이 거북이 오이 아이 어린이 원숭이 놀이 종이 나이 길이 요가 휴가 작가 화가")
_PET_KO = (
    "강아지|반려견|반려묘|고양이|햄스터|토끼|앵무새|물고기|금붕어|거북이|도마뱀|고슴도치|개|새|뱀"
)
_FAM_KO = (
    "여동생|남동생|동생|언니|누나|형|오빠|엄마|아빠|어머니|아버지|할머니|할아버지|딸|아들|이모|"
    "고모|외삼촌|삼촌|사촌|조카|쌍둥이"
)
_PARTNER_KO = "남편|아내|와이프|남자친구|여자친구|남친|여친|애인|약혼자|약혼녀"
_HAVE_KO = (
    r"(?:있어요|있습니다|있어|있고|있는데요?|있거든요|키워요|키웁니다|키워|키우고(?:\s*있어요?)?|"
    r"키우는데요?)"
)
_LIVE_KO = (
    r"(?:살아요|살아|삽니다|살고\s*있(?:어요|습니다|어|고)|살고요|살고|사는데요?|"
    r"살거든요|살아서)"
)
_WORK_KO = (
    r"(?:일해요|일합니다|일해|일하고\s*있(?:어요|습니다|어|고)|일하고요|일하고|"
    r"일하는데요?|일하거든요|근무해요|근무합니다|근무하고\s*있어요|근무하고|근무해)"
)
_COP_KO = r"(?:이에요|이야|입니다|이고|이요|이죠|이거든요|예요|야|이랍니다|이라서|인데요?|이다|임)?"
_OBJ, _SUBJ = ("을", "를", "은", "는", "도"), ("이", "가", "은", "는", "도")


def _feelings() -> dict[str, tuple[str, tuple[str, ...]]]:
    """Sentence-final verbs of liking, disliking and fearing, with the particles their object
    may carry: 커피를 좋아해요 (object), 거미가 무서워요 (subject of an adjective)."""
    ha = _set("해요 합니다 해 한다 하고 하는데 하는데요 하거든요 하거든 함 하구요 하고요 해용")
    table: dict[str, tuple[str, tuple[str, ...]]] = {}
    for label, stems in (("likes", "좋아 사랑"), ("dislikes", "싫어"), ("fear", "무서워 두려워")):
        table |= {stem + end: (label, _OBJ) for stem in stems.split() for end in ha}
    table |= dict.fromkeys(_set("즐겨요 즐깁니다 즐겨 즐기고 즐기는데"), ("likes", _OBJ))
    dislike = "싫어요 싫어 싫습니다 싫거든요 싫고 싫은데 싫음 질색이에요 질색이야 질색입니다"
    fear = "무서워요 무서워 무섭습니다 무섭거든요 무섭고 무서운데 두려워요 두려워 두렵습니다"
    table |= dict.fromkeys(dislike.split(), ("dislikes", _SUBJ))
    return table | dict.fromkeys(fear.split(), ("fear", _SUBJ))


_FEELINGS = _feelings()


def _hangul(ch: str) -> bool:
    return "\uac00" <= ch <= "\ud7a3"


def _batchim(ch: str) -> bool:
    return _hangul(ch) and (ord(ch) - 0xAC00) % 28 != 0


def _copula(rest: str) -> str | None:
    """``아나예요`` → ``아나``, ``지훈이에요`` → ``지훈`` (이- after a final consonant only)."""
    rest = rest.strip()
    for endings, batchim in (
        ("입니다 인데요 인데 임", None),
        ("이거든요 이랍니다 이에요 이예요 이라서 이야 이고 이요 이죠 이다", True),
        ("거든요 예요 에요 야 죠", False),
    ):
        for e in endings.split():
            stem = rest[: -len(e)].strip()
            if not rest.endswith(e) or not stem:
                continue
            if batchim is None or not _hangul(stem[-1]) or _batchim(stem[-1]) == batchim:
                return stem
    return None


def _strip_particle(token: str, particles: tuple[str, ...]) -> str:
    for p in particles:
        stem = token[: -len(p)]
        if not token.endswith(p) or not stem or token in _KO_KEEP:
            continue
        if _hangul(stem[-1]) and p in "을은이를는가" and _batchim(stem[-1]) != (p in "을은이"):
            continue  # 을/은/이 follow a final consonant, 를/는/가 a vowel
        if p == "도" and (len(token) < 3 or re.search(r"[주원기청라상북남인포지]도$", token)):
            continue  # 포도, 제주도, 인도
        return stem
    return token


def _ko_value(value: str | None, max_tokens: int = 3) -> str | None:
    """A short value with no pronoun, no person and no other subject in it: "친구는 부산" means
    the friend is from Busan."""
    tokens = (value or "").strip(" .,!?~").split()
    if not 1 <= len(tokens) <= max_tokens or any(t in _KO_BAD for t in tokens):
        return None
    if any(_subject(t) for t in tokens[:-1]):
        return None
    joined = " ".join(tokens)
    return joined if len(joined) <= 60 and re.fullmatch(r"[\w\s·'&.-]+", joined) else None


def _subject(token: str) -> bool:
    if token in _KO_ADJ or token.endswith(("하는", "있는")):
        return False
    return token.endswith(("은", "는", "이", "가", "께서", "도", "랑", "하고", "와", "과", "한테"))


def _modifier(token: str) -> bool:
    """An adjective or relative clause before the object (매운, 작은, 좋아하는), not a noun with
    a particle, which would mean someone else is the subject (친구는 커피를 좋아해요)."""
    if token in _KO_ADJ or token.endswith(("하는", "있는")):
        return True
    return not token.endswith(tuple("은는이가도를을에랑와과의") + ("하고", "한테", "에게"))


def _ko_object(tokens: list[str], particles: tuple[str, ...]) -> str | None:
    if not 1 <= len(tokens) <= 2:
        return None
    *mods, head = tokens
    if head in ("걸", "것을", "거", "게", "것", "건"):  # 등산하는 걸 좋아해요
        ok = len(mods) == 1 and mods[0].endswith(("는", "은", "던"))
        return _ko_value(f"{mods[0]} 것") if ok else None
    if not all(_modifier(m) for m in mods):
        return None
    return _ko_value(" ".join([*mods, _strip_particle(head, particles)]), 2)


_TENS = {w: 10 * i for i, w in enumerate(_words("열 스물 서른 마흔 쉰 예순 일흔 여든 아흔"), 1)}
_UNITS = {w: i for i, w in enumerate(_words("한 두 세 네 다섯 여섯 일곱 여덟 아홉"), 1)}
_SINO = {w: i for i, w in enumerate("일이삼사오육칠팔구", 1)}


def _ko_number(text: str) -> int | None:
    """29, 스물아홉, 이십구 → 29."""
    text = text.replace(" ", "")
    units = _UNITS | {"하나": 1, "둘": 2, "셋": 3, "넷": 4}
    if text.isdigit():
        return int(text)
    for word, value in (_TENS | {"스무": 20}).items():
        if text.startswith(word):
            rest = text[len(word) :]
            return value + units[rest] if rest in units else (None if rest else value)
    found = re.fullmatch(r"([이삼사오육칠팔구])?십([일이삼사오육칠팔구])?", text)
    if found:
        return _SINO.get(found.group(1) or "일", 1) * 10 + _SINO.get(found.group(2) or "", 0)
    return units.get(text)


def _ko_name(value: str | None) -> str | None:
    if value is None or value in _KO_JOBS or not _ko_value(value, 2):
        return None
    ok = all(re.fullmatch(r"[가-힣A-Za-z][가-힣A-Za-z'-]{0,14}", w) for w in value.split())
    return value if ok else None


def _quoted(token: str) -> str | None:
    """``아나라고`` → ``아나``, ``지훈이라고`` → ``지훈``."""
    if token.endswith("이라고") and len(token) > 3 and _batchim(token[-4]):
        return token[:-3]
    if token.endswith("라고") and len(token) > 2 and not _batchim(token[-3]):
        return token[:-2]
    return None


def _ko_age(m: re.Match[str]) -> list[Pair]:
    n = _ko_number(m.group("v"))
    return [("age", str(n))] if n is not None and 1 <= n <= 120 else []


def _ko_kin(m: re.Match[str]) -> list[Pair]:
    rel, groups = m.group("rel"), m.groupdict()
    label = "pet" if re.fullmatch(_PET_KO, rel) else "family"
    label = "partner" if re.fullmatch(_PARTNER_KO, rel) else label
    if groups.get("name"):  # 초코라는 강아지; a name ending in 이 keeps it (수이라는)
        name = _ko_name(
            groups["name"] + ("이" if groups["i"] and not _batchim(groups["name"][-1]) else "")
        )
    elif groups.get("v"):  # 강아지 이름은 초코예요
        name = _ko_name(_copula(groups["v"]))
    else:  # 강아지를 키워요, 고양이 두 마리를 키워요
        return [(label, f"{rel} {groups['n']} {groups['unit']}" if groups.get("n") else rel)]
    return [(label, f"{rel} {name}")] if name else []


def _ko_job_as(m: re.Match[str]) -> list[Pair]:
    job = _ko_value(m.group("v"), 2)
    if job is None or job in ("재택", "혼자"):
        return []
    where = _ko_value(m.group("wp"))
    return [("job", job), *([("workplace", where)] if where else [])]


def _ko_attend(m: re.Match[str]) -> list[Pair]:
    where = _ko_value(m.group("v"))
    if where is None or where in ("학교", "회사", "대학", "대학교", "대학원", "학원", "직장"):
        return []  # "I go to school / to work" says little
    if where.endswith(("학교", "대학", "대학원", "학원")) or re.search(r"\S\S[대고중]$", where):
        return [("school", where)]
    work = (
        "회사",
        "은행",
        "병원",
        "연구소",
        "공장",
        "센터",
        "그룹",
        "전자",
        "사무소",
        "청",
        "카페",
    )
    return [("workplace", where)] if where.endswith(work) else []


def _ko_job(value: str) -> str | None:
    job = _copula(value)
    return _ko_value(job, 2) if job and job.split()[-1] in _KO_JOBS else None


def _day(v: str) -> str:
    return re.sub(r"\s*월\s*", "월 ", v)


_KIN_KO = f"(?P<rel>{_PET_KO}|{_FAM_KO}|{_PARTNER_KO})"
_BORN = "태어났(?:어요|습니다|어|고|는데)"
_GREW = f"(?:태어나(?:서|고) )?(?:자랐(?:어요|습니다|어|고)|자라서|컸(?:어요|어|습니다|고)|{_BORN})"


def _cop(max_tokens: int) -> Callable[[str], str | None]:
    return lambda v: _ko_value(_copula(v), max_tokens)


# fmt: off
_KO_RULES = _compile([
    (r"(?:(?:제|내|저의|나의)\s*)?이름(?:은|이) (?P<v>\S+(?: \S+)?)",
     _one("name", lambda v: _ko_name(_copula(v)))),
    (r"(?P<v>\S+)\s*(?:불러\s*주세요|불러\s*줘|불러요|부르세요)",
     _one("name", lambda v: _ko_name(_quoted(v)))),
    (r"(?:(?:제|내) )?(?:(?:나이는|나이가|올해|만) )*"
     r"(?P<v>\d{1,3}|[가-힣]{1,5})\s*(?:살|세)" + _COP_KO,
     _ko_age),
    (r"(?:(?:제|내) )?생일(?:은|이) (?:바로 )?(?P<v>\d{1,2}\s*월\s*\d{1,2}\s*일)" + _COP_KO,
     _one("birthday", _day)),
    (rf"(?P<v>\d{{1,2}}\s*월\s*\d{{1,2}}\s*일)(?:에|날)? {_BORN}", _one("birthday", _day)),
    (r"(?P<v>.+?)\s*출신" + _COP_KO, _one("hometown", _ko_value)),
    (rf"(?P<v>.+?)에서 {_GREW}", _one("hometown", _ko_value)),
    (r"(?:(?:제|내) )?고향(?:은|이)", _one("hometown", _cop(3))),
    (rf"(?P<v>.+?)(?:에서|에) {_LIVE_KO}", _one("lives_in", _ko_value)),
    (rf"(?P<v>\S+(?:시|도|구|동|읍|군)) {_LIVE_KO}", _one("lives_in", _ko_value)),
    (rf"(?:(?P<wp>.+?)에서 )?(?P<v>\S+?(?: \S+?)?)\s*(?:으로|로) {_WORK_KO}", _ko_job_as),
    (rf"(?P<v>.+?)에서 {_WORK_KO}", _one("workplace", _ko_value)),
    (r"(?P<v>.+?)에 (?:다녀요|다닙니다|다녀|다니고(?:\s*있어요?)?|다니는데요?|다니거든요)",
     _ko_attend),
    (r"(?:(?:제|내) )?직업(?:은|이)", _one("job", _cop(2))),
    (r"(?:(?:제|내) )?취미(?:는|가)", _one("hobby", _cop(3))),
    (r"(?:(?:제일|가장) )?좋아하는 \S+(?:은|는)", _one("likes", _cop(2))),
    (r"(?:(?:제일|가장) )?싫어하는 \S+(?:은|는)", _one("dislikes", _cop(2))),
    (rf"(?:(?:우리|제|내|저희) )?{_KIN_KO}(?:의)?\s*이름(?:은|이) (?P<v>\S+)", _ko_kin),
    (rf"(?P<name>\S+?)(?P<i>이)?라는 {_KIN_KO}(?:가|이|를|을)? {_HAVE_KO}$", _ko_kin),
    (rf"{_KIN_KO}(?:가|이|를|을|도)? "
     r"(?:(?P<n>한|두|세|네|다섯|\d+)\s*(?P<unit>마리|명)(?:를|가|이)? )?"
     rf"{_HAVE_KO}$", _ko_kin),
    (r"(?P<v>.+?)\s*(?:에\s*)?(?:알레르기|알러지)(?:가|는|도|이)?\s*(?:있어요|있습니다|있어|있거든요|"
     r"있고|있는데요?|있어서|있음|예요|에요|입니다|이에요)",
     _one("allergy", lambda v: _ko_object(v.split(), ("에",)))),
    (r"(?P<v>.+ (?:계획|예정))(?:이에요|입니다|이야|이고|이거든요|인데요?|이다|임)",
     _one("plan", partial(_ko_value, max_tokens=8))),
    (r"(?P<v>\S+(?: \S+)?)", _one("job", _ko_job)),
])
_KO_CALLED = _compile([  # "저는 아나라고 해요" only with the first person said
    (r"(?P<v>\S+)\s*(?:해요|합니다|해|한다|하고요|해용)",
     _one("name", lambda v: _ko_name(_quoted(v)))),
])
# fmt: on


def _feeling(clause: str) -> list[Pair]:
    tokens = clause.split()
    if len(tokens) < 2 or tokens[-1] not in _FEELINGS:
        return []
    label, particles = _FEELINGS[tokens[-1]]
    value = _ko_object([t for t in tokens[:-1] if t not in _KO_ADV], particles)
    return [(label, value)] if value else []


def korean(sentence: str) -> list[Pair]:
    if _KO_SKIP.search(sentence):
        return []
    out: list[Pair] = []
    for part in _KO_JOIN.split(_KO_CONN.sub("\\1\n", sentence)):
        for clause in part.split("\n"):
            clause, first_person = clause.strip(), False
            while lead := _KO_LEAD.match(clause):
                first_person |= lead.group(1) in _KO_FIRST_PERSON
                clause = clause[lead.end() :]
            if not clause or _KO_NEG.search(clause):
                continue
            facts = _feeling(clause)
            for pattern, handler in (_KO_CALLED if first_person else []) + _KO_RULES:
                if facts:
                    break
                if found := pattern.match(clause):
                    facts = handler(found)
            out += facts
    return out


def find(text: str, language: str | None) -> list[tuple[str, str, str]]:
    """Every ``(label, value, language)`` the rules find in ``text``. ``language`` None runs
    both rule sets: each matches only its own script."""
    out: list[tuple[str, str, str]] = []
    for sentence, question in sentences(text):
        if question:
            continue
        if language in (None, "en"):
            out += [(label, value, "en") for label, value in english(sentence)]
        if language in (None, "ko"):
            out += [(label, value, "ko") for label, value in korean(sentence)]
    return out
