"""split_sentences: both languages, closing quotes, line breaks, nothing empty."""

from __future__ import annotations

from personae.text import split_sentences


def test_english_and_korean_sentences() -> None:
    assert split_sentences("Come in. Sit down!  Tea?") == ["Come in.", "Sit down!", "Tea?"]
    assert split_sentences("안녕하세요, 선생님. 저는 민지예요. 고2예요.") == [
        "안녕하세요, 선생님.",
        "저는 민지예요.",
        "고2예요.",
    ]


def test_closing_quotes_stay_with_their_sentence_and_lines_break() -> None:
    text = '"Come in." *He nods.*\nThe fog is thick~ 그렇지요?」 네.'
    assert split_sentences(text) == [
        '"Come in."',
        "*He nods.*",
        "The fog is thick~",
        "그렇지요?」",
        "네.",
    ]


def test_nothing_empty_and_no_marks_is_one_sentence() -> None:
    assert split_sentences("") == []
    assert split_sentences("  \n\n ") == []
    assert split_sentences("no end mark at all") == ["no end mark at all"]
    assert split_sentences("3.14 is pi") == ["3.14 is pi"]  # a point inside a number
