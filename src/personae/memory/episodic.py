"""Episodic long-term memory, after Generative Agents (Park et al., 2023).

*Observations* are what the user told the character, one sentence each, with an importance from
1 (mundane) to 10 (life-changing): rated by the model when asked to, otherwise by a heuristic
that looks for self-disclosure, names, numbers and big life events.

*Retrieval* ranks candidates by ``w_recency·recency + w_importance·importance +
w_relevance·relevance``, each in 0–1. All three weights default to 1, the paper's choice.
Recency decays exponentially with the hours since the memory was last retrieved (``0.995`` per
hour: a memory untouched for a week keeps 43%); importance is the 1–10 rating divided by 10;
relevance is the hybrid search's fused score, min-max normalised over the candidates (fused
scores have no absolute scale). Unlike the paper we do not min-max normalise recency and
importance: memories written minutes apart have recencies within 0.1% of each other, and
stretching that to 0–1 let noise outvote relevance — on the long-chat benchmark it dropped the
planted fact from the top 4 for 5 of 20 English probes and 5 of 20 Korean ones.

*Reflection*: once the importance of observations since the last reflection adds up to
``threshold`` (the paper's 150), the model is shown those observations and asked for a few
higher-level insights, each citing the numbered observations it rests on; the insights are
stored as ``reflection`` memories whose evidence points at those observations.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass

from personae.backends.base import Backend, GenerationParams, Message, collect
from personae.errors import InvalidInput
from personae.memory.bank import Recalled
from personae.memory.profile_rules_base import _set

# A sentence ends at . ! ? followed by a space or the end; one inside a word ("example.com",
# "3.5", "192.168.0.1") does not end it.
_SENTENCE = re.compile(r"(?:[^.!?。！？\n]|[.!?](?=[^\s.!?。！？]))+[.!?。！？]*")
_FIRST_PERSON = re.compile(
    r"\b(?:i|i'm|i've|i'd|i'll|me|my|mine|we|our|us)\b"
    r"|(?:^|\s)(?:저|제|나|내|우리|저희)(?:[는가도의를]|$|\s)",
    re.IGNORECASE,
)
_DISCLOSURE = re.compile(
    r"\b(?:name|called|named|born|birthday|live|lived|moved|work|job|sister|brother|mother|"
    r"father|mum|mom|dad|wife|husband|son|daughter|friend|dog|cat|allergic|afraid|scared|"
    r"love|hate|favourite|favorite|married|engaged|divorced|died|passed|pregnant|fired|"
    r"promoted|graduated|moving|plan|planning|appointment|tomorrow|next)\b|"
    r"이름|생일|태어|살아|살고|이사|일해|직장|회사|여동생|남동생|언니|누나|오빠|형|엄마|아빠|"
    r"남편|아내|친구|강아지|고양이|알레르기|무서|좋아|싫어|결혼|약혼|이혼|돌아가|임신|해고|"
    r"승진|졸업|계획|예약|약속|내일|다음|어머니|아버지|동생|부모|할머니|할아버지|아들",
    re.IGNORECASE,
)
_LIFE_EVENT = re.compile(
    r"\b(?:married|engaged|divorced|died|passed away|pregnant|fired|promoted|graduated|"
    r"diagnosed|accident|funeral|born)\b|결혼|약혼|이혼|돌아가|임신|해고|승진|졸업|진단|사고|장례",
    re.IGNORECASE,
)
_NUMBER = re.compile(r"\d")
_PROPER = re.compile(r"(?<=[a-z,;] )[A-Z][a-z]+")

DEFAULT_DECAY = 0.995
DEFAULT_THRESHOLD = 150.0


_HANGUL = re.compile(r"[\uac00-\ud7a3]")
MAX_SENTENCES = 3
MAX_CHARS = 240


# -- lines that say nothing about the user ------------------------------------------------------
# "Look at me closely, Holmes." was kept as an episode: "me" is first person and "Holmes" a name,
# yet it tells nothing about the user. A name the user calls the character by (a vocative) is not
# a name the user mentions, and an imperative, a greeting or an "ok" is not a disclosure.
_TITLE = r"(?:(?i:mr|mrs|ms|miss|dr|sir|madam|my dear|dear)\.?\s+)?"
_CALLED = r"[A-Z][\w'-]*(?:\s+[A-Z][\w'-]*)?"  # Holmes, Mr. Holmes, Miss Bennet
_VOCATIVE = re.compile(
    rf"^{_TITLE}{_CALLED}\s*,\s*|,\s*{_TITLE}{_CALLED}(?=\s*[.!?？！]*$)"
    r"|(?:^|[,\s]\s*)[가-힣]{1,5}\s?(?:님|씨|나리|도령|선생님|아씨|대감)(?=\s*[,.!?？！~]|$)"
)
_ACK_WORDS = _set(
    "ok okay k sure yes yeah yep no nope fine alright right hmm hm oh ah aha hello hi hey thanks "
    "thank you goodbye bye good morning evening night afternoon see later indeed very well great "
    "cool nice i understood got it of course please go on continue then so mm much "
    "네 예 응 어 아 음 흠 아하 그래 그래요 그렇군요 그렇군 그렇네요 알겠어요 알겠습니다 알았어 "
    "알았어요 좋아요 좋아 좋습니다 고마워요 고마워 고맙습니다 감사합니다 감사해요 안녕하세요 안녕 "
    "반가워요 반갑습니다 반가워 맞아요 맞아 맞습니다 오케이 계속하세요 계속 말씀하세요 "
    "그렇구나 알겠소 그러게요 그럼요 물론이죠 물론"
)
_IMPERATIVE = re.compile(
    r"^(?:(?:please|now|so|oh|well|come on|just|do)\s*,?\s+)*(?:look|tell|show|give|come|sit|"
    r"listen|wait|stop|go|help|let|let's|take|say|try|watch|follow|answer|explain|describe|read|"
    r"guess|leave|stay|hold|bring|keep|forget|remember|think|get|see|hear|meet|speak|talk|"
    r"continue|proceed|observe|deduce|pay|consider|imagine|hurry|calm|relax|smile|dance|sing|"
    r"run|walk|turn|open|close|stand|be|don't|do not)\b",
    re.I,
)
_KO_IMPERATIVE = re.compile(
    r"(?:세요|십시오|시오|주세요|줘요?|봐요?|보게|하게|하라|해라|거라|너라|렴|자)[.!~\s]*$"
)
# The user as the subject or owner of something: "I …", "my bees", "저는 …".
_SELF = re.compile(
    r"\b(?:i|i'm|i've|i'd|i'll|my|mine|we|our|ours)\b|(?:^|\s)(?:저는|제가|저도|나는|내가|난|전|"
    r"저희|우리)(?:\s|$)",
    re.I,
)
_SELF_IN_QUESTION = re.compile(
    r"\b(?:my|mine|our|i'm|i am|i was|i've been|i keep|i live|i work)\b|(?:^|\s)(?:저는|제가|"
    r"저희|제)(?:\s|$)",
    re.I,
)


def says_nothing_about_the_user(sentence: str) -> bool:
    """True for a line with no fact about the user in it: a greeting or an "ok", an
    imperative to the character ("Look at me closely, Holmes."), a question to the character
    with no self-disclosure. A question or order that also discloses ("Do you think my bees
    will survive?", "Listen, my sister is ill.") is not such a line."""
    bare = _VOCATIVE.sub(" ", sentence).strip(" ,.!?~…？！")
    if not bare:
        return True
    words = re.findall(r"[\w'가-힣]+", bare.lower())
    if all(w in _ACK_WORDS for w in words):
        return True
    if _DISCLOSURE.search(bare):
        return False
    if sentence.rstrip().endswith(("?", "？")):
        return not _SELF_IN_QUESTION.search(bare)
    if _IMPERATIVE.match(bare) or (_HANGUL.search(bare) and _KO_IMPERATIVE.search(bare)):
        return not _SELF.search(bare)
    return False


def _about_the_user(sentence: str) -> bool:
    if len(sentence.split()) < 3 and len(sentence) < 8:
        return False
    if says_nothing_about_the_user(sentence):
        return False
    bare = _VOCATIVE.sub(" ", sentence)  # "…, Holmes." names the character, not the user
    if _FIRST_PERSON.search(sentence) or _PROPER.search(bare):
        return True
    # Korean drops the pronoun ("통영 출신이라…" is about the speaker), so a Korean statement of
    # three words or more, or one that discloses something, counts.
    return bool(_HANGUL.search(sentence)) and (
        len(sentence.split()) >= 3 or bool(_DISCLOSURE.search(sentence))
    )


def observations(text: str) -> list[str]:
    """What a user message says worth remembering, as passages of up to three consecutive
    sentences (240 characters) that speak about the user or name something; greetings,
    questions to the character and filler are left out and split passages.

    Neighbouring sentences stay together because a fact is often spread over two of them
    ("I have a sister. Her name is Winifred."): stored one by one, neither half answers
    "what is my sister called?"."""
    out: list[str] = []
    run: list[str] = []

    def close() -> None:
        if run:
            out.append(" ".join(run))
            run.clear()

    for match in _SENTENCE.finditer(text):
        sentence = " ".join(match.group().split())
        if not _about_the_user(sentence):
            close()
            continue
        if run and (
            len(run) >= MAX_SENTENCES or sum(map(len, run)) + len(run) + len(sentence) > MAX_CHARS
        ):
            close()
        run.append(sentence)
    close()
    return out


def heuristic_importance(text: str) -> float:
    """1–10 without a model: 2 for anything, more for self-disclosure, numbers, names and
    life events."""
    score = 2.0
    if _DISCLOSURE.search(text):
        score += 3
    if _NUMBER.search(text):
        score += 1
    if _PROPER.search(text):
        score += 1
    if _LIFE_EVENT.search(text):
        score += 3
    return min(10.0, score)


_RATE = {
    "en": (
        "On a scale of 1 to 10, where 1 is purely mundane (e.g. brushing teeth, saying hello) "
        "and 10 is extremely poignant (e.g. a break-up, a death in the family, getting into "
        "college), rate how important this is for a friend to remember about the speaker.\n"
        "Statement: {text}\nAnswer with a single number.\nRating:"
    ),
    "ko": (
        "1은 아주 사소한 일(양치질, 인사), 10은 매우 중요한 일(이별, 가족의 죽음, 대학 합격)이라고 "
        "할 때, 친구로서 말한 사람에 대해 기억해 둘 만한 정도를 1부터 10까지 매기세요.\n"
        "말: {text}\n숫자 하나로만 답하세요.\n점수:"
    ),
}


def rate_importance(
    backend: Backend, text: str, *, language: str = "en", params: GenerationParams | None = None
) -> float:
    """The model's 1–10 rating (the paper's prompt); the heuristic when it gives no number."""
    prompt = _RATE["ko" if language == "ko" else "en"].format(text=text.strip())
    params = params or GenerationParams(max_tokens=4, temperature=0.0, seed=0)
    reply, _ = collect(backend.stream([Message("user", prompt)], params))
    found = re.search(r"\d+(?:\.\d+)?", reply)
    if found is None:
        return heuristic_importance(text)
    return max(1.0, min(10.0, float(found.group())))


@dataclass(frozen=True)
class Weights:
    recency: float = 1.0
    importance: float = 1.0
    relevance: float = 1.0

    def __post_init__(self) -> None:
        if min(self.recency, self.importance, self.relevance) < 0:
            raise InvalidInput("memory weights must be >= 0")


@dataclass(frozen=True)
class Ranked:
    recalled: Recalled
    score: float
    recency: float
    importance: float
    relevance: float


def _minmax(values: list[float]) -> list[float]:
    lo, hi = min(values), max(values)
    if hi - lo < 1e-12:
        return [1.0 for _ in values]
    return [(v - lo) / (hi - lo) for v in values]


def rank(
    candidates: Sequence[Recalled],
    *,
    k: int,
    weights: Weights = Weights(),  # noqa: B008 (frozen, shared safely)
    decay: float = DEFAULT_DECAY,
    now: float | None = None,
) -> list[Ranked]:
    """Generative Agents' retrieval score over search candidates; best ``k`` first."""
    if not 0 < decay <= 1:
        raise InvalidInput(f"decay must be in (0, 1], not {decay}")
    if not candidates or k <= 0:
        return []
    now = time.time() if now is None else now
    hours = [max(0.0, now - c.item.accessed_at) / 3600 for c in candidates]
    recency = [decay**h for h in hours]
    importance = [min(max(c.item.importance, 0.0), 10.0) / 10 for c in candidates]
    relevance = _minmax([c.hit.score for c in candidates])
    ranked = [
        Ranked(
            c,
            weights.recency * r + weights.importance * i + weights.relevance * v,
            r,
            i,
            v,
        )
        for c, r, i, v in zip(candidates, recency, importance, relevance, strict=True)
    ]
    ranked.sort(key=lambda x: -x.score)
    return ranked[:k]


_REFLECT = {
    "en": (
        "Statements about {user}, from conversations with {char}:\n{numbered}\n\n"
        "What {n} high-level insights about {user} can you infer from these statements? "
        "Write one per line, each ending with the numbers of the statements it rests on, like:\n"
        "{user} cares a lot about their family (because of 1, 4)"
    ),
    "ko": (
        "{char}와(과)의 대화에서 {user}에 대해 나온 말들:\n{numbered}\n\n"
        "이 말들로부터 {user}에 대해 알 수 있는 더 높은 수준의 통찰 {n}가지를 쓰세요. "
        "한 줄에 하나씩, 끝에 근거가 된 말의 번호를 다음처럼 적으세요:\n"
        "{user}는 가족을 아주 소중히 여긴다 (근거: 1, 4)"
    ),
}
_CITATION = re.compile(
    r"[(（]\s*(?:because of|based on|근거|from)?\s*[:：]?\s*"
    r"(\d+(?:\s*(?:,|and|및)\s*\d+)*)\s*[)）]\s*\.?$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Insight:
    text: str
    evidence: tuple[int, ...]  # memory ids


def parse_insights(reply: str, ids: Sequence[int]) -> list[Insight]:
    """Lines ending in a citation of statement numbers (1-based into ``ids``); others dropped."""
    out = []
    for raw in reply.splitlines():
        line = raw.strip().lstrip("-*•0123456789.) ").strip()
        match = _CITATION.search(line)
        if not match:
            continue
        numbers = [int(n) for n in re.findall(r"\d+", match.group(1))]
        cited = tuple(dict.fromkeys(ids[n - 1] for n in numbers if 1 <= n <= len(ids)))
        text = line[: match.start()].strip().rstrip(",;:")
        if cited and len(text) >= 8:
            out.append(Insight(text, cited))
    return out


def reflect(
    backend: Backend,
    statements: Sequence[tuple[int, str]],
    *,
    user: str,
    char: str,
    language: str = "en",
    n: int = 3,
    params: GenerationParams | None = None,
) -> list[Insight]:
    """Ask for ``n`` insights about ``user`` from ``(memory id, text)`` statements."""
    if not statements:
        return []
    numbered = "\n".join(f"{i}. {text}" for i, (_, text) in enumerate(statements, start=1))
    prompt = _REFLECT["ko" if language == "ko" else "en"].format(
        user=user, char=char, numbered=numbered, n=n
    )
    params = params or GenerationParams(max_tokens=200, temperature=0.0, seed=0)
    reply, _ = collect(backend.stream([Message("user", prompt)], params))
    return parse_insights(reply, [i for i, _ in statements])[:n]
