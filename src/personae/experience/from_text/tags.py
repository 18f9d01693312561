"""Speech tags and action beats in the narration beside a quotation, English and Korean.

A *tag* names who speaks with a speech verb: after the quotation ("said Holmes", "Holmes
said", "remarked my companion", "he cried", "I answered"; ``하고 홈즈가 말했다``,
``라고 그가 대답했다``) or before it ("Holmes said, “…”"; ``홈즈는 “…”라고 말했다``). A *beat*
is an action whose subject is the speaker, in the same paragraph ("Holmes laughed. “…”").
What is found is a :class:`Mention` as written — a name, an epithet ("my companion", "the
inspector"), a pronoun or the narrator's "I" — for :mod:`.attribution` to resolve.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Kind = Literal["name", "pronoun", "narrator"]
Gender = Literal["m", "f"]


@dataclass(frozen=True, slots=True)
class Mention:
    """Who the narration names as the speaker: ``kind`` says how (a name or epithet, a
    pronoun, the narrator), ``name`` is the words as written, ``gender`` a pronoun's."""

    kind: Kind
    name: str
    gender: Gender | None = None
    beat: bool = False


def wordset(text: str) -> frozenset[str]:
    """The whitespace-separated words of ``text``."""
    return frozenset(text.split())


# --- English -------------------------------------------------------------------------------

_VERBS = sorted(
    wordset(
        "said says say asked asks cried cries remarked remarks answered answers replied replies "
        "observed observes continued continues exclaimed shouted whispered murmured muttered added "
        "returned responded repeated began begins interrupted explained suggested insisted "
        "protested retorted growled snapped called roared gasped sobbed panted groaned sighed "
        "laughed chuckled grumbled stammered pleaded urged demanded inquired enquired echoed "
        "agreed declared ejaculated thundered shrieked screamed hissed whimpered faltered "
        "persisted resumed concluded admitted confessed objected yelled howled bellowed "
        "wailed moaned sneered jeered smiled grinned"
    )
)
_VERB = r"(?:" + "|".join(sorted(set(_VERBS), key=len, reverse=True)) + r")"
# "broke in", "put in", "went on": only with their particle.
_VERB_PHRASE = rf"(?:broke\s+in|put\s+in|went\s+on|burst\s+out|broke\s+out|{_VERB})"
_TITLE = (
    r"(?:Mr|Mrs|Miss|Ms|Dr|Sir|Lady|Lord|Madame|Mme|Mister|Doctor|Inspector|Captain|"
    r"Colonel|Professor|Major|Sergeant|Count|Baron|King|Queen)\.?"
)
_CAP = r"(?:St\.|[A-Z][A-Za-z’'\-]+)"
_STOP = wordset(
    "I The Then But And So Now Yet Still It This That There Here What Why How When Where Who "
    "Yes No Oh Well Ah My Our His Her Your A An He She They We You If As At In On Of To For "
    "With Not Do Did Does Is Was Were Be Had Has Have Never Ever Perhaps Pray Very Only Just "
    "Good Come Look See Let Surely Possibly Indeed Quite Nothing Everything Some One Two Mind "
    "Dear Hum Ha Eh Sir Madam"
)
_NAME = rf"(?:{_TITLE}\s+)?{_CAP}(?:\s+{_CAP}){{0,2}}"
_DET = r"(?:the|our|my|his|her|their|your|this|that|a|an)"
_FILLER = (
    r"(?!(?:in|with|of|to|at|as|and|but|for|from|on|by|who|which|that|when|while|after|"
    r"before|then|again|once|\w+ly)\b)"
)
_EPITHET = rf"{_DET}(?:\s+{_FILLER}[A-Za-z][\w’'\-]*){{1,3}}"
_AGENT = rf"(?P<who>{_NAME}|{_EPITHET}|he|she|I|He|She)"
_ADVERB = r"(?:\w+ly\s+)?"

