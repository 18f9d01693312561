"""The ``judge`` verifier: a judge model compares the candidates in pairs.

Every pair is compared in both orders (:meth:`personae.checks.judge.Judge.compare_balanced`,
which cancels the judge's preference for the answer shown first); a candidate's value is its
share of wins, a tie counting half, over the comparisons the judge answered. With one candidate
there is nothing to compare: 0.5. At most :data:`MAX_CANDIDATES` candidates are judged (28 pairs,
56 judge calls); any beyond them get a neutral 0.5. Never a gate: a small judge is often
inconsistent (see the judge's position-consistency numbers in benchmarks/README.md).

Where the judge's backend gives next-token log-probabilities
(:class:`~personae.backends.base.NextTokenLogprobs`: the embedded backend does), ``mode="yes-no"``
asks one question per candidate instead ("does this reply play the character well? yes or no")
and reads the verdict from the probabilities of "yes" and "no" as the answer's first token:
value = P(yes) / (P(yes) + P(no)). N calls instead of N·(N−1), each one token long, and no
position bias to cancel, since each candidate is judged alone. ``mode="auto"`` uses it where the
backend can, pairs elsewhere.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any

from personae.agent.verifiers.base import (
    Candidate,
    ReplyContext,
    Score,
    VerifierError,
    one_line,
)
from personae.backends.base import Message, NextTokenLogprobs
from personae.checks.judge import BalancedVerdict, Judge
from personae.errors import PersonaeError

MAX_CANDIDATES = 8
"""Candidates compared at most: N*(N-1)/2 pairs, each asked twice."""
# What the judge sees, bounded so the prompt fits a small model's context.
_ANSWER_CHARS = 2000
_CONTEXT_MESSAGES = 6
_MESSAGE_CHARS = 500
_CARD_CHARS = 1200
_REFERENCE_CHARS = 1500

_CRITERION = {
    "en": (
        "Which answer plays {char} better as the next line of this chat: it stays in "
        "character (never an AI or an assistant), sounds like {char}, answers {user}'s last "
        "message, does not repeat earlier lines or {user}'s words, does not speak for {user}, "
        "agrees with the reference, and is in English."
    ),
    "ko": (
        "이 대화의 다음 말로 어느 답변이 {char}을(를) 더 잘 연기하는가: 캐릭터를 벗어나지 않고"
        "(AI나 도우미처럼 말하지 않고), {char}의 말투로, {user}의 마지막 말에 답하며, 앞의 말이나 "
        "{user}의 말을 되풀이하지 않고, {user} 대신 말하지 않으며, 참고 정보와 어긋나지 않고, "
        "한국어로 답하는가."
    ),
}


def _clip(text: str, limit: int) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def judge_context(context: ReplyContext) -> str:
    """The material the judge reads: the character, the last messages, the user's message."""
    character = context.character
    about = _clip(
        "\n".join(t for t in (character.description, character.personality) if t.strip()),
        _CARD_CHARS,
    )
    lines = [f"{character.name}: {about}" if about else character.name, ""]
    messages = [m for m in context.history if m.role in ("user", "assistant")]
    for m in messages[-_CONTEXT_MESSAGES:]:
        speaker = context.user_name if m.role == "user" else character.name
        lines.append(f"{speaker}: {_clip(m.content, _MESSAGE_CHARS)}")
    lines.append(f"{context.user_name}: {_clip(context.user, _MESSAGE_CHARS * 2)}")
    return "\n".join(lines)


