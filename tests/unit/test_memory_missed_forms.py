"""Forms issue 14's chats showed the memory rules missing or over-taking, in English and Korean:
an allergy said with a pronoun, a Korean name with words in between, and lines that say nothing
about the user (an order to the character, a greeting, "ok") stored as episodes."""

from __future__ import annotations

import pytest

from personae.memory.episodic import observations, says_nothing_about_the_user
from personae.memory.profile import extract_facts

Expected = list[tuple[str, str]]


def facts(text: str) -> Expected:
    return [(f.label, f.value) for f in extract_facts(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # The antecedent in the same sentence, or the sentence before.
        ("I keep bees in Sussex, and I'm allergic to their stings.", [("allergy", "bee stings")]),
        ("I keep bees in Sussex. I'm allergic to their stings.", [("allergy", "bee stings")]),
        ("I have a cat but I am allergic to its fur.", [("pet", "cat"), ("allergy", "cat fur")]),
        ("My neighbour keeps wasps. I'm allergic to them.", [("allergy", "wasps")]),
        # Nothing earlier to point at: the allergy as said, less the pronoun.
        ("I'm allergic to their stings.", [("allergy", "stings")]),
    ],
)
def test_an_allergy_said_with_a_pronoun(text: str, expected: Expected) -> None:
    assert facts(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "I'm allergic to them.",  # what "them" is cannot be known: no fact
        "I keep bees. Are you allergic to their stings?",  # a question, not a fact
        "I keep bees. I'm not allergic to their stings.",  # negated
    ],
)
def test_pronoun_allergy_near_misses(text: str) -> None:
    assert [f for f in facts(text) if f[0] == "allergy"] == []


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("저는 서울에 사는 김민수라고 합니다.", "김민수"),
        ("저는 그냥 민수라고 해요.", "민수"),
        ("저는 평범한 회사원인 민수라고 해요.", "민수"),
        ("저는 부산 사는 지훈이라고 합니다", "지훈"),
    ],
)
def test_a_korean_name_with_words_before_it(text: str, name: str) -> None:
    assert ("name", name) in facts(text)


@pytest.mark.parametrize(
    "text",
    [
        "저는 서울에 사는 사람이라고 해요.",  # describes, does not name
        "제 친구는 서울에 사는 민수라고 해요.",  # the friend's name
        "서울에 사는 민수라고 해요.",  # no first person: hearsay as often as not
    ],
)
def test_korean_name_near_misses(text: str) -> None:
    assert [f for f in facts(text) if f[0] == "name"] == []


@pytest.mark.parametrize(
    "text",
    [
        "Look at me closely, Holmes.",
        "Tell me about your latest case.",
        "Good evening, Mr. Holmes.",
        "Thank you very much, Holmes.",
        "Ok.",
        "Are you a real man or a computer program?",
        "저를 잘 보세요, 홍길동 님.",
        "이야기를 계속해 주세요.",
        "네, 알겠습니다 홍길동 님.",
        "안녕하세요!",
        "당신은 누구세요?",
    ],
)
def test_lines_that_say_nothing_about_the_user_are_not_episodes(text: str) -> None:
    assert says_nothing_about_the_user(text)
    assert observations(text) == []


@pytest.mark.parametrize(
    "text",
    [
        "Do you think my bees will survive the winter?",  # a question that discloses
        "Listen, my sister is ill.",  # an order that discloses
        "Call me Ana.",  # an order that names the user
        "Holmes, I have a question about my brother.",
        "My name is Ana, Holmes.",
        "I met Watson yesterday.",
        "제 동생이 아픈데 어떻게 해야 할까요?",
        "홍길동 님, 저는 부산에서 왔어요.",
        "어머니께서 편찮으세요.",
    ],
)
def test_near_misses_are_kept(text: str) -> None:
    assert not says_nothing_about_the_user(text)
    assert observations(text) == [text]


def test_a_message_keeps_its_disclosure_and_drops_the_order() -> None:
    said = "Look at me closely, Holmes. I keep bees in Sussex."
    assert observations(said) == ["I keep bees in Sussex."]
