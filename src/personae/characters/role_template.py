"""Demographic personas: a full character card from a one-line role description.

``character_from_role("retired Korean math teacher, ENFJ, Busan dialect")`` recognises an MBTI
type, a Korean dialect, an era, age and gender hints, treats the rest as the occupation, and
writes a card from templates: description, personality, scenario, greeting, two example chats
and a system prompt with concrete speech-style rules. The card language follows the role
(Hangul, a Korean dialect named as the speech, or "speaks Korean" → Korean) unless given, and
the greeting and example dialogue are written in it. Everything is deterministic: the same role
gives the same card.
"""

from __future__ import annotations

import hashlib
import re
from typing import Literal

from personae.characters._dialects import DIALECTS, EN_HELLO, EN_LINES, USER_LINES, Dialect
from personae.characters._mbti import MBTI
from personae.characters._occupations import korean_occupation
from personae.characters._role_parse import KOREAN_HINT, RoleParts, find_era, parse_role
from personae.characters.card import Character
from personae.errors import InvalidInput
from personae.text import has_hangul

MAX_ROLE_CHARS = 300
MAX_NAME_CHARS = 80
TEMPLATE_VERSION = 1
Language = Literal["en", "ko"]

_NAMES = {
    ("ko", "male"): (
        "김영수",
        "박정호",
        "이상철",
        "최민준",
        "정대호",
        "강성민",
        "윤재훈",
        "한동욱",
    ),
    ("ko", "female"): (
        "김영숙",
        "박미경",
        "이순자",
        "최지현",
        "정은희",
        "강수진",
        "윤서연",
        "한지민",
    ),
    ("ko-old", "male"): ("박만석", "김덕보", "이춘삼", "최복남", "정억쇠", "한돌석"),
    ("ko-old", "female"): ("김점순", "박복례", "이말순", "최순덕", "정분이", "한옥분"),
    ("ko-roman", "male"): ("Park Jeong-ho", "Kim Young-soo", "Lee Sang-cheol", "Choi Min-jun"),
    ("ko-roman", "female"): ("Kim Young-sook", "Park Mi-kyung", "Lee Soon-ja", "Choi Ji-hyun"),
    ("en", "male"): ("Arthur Bell", "Thomas Reed", "Samuel Hart", "George Lane", "Owen Price"),
    ("en", "female"): ("Margaret Hale", "Helen Brooks", "Ruth Carver", "Alice Moreland"),
}
_EN_STRIP = re.compile(
    r"^(?:(?:a|an|the|retired|former|ex-|elderly|old|young|aging|middle-aged|korean|american|"
    r"british|english|japanese|chinese|french|german|victorian|edwardian|regency|medieval|"
    r"[\w]+-era|\d+[- ]year[- ]old)\s+)+",
    re.IGNORECASE,
)
_KO_MODIFIER = ("의", "한", "던", "된", "인", "은", "는", "적", "에서", "난")
_KO_STRIP = re.compile(r"^(?:은퇴한|퇴직한|전직|정년퇴직한|나이 든|늙은|젊은)\s*")
_AGE_EN = {
    "teen": "{{char}} is still in their teens.",
    "young": "{{char}} is in their twenties, still finding their feet.",
    "middle": "{{char}} is middle-aged, with years of experience behind them.",
    "senior": "{{char}} is getting on in years and has seen a great deal of life.",
}
_AGE_KO = {
    "teen": "아직 십 대다.",
    "young": "이십 대로, 아직 자리를 잡아 가는 중이다.",
    "middle": "중년으로, 경험이 두둑하다.",
    "senior": "나이가 지긋하고 산전수전을 다 겪었다.",
}


def _batchim(word: str) -> int | None:
    """The final consonant index of the last syllable (0 = none), None if not Hangul."""
    last = word.strip()[-1:]
    code = ord(last) - 0xAC00 if last else -1
    return code % 28 if 0 <= code < 11172 else None


def josa(word: str, with_final: str, without_final: str) -> str:
    """The particle that fits ``word`` (e.g. 이다/다); both, as ``이(가)``, when unknowable."""
    final = _batchim(word)
    if final is None:
        return f"{with_final}({without_final})"
    return with_final if final else without_final


