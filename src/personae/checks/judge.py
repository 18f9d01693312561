"""LLM judges: score one answer on a rubric, or say which of two answers is better.

A judge is any backend asked to reason first and give its verdict on a last, fixed-form line
(``Score: N`` / ``점수: N``, ``Winner: A`` / ``승자: A``), because a score written before the
reasoning is a guess the reasoning then defends. Parsing takes the *last* such line, accepts
fractions, rejects anything outside the rubric's range, and on failure asks once more with a
stricter reminder; a judge that still does not answer gives ``score=None`` (counted as invalid,
never as a number). Decoding is greedy with a fixed seed by default, so a rerun gives the same
verdicts.

Pairwise judges prefer whichever answer they see first (or second) more often than chance;
:meth:`Judge.compare_balanced` asks in both orders, maps the verdicts back, averages them (win 1,
tie 0.5) and reports whether the two orders agreed (position consistency).

Prompts exist in English and Korean; the language follows the material being judged.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from personae.backends.base import Backend, GenerationParams, Message, collect
from personae.text import detect_language

Language = Literal["en", "ko"]
Winner = Literal["first", "second", "tie"]

# Bumped whenever a prompt changes, so cached verdicts from older prompts are not reused.
PROMPT_VERSION = "judge-v3"

DEFAULT_PARAMS = GenerationParams(
    max_tokens=320, temperature=0.0, seed=0, top_k=None, min_p=None, repeat_penalty=1.0
)
# A retry only needs the verdict line; a short budget stops a second essay.
RETRY_MAX_TOKENS = 24


@dataclass(frozen=True)
class Rubric:
    """One scoring dimension: ``instructions`` say what a high and a low score mean."""

    name: str
    title: str
    instructions: str
    low: int = 1
    high: int = 7


@dataclass(frozen=True)
class Verdict:
    """A judge's score (None when it gave no usable one), its reasoning, and its raw text."""

    score: float | None
    reasoning: str
    raw: str
    attempts: int = 1

    @property
    def valid(self) -> bool:
        return self.score is not None


@dataclass(frozen=True)
class PairVerdict:
    """Which of two answers won, as they were shown (``first`` was shown as A)."""

    winner: Winner | None
    reasoning: str
    raw: str
    attempts: int = 1

    @property
    def valid(self) -> bool:
        return self.winner is not None


@dataclass(frozen=True)
class BalancedVerdict:
    """Both orders of one comparison, mapped back to the caller's ``first``/``second``.

    ``score`` is first's win score (win 1, tie 0.5, loss 0) averaged over the orders the judge
    answered validly (None if neither); ``consistent`` says whether both orders named the same
    winner (None unless both were valid).
    """

    winner: Winner | None
    score: float | None
    consistent: bool | None
    as_shown: tuple[PairVerdict, PairVerdict]
    mapped: tuple[Winner | None, Winner | None]

    @property
    def valid(self) -> bool:
        return self.score is not None

    @property
    def shown_first_picks(self) -> int:
        """How many of the two verdicts chose the answer shown first (position bias)."""
        return sum(1 for v in self.as_shown if v.winner == "first")


def material_language(*texts: str) -> Language:
    """'ko' when the text is mostly Hangul, else 'en' (the project's one rule:
    :func:`personae.text.detect_language`)."""
    return detect_language(" ".join(texts))


_SYSTEM = {
    "en": (
        "You are a careful, impartial judge of role-play. You assess how well an AI plays a "
        "character, you justify every judgement with evidence from the text, and you follow the "
        "requested answer format exactly."
    ),
    "ko": (
        "당신은 롤플레이를 꼼꼼하고 공정하게 평가하는 심사위원입니다. AI가 캐릭터를 얼마나 잘 "
        "연기하는지 판단하고, 모든 판단의 근거를 본문에서 찾아 밝히며, 요청한 답변 형식을 "
        "정확히 따릅니다."
    ),
}