_AFTER_INVERTED = re.compile(rf"^[\s,—–\-]*{_VERB_PHRASE}\s+{_AGENT}\b")
_AFTER_PLAIN = re.compile(rf"^[\s,—–\-]*{_AGENT}\s+{_ADVERB}{_VERB_PHRASE}\b")
_BEFORE_START = r"(?:^|[.!?;]\s+|—\s*|\bthen\s+|\band\s+)"
_BEFORE_END = r"[^.!?“”\"]{0,80}?[,:—–]?\s*$"
_BEFORE = (
    re.compile(rf"{_BEFORE_START}{_AGENT}\s+{_ADVERB}{_VERB_PHRASE}{_BEFORE_END}"),
    re.compile(rf"{_BEFORE_START}{_VERB_PHRASE}\s+{_AGENT}{_BEFORE_END}"),
)
_BEAT = re.compile(rf"(?:^|[.!?;]\s+)(?:(?:Then|And|But|So|Now)\s+)?{_AGENT}\s+(?=[a-z])")
_NARRATION_END = re.compile(r"(?<!\bMr)(?<!\bMrs)(?<!\bMs)(?<!\bDr)(?<!\bSt)[.!?](?=\s|$)")


def _who(raw: str) -> Mention | None:
    who = " ".join(raw.split())
    low = who.lower()
    if low == "i":
        return Mention("narrator", "I")
    if low in ("he", "she"):
        return Mention("pronoun", low, "m" if low == "he" else "f")
    words = who.split()
    if who.endswith(("’s", "'s", "’", "s'")) and words[-1][:1].isupper():
        return None  # "said Miss Sutherland’s stepfather": not Miss Sutherland
    if not words[0][0].isupper():
        return Mention("name", who)  # an epithet: "my companion", "the inspector"
    if words[0].rstrip(".") in _STOP or words[-1] in _STOP:
        return None
    return Mention("name", who)


def _english_after(after: str) -> Mention | None:
    head = after[:160]
    for pattern in (_AFTER_INVERTED, _AFTER_PLAIN):
        match = pattern.match(head)
        if match:
            return _who(match.group("who"))
    return None


def _english_before(before: str) -> Mention | None:
    tail = before[-200:]
    for pattern in _BEFORE:
        match = pattern.search(tail)
        if match:
            return _who(match.group("who"))
    return None


def _english_beat(narration: str, *, last: bool) -> Mention | None:
    """The subject of the sentence of ``narration`` nearest the quotation: its last sentence
    (narration before) or its first (narration after)."""
    text = narration.strip()
    if not text:
        return None
    ends = [m.end() for m in _NARRATION_END.finditer(text)]
    if last:
        cut = [e for e in ends if e < len(text)]
        sentence = text[cut[-1] :] if cut else text
    else:
        sentence = text[: ends[0]] if ends else text
    match = _BEAT.match(sentence.strip())
    if not match:
        return None
    found = _who(match.group("who"))
    if found is None:
        return None
    return Mention(found.kind, found.name, found.gender, beat=True)


# --- Korean --------------------------------------------------------------------------------

