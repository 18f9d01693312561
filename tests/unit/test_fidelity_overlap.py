"""Fidelity overlap measures and the copy / echo decisions, at their thresholds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from personae.checks.overlap import (
    COPY_CONTAINMENT,
    COPY_OPENING,
    COPY_RUN,
    ECHO_MIN_RUN,
    ECHO_SHORT_MIN,
    Overlap,
    compare,
    copy_reason,
    echo_reason,
    normalized,
    units,
)

WORDS = [
    "alpha",
    "bravo",
    "charlie",
    "delta",
    "echo",
    "foxtrot",
    "golf",
    "hotel",
    "india",
    "juliet",
    "kilo",
    "lima",
    "mike",
]


def test_units_ignore_markup_case_and_korean_spacing() -> None:
    assert units("*The Room*, at 221B!", "en").tokens == ("the", "room", "at", "221b")
    assert units("변사또가 수청을", "ko").tokens == units("변사또가수청을", "ko").tokens
    assert units("", "en").grams == frozenset()


def test_compare_finds_the_longest_shared_run_and_where_it_starts() -> None:
    o = compare("zulu yankee " + " ".join(WORDS[:6]), " ".join(WORDS), "en")
    assert (o.run, o.run_start, o.opening) == (6, 2, 0)
    assert o.excerpt == " ".join(WORDS[:6])
    assert compare("", "anything", "en").run == 0


@pytest.mark.parametrize("language", ["en", "ko"])
def test_opening_threshold(language: str) -> None:
    n = COPY_OPENING[language]
    assert copy_reason(Overlap(0.1, 0.1, n, 0, ""), language, 10)  # type: ignore[arg-type]
    assert copy_reason(Overlap(0.1, 0.1, n - 1, 0, ""), language, 10) is None  # type: ignore[arg-type]
    # the same run later in the reply is under the run-anywhere threshold
    assert copy_reason(Overlap(0.1, 0.1, n, 3, ""), language, 10) is None  # type: ignore[arg-type]


@pytest.mark.parametrize("language", ["en", "ko"])
def test_run_anywhere_threshold(language: str) -> None:
    n = COPY_RUN[language]
    assert copy_reason(Overlap(0.1, 0.1, n, 5, ""), language, 10)  # type: ignore[arg-type]
    assert copy_reason(Overlap(0.1, 0.1, n - 1, 5, ""), language, 10) is None  # type: ignore[arg-type]


def test_containment_threshold_and_short_replies() -> None:
    assert copy_reason(Overlap(COPY_CONTAINMENT, 0.1, 3, 4, ""), "en", 3)
    assert copy_reason(Overlap(COPY_CONTAINMENT - 0.01, 0.1, 3, 4, ""), "en", 3) is None
    # two 4-grams: one shared phrase would be half the reply; too short to call a copy
    assert copy_reason(Overlap(1.0, 0.1, 3, 4, ""), "en", 2) is None


def test_real_opening_copy_in_english_words() -> None:
    greeting = (
        "*The sitting room at 221B is blue with pipe smoke. Holmes does not rise from his "
        "armchair.* Well? Sit, sit."
    )
    copied = "*The sitting room at 221B is blue with pipe smoke.* You ask about the dog, Watson."
    natural = "*The fire crackles.* The sitting room is cold tonight, Watson; sit by the fire."
    assert copy_reason(compare(copied, greeting, "en"), "en", 10)
    assert copy_reason(compare(natural, greeting, "en"), "en", 10) is None


def test_korean_copy_and_near_miss() -> None:
    earlier = (
        "*춘향이 품에 넣어 둔 거울을 옷 위로 가만히 짚는다.* 기다리다마다요. 서방님은 꼭 오십니다."
    )
    copied = "*춘향이 품에 넣어 둔 거울을 옷 위로 가만히 짚는다.* 향단아, 차를 내오너라."
    natural = "*춘향이 거울을 내려다본다.* 서방님 소식은 아직 없사옵니다. 기다리다마다요."
    grams = len(units(copied, "ko").grams)
    assert copy_reason(compare(copied, earlier, "ko"), "ko", grams)
    assert copy_reason(compare(natural, earlier, "ko"), "ko", grams) is None


def test_echo_opens_with_the_users_words_after_a_lead_in() -> None:
    user = "변사또가 수청을 들라고 했을 때 무섭지 않으셨어요?"
    reply = "죄송합니다만, 변사또가 수청을 들라고 했을 때 무섭지 않으셨어요."
    o = compare(reply, user, "ko")
    assert echo_reason(o, "ko", len(units(reply, "ko").grams), len(units(user, "ko").tokens))


def test_a_quote_of_the_user_inside_a_long_answer_is_not_an_echo() -> None:
    user = "Why did you leave the case unfinished last winter?"
    reply = (
        "You come into my rooms and ask me, 'why did you leave the case unfinished last "
        "winter?' as though I had a choice. Lestrade had the man in irons before I had read "
        "the second letter, and the real criminal was already on a steamer to Rotterdam. I "
        "did not leave it; it left me, and I have not forgiven it."
    )
    o = compare(reply, user, "en")
    assert o.run >= 8  # the whole question is there …
    grams = len(units(reply, "en").grams)
    assert echo_reason(o, "en", grams, len(units(user, "en").tokens)) is None  # … but quoted


def test_echo_run_threshold_for_short_openings() -> None:
    n = ECHO_MIN_RUN["en"]
    assert echo_reason(Overlap(0.2, 1.0, n, 0, ""), "en", 20, n)  # type: ignore[arg-type]
    # A shorter run is an echo only when it is the whole (short) message …
    assert echo_reason(Overlap(0.2, 1.0, n - 1, 0, ""), "en", 20, 2 * n) is None  # type: ignore[arg-type]
    assert echo_reason(Overlap(0.2, 1.0, n - 1, 0, ""), "en", 20, n - 1)  # type: ignore[arg-type]
    # … of at least ECHO_SHORT_MIN units ("ok" said back is not told from an answer).
    short = ECHO_SHORT_MIN["en"]
    assert echo_reason(Overlap(0.2, 1.0, short - 1, 0, ""), "en", 20, short - 1) is None  # type: ignore[arg-type]


def test_a_reply_that_opens_with_a_short_korean_question_echoes_it() -> None:
    user = "특별 라떼는 뭐예요?"
    reply = "특별 라떼는 뭐예요? 그건 비밀이에요. 한번 마셔 보시면 알 거예요."
    o = compare(reply, user, "ko")
    reason = echo_reason(o, "ko", len(units(reply, "ko").grams), len(units(user, "ko").tokens))
    assert reason and "whole message" in reason
    # Near miss: the answer names the latte but does not say the question back.
    answer = "특별 라떼요? 계피를 조금 넣은 거예요. 한번 마셔 보세요."
    o = compare(answer, user, "ko")
    grams = len(units(answer, "ko").grams)
    assert echo_reason(o, "ko", grams, len(units(user, "ko").tokens)) is None
    # English: "Are you an AI?" said back before the answer.
    user_en = "Are you an AI?"
    reply_en = "Are you an AI? What a curious question, madam. I am a detective."
    o = compare(reply_en, user_en, "en")
    grams = len(units(reply_en, "en").grams)
    assert echo_reason(o, "en", grams, len(units(user_en, "en").tokens))


def test_echo_share_of_the_users_message() -> None:
    from personae.checks.overlap import ECHO_USER_SHARE, ECHO_WHOLE_SHARE

    units_ = 20
    at = round(ECHO_USER_SHARE * units_)
    assert echo_reason(Overlap(0.2, 1.0, at, 0, ""), "ko", 40, units_)
    assert echo_reason(Overlap(0.2, 1.0, at - 1, 0, ""), "ko", 40, units_) is None
    later = round(ECHO_WHOLE_SHARE * units_)
    assert echo_reason(Overlap(0.2, 1.0, later, 30, ""), "ko", 40, units_)
    assert echo_reason(Overlap(0.2, 1.0, later - 1, 30, ""), "ko", 40, units_) is None
    assert echo_reason(Overlap(0.2, 1.0, later, 30, "", run_quoted=True), "ko", 40, units_) is None


def test_normalized_ignores_case_markup_and_punctuation() -> None:
    assert normalized("*Oh*, that sounds tough!") == normalized("oh that sounds  TOUGH")
    assert normalized("…") == ""


@pytest.mark.parametrize("language", ["en", "ko"])
def test_hand_written_chats_raise_no_copy(language: str) -> None:
    """The thresholds' baseline: 150 replies written for the project, none copying another."""
    path = Path(__file__).parents[2] / "benchmarks" / "data" / f"longchat_{language}.json"
    replies = [
        m["content"]
        for m in json.loads(path.read_text(encoding="utf-8"))["messages"]
        if m["role"] == "assistant"
    ]
    lang = "ko" if language == "ko" else "en"
    for i, reply in enumerate(replies):
        grams = len(units(reply, lang).grams)
        for earlier in replies[max(0, i - 12) : i]:
            assert copy_reason(compare(reply, earlier, lang), lang, grams) is None, reply


def test_quoted_runs_are_marked_and_apostrophes_are_not_quotes() -> None:
    user = "Are you a real man or a computer program?"
    answer = " I have been asked worse by better men, and I shall answer it after my pipe."
    quoted = compare("“Are you a real man or a computer program?” you ask." + answer, user, "en")
    assert quoted.run == 9 and quoted.run_quoted and quoted.containment < 0.5
    assert echo_reason(quoted, "en", 20, 9) is None
    bare = compare("Are you a real man or a computer program? Pah, you ask.", user, "en")
    assert not bare.run_quoted and echo_reason(bare, "en", 10, 9)
    # apostrophes in "don't … can't" do not open a quotation
    o = compare("I don't know why you can't see it, Watson.", "why you can't see it", "en")
    assert not o.run_quoted
