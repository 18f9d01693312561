"""Profile facts that need more than a clause's start, in English and Korean: lead-ins,
facts inside a clause or across its commas, a name given by pronoun in a later sentence, and the
precision cases that must stay silent. (Clause-initial rules: test_memory_profile.py.)"""

from __future__ import annotations

import pytest

from personae.memory.profile import extract_facts

Expected = list[tuple[str, str]]

ENGLISH: list[tuple[str, Expected]] = [
    (
        "Do you know, I am 34 years of age, and my sister still writes to ask whether I am "
        "wearing flannel.",
        [("age", "34")],
    ),
    ("I must admit my own favourite tipple is sloe gin.", [("likes", "sloe gin")]),
    ("I tune pianos for a living.", [("job", "tunes pianos for a living")]),
    ("I teach children for a living", [("job", "teaches children for a living")]),
    ("I have been a piano tuner since I was fifteen.", [("job", "piano tuner")]),
    ("I have brought my dog along. His name is Pilchard.", [("pet", "dog Pilchard")]),
    ("My sister is visiting. She is called Ann.", [("family", "sister Ann")]),
    ("I am engaged to be married! Her name is Clementine.", [("partner", "fiancée Clementine")]),
    ("I had a letter from my sister Winifred yesterday.", [("family", "sister Winifred")]),
    (
        "At home it was loud, for I am the eldest of nine children.",
        [("family", "eldest of nine children")],
    ),
    ("I am one of the bell-ringing band at St Mary's.", [("hobby", "bell-ringing band")]),
    ("I have lately taken two rooms in Cloudesley Square.", [("lives_in", "Cloudesley Square")]),
    ("We have decided to go to Bruges in the spring.", [("plan", "to go to Bruges in the spring")]),
    (
        "It is my old copy of the Pickwick Papers, my favourite book in the world, which I read "
        "every winter.",
        [("likes", "the Pickwick Papers")],
    ),
    (
        "She knitted me a muffler in cornflower blue, which is my favourite colour of all.",
        [("likes", "cornflower blue")],
    ),
    (
        "My favourite colour is green, my favourite food is pasta.",
        [("likes", "green"), ("likes", "pasta")],
    ),
]

ENGLISH_NOTHING = [
    "His name is Bob.",  # whose? nothing was mentioned before
    "My brother came too. Her name is Ann.",  # "her" is not the brother
    "I am honestly terrified of the creatures.",  # which creatures?
    "I do not tune pianos for a living.",
    "I have been a fool.",
    "If I had a dog, his name would be Rex.",
    "Suppose I lived in Paris, my sister Amélie would visit.",
    "I do this for a living.",
    "Speaking of which, do you have a sister?",
]


@pytest.mark.parametrize(("text", "expected"), ENGLISH)
def test_english_facts_in_context(text: str, expected: Expected) -> None:
    assert [(f.label, f.value) for f in extract_facts(text, language="en")] == expected


@pytest.mark.parametrize("text", ENGLISH_NOTHING)
def test_english_near_misses_give_nothing(text: str) -> None:
    assert extract_facts(text, language="en") == []


def test_new_shapes_read_as_sentences() -> None:
    texts = [f.text for f in extract_facts("I tune pianos for a living.")]
    assert texts == ["The user tunes pianos for a living."]
    texts = [f.text for f in extract_facts("I am the eldest of nine children.")]
    assert texts == ["The user is the eldest of nine children."]


def test_a_pronoun_only_reaches_back_within_one_message() -> None:
    assert extract_facts("His name is Pilchard.") == []
    assert extract_facts("I walked my dog. It rained. His name is Pilchard.") != []


KOREAN: list[tuple[str, Expected]] = [
    ("제가 통영 출신이라 어릴 때부터 바다를 봤어요.", [("hometown", "통영")]),
    ("여동생이랑 약속이 있어요. 이름이 서윤인데 맨날 늦어요.", [("family", "여동생 서윤")]),
    ("저는 벌써 서른한 살이라 피곤해요.", [("age", "31")]),
    ("밖에 우리 집 강아지 콩떡이가 기다려요.", [("pet", "강아지 콩떡")]),
    ("제일 친한 친구 혜린이가 소개팅을 했어요.", [("other", "제일 친한 친구 혜린")]),
    ("제가 오미자를 진짜 좋아해서 매일 먹어요.", [("likes", "오미자")]),
    ("주말마다 클라이밍 다니는데 재밌어요.", [("hobby", "클라이밍")]),
    ("4남매 중 첫째라서 힘들었어요.", [("family", "4남매 중 첫째")]),
    ("연보라색인데, 제가 제일 좋아하는 색이라 다 이 색이에요.", [("likes", "연보라색")]),
    ("고등학교 때 제일 좋아했던 데미안을 다시 읽어요.", [("likes", "데미안")]),
    ("제가 제일 좋아하는 밴드가 잔나비라서 그 노래를 골랐어요.", [("likes", "잔나비")]),
    ("제 생일이 11월 3일인데, 다들 바쁘다고 미리 축하해 줬어요.", [("birthday", "11월 3일")]),
    ("내년 1월에 친구랑 치앙마이 가기로 했거든요.", [("plan", "내년 1월에 친구랑 치앙마이 가기")]),
    ("12월 7일에 드디어 운전면허 시험 봐요!", [("plan", "12월 7일 운전면허 시험")]),
]

KOREAN_NOTHING = [
    "이름이 서윤인데 맨날 늦어요.",  # whose name? nobody was mentioned
    "우리 엄마 요리가 최고예요.",  # 요리 is no name (no familiar 이)
    "제 동생 친구가 왔어요.",
    "주말마다 학원 다녀요.",  # going to a school says little
    "친구가 제일 좋아했던 데미안을 빌려줬어요.",  # the friend's favourite
    "만약 제 생일이 11월 3일이라면 좋겠어요.",
    "12월 7일에 시험 안 봐요.",
    "제가 제일 좋아하는 색은 아니에요.",
]


@pytest.mark.parametrize(("text", "expected"), KOREAN)
def test_korean_facts_in_context(text: str, expected: Expected) -> None:
    assert [(f.label, f.value) for f in extract_facts(text, language="ko")] == expected


@pytest.mark.parametrize("text", KOREAN_NOTHING)
def test_korean_near_misses_give_nothing(text: str) -> None:
    assert extract_facts(text, language="ko") == []