class JudgeVerifier:
    """Pairwise tournament of the candidates, both orders per pair; value = share of wins."""

    name = "judge"

    def __init__(
        self,
        judge: Judge | Any,
        *,
        max_candidates: int = MAX_CANDIDATES,
        mode: str = "pairwise",
    ) -> None:
        if not isinstance(judge, Judge):
            if not callable(getattr(judge, "stream", None)):
                raise VerifierError("the judge verifier needs a Judge or a backend to judge with")
            judge = Judge(judge)
        if isinstance(max_candidates, bool) or not 2 <= max_candidates <= MAX_CANDIDATES:
            raise VerifierError(
                f"judge: max_candidates must be 2 to {MAX_CANDIDATES}, not {max_candidates!r}"
            )
        if mode not in ("pairwise", "yes-no", "auto"):
            raise VerifierError(f"judge: mode must be pairwise, yes-no or auto, not {mode!r}")
        can_read = isinstance(judge.backend, NextTokenLogprobs)
        if mode == "yes-no" and not can_read:
            raise VerifierError(
                "judge: yes-no needs a backend that gives log-probabilities (the embedded one)"
            )
        self.judge: Judge = judge
        self.max_candidates = max_candidates
        self.mode = "yes-no" if mode == "yes-no" or (mode == "auto" and can_read) else "pairwise"

    def score(self, candidates: Sequence[Candidate], context: ReplyContext) -> list[Score]:
        if self.mode == "yes-no":
            return [self._yes_no(c, context) for c in candidates]
        n = len(candidates)
        if n < 2:
            return [Score(self.name, 0.5, True, "one candidate: nothing to compare")] * n
        judged = min(n, self.max_candidates)
        criterion = _CRITERION[context.language].format(
            char=context.character.name, user=context.user_name
        )
        material = judge_context(context)
        reference = _clip("\n".join([*context.lore, *context.recalled]), _REFERENCE_CHARS)
        wins = [0.0] * judged
        counted = [0] * judged
        agreed = [0] * judged
        words: list[list[tuple[float, str]]] = [[] for _ in range(judged)]
        for a, b in itertools.combinations(range(judged), 2):
            verdict: BalancedVerdict = self.judge.compare_balanced(
                criterion,
                context=material,
                first=_clip(candidates[a].text, _ANSWER_CHARS),
                second=_clip(candidates[b].text, _ANSWER_CHARS),
                reference=reference,
                language=context.language,
            )
            if verdict.score is None:
                continue
            reasoning = next((v.reasoning for v in verdict.as_shown if v.valid), "")
            for me, other, share in ((a, b, verdict.score), (b, a, 1.0 - verdict.score)):
                wins[me] += share
                counted[me] += 1
                agreed[me] += bool(verdict.consistent)
                words[me].append((share, f"vs {other + 1}: {one_line(reasoning, 120)}"))
        out = []
        for i in range(judged):
            if not counted[i]:
                out.append(Score(self.name, 0.5, True, "the judge gave no verdict (neutral)"))
                continue
            # The judge's words from the comparison that decided most for or against it.
            _, said = max(words[i], key=lambda w: abs(w[0] - 0.5))
            reason = (
                f"won {wins[i]:g} of {counted[i]} comparisons (both orders agreed on "
                f"{agreed[i]}); {said}"
            )
            out.append(Score(self.name, wins[i] / counted[i], True, reason))
        note = f"not judged (over {self.max_candidates} candidates): neutral"
        out += [Score(self.name, 0.5, True, note) for _ in range(n - judged)]
        return out

    def _yes_no(self, candidate: Candidate, context: ReplyContext) -> Score:
        backend = self.judge.backend
        assert isinstance(backend, NextTokenLogprobs)
        language = context.language
        criterion = _CRITERION[language].format(char=context.character.name, user=context.user_name)
        question = _YES_NO[language].format(
            material=judge_context(context),
            reply=_clip(candidate.text, _ANSWER_CHARS),
            criterion=criterion,
            char=context.character.name,
        )
        try:
            top = backend.next_token_logprobs([Message("user", question)], top=20)
        except PersonaeError as exc:
            return Score(self.name, 0.5, True, f"the judge failed ({one_line(str(exc), 80)})")
        yes, no = _mass(top, _YES), _mass(top, _NO)
        if yes + no <= 0.0:
            return Score(self.name, 0.5, True, "neither yes nor no among the judge's top tokens")
        value = yes / (yes + no)
        return Score(self.name, value, True, f"P(yes) {value:.2f} of yes/no")


_YES_NO = {
    "en": (
        "{material}\n\n{char}'s reply:\n{reply}\n\nQuestion: {criterion}\nDoes this reply do "
        "that? Answer with one word: yes or no."
    ),
    "ko": (
        "{material}\n\n{char}의 답:\n{reply}\n\n질문: {criterion}\n이 답이 그러한가? "
        "한 단어로만 답하세요: 예 또는 아니요."
    ),
}
_YES = ("yes", "예", "네")
_NO = ("no", "아니", "아뇨")


def _mass(top: dict[str, float], words: Sequence[str]) -> float:
    """Probability of the tokens in ``top`` that begin one of ``words`` ("Yes", " yes", "예")."""
    total = 0.0
    for token, logprob in top.items():
        t = token.strip().lower()
        if t and any(w.startswith(t) or t.startswith(w) for w in words) and math.isfinite(logprob):
            total += math.exp(logprob)
    return total