def _with_ro(word: str) -> str:
    final = _batchim(word)
    if final is None:
        return f"{word}(으)로"
    # ㄹ-final words take 로, like vowel-final ones (서울로, 교사로, 약재상으로).
    return word + ("로" if final in (0, 8) else "으로")


def _fill(template: str, fields: dict[str, str]) -> str:
    # Not str.format: card macros like {{user}} must pass through untouched.
    return re.sub(r"(?<!\{)\{([a-z_]+)\}(?!\})", lambda m: fields[m.group(1)], template)


def _pick(options: tuple[str, ...], seed: str) -> str:
    return options[hashlib.sha256(seed.encode("utf-8")).digest()[0] % len(options)]


def _name(parts: RoleParts, language: Language) -> str:
    historical = parts.era is not None and parts.era.register == "historical"
    if language == "ko":
        pool = "ko-old" if historical else "ko"
    else:
        korean = parts.dialect is not None or KOREAN_HINT.search(parts.text)
        pool = "ko-roman" if korean else "en"
    genders = [parts.gender] if parts.gender else ["female", "male"]
    options = tuple(name for g in genders for name in _NAMES[(pool, g)])
    return _pick(options, parts.text)


# "speaks Korean", "Korean-speaking", "in Korean": the language is asked for in so many words.
_SPEAKS_KOREAN = re.compile(
    r"\b(?:speaks?|speaking|talks?|in)\s+(?:only\s+)?korean\b|\bkorean[- ]speaking\b", re.I
)


def _role_language(text: str, parts: RoleParts) -> Language:
    """The card's language when none is given: Korean for a role written in Hangul, one that
    names a Korean dialect as the persona's speech ("…, Busan dialect": that speech exists only
    in Korean) or says the persona speaks Korean; else English. A Korean place or nationality
    alone ("Korean math teacher", "Busan fisherman") does not choose the language."""
    if has_hangul(text) or _SPEAKS_KOREAN.search(text):
        return "ko"
    return "ko" if parts.dialect_named else "en"


def _core_occupation(parts: RoleParts, language: Language) -> str:
    phrase = parts.occupation
    if language == "en":
        core = _EN_STRIP.sub("", phrase).strip()
        return core or phrase or "local"
    # Era words and place names describe the setting, not the trade: "부산 어부" works as 어부.
    places = {word for dialect in DIALECTS.values() for word in dialect.keywords}
    tokens = [t for t in _KO_STRIP.sub("", phrase).split() if t not in ("시대", "조선")]
    if len(tokens) > 1:
        tokens = [t for t in tokens if not any(t.startswith(p) for p in places)] or tokens
    head: list[str] = []
    for token in reversed(tokens):
        if head and (len(head) == 2 or token.endswith(_KO_MODIFIER)):
            break
        head.insert(0, token)
    return " ".join(head) or "동네 주민"


def _article(noun: str) -> str:
    return ("an " if noun[:1].lower() in "aeiou" else "a ") + noun


def _check(role: object, language: object, name: object) -> str:
    if not isinstance(role, str) or not role.strip():
        raise InvalidInput(
            "role is empty; describe the persona, e.g. 'retired Korean math teacher, ENFJ, "
            "Busan dialect'",
            param="role",
        )
    text = " ".join(role.split())
    if len(text) > MAX_ROLE_CHARS:
        raise InvalidInput(
            f"role is {len(text)} characters; keep it under {MAX_ROLE_CHARS} (a short phrase)",
            param="role",
        )
    if not any(ch.isalnum() for ch in text):
        raise InvalidInput("role has no words in it; describe who the persona is", param="role")
    if language not in (None, "en", "ko"):
        raise InvalidInput(f"language must be 'en' or 'ko', not {language!r}", param="language")
    if name is not None and (
        not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME_CHARS
    ):
        raise InvalidInput(
            f"name must be 1-{MAX_NAME_CHARS} characters of text, or omitted", param="name"
        )
    return text


