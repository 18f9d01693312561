"""The shared language detector (personae.text) and the fidelity language checks."""

from __future__ import annotations

import pytest

from personae.checks.language import code_switch, words_of, wrong_language
from personae.text import KOREAN_SHARE, detect_language, hangul_share, has_hangul, is_hangul


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hello there, Watson.", "en"),
        ("소녀는 춘향이라 하옵니다.", "ko"),
        ("런던에 사는 Sherlock Holmes라는 탐정 이야기는 들었사옵니다.", "ko"),
        ("I am Hong Gildong (홍길동), a Joseon outlaw.", "en"),
        ("ㅋㅋㅋ 진짜요?", "ko"),
        ("", "en"),
        ("1234 !!", "en"),
    ],
)
def test_detect_language(text: str, expected: str) -> None:
    assert detect_language(text) == expected


def test_detect_language_threshold_and_default() -> None:
    # 3 Hangul of 10 letters is exactly the share: not more than it, so English
    assert hangul_share("가나다abcdefg") == pytest.approx(KOREAN_SHARE)
    assert detect_language("가나다abcdefg") == "en"
    assert detect_language("가나다라abcdef") == "ko"
    assert detect_language("...", default="ko") == "ko"
    assert is_hangul("한") and is_hangul("ㅋ") and not is_hangul("a")
    assert has_hangul("abc 가") and not has_hangul("abc")


def test_wrong_language() -> None:
    assert wrong_language("Oh, that sounds tough!", "ko") == "en"
    assert wrong_language("그렇군요.", "en") == "ko"
    assert wrong_language("그렇군요.", "ko") is None
    assert wrong_language("...", "ko") is None


def test_code_switch_flags_a_lowercase_english_word_in_korean() -> None:
    known = words_of(["Sherlock Holmes", "221B Baker Street"])
    assert code_switch("제가 directly 말씀드리겠소.", known) == ["directly"]
    # names (from the card or capitalised), abbreviations and loans are not switching
    assert code_switch("홈즈 씨는 Holmes 혹은 Sherlock이라 불리고 London에 사오.", known) == []
    assert code_switch("AI가 무엇이오? CCTV는 또 무엇이고, 5kg은 얼마요? ok.", known) == []
    assert code_switch("그 사람은 HELLOWORLD라고 외쳤소. 참 이상하오.", known) == ["HELLOWORLD"]
    # English quoted on purpose is not a slip
    assert code_switch('*과장된 억양으로* "Oh my god, you guys!" 하더라고요.', known) == []


def test_code_switch_flags_hangul_in_an_english_reply() -> None:
    known = words_of(["홍길동"])
    reply = "I am Hong Gildong (홍길동), and my 아버님 was a minister of the court."
    assert code_switch(reply, known) == ["아버님"]


@pytest.mark.parametrize(
    "text", ["ㅋㅋㅋㅋㅋ ok fine", "소녀는 춘향이옵니다", "Hello, Watson.", "Holmes와 Watson", ""]
)
def test_every_language_rule_in_the_project_is_the_shared_one(text: str) -> None:
    """The card language, the judge's material language and the summarizer's dialogue
    language were three copies of one rule (two of them ignoring jamo); now they are one."""
    from personae.agent.prompt import card_language
    from personae.characters import Character
    from personae.checks.judge import material_language
    from personae.summarization.dialogue import text_language

    expected = detect_language(text)
    assert material_language(text) == expected
    assert text_language(text) == expected
    assert card_language(Character(name="X", description=text)) == expected