_KO_VERB = (
    r"(?:말(?:을|씀을)?\s*(?:했|하였|한다|하며|하고|이었|꺼냈)|말씀하셨|물었|물어|묻는다|되물었|"
    r"대답했|대답하였|대답한다|답했|답하였|외쳤|외친다|소리쳤|소리를\s*질렀|부르짖었|"
    r"중얼거렸|중얼거린다|속삭였|속삭인다|덧붙였|이었다|투덜거렸|설명했|말했|"
    r"했다|하였다|한다|웃었|탄식했)"
)
_QUOTATIVE = r"(?:하고|이라고|라고|고|하며|라며|하면서|라면서|며)"
_KO_SUBJECT = re.compile(r"(?P<who>[가-힣]{1,8}?)(?:께서|이|가|은|는)(?=\s)")
_KO_AFTER = re.compile(rf"^\s*{_QUOTATIVE}?\s*(?P<clause>[^.!?“”\"「」]{{0,60}}?){_KO_VERB}")
_KO_BEFORE_TAIL = re.compile(rf"(?P<clause>[^.!?“”\"「」]{{0,80}}?)(?:{_KO_VERB}[^.!?]*[.:]?)?\s*$")
_KO_PRONOUNS: dict[str, Mention] = {
    "그": Mention("pronoun", "그", "m"),
    "그녀": Mention("pronoun", "그녀", "f"),
    "나": Mention("narrator", "나"),
    "내": Mention("narrator", "나"),
    "저": Mention("narrator", "나"),
    "제": Mention("narrator", "나"),
}
_KO_TITLES = wordset("부인 씨 선생 선생님 박사 경감 경위 양 군 님 여사 대령 대위 교수")
_KO_NOT_NAME = wordset(
    "이것 그것 저것 이 그 저 목소리 말 대답 소리 사람 사람들 누구 무엇 것 이야기 얼굴 눈 손 "
    "모두 우리 그들 그때 그러자 이번 다음 순간 때 일 문 방"
)


def _korean_who(clause: str) -> Mention | None:
    # The last word with a subject particle before the verb is the speaker: "홈즈가", "그녀는".
    found = list(_KO_SUBJECT.finditer(clause + " "))
    for match in reversed(found):
        who = match.group("who")
        if who in _KO_TITLES:  # "허드슨 부인이", "김 선생이": the name before the title
            before = clause[: match.start()].split()
            if before and re.fullmatch(r"[가-힣]{1,6}", before[-1]):
                return Mention("name", f"{before[-1]} {who}")
        if who in _KO_PRONOUNS:
            return _KO_PRONOUNS[who]
        if who not in _KO_NOT_NAME and len(who) >= 2:
            return Mention("name", who)
    return None


def _korean_after(after: str) -> Mention | None:
    match = _KO_AFTER.match(after[:120])
    return _korean_who(match.group("clause")) if match else None


def _korean_before(before: str, after: str) -> Mention | None:
    """``홈즈는 “…”라고 말했다`` (the subject before, the verb after) or ``홈즈가 말했다.
    “…”`` (both before)."""
    tail = before[-120:]
    if not tail.strip():
        return None
    verb_after = re.match(rf"^\s*{_QUOTATIVE}\s*{_KO_VERB}", after[:40]) is not None
    verb_before = re.search(rf"{_KO_VERB}[^.!?“”]*[.:]?\s*$", tail) is not None
    if not (verb_after or verb_before):
        return None
    match = _KO_BEFORE_TAIL.search(tail)
    return _korean_who(match.group("clause")) if match else None


def _korean_beat(narration: str, *, last: bool) -> Mention | None:
    parts = [p for p in re.split(r"(?<=[.!?])\s+", narration.strip()) if p]
    if not parts:
        return None
    who = _korean_who(parts[-1] if last else parts[0])
    return Mention(who.kind, who.name, who.gender, beat=True) if who else None


# --- both ----------------------------------------------------------------------------------


def tag_after(after: str, language: str) -> Mention | None:
    """The speaker a tag right after a quotation names ("said Holmes", ``하고 그가 말했다``)."""
    return _korean_after(after) if language == "ko" else _english_after(after)


def tag_before(before: str, after: str, language: str) -> Mention | None:
    """The speaker a tag right before a quotation names ("Holmes said, “…”";
    ``홈즈는 “…”라고 말했다``, which needs the verb ``after`` it)."""
    return _korean_before(before, after) if language == "ko" else _english_before(before)


def beat(narration: str, language: str, *, last: bool) -> Mention | None:
    """The subject of the narration's sentence nearest the quotation (an action beat)."""
    if language == "ko":
        return _korean_beat(narration, last=last)
    return _english_beat(narration, last=last)


__all__ = ["Gender", "Kind", "Mention", "beat", "tag_after", "tag_before", "wordset"]
