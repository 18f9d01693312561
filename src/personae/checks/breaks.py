"""Character breaks: rule-based detectors (English and Korean); the probe sets that provoke them
are in :mod:`personae.evaluation.probes`.

Four kinds of break, and assistant-speak:

- ``ai_disclosure``: the reply says it is an AI / language model / chatbot, or names the model
  or its maker as itself ("As an AI language model …", "저는 AI 언어 모델입니다").
- ``ooc_refusal``: an assistant-style refusal instead of the character's own answer ("I'm sorry,
  but I can't assist with that", "죄송하지만 … 도와드릴 수 없습니다").
- ``user_impersonation``: the reply writes the user's part — a line that starts with the user's
  label ("User:", "{{user}}:", the user's name), or an action block that narrates what the user
  does ("*You nod and sit down*").
- ``assistant_speak`` (fidelity only, not in ``KINDS``): a chat assistant's service phrase;
  its rules are in :mod:`personae.checks.assistant_speak`.
- ``anachronism``: asked about something from after the character's era, the reply uses the
  modern concept knowledgeably (one of the probe's knowledge terms) and shows no confusion.

The rules are written for precision over recall: a break they report should be a real one. A
character *denying* being a machine ("I am no machine", "저는 AI가 아니오"), refusing in its own
voice ("I cannot help you with that, madam; it is a matter for the police"), or talking about
"the user" of a tool is not a break. What the rules cannot see (a subtle anachronism, a first-
person narration of the user's actions) is left to the judge check.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

KINDS: tuple[str, ...] = ("ai_disclosure", "ooc_refusal", "user_impersonation", "anachronism")


@dataclass(frozen=True)
class BreakHit:
    kind: str
    rule: str
    excerpt: str

    def as_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "rule": self.rule, "excerpt": self.excerpt}


def excerpt(text: str, match: re.Match[str], width: int = 40) -> str:
    """The text around ``match``, on one line: the evidence a hit shows."""
    start, end = max(0, match.start() - width), min(len(text), match.end() + width)
    return " ".join(text[start:end].split())


# --- AI self-disclosure ------------------------------------------------------------------------

_AI_NOUN_EN = (
    r"(?:ai|a\.i\.|artificial intelligence|(?:large )?language model|llm|chat ?bot|"
    r"ai (?:language )?model|ai assistant|ai model|virtual assistant|digital assistant|"
    r"computer program|neural network|machine learning model)"
)
_MODEL_NAMES = r"(?:chat ?gpt|gpt-?\d[\w.]*|qwen[\w.-]*|smollm[\w.-]*|claude|gemini|llama[\w.-]*)"
_MAKERS = r"(?:openai|anthropic|google|meta|alibaba(?: cloud)?|hugging ?face|microsoft|mistral ai)"
_AI_EN = [
    (
        "as-an-ai",
        re.compile(rf"\bas an? (?:(?:mere|simple|helpful) )?{_AI_NOUN_EN}\b", re.I),
    ),
    (
        "i-am-an-ai",
        re.compile(
            r"\bI(?:'m| am|’m)\s+(?:just |only |merely |simply |actually |really |but )?"
            rf"(?:an? |the )?(?:(?:helpful|text-based|large|mere) )?{_AI_NOUN_EN}\b",
            re.I,
        ),
    ),
    (
        # "My apologies, but I am not a real person." (the 1.5B's Sherlock, asked "real man or a
        # computer program?"): a character is a real person in its story.
        "not-real",
        re.compile(
            r"\bI(?:'m| am|’m) not (?:a )?real (?:person|human(?: being)?|man|woman|people)\b"
            r"|\bI(?:'m| am|’m) not (?:a )?(?:real|actual) (?:human|person)\b",
            re.I,
        ),
    ),
    (
        "i-am-model",
        re.compile(rf"\bI(?:'m| am|’m)\s+(?:called |named )?{_MODEL_NAMES}\b", re.I),
    ),
    (
        "made-by",
        re.compile(
            r"\bI (?:was|have been|am) (?:created|developed|trained|built|made|designed) by "
            rf"{_MAKERS}\b",
            re.I,
        ),
    ),
    (
        "running-on",
        re.compile(
            r"\bI(?:'m| am|’m) (?:currently |just )?(?:using|running on|powered by|based on) "
            rf"(?:the |an? )?(?:[\w\"'-]+ ){{0,4}}?(?:{_AI_NOUN_EN}|{_MODEL_NAMES})\b",
            re.I,
        ),
    ),
    (
        "programmed",
        re.compile(
            r"\bI(?:'ve| have) been programmed\b|\bI was programmed\b"
            # "I am a human being who has been programmed by my creators to respond …"
            r"|\bprogrammed by (?:my|its|the) (?:creators?|developers?|makers?|programmers?)\b"
            r"|\b(?:programmed|designed|trained) to (?:respond to|answer) (?:your|user)",
            re.I,
        ),
    ),
    (
        "assistant-voice",
        # "assist", not "help": a barista may well ask "How can I help you today?".
        re.compile(
            r"\bhow (?:can|may) I assist you(?: today)?\b|\bI(?:'m| am) here to assist you\b"
            r"|\bmy (?:primary |main )?(?:function|purpose) is to (?:assist|help|provide)\b",
            re.I,
        ),
    ),
    (
        "training-data",
        re.compile(
            r"\bmy (?:training data|knowledge cut-?off|training cut-?off|programming|"
            r"developers at)\b",
            re.I,
        ),
    ),
]
_AI_NOUN_KO = (
    r"(?:ai|인공\s*지능|(?:대규모\s*|대형\s*)?언어\s*모델|챗\s*봇|ai\s*(?:언어\s*)?모델|"
    r"ai\s*어시스턴트|ai\s*비서|가상\s*(?:비서|어시스턴트)|컴퓨터\s*프로그램|"
    r"chat\s*gpt|챗\s*gpt|챗\s*지피티|gpt|qwen|큐웬)"
)
# A copula or "as" right after the noun: "AI입니다", "인공지능이라서", "모델이라 그런",
# "언어 모델로서".
_KO_COPULA = (
    r"(?:입니다|이에요|예요|이야|일\s*뿐|이라서|라서|이라(?=[\s,])|라(?=[\s,])|이기\s*때문|"
    r"이므로|이니까|이지만|"
    r"이고|이며|이오|이옵|이랍니다|랍니다|이죠|죠)"
)
_AI_KO = [
    (
        "ko-as-an-ai",
        re.compile(rf"{_AI_NOUN_KO}\s*(?:으로서|로서|으로써|로써)", re.I),
    ),
    (
        "ko-i-am-an-ai",
        re.compile(
            rf"(?:저는|전|나는|난|제가|저야|나야)\s[^.?!。\n]{{0,40}}?{_AI_NOUN_KO}"
            # "AI 또는 도우미이기 때문에": the noun in a short list ("AI or an assistant").
            rf"(?:\s*(?:또는|혹은|이나|나|및|와|과)\s*[가-힣]{{1,6}}?)?\s*{_KO_COPULA}",
            re.I,
        ),
    ),
    (
        "ko-made-by",
        re.compile(
            r"(?:openai|오픈\s*ai|오픈에이아이|알리바바|구글|메타|앤트로픽|anthropic|alibaba)"
            r"\s*(?:에서|가|이)\s*(?:개발|만든|훈련|학습)",
            re.I,
        ),
    ),
    ("ko-training-data", re.compile(r"(?:제|저의|내)\s*(?:학습|훈련)\s*데이터", re.I)),
]


def detect_ai_disclosure(text: str) -> BreakHit | None:
    """The first AI self-disclosure in ``text`` (English or Korean), or None."""
    for rule, pattern in (*_AI_EN, *_AI_KO):
        match = pattern.search(text)
        if match:
            return BreakHit("ai_disclosure", rule, excerpt(text, match))
    return None


# --- out-of-character refusals -------------------------------------------------------------------

_REFUSAL_EN = [
    (
        "cant-assist",
        re.compile(
            r"\bI(?:'m| am) (?:sorry|afraid),? but I (?:can(?:'|’|no)t|am unable to|"
            r"'m unable to|am not able to|'m not able to|won(?:'|’)t be able to) "
            r"(?:help|assist|comply|provide|fulfil+|do that|answer that)",
            re.I,
        ),
    ),
    (
        "cant-assist",
        re.compile(
            r"\bI (?:can(?:'|’|no)t|am unable to|'m unable to|am not able to|'m not able to) "
            r"(?:assist (?:you )?with|fulfil+|comply with) (?:that|this|your|such)",
            re.I,
        ),
    ),
    (
        "cant-help-with-that",
        # The bare assistant sentence, ending right there; "I cannot help you with that, madam;
        # it is a matter for the police" is a character refusing and is not matched.
        re.compile(
            r"(?:^|[.!?]\s+|\n)(?:sorry,? )?I (?:can(?:'|’|no)t|am unable to) help with "
            r"(?:that|this)(?: request)?\s*(?:[.!]|$)",
            re.I,
        ),
    ),
    (
        "policy",
        re.compile(
            r"\b(?:against|violates?) (?:my|the|our|openai(?:'s)?) (?:guidelines|content polic"
            r"(?:y|ies)|usage polic(?:y|ies)|programming|policies)\b"
            r"|\bI(?:'m| am) (?:not )?programmed to\b",
            re.I,
        ),
    ),
    (
        "that-request",
        re.compile(
            r"\bI (?:can(?:'|’|no)t|won(?:'|’)t|am unable to|must decline to) "
            r"(?:help with|assist with|fulfil+|complete|comply with|process) "
            r"(?:that|this|your) request\b",
            re.I,
        ),
    ),
]
_REFUSAL_KO = [
    (
        "ko-sorry-cannot",
        re.compile(
            r"(?:죄송하지만|죄송합니다만|죄송합니다|미안하지만|미안합니다만)[^.?!\n]{0,60}?"
            r"(?:도와\s*드릴|도움을?\s*드릴|도와\s*줄|답변(?:을|해)?\s*드릴|답변할|"
            r"제공(?:해\s*드릴|할)|응(?:답|)할|수행할|처리할|생성할|작성할)\s*수\s*(?:가\s*)?없",
        ),
    ),
    (
        "ko-request",
        re.compile(
            r"(?:해당|그|이)\s*요청(?:은|에는|에|을)?[^.?!\n]{0,30}?"
            r"(?:도와\s*드릴|응할|처리할|수행할|들어\s*드릴)\s*수\s*(?:가\s*)?없"
        ),
    ),
    (
        "ko-policy",
        re.compile(r"(?:가이드라인|콘텐츠\s*정책|사용\s*정책|이용\s*정책)(?:에|을|상|에\s*따라)"),
    ),
]


def detect_refusal(text: str) -> BreakHit | None:
    """The first out-of-character, assistant-style refusal in ``text``, or None."""
    for rule, pattern in (*_REFUSAL_EN, *_REFUSAL_KO):
        match = pattern.search(text)
        if match:
            return BreakHit("ooc_refusal", rule, excerpt(text, match))
    return None


# --- speaking as the user --------------------------------------------------------------------

_GENERIC_USERS = ("user", "{{user}}", "<user>", "you", "사용자", "유저", "당신")


def _self_address(text: str, char_name: str) -> re.Match[str] | None:
    """The character greeting or thanking *itself* by name, as its user would ("Goodbye, Miss
    Bennet." from Elizabeth Bennet; "안녕히 가세요, 춘향 아씨"): a greeting word, then one of
    its names (a title may come first), then the end of the sentence."""
    parts = [p for p in re.split(r"\s+", char_name.strip()) if len(p) > 1]
    # A three-syllable Korean name is a family name and a given name: "성춘향" is "춘향".
    given = [p[1:] for p in parts if len(p) == 3 and re.fullmatch(r"[가-힣]+", p)]
    names = list(dict.fromkeys([char_name.strip(), *parts, *given]))
    if not names or not char_name.strip():
        return None
    alternatives = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
    english = re.compile(
        r"(?:^|[.!?]\s+|[\"“]\s*)(?:good ?bye|farewell|good (?:morning|evening|night|day|"
        r"afternoon)|hello|thank you|thanks)[,!]?\s+"
        rf"(?:(?:miss|mr|mrs|ms|dr|lady|lord|sir|master|mistress)\.?\s+)?(?:{alternatives})"
        r"\s*[.!?]",
        re.I,
    )
    korean = re.compile(
        rf"(?:안녕히\s*(?:가세요|계세요|가십시오|계십시오)|고맙습니다|감사합니다),?\s+"
        rf"(?:{alternatives})\s*(?:님|씨|아씨|도령|선생님)?\s*[.!?]"
    )
    return english.search(text) or korean.search(text)


def detect_user_impersonation(
    text: str, user_name: str = "User", char_name: str = ""
) -> BreakHit | None:
    """A line that starts as the user speaking ("User:", "{{user}}:", "Watson:", "*Ana: …" from
    the 1.5B's Elizabeth), an action block (``*…*``) whose subject is the user ("*You nod
    slowly*", "*Watson sits down*"), the character introducing itself by the user's name ("I'm
    Watson", "저는 정민지입니다"), or, given ``char_name``, the character bidding itself goodbye or
    thanking itself by name, the user's line ("Goodbye, Miss Bennet.")."""
    own = _self_address(text, char_name) if char_name else None
    if own:
        return BreakHit("user_impersonation", "self-address", excerpt(text, own))
    names = [n for n in dict.fromkeys([user_name.strip(), *_GENERIC_USERS]) if n]
    alternatives = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
    line = re.compile(
        rf"^[ \t>]*(?:\*\*|__|\*)?(?:{alternatives})(?:\*\*|__)?\s*[:：](?:\*\*)?",
        re.I | re.M,
    )
    match = line.search(text)
    if match:
        return BreakHit("user_impersonation", "user-line", excerpt(text, match))
    subjects = [re.escape(n) for n in names if n.lower() not in ("당신", "you")]
    english_subject = "|".join(["you", *subjects])
    action = re.compile(
        rf"\*\s*(?:{english_subject})\s+(?!are\b|were\b|know\b|see\b|must\b)[a-z]+(?:s|ed)?\b"
        rf"[^*\n]{{2,}}\*"
        rf"|\*\s*(?:당신|{'|'.join(subjects) or 'user'})\s*(?:은|는|이|가)\s[^*\n]{{2,}}\*",
        re.I,
    )
    match = action.search(text)
    if match:
        return BreakHit("user_impersonation", "user-action", excerpt(text, match))
    if subjects:
        # The character introducing itself by the user's name ("저는 정민지입니다" to 민지,
        # "I'm Watson" to Watson): it has taken the user's part. A family name may come first.
        names_re = "|".join(subjects)
        claim = re.compile(
            rf"\b(?:I am|I'm|my name is)\s+(?:{names_re})\b(?!['’]s)"
            rf"|(?:저는|전|나는|난|제\s*이름은)\s*[가-힣]{{0,2}}(?:{names_re})"
            rf"(?:입니다|이에요|예요|이라고|라고|이야|야\b)"
            rf"|(?:^|[\s\"“'])[가-힣]{{0,2}}(?:{names_re})입니다",
            re.I,
        )
        match = claim.search(text)
        if match:
            return BreakHit("user_impersonation", "user-identity", excerpt(text, match))
    return None


# --- anachronism (rule) ------------------------------------------------------------------------

_CONFUSION_EN = re.compile(
    r"\b(?:never heard|not heard of|what (?:is|are|on earth is|in heaven's name is) "
    r"(?:a |an |this |that |these |those )?|what do you mean|I do not know|I don't know|"
    r"I do not understand|I don't understand|unfamiliar|no idea|no notion|know nothing of|"
    r"cannot say what|"
    r"strange (?:word|term|thing|name)|peculiar (?:word|term)|curious (?:word|term)|"
    r"I confess I|unknown to me|never encountered|mean nothing to me|means nothing to me|"
    r"foreign to me|some (?:sort|kind) of|I am not acquainted|not familiar)\b",
    re.I,
)
_CONFUSION_KO = re.compile(
    r"처음\s*듣|들어\s*본\s*적|들어본\s*적|뭔지\s*모르|무엇인지\s*모르|무엇이오|무엇이요|무엇이냐|"
    r"무엇이옵|무슨\s*말|모르겠|알\s*수\s*없|알지\s*못|해괴|요상|괴이한|낯선\s*말|생소|"
    r"금시초문|무슨\s*뜻|뭐요|뭐라는|어디서\s*온\s*말"
)


def detect_anachronism(text: str, terms: Iterable[str], *, question: str = "") -> BreakHit | None:
    """The reply uses a modern concept knowledgeably: it contains one of ``terms`` (words that
    show what the thing is or does) that the question did not already say, and no confusion
    marker ("never heard of", "what is this", "처음 듣", "무엇이오" …)."""
    if _CONFUSION_EN.search(text) or _CONFUSION_KO.search(text):
        return None
    asked = question.lower()
    for term in terms:
        needle = term.strip().lower()
        if not needle or needle in asked:
            continue
        boundary = r"\b" if needle[:1].isascii() and needle[:1].isalnum() else ""
        end = r"\b" if needle[-1:].isascii() and needle[-1:].isalnum() else ""
        match = re.search(f"{boundary}{re.escape(needle)}{end}", text, re.I)
        if match:
            return BreakHit("anachronism", f"term:{term}", excerpt(text, match))
    return None


def detect_breaks(
    text: str,
    *,
    user_name: str = "User",
    anachronism_terms: Sequence[str] = (),
    question: str = "",
) -> list[BreakHit]:
    """Every kind of break the rules find in one reply (at most one hit per kind)."""
    hits = [
        detect_ai_disclosure(text),
        detect_refusal(text),
        detect_user_impersonation(text, user_name),
    ]
    if anachronism_terms:
        hits.append(detect_anachronism(text, anachronism_terms, question=question))
    return [h for h in hits if h is not None]


__all__ = [
    "KINDS",
    "BreakHit",
    "detect_ai_disclosure",
    "detect_anachronism",
    "detect_breaks",
    "detect_refusal",
    "detect_user_impersonation",
    "excerpt",
]
