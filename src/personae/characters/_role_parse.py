"""Read a free-text role ("retired Korean math teacher, ENFJ, Busan dialect") into parts."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from personae.characters._dialects import DIALECTS

_MBTI = re.compile(r"(?<![A-Za-z])([EI][NS][TF][JP])(?:-[AT])?(?![A-Za-z])", re.IGNORECASE)
_SPLIT = re.compile(r"[,;|/·，、]+")
_DIALECT_MARK = re.compile(
    r"dialect|accent|사투리|방언|말씨|말투|억양|서울말|표준어|standard korean", re.IGNORECASE
)
# The words that name the speech, taken out of a segment so the rest can still say who the
# persona is: "부산 사투리 쓰는 은퇴한 수학 선생님" is a retired math teacher.
_DIALECT_PHRASE = re.compile(
    r"(?:\S+\s+)?(?:사투리|방언|말씨|말투|억양)(?:를|을|로)?(?:\s*(?:쓰는|하는|쓰고|쓰며|써요))?"
    r"|서울말(?:을|로)?(?:\s*(?:쓰는|하는))?|표준어(?:를|로)?(?:\s*(?:쓰는|하는))?"
    r"|(?:(?:with|speaking|speaks|in)\s+)?(?:an?\s+)?(?:(?:thick|strong|heavy|broad)\s+)?"
    r"(?:[\w-]+\s+)?(?:dialect|accent)|(?:speaking\s+)?standard korean",
    re.IGNORECASE,
)
_FILLER = re.compile(r"\b(?:mbti|type|personality)\b|유형|성격", re.IGNORECASE)
# (key, pattern, English label, Korean label, register)
_ERAS: tuple[tuple[str, str, str, str, str], ...] = (
    (
        "joseon",
        r"조선(?!소|업|족|공)|한양|joseon|chosun|hanyang",
        "the Joseon era",
        "조선 시대",
        "historical",
    ),
    (
        "goryeo",
        r"고려 ?시대|고려(?=의| 말| 초)|goryeo|koryo",
        "the Goryeo era",
        "고려 시대",
        "historical",
    ),
    (
        "three-kingdoms",
        r"삼국 ?시대|신라|백제|고구려|silla|baekje|goguryeo",
        "the Three Kingdoms period",
        "삼국 시대",
        "historical",
    ),
    ("medieval", r"medieval|middle ages|중세", "the Middle Ages", "중세", "historical"),
    (
        "victorian",
        r"victorian|edwardian|빅토리아",
        "the Victorian era",
        "빅토리아 시대",
        "historical",
    ),
    ("colonial", r"일제|식민지|colonial", "the colonial period", "일제강점기", "modern"),
    ("future", r"미래|future|sci-?fi|22nd century", "the future", "먼 미래", "modern"),
)
_ERA_FILLER = re.compile(
    r"시대|말기|초기|중기|후기|\b(?:era|period|times|age|the|in|of)\b|[\s'-]", re.IGNORECASE
)
_DECADE = re.compile(r"(1[89][0-9]0|20[0-4]0)\s*(?:'?s\b|년대)")
_AGE_NUMBER = re.compile(
    r"(\d{1,3})\s*(?:-|\s)?(?:years?[- ]old|yo\b|살|세(?![기대계상]))", re.IGNORECASE
)
_AGE_DECADE_KO = re.compile(r"(?<![\d년])([1-9])0\s*대(?![학회표])")
_AGE_DECADE_EN = re.compile(r"\bin (?:his|her|their|my) ([1-9])0s\b", re.IGNORECASE)
_AGE_WORDS: tuple[tuple[str, str], ...] = (
    ("senior", r"retired|elderly|\bold\b|pensioner|은퇴|정년|퇴직|노인|할머니|할아버지|노년"),
    ("teen", r"teen|high[- ]school|고등학생|중학생|십\s?대|소년|소녀"),
    ("young", r"college student|university student|\byoung\b|대학생|청년|사회초년생"),
    ("middle", r"middle[- ]aged|중년"),
)
_RETIRED = re.compile(r"retired|former|\bex-|은퇴|정년|퇴직|전직", re.IGNORECASE)
_FEMALE = re.compile(
    r"\b(?:woman|women|female|girl|lady|grandmother|grandma|mother|wife|widow|she|her)\b"
    r"|여자|여성|할머니|아주머니|아줌마|아가씨|어머니|소녀|처녀|과부|여인|부인",
    re.IGNORECASE,
)
_MALE = re.compile(
    r"\b(?:man|men|male|boy|gentleman|grandfather|grandpa|father|husband|he|his)\b"
    r"|(?<!wo)(?<!hu)man\b|남자|남성|할아버지|아저씨|아버지|소년|총각|사내",
    re.IGNORECASE,
)
KOREAN_HINT = re.compile(r"korean|korea|seoul|busan|joseon|hanyang|jeju|한국", re.IGNORECASE)


@dataclass
class Era:
    key: str
    label_en: str
    label_ko: str
    register: str  # "modern" or "historical"


@dataclass
class RoleParts:
    """What a role description says, piece by piece."""

    text: str
    occupation: str = ""
    extras: list[str] = field(default_factory=list)
    mbti: str | None = None
    dialect: str | None = None
    dialect_named: bool = False  # said as speech ("Busan dialect"), not implied by a place
    era: Era | None = None
    age_group: str | None = None
    age: int | None = None
    gender: str | None = None
    retired: bool = False


def find_era(text: str) -> tuple[Era | None, str | None]:
    for key, pattern, label_en, label_ko, register in _ERAS:
        match = re.search(pattern, text, re.IGNORECASE)
        if match:
            return Era(key, label_en, label_ko, register), match.group(0)
    decade = _DECADE.search(text)
    if decade:
        year = decade.group(1)
        return Era(f"{year}s", f"the {year}s", f"{year}년대", "modern"), decade.group(0)
    return None, None


def _find_age(text: str) -> tuple[str | None, int | None]:
    number = _AGE_NUMBER.search(text)
    if number and 0 < int(number.group(1)) < 130:
        age = int(number.group(1))
        group = "teen" if age < 20 else "young" if age < 30 else "middle" if age < 60 else "senior"
        return group, age
    for pattern in (_AGE_DECADE_KO, _AGE_DECADE_EN):
        decade = pattern.search(text)
        if decade:
            tens = int(decade.group(1)) * 10
            group = "teen" if tens < 20 else "young" if tens < 30 else "middle"
            return ("senior" if tens >= 60 else group), None
    for group, words in _AGE_WORDS:
        if re.search(words, text, re.IGNORECASE):
            return group, None
    return None, None


def _dialect_in(segment: str) -> str | None:
    lowered = segment.lower()
    for key, dialect in DIALECTS.items():
        if any(word in lowered for word in dialect.keywords):
            return key
    return None


def parse_role(text: str) -> RoleParts:
    """Split ``text`` at commas and recognise MBTI, dialect, era, age and gender in it."""
    parts = RoleParts(text=text)
    kept: list[str] = []
    inferred: str | None = None
    for raw in _SPLIT.split(text):
        segment = raw.strip()
        if not segment:
            continue
        mbti = _MBTI.search(segment)
        if mbti and parts.mbti is None:
            parts.mbti = mbti.group(1).upper()
            segment = (segment[: mbti.start()] + segment[mbti.end() :]).strip()
            if not _FILLER.sub("", segment).strip(" :-()"):
                continue
        dialect = _dialect_in(segment)
        if _DIALECT_MARK.search(segment):
            if parts.dialect is None:
                # "표준어"/"서울말" name the style without a place keyword.
                parts.dialect = dialect or (
                    "seoul" if re.search("서울말|표준|standard", segment, re.IGNORECASE) else None
                )
                parts.dialect_named = parts.dialect is not None
            segment = " ".join(_DIALECT_PHRASE.sub(" ", segment).split())
            if not re.search(r"\w", segment):
                continue
        if dialect and inferred is None:
            inferred = dialect  # "Busan fisherman": the place implies the speech
        _, era_text = find_era(segment)
        if era_text is not None and not _ERA_FILLER.sub("", segment.replace(era_text, "")).strip():
            continue  # a segment that only names the era ("1980s", "조선 시대")
        kept.append(segment)
    parts.dialect = parts.dialect or inferred
    parts.era, _ = find_era(text)
    parts.age_group, parts.age = _find_age(text)
    parts.retired = bool(_RETIRED.search(text))
    female, male = _FEMALE.search(text), _MALE.search(text)
    if female and not male:
        parts.gender = "female"
    elif male and not female:
        parts.gender = "male"
    if kept:
        parts.occupation, parts.extras = kept[0], kept[1:]
    return parts
