"""English role words in Korean, for a Korean card made from an English role line.

"retired Korean math teacher, ENFJ, Busan dialect" asks for a Busan-dialect speaker, so the card
is Korean; its description and example lines name the occupation, and "math teacher이다" in a
Korean card is code-switching the character then copies. English and Korean both put modifiers
before the noun, so a word-by-word glossary is enough for these short phrases ("retired math
teacher" → "은퇴한 수학 교사"; "fisherman from Busan" → "부산 출신 어부"). A phrase with a word the
glossary does not know gives None, and the card keeps the English phrase as written.
"""

from __future__ import annotations

import re

# Longest first when looked up: "taxi driver" before "driver".
# fmt: off
_GLOSSARY = {
    "math teacher": "수학 교사", "high school": "고등학교", "middle school": "중학교",
    "elementary school": "초등학교", "primary school": "초등학교", "taxi driver": "택시 기사",
    "cab driver": "택시 기사", "bus driver": "버스 기사", "police officer": "경찰관",
    "office worker": "회사원", "software engineer": "소프트웨어 엔지니어", "lighthouse keeper":
    "등대지기", "security guard": "경비원", "restaurant owner": "식당 주인", "cafe owner":
    "카페 사장", "shop owner": "가게 주인", "market vendor": "시장 상인", "street vendor": "노점상",
    "teacher": "교사", "professor": "교수", "doctor": "의사", "nurse": "간호사", "fisherman":
    "어부", "farmer": "농부", "driver": "운전기사", "cook": "요리사", "chef": "요리사", "baker":
    "제빵사", "shopkeeper": "가게 주인", "grocer": "식료품점 주인", "blacksmith": "대장장이",
    "carpenter": "목수", "tailor": "재단사", "barber": "이발사", "hairdresser": "미용사",
    "policeman": "경찰관", "soldier": "군인", "sailor": "선원", "pilot": "조종사", "engineer":
    "엔지니어", "programmer": "프로그래머", "developer": "개발자", "lawyer": "변호사", "judge":
    "판사", "librarian": "사서", "writer": "작가", "novelist": "소설가", "poet": "시인",
    "painter": "화가", "artist": "예술가", "musician": "음악가", "singer": "가수", "actor": "배우",
    "actress": "배우", "student": "학생", "clerk": "직원", "banker": "은행원", "accountant":
    "회계사", "pharmacist": "약사", "herbalist": "약재상", "monk": "스님", "priest": "신부",
    "pastor": "목사", "diver": "잠수부", "haenyeo": "해녀", "announcer": "아나운서", "journalist":
    "기자", "reporter": "기자", "mechanic": "정비사", "plumber": "배관공", "electrician":
    "전기 기사", "janitor": "경비원", "guard": "경비원", "merchant": "상인", "innkeeper":
    "여관 주인", "housekeeper": "가정부", "gardener": "정원사", "miner": "광부", "welder": "용접공",
    "potter": "도공", "scholar": "학자", "waiter": "종업원", "waitress": "종업원", "barista":
    "바리스타", "owner": "주인", "vet": "수의사", "veterinarian": "수의사", "dentist": "치과 의사",
    "coach": "코치", "athlete": "운동선수", "grandmother": "할머니", "grandfather": "할아버지",
    "housewife": "주부", "retiree": "은퇴자", "vendor": "상인", "worker": "노동자",
    "math": "수학", "maths": "수학", "mathematics": "수학", "english": "영어", "science": "과학",
    "history": "역사", "music": "음악", "art": "미술", "physics": "물리", "chemistry": "화학",
    "biology": "생물", "piano": "피아노", "school": "학교", "village": "마을", "local": "동네",
    "old": "나이 든", "elderly": "나이 든", "young": "젊은", "retired": "은퇴한", "former": "전직",
    "kind": "친절한", "grumpy": "무뚝뚝한", "strict": "엄격한", "friendly": "다정한",
    "busan": "부산", "seoul": "서울", "jeju": "제주", "daegu": "대구", "gwangju": "광주",
    "incheon": "인천", "jeolla": "전라도", "gyeongsang": "경상도", "chungcheong": "충청도",
}
# fmt: on
# Said by the card's language and the parsed gender already.
_DROPPED = frozenset(
    ("a", "an", "the", "korean", "woman", "man", "lady", "gentleman", "female", "male")
)  # fmt: skip
_KEYS = sorted(_GLOSSARY, key=lambda k: -len(k.split()))
_SPEAKS = re.compile(
    r"\s*(?:\b(?:who|that)\s+(?:only\s+)?(?:speaks?|talks?)\s+korean|,?\s*\bkorean[- ]speaking"
    r"|\bspeaking\s+korean)\b",
    re.I,
)
_PLACE_AFTER = re.compile(r"^(?P<who>.+?)\s+(?P<how>from|in)\s+(?P<place>.+)$", re.I)


def _words(phrase: str) -> list[str] | None:
    words = [w for w in re.findall(r"[a-z]+", phrase.lower()) if w not in _DROPPED]
    out: list[str] = []
    i = 0
    while i < len(words):
        for key in _KEYS:
            size = len(key.split())
            if words[i : i + size] == key.split():
                out.append(_GLOSSARY[key])
                i += size
                break
        else:
            return None  # a word the glossary does not know
    return out


def korean_occupation(phrase: str) -> str | None:
    """``phrase`` (an English occupation) in Korean, or None when a word of it is unknown."""
    place = ""
    phrase = _SPEAKS.sub(" ", phrase)  # the card's language says it
    if found := _PLACE_AFTER.match(phrase.strip()):
        where = _words(found.group("place"))
        if where is None:
            return None
        suffix = " 출신의" if found.group("how").lower() == "from" else "의"
        place = " ".join(where) + suffix + " "
        phrase = found.group("who")
    words = _words(phrase)
    if not words:
        return None
    return place + " ".join(words)