_SCORE = {
    "en": {
        "intro": "An AI is playing a character. Rate its response on one criterion.",
        "context": "### Material",
        "reference": "### Reference",
        "check": ", and check it against the reference",
        "response": "### Response to rate",
        "criterion": "### Criterion: {title} ({low}–{high})",
        "format": (
            "### Answer format\n"
            "Begin with your reasoning, in two to four sentences: quote what in the response "
            "fits the criterion and what does not{check}. Do not give the score before the "
            "reasoning.\n"
            "Then end with one final line of exactly this form, with a number from {low} to "
            "{high}:\nScore: <number>"
        ),
        "retry": (
            "Your answer did not end with a valid score line. Reply with only this line, where "
            "N is a number from {low} to {high}:\nScore: N"
        ),
    },
    "ko": {
        "intro": "AI가 한 캐릭터를 연기하고 있습니다. 아래 응답을 한 가지 기준으로 평가하세요.",
        "context": "### 자료",
        "reference": "### 참고 정보",
        "check": " 참고 정보와도 대조하세요.",
        "response": "### 평가할 응답",
        "criterion": "### 기준: {title} ({low}–{high})",
        "format": (
            "### 답변 형식\n"
            "먼저 두세 문장으로 근거를 쓰세요. 응답에서 기준에 맞는 부분과 맞지 않는 부분을 "
            "인용하세요.{check} 근거보다 점수를 먼저 쓰지 마세요.\n"
            "마지막 줄에는 {low}부터 {high}까지의 숫자를 넣어 정확히 다음 형식으로 쓰세요:\n"
            "점수: <숫자>"
        ),
        "retry": (
            "답변이 올바른 점수 줄로 끝나지 않았습니다. N에 {low}부터 {high}까지의 숫자를 넣어 "
            "다음 한 줄만 쓰세요:\n점수: N"
        ),
    },
}

_COMPARE = {
    "en": {
        "intro": (
            "An AI is playing a character. Two answers, A and B, were given in the same "
            "situation. Decide which one is better on the criterion."
        ),
        "context": "### Material",
        "reference": "### Reference",
        "check": ", checking both against the reference",
        "first": "### Answer A",
        "second": "### Answer B",
        "criterion": "### Criterion",
        "format": (
            "### Answer format\n"
            "The order of the answers is arbitrary: do not let it, or their length, sway you. "
            "Do not copy the answers out. Begin by comparing them in two to four sentences"
            "{check}. Then end with one final line that is exactly one of:\n"
            "Winner: A\nWinner: B\nWinner: tie"
        ),
        "retry": (
            "Your answer did not end with a valid verdict line. Reply with only one of these "
            "lines:\nWinner: A\nWinner: B\nWinner: tie"
        ),
    },
    "ko": {
        "intro": (
            "AI가 한 캐릭터를 연기하고 있습니다. 같은 상황에서 나온 두 답변 A와 B 가운데 기준에 "
            "비추어 어느 쪽이 더 나은지 판단하세요."
        ),
        "context": "### 자료",
        "reference": "### 참고 정보",
        "check": " 두 답변을 참고 정보와 대조하세요.",
        "first": "### 답변 A",
        "second": "### 답변 B",
        "criterion": "### 기준",
        "format": (
            "### 답변 형식\n"
            "답변의 순서는 임의로 정해졌습니다. 순서나 길이에 흔들리지 마세요. 답변을 옮겨 적지 "
            "말고, 먼저 두세 문장으로 두 답변을 비교하세요.{check} 마지막 줄은 반드시 다음 "
            "가운데 하나여야 합니다:\n"
            "승자: A\n승자: B\n승자: 무승부"
        ),
        "retry": (
            "답변이 올바른 판정 줄로 끝나지 않았습니다. 다음 가운데 한 줄만 쓰세요:\n"
            "승자: A\n승자: B\n승자: 무승부"
        ),
    },
}