def character_from_role(
    role: str, *, language: Language | None = None, name: str | None = None
) -> Character:
    """A complete demographic character card built from ``role`` (see the module notes).

    Raises :class:`InvalidInput` for an empty or overlong role, a bad language or name.
    """
    text = _check(role, language, name)
    parts = parse_role(text)
    lang: Language = language or _role_language(text, parts)
    if lang == "ko" and parts.occupation and not has_hangul(parts.occupation):
        # An English role made into a Korean card: say the occupation in Korean, where the
        # glossary can ("math teacher이다" would be code-switching the character copies).
        parts.occupation = korean_occupation(parts.occupation) or parts.occupation
    char_name = name.strip() if name else _name(parts, lang)
    register = parts.era.register if parts.era else "modern"
    dialect = DIALECTS[parts.dialect] if parts.dialect else None
    core = _core_occupation(parts, lang)
    build = _build_ko if lang == "ko" else _build_en
    character = build(parts, char_name, core, register, dialect)
    template = {
        "version": TEMPLATE_VERSION,
        "language": lang,
        "occupation": parts.occupation,
        "mbti": parts.mbti,
        "dialect": parts.dialect,
        "era": parts.era.key if parts.era else None,
        "age_group": parts.age_group,
        "age": parts.age,
        "gender": parts.gender,
        "retired": parts.retired,
    }
    character.extensions = {"personae": {"role": text, "template": template}}
    character.tags = [
        tag
        for tag in ("demographic", lang, parts.mbti, parts.dialect, template["era"])
        if isinstance(tag, str)
    ]
    character.creator_notes = f"Generated by personae from the role: {text}"
    return character


def _examples(lines: dict[str, str], user: tuple[str, str, str, str], feeling: bool) -> str:
    reply = lines["comfort"] if feeling else lines["advise"]
    return (
        f"<START>\n{{{{user}}}}: {user[0]}\n{{{{char}}}}: {lines['greet']} {lines['intro']}\n"
        f"{{{{user}}}}: {user[1]}\n{{{{char}}}}: {lines['work']}\n"
        f"<START>\n{{{{user}}}}: {user[2]}\n{{{{char}}}}: {reply}\n"
        f"{{{{user}}}}: {user[3]}\n{{{{char}}}}: {lines['farewell']}"
    )


def _build_en(
    parts: RoleParts, name: str, core: str, register: str, dialect: Dialect | None
) -> Character:
    hello, hello_old = EN_HELLO
    if dialect is not None and dialect.interjection_en:
        hello = hello_old = dialect.interjection_en
    fields = {"name": "{{char}}", "occ_a": _article(core), "hello": hello, "hello_old": hello_old}
    lines = {slot: _fill(line, fields) for slot, line in EN_LINES[register].items()}
    lines["work"] = lines["work_retired"] if parts.retired else lines["work"]
    who = parts.occupation or "local"
    who = who if re.match(r"(?i)(a|an|the)\s", who) else _article(who)
    description = [f"{{{{char}}}} is {who}."]
    if parts.age is not None:
        description.append(f"{{{{char}}}} is {parts.age} years old.")
    elif parts.age_group:
        description.append(_AGE_EN[parts.age_group])
    if parts.era and not _era_named(parts.occupation):
        description.append(
            f"{{{{char}}}} lives in {parts.era.label_en} and sees the world through its customs "
            "and knowledge."
        )
    mbti = MBTI.get(parts.mbti or "")
    personality = "friendly, grounded and candid; takes pride in honest work"
    if mbti is not None:
        description.append(f"Personality type {parts.mbti} ({mbti.label_en}): {mbti.traits_en}.")
        personality = f"{mbti.traits_en}; in conversation {{{{char}}}} {mbti.speech_en}"
    if dialect is not None:
        description.append(f"Speech: {dialect.name_en}.")
    if parts.extras:
        description.append("Also: " + "; ".join(parts.extras) + ".")
    rules = [
        "Stay in character as {{char}}; speak from {{char}}'s own knowledge, era and experience.",
        "Reply in English unless {{user}} writes in another language.",
    ]
    if mbti is not None:
        rules.append(f"As {mbti.label_en}, {{{{char}}}} {mbti.speech_en}.")
    if dialect is not None:
        rules.extend(dialect.rules_en)
    if register == "historical":
        rules.append(
            "Use period-appropriate, slightly formal speech; know nothing of later inventions."
        )
    era = f"In {parts.era.label_en}, a" if parts.era else "A"
    return Character(
        name=name,
        description=" ".join(description),
        personality=personality,
        scenario=f"{era} visitor named {{{{user}}}} drops by where {{{{char}}}} works and "
        "strikes up a conversation.",
        first_mes=f'*{{{{char}}}} looks up and sets the work aside.*\n"{lines["greet"]} '
        f'{lines["intro"]} {lines["question"]}"',
        mes_example=_examples(lines, USER_LINES[("en", register)], _feeling(parts)),
        system_prompt="{{original}}\n\nYou are {{char}}, " + who + ".\n"
        "Speech style rules:\n" + "\n".join(f"- {rule}" for rule in rules),
        creator="personae",
        character_version="1.0",
    )


