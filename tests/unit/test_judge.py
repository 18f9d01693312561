from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from personae.checks.judge import (
    Judge,
    PairVerdict,
    Rubric,
    combine_orders,
    material_language,
    parse_score,
    parse_winner,
)
from personae.errors import InvalidInput
from personae.evaluation.rubrics import DIMENSIONS, RUBRICS, get_rubric, parse_dimensions
from tests.support.scripted import ScriptedBackend

RUBRIC = Rubric("personality", "Personality", "7: exactly the character. 1: someone else.")


def judge_with(*replies: str, retries: int = 1) -> tuple[Judge, ScriptedBackend]:
    backend = ScriptedBackend("judge-model").enqueue(*replies)
    return Judge(backend, retries=retries), backend


def test_reasoning_then_score() -> None:
    judge, backend = judge_with("He deduces from the mud, as Holmes would.\nScore: 6")
    verdict = judge.score(RUBRIC, context="Holmes, a detective.", response="Elementary.")
    assert verdict.score == 6.0 and verdict.valid and verdict.attempts == 1
    assert verdict.reasoning == "He deduces from the mud, as Holmes would."
    [(messages, params)] = backend.calls
    assert params.temperature == 0.0 and params.seed is not None
    prompt = messages[-1].content
    # Reasoning is asked for before the score, and the final line's form is spelled out.
    assert prompt.index("reason") < prompt.index("Score: <number>")
    assert "Holmes, a detective." in prompt and "Elementary." in prompt
    assert "Personality (1–7)" in prompt and "exactly the character" in prompt


def test_korean_material_gets_korean_prompt_and_score() -> None:
    judge, backend = judge_with("말투가 홍길동답다.\n점수: 5")
    verdict = judge.score(RUBRIC, context="홍길동은 의적이다.", response="나는 홍길동이오.")
    assert verdict.score == 5.0
    system, user = backend.calls[0][0]
    assert "심사위원" in system.content and "점수: <숫자>" in user.content


def test_fractional_and_last_score_wins() -> None:
    judge, _ = judge_with("At first I thought Score: 3, but on reflection\nScore: 5.5")
    assert judge.score(RUBRIC, context="c", response="r").score == 5.5


def test_no_score_retries_once_with_a_stricter_reminder() -> None:
    judge, backend = judge_with("A fine answer, very in character.", "Score: 4")
    verdict = judge.score(RUBRIC, context="c", response="r")
    assert verdict.score == 4.0 and verdict.attempts == 2
    assert verdict.reasoning == "A fine answer, very in character."
    assert "A fine answer" in verdict.raw and "Score: 4" in verdict.raw
    messages, params = backend.calls[1]
    assert [m.role for m in messages] == ["system", "user", "assistant", "user"]
    assert messages[2].content == "A fine answer, very in character."
    assert "only this line" in messages[3].content
    assert params.max_tokens < backend.calls[0][1].max_tokens


def test_no_score_twice_gives_none() -> None:
    judge, backend = judge_with("I cannot decide.", "Still cannot.")
    verdict = judge.score(RUBRIC, context="c", response="r")
    assert verdict.score is None and not verdict.valid and verdict.attempts == 2
    assert len(backend.calls) == 2


def test_retries_zero_asks_once() -> None:
    judge, backend = judge_with("no verdict", retries=0)
    assert judge.score(RUBRIC, context="c", response="r").score is None
    assert len(backend.calls) == 1
    with pytest.raises(ValueError):
        Judge(backend, retries=-1)


@pytest.mark.parametrize("bad", ["Score: 9", "Score: 0", "Score: -2", "Score: 7.5"])
def test_out_of_range_is_rejected_then_retried(bad: str) -> None:
    judge, backend = judge_with(f"Reasoning.\n{bad}", "Score: 2")
    verdict = judge.score(RUBRIC, context="c", response="r")
    assert verdict.score == 2.0 and len(backend.calls) == 2


def test_reference_is_shown_only_when_given() -> None:
    judge, backend = judge_with("Score: 3", "Score: 3")
    judge.score(RUBRIC, context="c", response="r", reference="He was born in 1854.")
    judge.score(RUBRIC, context="c", response="r")
    assert "1854" in backend.calls[0][0][-1].content
    assert "against the reference" in backend.calls[0][0][-1].content
    # Without one, the prompt does not send a small judge looking for a reference.
    assert "reference" not in backend.calls[1][0][-1].content.lower()