_NUMBER = r"([-+]?\d+(?:\.\d+)?)"
# "Score: 5", "**Score:** 5/7", "Final score = 5.5", "점수: 6점"
_SCORE_LINE = re.compile(r"(?:score|점수)\s*\**\s*[:：=]\s*[\*\[\(<\s]*" + _NUMBER, re.IGNORECASE)
# Looser phrasings, used only when no line above is present: "the score is 5", "점수는 6점".
_SCORE_PHRASE = re.compile(
    r"(?:score|점수)\s*\**\s*(?:is|of|는|은)\s*[\*\[\(<\s]*" + _NUMBER, re.IGNORECASE
)
# The Character-LLM habit: the score alone on the last line.
_BARE_SCORE = re.compile(r"^[\s\*\[\(]*" + _NUMBER + r"\s*(?:/\s*\d+|점)?[\s\*\]\)\.]*$")
_WINNER_LINE = re.compile(
    r"(?:winner|verdict|승자|판정)\s*\**\s*[:：=]\s*[\*\[\(<\s]*"
    r"(?:answer\s+|답변\s*)?(A|B|tie|draw|무승부|동점)(?![A-Za-z])",
    re.IGNORECASE,
)


def parse_score(text: str, low: float, high: float) -> float | None:
    """The score on the last ``Score: N`` / ``점수: N`` line (else a bare number ending the
    text), or None when there is none or it lies outside ``[low, high]``."""
    matches = _SCORE_LINE.findall(text) or _SCORE_PHRASE.findall(text)
    value: str | None = matches[-1] if matches else None
    if value is None:
        lines = [line for line in text.strip().splitlines() if line.strip()]
        bare = _BARE_SCORE.match(lines[-1]) if lines else None
        value = bare.group(1) if bare else None
    if value is None:
        return None
    score = float(value)
    return score if low <= score <= high else None


def parse_winner(text: str) -> Winner | None:
    """The verdict on the last ``Winner: A|B|tie`` (``승자: A|B|무승부``) line, as shown."""
    matches = _WINNER_LINE.findall(text)
    if not matches:
        return None
    label = matches[-1].lower()
    if label == "a":
        return "first"
    if label == "b":
        return "second"
    return "tie"


def _reasoning(raw: str) -> str:
    """The text before the verdict line (the whole text when there is none)."""
    found = list(_SCORE_LINE.finditer(raw)) or list(_WINNER_LINE.finditer(raw))
    if not found:
        return raw.strip()
    start = raw.rfind("\n", 0, found[-1].start()) + 1
    return raw[:start].strip() or raw.strip()