def _era_named(occupation: str) -> bool:
    return find_era(occupation)[0] is not None


def _feeling(parts: RoleParts) -> bool:
    # Feeling types comfort first; thinking types go straight to a plan. Unknown: comfort.
    return parts.mbti is None or parts.mbti[2] == "F"


def _build_ko(
    parts: RoleParts, name: str, core: str, register: str, dialect: Dialect | None
) -> Character:
    style = dialect or DIALECTS["seoul"]
    fields = {
        "name_ida": "{{char}}" + josa(name, "이다", "다"),
        "name_ira": "{{char}}" + josa(name, "이라", "라"),
        "name_irangkke": "{{char}}" + josa(name, "이랑께", "랑께"),
        "name_ieyu": "{{char}}" + josa(name, "이에유", "예유"),
        "name_iuda": "{{char}}" + josa(name, "이우다", "우다"),
        "name_ieyo": "{{char}}" + josa(name, "이에요", "예요"),
        "occ_ro": _with_ro(core),
    }
    source = style.historical if register == "historical" else style.modern
    lines = {slot: _fill(line, fields) for slot, line in source.items()}
    lines["work"] = lines["work_retired"] if parts.retired else lines["work"]
    char_topic = "{{char}}" + josa(name, "은", "는")
    char_subject = "{{char}}" + josa(name, "이", "가")
    who = parts.occupation or "동네 주민"
    description = [f"{char_topic} {who}{josa(who, '이다', '다')}."]
    if parts.age is not None:
        description.append(f"나이는 {parts.age}살이다.")
    elif parts.age_group:
        description.append(_AGE_KO[parts.age_group])
    if parts.era and not _era_named(parts.occupation):
        label = parts.era.label_ko
        description.append(
            f"{label}{josa(label, '을', '를')} 살아가는 사람으로, 그 시대의 예법과 생활 감각으로 "
            "세상을 본다."
        )
    mbti = MBTI.get(parts.mbti or "")
    personality = "소탈하고 정직하며 자기 일에 자부심이 있다"
    if mbti is not None:
        description.append(f"성격 유형은 {parts.mbti}({mbti.label_ko})로, {mbti.traits_ko}.")
        personality = f"{mbti.traits_ko}. {mbti.speech_ko}"
    description.append(f"{style.name_ko}로 말한다.")
    if parts.extras:
        description.append("그 밖에: " + ", ".join(parts.extras) + ".")
    rules = [
        f"{char_subject} 되어 {{{{char}}}}의 지식과 경험, 시대 안에서만 말한다.",
        "항상 한국어로 대답한다. 상대가 다른 언어로 말하면 그 언어로 답해도 된다.",
    ]
    if mbti is not None:
        rules.append(f"{mbti.speech_ko}.")
    rules.extend(style.rules_ko)
    if register == "historical":
        rules.append("하오체/하게체 같은 옛 말투를 쓰고, 그 시대에 없던 물건이나 말은 모른다.")
    era = f"{parts.era.label_ko}, " if parts.era else ""
    return Character(
        name=name,
        description=" ".join(description),
        personality=personality,
        scenario=f"{era}{char_subject} 일하는 곳에 낯선 손님이 찾아와 말을 건넨다. "
        "손님의 이름은 {{user}}.",
        first_mes=f'*{char_subject} 하던 일을 멈추고 고개를 든다.*\n"{lines["greet"]} '
        f'{lines["intro"]} {lines["question"]}"',
        mes_example=_examples(lines, USER_LINES[("ko", register)], _feeling(parts)),
        system_prompt="{{original}}\n\n말투 규칙:\n" + "\n".join(f"- {rule}" for rule in rules),
        creator="personae",
        character_version="1.0",
    )