@pytest.mark.parametrize("reference", ["", "홍길동은 1443년에 태어났다."])
def test_korean_prompts_mention_reference_only_when_given(reference: str) -> None:
    judge, backend = judge_with("점수: 5", "승자: A")
    judge.score(
        RUBRIC, context="홍길동은 의적이다.", response="나는 홍길동이오.", reference=reference
    )
    judge.compare(
        "기준", context="홍길동은 의적이다.", first="가", second="나", reference=reference
    )
    for messages, _ in backend.calls:
        assert ("참고 정보" in messages[-1].content) == bool(reference)


def test_compare_mentions_reference_only_when_given() -> None:
    judge, backend = judge_with("Winner: A", "Winner: A")
    judge.compare("c", context="q", first="x", second="y")
    judge.compare("c", context="q", first="x", second="y", reference="NOTE")
    assert "reference" not in backend.calls[0][0][-1].content.lower()
    assert "against the reference" in backend.calls[1][0][-1].content


def test_custom_range_rubric() -> None:
    judge, _ = judge_with("Score: 9")
    assert judge.score(Rubric("x", "X", "", 0, 10), context="c", response="r").score == 9.0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Reasoning.\nScore: 6", 6.0),
        ("**Score:** 5/7", 5.0),
        ("Final score = 7", 7.0),
        ("Score: **4**", 4.0),
        ("Score: <5>", 5.0),  # the placeholder's brackets copied from the prompt
        ("점수: 6점", 6.0),
        ("점수는 4점입니다", 4.0),
        ("The score is 5.", 5.0),
        ("Reasoning here.\n6", 6.0),  # the Character-LLM habit: the number alone, last
        ("Reasoning here.\n**6**", 6.0),
        ("Score: N\nScore: 2", 2.0),
        ("Score: 5 (a score of 7 would need more detail)", 5.0),
        ("no score at all", None),
        ("", None),
        ("Score: 8", None),
        ("Score: 10/10", None),
        ("I rate it 5 because of 6 things", None),
    ],
)
def test_parse_score(text: str, expected: float | None) -> None:
    assert parse_score(text, 1, 7) == expected


@given(st.integers(1, 7), st.text(max_size=200))
def test_parse_score_finds_a_final_score_line_after_any_reasoning(n: int, reasoning: str) -> None:
    assert parse_score(f"{reasoning}\nScore: {n}", 1, 7) == n


@given(st.text(max_size=300))
def test_parse_score_never_fails_and_stays_in_range(text: str) -> None:
    value = parse_score(text, 1, 7)
    assert value is None or 1 <= value <= 7


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("A is more vivid.\nWinner: A", "first"),
        ("Winner: b", "second"),
        ("**Winner:** Answer B", "second"),
        ("Winner: tie.", "tie"),
        ("Winner: <B>", "second"),
        ("승자: 무승부", "tie"),
        ("승자: A", "first"),
        ("Winner: A\nOn reflection...\nWinner: B", "second"),
        ("Winner: Alice", None),
        ("both are fine", None),
    ],
)
def test_parse_winner(text: str, expected: str | None) -> None:
    assert parse_winner(text) == expected


def test_compare_shows_first_as_a() -> None:
    judge, backend = judge_with("A is sharper.\nWinner: A")
    verdict = judge.compare("In character?", context="q", first="ANSWER-ONE", second="ANSWER-TWO")
    assert verdict.winner == "first" and verdict.reasoning == "A is sharper."
    prompt = backend.calls[0][0][-1].content
    assert prompt.index("ANSWER-ONE") < prompt.index("ANSWER-TWO")
    assert prompt.index("### Answer A") < prompt.index("ANSWER-ONE") < prompt.index("### Answer B")


def test_balanced_comparison_shows_the_reference_in_both_orders() -> None:
    judge, backend = judge_with("Winner: A", "Winner: B")
    judge.compare_balanced("c", context="q", first="x", second="y", reference="TRAP-NOTE")
    assert all("### Reference\nTRAP-NOTE" in p for p in (c[0][-1].content for c in backend.calls))