class Judge:
    """Scores and compares answers with ``backend``. ``retries`` is how many times an answer
    without a valid verdict is followed up with a stricter reminder."""

    def __init__(
        self,
        backend: Backend,
        *,
        params: GenerationParams | None = None,
        retries: int = 1,
    ) -> None:
        if retries < 0:
            raise ValueError("retries must be 0 or more")
        self.backend = backend
        self.params = params or DEFAULT_PARAMS
        self.retries = retries

    @property
    def model(self) -> str:
        return self.backend.model

    @property
    def fingerprint(self) -> str:
        """What identifies this judge's verdicts in a results cache."""
        p = self.params
        return f"{self.model}|{PROMPT_VERSION}|t={p.temperature}|seed={p.seed}|max={p.max_tokens}"

    def _ask(self, messages: Sequence[Message], max_tokens: int | None = None) -> str:
        params = self.params
        if max_tokens is not None:
            params = params.model_copy(update={"max_tokens": min(max_tokens, params.max_tokens)})
        text, _ = collect(self.backend.stream(list(messages), params))
        return text

    def score(
        self,
        rubric: Rubric,
        *,
        context: str,
        response: str,
        reference: str = "",
        language: Language | None = None,
    ) -> Verdict:
        """Rate ``response`` (given ``context``: profile, question, earlier turns) on
        ``rubric``. The prompt's language follows the material unless ``language`` is given."""
        lang = language or material_language(context, response)
        t = _SCORE[lang]
        parts = [t["intro"], "", t["context"], context.strip()]
        if reference.strip():
            parts += ["", t["reference"], reference.strip()]
        parts += ["", t["response"], response.strip() or "(empty)", ""]
        parts += [t["criterion"].format(title=rubric.title, low=rubric.low, high=rubric.high)]
        parts += [rubric.instructions.strip(), ""]
        check = t["check"] if reference.strip() else ""
        parts += [t["format"].format(low=rubric.low, high=rubric.high, check=check)]
        messages = [Message("system", _SYSTEM[lang]), Message("user", "\n".join(parts))]
        raw = self._ask(messages)
        texts = [raw]
        value = parse_score(raw, rubric.low, rubric.high)
        while value is None and len(texts) <= self.retries:
            reminder = t["retry"].format(low=rubric.low, high=rubric.high)
            messages = [*messages, Message("assistant", raw), Message("user", reminder)]
            raw = self._ask(messages, RETRY_MAX_TOKENS)
            texts.append(raw)
            value = parse_score(raw, rubric.low, rubric.high)
        return Verdict(value, _reasoning(texts[0]), "\n---\n".join(texts), len(texts))

    def compare(
        self,
        criterion: str,
        *,
        context: str,
        first: str,
        second: str,
        reference: str = "",
        language: Language | None = None,
    ) -> PairVerdict:
        """Which of ``first`` (shown as A) and ``second`` (shown as B) is better, in this one
        order. Use :meth:`compare_balanced` for a verdict free of position bias."""
        lang = language or material_language(context, first, second)
        t = _COMPARE[lang]
        parts = [t["intro"], "", t["context"], context.strip(), ""]
        if reference.strip():
            parts += [t["reference"], reference.strip(), ""]
        parts += [t["first"], first.strip() or "(empty)", ""]
        parts += [t["second"], second.strip() or "(empty)", ""]
        check = t["check"] if reference.strip() else ""
        parts += [t["criterion"], criterion.strip(), "", t["format"].format(check=check)]
        messages = [Message("system", _SYSTEM[lang]), Message("user", "\n".join(parts))]
        raw = self._ask(messages)
        texts = [raw]
        winner = parse_winner(raw)
        while winner is None and len(texts) <= self.retries:
            messages = [*messages, Message("assistant", raw), Message("user", t["retry"])]
            raw = self._ask(messages, RETRY_MAX_TOKENS)
            texts.append(raw)
            winner = parse_winner(raw)
        return PairVerdict(winner, _reasoning(texts[0]), "\n---\n".join(texts), len(texts))

    def compare_balanced(
        self,
        criterion: str,
        *,
        context: str,
        first: str,
        second: str,
        reference: str = "",
        language: Language | None = None,
    ) -> BalancedVerdict:
        """Compare in both orders and combine (see :func:`combine_orders`)."""
        lang = language or material_language(context, first, second)
        straight = self.compare(
            criterion,
            context=context,
            first=first,
            second=second,
            reference=reference,
            language=lang,
        )
        swapped = self.compare(
            criterion,
            context=context,
            first=second,
            second=first,
            reference=reference,
            language=lang,
        )
        return combine_orders(straight, swapped)


_SWAP: dict[Winner, Winner] = {"first": "second", "second": "first", "tie": "tie"}
_WIN_SCORE: dict[Winner, float] = {"first": 1.0, "tie": 0.5, "second": 0.0}


def combine_orders(straight: PairVerdict, swapped: PairVerdict) -> BalancedVerdict:
    """Combine a verdict on (first, second) with one on (second, first): map the swapped one
    back, average first's win score over the valid orders, and check the two agree."""
    mapped: tuple[Winner | None, Winner | None] = (
        straight.winner,
        _SWAP[swapped.winner] if swapped.winner is not None else None,
    )
    valid = [w for w in mapped if w is not None]
    score = sum(_WIN_SCORE[w] for w in valid) / len(valid) if valid else None
    consistent = mapped[0] == mapped[1] if len(valid) == 2 else None
    winner: Winner | None
    if score is None:
        winner = None
    elif score > 0.5:
        winner = "first"
    elif score < 0.5:
        winner = "second"
    else:
        winner = "tie"
    return BalancedVerdict(winner, score, consistent, (straight, swapped), mapped)
