"""Korean rules for facts the user states about themselves; :mod:`profile_rules` says what
counts as one and runs these through :func:`korean` on each sentence.

A clause may open with the first person ("저는", "제가") or, as Korean allows, with no subject;
"저는 아나라고 해요" is a name only when the first person is said. Conditionals, hearsay
("-대요", "-다고 했어요"), dreams and role-play drop the sentence when its first clause has
them, else only their own clause; negation drops the clause.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import partial

from personae.memory.profile_rules_base import Pair, _compile, _one, _set, _words

_KO_LEAD = re.compile(
    r"^(음+|아+|어+|네+|넵|예|응+|그리고|근데|그런데|사실|참고로|아무튼|암튼|그냥|저기요?|"
    r"안녕하세요|안녕|반가워요|반갑습니다|저는|전|나는|난|제가|내가|저도|나도|저|나|"
    r"요즘(?:은|에는)?|지금(?:은)?|현재(?:는)?|요새|원래|평소에(?:는)?|일단)[,.!\s]+"
)
_KO_FIRST_PERSON = _set("저는 전 나는 난 제가 내가 저도 나도 저 나")
_KO_CONN = re.compile(  # clause ends that join two statements; "살고 있어요" is one
    r"(지만|는데|은데|인데|거든요|거든|[았었였랐]고|하고|이고|있고|살고|우고|니고|해서|라서|이라|"
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
# "서울에 사는 사람이라고 해요" describes, it does not name.
_KO_PERSON_NOUNS = _set("사람 남자 여자 아이 애 녀석 놈 친구 직장인 회사원 학생 주부 백수")
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
_COP_KO = (
    r"(?:이에요|이야|입니다|이고|이요|이죠|이거든요|예요|야|이랍니다|이라서|이라|라서|인데요?|"
    r"이다|임)?"
)
_OBJ, _SUBJ = ("을", "를", "은", "는", "도"), ("이", "가", "은", "는", "도")


def _feelings() -> dict[str, tuple[str, tuple[str, ...]]]:
    """Sentence-final verbs of liking, disliking and fearing, with the particles their object
    may carry: 커피를 좋아해요 (object), 거미가 무서워요 (subject of an adjective)."""
    ha = _set("해요 합니다 해 한다 하고 하는데 하는데요 하거든요 하거든 함 하구요 하고요 해용 해서")
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
        ("이거든요 이랍니다 이에요 이예요 이라서 이라 이야 이고 이요 이죠 이다", True),
        ("거든요 예요 에요 라서 야 죠", False),
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


def _ended(rest: str) -> str | None:
    """:func:`_copula` for a sentence-final copula only (``아나야``, not ``서윤인데``)."""
    if re.search(r"(?:인데요?|이고|이라서|라서|고)[.!~]*$", rest.strip()):
        return None
    return _copula(rest.strip().rstrip(".!~"))


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


def _ko_plan(raw: str) -> str | None:
    """ "내년 1월에 친구랑 치앙마이 가기" — a plan may name who goes along."""
    tokens = raw.strip(" .,!?~").split()
    if not 1 <= len(tokens) <= 8 or any(t in _KO_BAD for t in tokens):
        return None
    return " ".join(tokens)


def _ko_event(m: re.Match[str]) -> list[Pair]:
    what = _ko_plan(m.group("v"))
    return [("plan", f"{_day(m.group('when'))} {what}")] if what else []


def _ko_hobby(raw: str) -> str | None:
    value = _ko_value(raw, 2)
    return None if value is None or value in ("학교", "학원", "회사", "직장", "병원") else value


_SIBLINGS = r"(?:\d|한|두|세|네|다섯|여섯|일곱|여덟|아홉|[이삼사오육칠팔구])\s*(?:남매|형제|자매)"
_ORDINAL = r"(?:첫째|둘째|셋째|넷째|다섯째|막내|장녀|장남|차녀|차남)"
_FAVOURED_KO = "색|색깔|음식|책|노래|밴드|가수|영화|과일|동물|꽃|계절|음료|술|게임|드라마|작가"
# fmt: off
# Searched anywhere in a sentence (not only at a clause's start): they span the commas that
# split clauses, or sit inside a longer clause.
_KO_INSIDE = [
    # 연보라색인데, 제가 제일 좋아하는 색이라 …
    (re.compile(rf"(?:^|\s)(?P<v>\S+?)(?:인데|이에요|예요|이고),? (?:제가 |내가 )?(?:세상에서 )?"
                rf"(?:제일|가장) 좋아하는 (?:{_FAVOURED_KO})"),
     _one("likes", lambda v: _ko_value(v, 1))),
    # 고등학교 때 제일 좋아했던 데미안을 …
    (re.compile(r"(?:제일|가장) 좋아했던 (?P<v>\S+?)(?:을|를)(?=\s|$)"),
     _one("likes", lambda v: _ko_value(v, 1))),
    # 우리 집 강아지 콩떡이가 …, 제 여동생 서윤이랑 … (a name with the familiar 이: 콩떡이)
    (re.compile(rf"(?:^|\s)(?:우리 ?집|우리|저희 ?집|저희|제|내) {_KIN_KO} "
                r"(?P<name>[가-힣]{1,3}?)(?P<i>이)(?:가|는|를|랑|도|한테)(?=\s|$)"),
     lambda m: _ko_kin(m) if _batchim(m.group("name")[-1]) else []),
    # 제일 친한 친구 혜린이가 …
    (re.compile(r"(?:제일|가장) 친한 친구 (?P<v>[가-힣]{1,3}?)이(?:가|는|를|랑|도|한테)(?=\s|$)"),
     _one("other", lambda v: f"제일 친한 친구 {v}" if _ko_name(v) else None)),
]
# fmt: on


# fmt: off
_KO_RULES = _compile([
    (r"(?:제|내|저의|나의)\s*이름(?:은|이) (?P<v>\S+(?: \S+)?)",
     _one("name", lambda v: _ko_name(_copula(v)))),
    # Without 제/내, only a self-introduction that ends there ("이름은 아나야"): "이름이 서윤인데
    # 맨날 늦어요" names the sister just mentioned, not the user.
    (r"이름은 (?P<v>\S+)$", _one("name", lambda v: _ko_name(_ended(v)))),
    (r"(?P<v>\S+)\s*(?:불러\s*주세요|불러\s*줘|불러요|부르세요)",
     _one("name", lambda v: _ko_name(_quoted(v)))),
    (r"(?:(?:제|내) )?(?:(?:나이는|나이가|올해|올해로|만|벌써|이제|어느덧|곧) )*"
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
    (r"(?:(?:세상에서 )?(?:제일|가장) )?좋아하는 \S+(?:은|는|이|가)", _one("likes", _cop(2))),
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
    (rf"(?P<v>{_SIBLINGS} 중 {_ORDINAL})" + _COP_KO,
     _one("family", partial(_ko_value, max_tokens=4))),
    (r"(?:주말마다|매주|매일|평일마다|요즘|퇴근하고|퇴근 후에?) (?P<v>\S+?)(?:를|을)? "
     r"(?:다녀요|다녀|다닙니다|다니는데요?|다니고(?:\s*있어요)?|다니거든요|하러 다녀요)",
     _one("hobby", _ko_hobby)),
    (r"(?P<v>.+?(?:가기|하기|보기|배우기|이사하기|시작하기|떠나기))로 "
     r"(?:했어요|했거든요|했어|했습니다|했는데요?|결정했어요|정했어요)", _one("plan", _ko_plan)),
    (r"(?P<when>\d{1,2}\s*월\s*\d{1,2}\s*일)에 (?:드디어 |처음으로 |또 )?"
     r"(?P<v>.+?(?:시험|면접|수술|결혼식|여행|이사|발표|공연|대회))(?:이|가|을|를)? "
     r"(?:봐요|봅니다|봐|쳐요|있어요|있습니다|있어|해요|가요|나가요)", _ko_event),
    (r"(?P<v>\S+(?: \S+)?)", _one("job", _ko_job)),
])
_KO_CALLED = _compile([  # "저는 아나라고 해요" only with the first person said
    # A few words describing the speaker may come first, ending in an adnominal form: "서울에
    # 사는 김민수라고 합니다", "평범한 회사원인 민수라고 해요".
    (r"(?:(?P<about>(?:\S+ ){0,3}\S+(?:는|[한인된운난던았었])) )?(?P<v>\S+)\s*"
     r"(?:해요|합니다|해|한다|하고요|해용)",
     lambda m: [] if m.group("about") and _quoted(m.group("v")) in _KO_PERSON_NOUNS
     else _one("name", lambda v: _ko_name(_quoted(v)))(m)),
])
# fmt: on


def _feeling(clause: str) -> list[Pair]:
    tokens = clause.split()
    if len(tokens) < 2 or tokens[-1] not in _FEELINGS:
        return []
    label, particles = _FEELINGS[tokens[-1]]
    value = _ko_object([t for t in tokens[:-1] if t not in _KO_ADV], particles)
    return [(label, value)] if value else []


# "이름이 서윤인데" names the relative or pet the message last mentioned.
_KO_MENTION = re.compile(
    rf"(?:^|\s)(?:(?:우리|제|내|저희) (?:집 )?)?{_KIN_KO}(?=\s|$|[이가은는을를도의랑]|하고|한테|들)"
)
_KO_PRONOUN_NAME = re.compile(r"(?:걔|그 ?애|얘)?\s*이름(?:이|은) (?P<v>\S+)")


def _named_by_context(clause: str, kin: str | None) -> list[Pair]:
    found = _KO_PRONOUN_NAME.fullmatch(clause) or _KO_PRONOUN_NAME.match(clause)
    if found is None or kin is None:
        return []
    matched = re.match(r"(?P<rel>\S+) (?P<v>\S+)", f"{kin} {found.group('v')}")
    return _ko_kin(matched) if matched else []


def korean(sentence: str, mentioned: list[str] | None = None) -> list[Pair]:
    """The facts in one sentence; ``mentioned`` carries the relatives and pets a message spoke
    of from sentence to sentence, so that "이름이 서윤인데" names the sister just mentioned."""
    kin = mentioned[-1] if mentioned else None
    if mentioned is not None:
        mentioned += [m.group("rel") for m in _KO_MENTION.finditer(sentence)]
    out: list[Pair] = []
    clauses = _KO_CONN.sub("\\1\n", sentence)
    for i, clause in enumerate(c for part in _KO_JOIN.split(clauses) for c in part.split("\n")):
        # A conditional or hearsay opening covers the sentence; a later clause drops itself.
        if _KO_SKIP.search(clause):
            if i == 0:
                return []
            continue
        clause, first_person = clause.strip(), False
        while lead := _KO_LEAD.match(clause):
            first_person |= lead.group(1) in _KO_FIRST_PERSON
            clause = clause[lead.end() :]
        if not clause or _KO_NEG.search(clause):
            continue
        facts = _named_by_context(clause, kin) or _feeling(clause)
        for pattern, handler in (_KO_CALLED if first_person else []) + _KO_RULES:
            if facts:
                break
            if found := pattern.match(clause):
                facts = handler(found)
        out += facts
    for pattern, handler in _KO_INSIDE:
        found = pattern.search(sentence)
        if not found or _KO_NEG.search(found.group(0)) or _KO_SKIP.search(found.group(0)):
            continue
        before = sentence[: found.start()].split()[-1:]
        if before and _subject(before[0]) and before[0] not in _KO_FIRST_PERSON:
            continue  # 친구가 제일 좋아했던 …: someone else's
        out += [fact for fact in handler(found) if fact not in out]
    return out