def test_compare_retries_then_gives_none() -> None:
    judge, backend = judge_with("hmm", "still hmm")
    verdict = judge.compare("c", context="q", first="x", second="y")
    assert verdict.winner is None and not verdict.valid and verdict.attempts == 2
    assert "Winner: tie" in backend.calls[1][0][-1].content


def test_balanced_consistent_judge_maps_orders_back() -> None:
    # Order 1 shows (one, two): A wins = one. Order 2 shows (two, one): B wins = one again.
    judge, backend = judge_with("Winner: A", "Winner: B")
    verdict = judge.compare_balanced("c", context="q", first="ANSWER-ONE", second="ANSWER-TWO")
    second_prompt = backend.calls[1][0][-1].content
    assert second_prompt.index("ANSWER-TWO") < second_prompt.index("ANSWER-ONE")
    assert verdict.mapped == ("first", "first")
    assert verdict.winner == "first" and verdict.score == 1.0 and verdict.consistent is True
    assert verdict.shown_first_picks == 1


def test_balanced_position_biased_judge_is_a_tie_and_inconsistent() -> None:
    judge, _ = judge_with("Winner: A", "Winner: A")  # always picks whatever is shown first
    verdict = judge.compare_balanced("c", context="q", first="x", second="y")
    assert verdict.mapped == ("first", "second")
    assert verdict.score == 0.5 and verdict.winner == "tie" and verdict.consistent is False
    assert verdict.shown_first_picks == 2


def test_balanced_win_and_tie_average_to_three_quarters() -> None:
    judge, _ = judge_with("Winner: tie", "Winner: B")
    verdict = judge.compare_balanced("c", context="q", first="x", second="y")
    assert verdict.mapped == ("tie", "first")
    assert verdict.score == 0.75 and verdict.winner == "first" and verdict.consistent is False


def test_balanced_second_wins_both_orders() -> None:
    judge, _ = judge_with("Winner: B", "Winner: A")
    verdict = judge.compare_balanced("c", context="q", first="x", second="y")
    assert verdict.score == 0.0 and verdict.winner == "second" and verdict.consistent is True


def test_balanced_with_one_invalid_order_uses_the_other() -> None:
    invalid = PairVerdict(None, "", "", 2)
    verdict = combine_orders(invalid, PairVerdict("second", "", ""))
    assert verdict.mapped == (None, "first")
    assert verdict.score == 1.0 and verdict.consistent is None and verdict.valid
    neither = combine_orders(invalid, invalid)
    assert neither.score is None and neither.winner is None and not neither.valid


def test_material_language() -> None:
    assert material_language("홍길동은 의적이다") == "ko"
    assert material_language("Holmes", "is a detective") == "en"
    assert material_language("") == "en"


def test_fingerprint_names_model_and_prompt_version() -> None:
    judge, _ = judge_with()
    assert judge.model == "judge-model" and "judge-model" in judge.fingerprint
    assert "judge-v" in judge.fingerprint


def test_rubrics_cover_five_dimensions_in_both_languages() -> None:
    for language in ("en", "ko"):
        assert list(RUBRICS[language]) == list(DIMENSIONS)
        for rubric in RUBRICS[language].values():
            assert (rubric.low, rubric.high) == (1, 7)
            assert "7" in rubric.instructions and "1" in rubric.instructions
    assert get_rubric("Values", "ko").title.startswith("가치관")
    with pytest.raises(InvalidInput, match="unknown dimension 'charm'"):
        get_rubric("charm")
    with pytest.raises(InvalidInput, match="language"):
        get_rubric("values", "fr")  # type: ignore[arg-type]


def test_parse_dimensions() -> None:
    assert parse_dimensions(None) == list(DIMENSIONS)
    assert parse_dimensions("values, personality,values") == ["values", "personality"]
    assert parse_dimensions(["memorization,stability", "hallucination"]) == [
        "memorization",
        "stability",
        "hallucination",
    ]
    with pytest.raises(InvalidInput, match="unknown dimension"):
        parse_dimensions("values,wit")
    with pytest.raises(InvalidInput, match="no dimensions"):
        parse_dimensions(" , ")
