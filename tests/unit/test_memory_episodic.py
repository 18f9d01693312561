"""Episodic memory's scoring functions, reflection parsing, and the rolling summary's plan."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from personae.errors import InvalidInput
from personae.memory.bank import Recalled
from personae.memory.episodic import (
    Weights,
    heuristic_importance,
    observations,
    parse_insights,
    rank,
    rate_importance,
    reflect,
)
from personae.memory.rolling import Message, RollingSummarizer, plan_fold
from personae.retrieval.hybrid import Hit
from personae.store import MemoryItem
from tests.support.scripted import ScriptedBackend

NOW = 1_000_000.0


def item(key: int, *, importance: float, hours_ago: float, text: str = "x") -> MemoryItem:
    at = NOW - hours_ago * 3600
    return MemoryItem(
        key, "episode", text, "ana", "holmes", None, "", importance, (), "chat", at, at, at
    )


def recalled(key: int, score: float, **kw: float) -> Recalled:
    return Recalled(item(key, **kw), Hit(key, score))


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("Hi! My dog is called Biscuit. What do you think?", ["My dog is called Biscuit."]),
        ("I moved to Bath last spring, you know", ["I moved to Bath last spring, you know"]),
        ("Good morning!", []),
        ("What time is it?", []),
        ("Do you remember my sister's name?", ["Do you remember my sister's name?"]),
        ("저는 부산에서 왔어요. 날씨 좋네요.", ["저는 부산에서 왔어요."]),
        ("우리 강아지 이름은 비스킷이에요!", ["우리 강아지 이름은 비스킷이에요!"]),
        ("", []),
        # A fact spread over two sentences stays in one passage.
        (
            "I have a sister. Her name is Winifred. Anyway, hello!",
            ["I have a sister. Her name is Winifred."],
        ),
        # Korean drops the pronoun: a statement is about the speaker.
        (
            "오늘은 여동생이랑 약속이 있어요. 이름이 서윤인데 맨날 늦어요.",
            ["오늘은 여동생이랑 약속이 있어요. 이름이 서윤인데 맨날 늦어요."],
        ),
        # Passages hold at most three sentences.
        (
            "I am tall. I am dark. I am from Leeds. I am a nurse.",
            ["I am tall. I am dark. I am from Leeds.", "I am a nurse."],
        ),
        # A skipped sentence splits passages.
        (
            "I am from Leeds. What do you think? I am a nurse.",
            ["I am from Leeds.", "I am a nurse."],
        ),
    ],
)
def test_observations(text: str, want: list[str]) -> None:
    assert observations(text) == want


@pytest.mark.parametrize(
    ("text", "low", "high"),
    [
        ("hello there", 1, 2),
        ("My dog is called Biscuit.", 5, 7),
        ("My father died last year.", 7, 10),
        ("I got married in June 2019 in Whitby", 9, 10),
        ("저는 간호사로 일해요", 5, 5),
        ("어제 아버지가 돌아가셨어요", 8, 10),
    ],
)
def test_heuristic_importance(text: str, low: float, high: float) -> None:
    assert low <= heuristic_importance(text) <= high


@given(st.text(max_size=300))
def test_importance_and_observations_never_fail(text: str) -> None:
    assert 1 <= heuristic_importance(text) <= 10
    assert all(o.strip() for o in observations(text))


def test_model_importance_is_parsed_and_clamped() -> None:
    backend = ScriptedBackend().enqueue("7", "Rating: 42", "no idea")
    assert rate_importance(backend, "My father died.") == 7.0
    assert rate_importance(backend, "x") == 10.0
    assert rate_importance(backend, "My dog is Biscuit.") == heuristic_importance(
        "My dog is Biscuit."
    )
    assert "1 to 10" in backend.calls[0][0][0].content
    backend.enqueue("3")
    rate_importance(backend, "강아지", language="ko")
    assert "1부터 10까지" in backend.calls[-1][0][0].content


def test_rank_combines_the_three_scores() -> None:
    candidates = [
        recalled(1, 0.030, importance=2, hours_ago=1),  # relevant, mundane, recent
        recalled(2, 0.010, importance=9, hours_ago=1),  # important
        recalled(3, 0.020, importance=5, hours_ago=500),  # old
    ]
    top = rank(candidates, k=3, now=NOW)
    assert [r.recalled.id for r in top] == [1, 2, 3]
    assert math.isclose(top[0].relevance, 1.0) and math.isclose(top[1].importance, 0.9)
    only_importance = rank(candidates, k=1, weights=Weights(0, 1, 0), now=NOW)
    assert only_importance[0].recalled.id == 2
    only_recency = rank(candidates, k=3, weights=Weights(1, 0, 0), now=NOW)
    assert only_recency[-1].recalled.id == 3
    assert rank([], k=3) == [] and rank(candidates, k=0) == []
    # A week untouched keeps 0.995**168 = 43% of its recency.
    assert math.isclose(top[2].recency, 0.995**500) and math.isclose(0.995**168, 0.43, abs_tol=0.01)


def test_rank_minutes_apart_do_not_outvote_relevance() -> None:
    """Recency is absolute, not stretched over the candidates: written a few minutes apart in
    one sitting, the most relevant memory still wins."""
    candidates = [
        recalled(1, 0.030, importance=5, hours_ago=0.5),  # the planted fact, half an hour ago
        recalled(2, 0.012, importance=5, hours_ago=0.01),  # small talk, just now
        recalled(3, 0.011, importance=5, hours_ago=0.02),
    ]
    top = rank(candidates, k=1, now=NOW)
    assert top[0].recalled.id == 1
    assert all(0.99 < r.recency <= 1.0 for r in rank(candidates, k=3, now=NOW))


def test_rank_bad_inputs() -> None:
    with pytest.raises(InvalidInput, match="decay"):
        rank([recalled(1, 1, importance=1, hours_ago=1)], k=1, decay=1.5)
    with pytest.raises(InvalidInput, match="weights"):
        Weights(-1, 1, 1)


def test_reflection_parses_citations_and_maps_ids() -> None:
    reply = (
        "1. Ana loves animals (because of 1, 2)\n"
        "- 아나는 가족을 아낀다 (근거: 3)\n"
        "An insight without evidence\n"
        "Bad citation (because of 9)\n"
        "Ana is a nurse who works nights (1 and 3)."
    )
    found = parse_insights(reply, [10, 20, 30])
    assert [(i.text, i.evidence) for i in found] == [
        ("Ana loves animals", (10, 20)),
        ("아나는 가족을 아낀다", (30,)),
        ("Ana is a nurse who works nights", (10, 30)),
    ]
    backend = ScriptedBackend().enqueue("Ana likes dogs (because of 2)")
    [insight] = reflect(
        backend, [(5, "I have a dog"), (6, "My dog is Biscuit")], user="Ana", char="Holmes"
    )
    assert insight.evidence == (6,)
    prompt = backend.calls[0][0][0].content
    assert "1. I have a dog" in prompt and "2. My dog is Biscuit" in prompt
    assert reflect(backend, [], user="Ana", char="Holmes") == []


def msgs(n: int, words: int = 10) -> list[Message]:
    return [Message(i, "A" if i % 2 else "B", " ".join(["w"] * words)) for i in range(1, n + 1)]


def count(text: str) -> int:
    return len(text.split())


def test_plan_folds_whole_blocks_only_when_over_the_trigger() -> None:
    assert plan_fold(msgs(10), room=1000, count_tokens=count).fold == ()
    plan = plan_fold(msgs(40), room=500, count_tokens=count)  # 40 × 16 = 640 > 375
    assert len(plan.fold) % 8 == 0 and len(plan.fold) >= 8
    left = (40 - len(plan.fold)) * 16
    assert left <= 250 or len(plan.fold) == 40 - 2 - (40 - 2) % 8
    assert plan.through == plan.fold[-1].id
    # Never the newest two, even when they alone overflow.
    plan = plan_fold(msgs(9, words=200), room=100, count_tokens=count)
    assert len(plan.fold) == 0 or plan.fold[-1].id <= 7


def test_plan_bad_inputs() -> None:
    with pytest.raises(InvalidInput):
        plan_fold(msgs(3), room=100, count_tokens=count, trigger=0.4, keep=0.6)
    with pytest.raises(InvalidInput):
        plan_fold(msgs(3), room=0, count_tokens=count)


def test_rolling_summary_appends_then_condenses() -> None:
    backend = ScriptedBackend().enqueue(
        "#A# asks about the case.", "#B# names the thief.", "They solved the case together."
    )
    summarizer = RollingSummarizer(backend, max_summary_tokens=8, count_tokens=count)
    first = summarizer.fold("", msgs(8))
    assert first == "#A# asks about the case."
    second = summarizer.fold(first, msgs(8))  # 10 words > 8: condensed by a third call
    assert second == "They solved the case together."
    assert len(backend.calls) == 3
    assert summarizer.fold("same", []) == "same"


@pytest.mark.parametrize(("language", "words"), [("en", "about themselves"), ("ko", "자기 자신")])
def test_rolling_summary_asks_to_keep_personal_facts(language: str, words: str) -> None:
    backend = ScriptedBackend().enqueue("#A# is a tailor.")
    RollingSummarizer(backend, language=language).fold("", msgs(8))
    request = backend.calls[0][0][-1].content
    assert words in request and request.index("<dialogue>") < request.index(words)
