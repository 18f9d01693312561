"""Assistant-speak: the service phrases of a chat assistant in a character's reply, English and
Korean ("How can I help you today?", "feel free to ask", "도와드릴까요?", "궁금한 점이 있으시면").

A fidelity flag, not one of the character breaks' ``KINDS`` (:mod:`personae.checks.breaks`):
the reply need not say it is an AI. Rules are written for precision over recall, each with
near misses in ``tests/unit/test_fidelity_speech.py``.
"""

from __future__ import annotations

import re

from personae.checks.breaks import BreakHit, excerpt

# --- assistant-speak ---------------------------------------------------------------------------

# The service phrases of a chat assistant, which no character of the bundled kind would say: an
# offer of help to a stranger, an invitation to ask more, "I don't have personal feelings", a
# formal apology for not remembering. Kept apart from ``ai_disclosure`` (the reply need not say
# it is an AI) and from ``KINDS`` (the roleplay breaks task reports only those four). Known limit:
# a shopkeeper or receptionist character may say "How can I help you?" / "무엇을 도와드릴까요?"
# in earnest; the fidelity report lists each hit with its excerpt so a reader can see which.
_ASSISTANT_EN = [
    (
        "offer-help",
        re.compile(
            r"\b(?:how|what) (?:can|may) I (?:help|assist)(?: you)?(?: with)?(?: today)?\s*\?"
            r"|\bis there (?:anything|something) (?:else )?(?:I can|I could) (?:help|assist|do)\b"
            r"|\bI(?:'m| am|’m) (?:always )?here to (?:help|assist)\b"
            r"|\blet me know (?:if|how) (?:there(?:'s| is) anything|I can help)\b",
            re.I,
        ),
    ),
    (
        "ask-more",
        re.compile(
            r"\bfeel free to (?:ask|reach out|let me know)\b"
            r"|\bif you have any (?:other |more |further )?(?:questions|concerns)\b"
            r"|\bI hope (?:this|that) (?:helps|information helps|was helpful)\b",
            re.I,
        ),
    ),
    (
        "no-personal",
        re.compile(
            r"\bI (?:do not|don't|don’t) have (?:any )?(?:personal|real|actual) "
            r"(?:experiences?|feelings|emotions|opinions|beliefs|preferences|memories|life)\b",
            re.I,
        ),
    ),
    (
        "sorry-no-information",
        re.compile(
            r"\bI(?:'m| am|’m) sorry,? but I (?:do not|don't|don’t) (?:have|recall|remember) "
            r"(?:any |that |the )?(?:information|memory|memories|record|details)\b",
            re.I,
        ),
    ),
]
_ASSISTANT_KO = [
    (
        "ko-offer-help",
        re.compile(
            r"도와\s*드릴까요|도와\s*드릴\s*일이|도움이\s*필요하(?:신가요|시면|세요)|"
            r"도움이\s*필요한\s*(?:것|게|점|일)(?:이|가)?\s*있(?:으시면|으면|다면)|"
            r"(?:도움을?|도와)\s*드릴\s*수\s*있(?:을까요|어요|습니다)|도움을?\s*드릴까요|"
            r"도움이\s*되었으면\s*좋겠"
        ),
    ),
    (
        "ko-ask-more",
        re.compile(
            # "언제든 물어보세요" alone is a friend's offer; an assistant asks for questions.
            r"궁금한\s*(?:점|것|사항)(?:이|[^.?!\n]{0,30}?)\s*(?:있으시면|있으면|있다면)|"
            r"언제든(?:지)?\s*(?:질문|문의)|"
            # "더 많은 질문이 있으면 언제든지 말씀해 주세요" (a teacher's "질문이 있으면 손 들어라"
            # has no "언제든").
            r"질문이\s*(?:더\s*)?있(?:으시면|으면|다면)[^.?!\n]{0,15}?언제든"
        ),
    ),
    (
        # Talk about the chat itself: "당신이 성춘향으로 대화를 진행하고 있습니다".
        "ko-meta",
        re.compile(r"대화를\s*진행하(?:고|겠|는)|롤\s*플레이|역할\s*(?:극|놀이)을\s*(?:하|진행)"),
    ),
    (
        "ko-no-personal",
        re.compile(
            r"(?:저는|전|제게는|저에게는)?\s*개인적인\s*(?:경험|감정|의견|취향|기억)[이은을]?\s*없"
        ),
    ),
    (
        "ko-sorry-cannot-recall",
        re.compile(
            r"(?:죄송합니다만|죄송하지만|죄송해요)[^.?!\n]{0,40}?"
            r"(?:기억(?:이|은)?\s*(?:나지|안\s*나)|기억하지\s*못|정보(?:가|는)\s*없|"
            r"알\s*수\s*없|답변(?:을|해)?\s*드리기\s*어렵)"
        ),
    ),
]


def detect_assistant_speak(text: str) -> BreakHit | None:
    """The first chat-assistant service phrase in ``text`` (English or Korean), or None:
    "How can I help you today?", "feel free to ask", "I don't have personal feelings",
    "도와드릴까요?", "궁금한 점이 있으시면", "죄송합니다만 … 기억나지 않아요"."""
    for rule, pattern in (*_ASSISTANT_EN, *_ASSISTANT_KO):
        match = pattern.search(text)
        if match:
            return BreakHit("assistant_speak", rule, excerpt(text, match))
    return None


__all__ = ["detect_assistant_speak"]
