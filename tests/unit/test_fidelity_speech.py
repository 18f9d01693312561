"""Assistant-speak rules (evaluation.breaks) and the fidelity speech checks."""

from __future__ import annotations

import pytest

from personae.checks.assistant_speak import detect_assistant_speak
from personae.checks.speech import cut_off, is_empty, user_placeholder

ASSISTANT = [
    "How can I help you today?",
    "What can I assist you with?",
    "Is there anything else I can help you with?",
    "I'm here to help, whatever you need.",
    "Feel free to ask if you have more questions!",
    "If you have any other questions, just say so.",
    "I hope this helps.",
    "I don't have personal experiences, but I can tell you about London.",
    "I'm sorry, but I don't have any information about that.",
    "무엇을 도와드릴까요?",
    "안녕하세요! 도움이 필요하신가요?",
    "궁금한 점이 있으시면 언제든지 물어보세요.",
    "저는 개인적인 감정이 없어요.",
    "죄송합니다만 그 일은 기억나지 않아요.",
    "도움이 되었으면 좋겠어요.",
    # The 1.5B's 정은희 (fidelity set), missed by the first rules:
    "네, 저는 정은희입니다. 도와드릴 수 있습니다. 어떤 도움을 드릴까요?",
    "수학에 대한 궁금한 점이나 도움이 필요한 것이 있으면 언제든지 말씀해 주세요.",
    # …and its 춘향:
    "네, 감사합니다. 만약 더 많은 질문이 있으면 언제든지 말씀해 주세요.",
    "당신이 성춘향으로 대화를 진행하고 있습니다.",
]
NOT_ASSISTANT = [
    "Help? I can help you find the man who did this.",
    "I helped him carry the trunk to the cab.",
    "Feel free? I am never free, Watson, not while Moriarty lives.",
    "I have no personal quarrel with the man.",
    "소녀가 도와드릴 수 있는 일이라면 무엇이든 하겠사옵니다.",
    "제가 도와드릴게요, 할머니.",
    "죄송하지만 지금은 손님이 많아서요.",
    "그 일은 기억나지 않소. 오래전 일이라.",
    "다음에 또 고민되면 언제든 물어보세요.",  # a friend's offer
    "궁금한 게 많구나. 내가 다 알려 주마.",
    "내가 도와줄 수 있다. 일로 와 봐라.",
    "도움이 필요한 사람이 있으면 언제든 데려오너라.",
    "질문이 있으면 손 들어라. 다 설명해 주꾸마.",
    "그 사람과 대화를 나누고 싶소.",
]


@pytest.mark.parametrize("text", ASSISTANT)
def test_assistant_speak_positive(text: str) -> None:
    hit = detect_assistant_speak(text)
    assert hit is not None and hit.kind == "assistant_speak"


@pytest.mark.parametrize("text", NOT_ASSISTANT)
def test_assistant_speak_negative(text: str) -> None:
    assert detect_assistant_speak(text) is None


def test_empty() -> None:
    assert is_empty("") and is_empty("  … !! ") and is_empty("**")
    assert not is_empty("*nods*") and not is_empty("네")


@pytest.mark.parametrize(
    ("text", "finish", "cut"),
    [
        ("You have been in Afghanistan, I perceive, and the", "length", True),
        ("You have been in Afghanistan.", "length", False),
        ("*He lights his pipe*", "length", False),
        ("“Quite so,” he said", "stop", False),  # a model may stop without a full stop
        ("And then,", "stop", True),
        ('*과장된 억양으로* "Oh my god, you guys!"', "stop", False),  # a closing straight quote
        ("He said: “", "stop", True),
        ("The answer is:", None, True),
        ("소녀는 기다리옵니다", "length", False),
        ("소녀는 서방님을 기다리", "length", True),
        ("", "length", False),
    ],
)
def test_cut_off(text: str, finish: str | None, cut: bool) -> None:
    assert (cut_off(text, finish) is not None) is cut


def test_user_placeholder() -> None:
    assert user_placeholder("Holmes looks at User with interest.", "Watson")
    assert user_placeholder("Good day, {{user}}.", "Watson")
    assert user_placeholder("홍길동이 사용자님을 바라본다.", "민수")
    assert user_placeholder("The user of this typewriter is left-handed.", "Watson") is None
    assert user_placeholder("Read the User manual.", "Watson") is None
    # "User" was personae's default for a nameless user: the placeholder the issue saw.
    assert user_placeholder("Holmes looks at User.", "User")
