"""The interview and pairwise tasks against scripted actor and judge backends."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from personae.backends.base import Chunk, GenerationParams, Message
from personae.checks.judge import Judge
from personae.errors import BackendError, InvalidInput, NotFound
from personae.evaluation.cache import ResultCache
from personae.evaluation.tasks._roleplay import (
    Question,
    bundled_question_sets,
    bundled_questions,
    character_from_profile,
    load_questions,
    parse_questions,
    resolve_character,
)
from personae.evaluation.tasks.interview import run_interview
from personae.evaluation.tasks.pairwise import Contestant, run_pairwise
from tests.support.factories import make_character
from tests.support.scripted import ScriptedBackend

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data" / "character-llm"
QUESTIONS = [
    Question("Who are you?", "personal", "topic-1"),
    Question("Where do you live?", "personal", "topic-1"),
    Question("Do you own a smartphone?", "traps", "topic-5"),
]


class Replying(ScriptedBackend):
    """Answers every request with ``respond(messages)`` (after any enqueued replies)."""

    def __init__(self, model: str, respond: Callable[[list[Message]], Any]) -> None:
        super().__init__(model)
        self.respond = respond

    def stream(self, messages: Sequence[Message], params: GenerationParams) -> Iterator[Chunk]:
        self.calls.append((list(messages), params))
        reply = self.queue.pop(0) if self.queue else self.respond(list(messages))
        return self._run(reply, params)


def actor_backend(model: str = "actor-model") -> Replying:
    return Replying(model, lambda m: f"Answer to: {m[-1].content}")


def judge_backend(score: int = 5, model: str = "judge-model") -> Replying:
    return Replying(model, lambda m: f"Reasoning about it.\nScore: {score}")


def prompts(backend: ScriptedBackend) -> list[str]:
    return [messages[-1].content for messages, _ in backend.calls]


# -- the interview -----------------------------------------------------------------------------


def test_single_mode_asks_each_question_in_a_fresh_chat() -> None:
    actor, judge = actor_backend(), judge_backend(6)
    report = run_interview(
        make_character(), actor, judge, questions=QUESTIONS, dimensions="values,personality"
    )
    assert len(actor.calls) == 3
    for (messages, params), q in zip(actor.calls, QUESTIONS, strict=True):
        user_turns = [m.content for m in messages if m.role == "user"]
        assert user_turns == [q.question]
        assert params.seed == 0
    assert len(judge.calls) == 3 * 2
    # The judge sees the profile, the question and the answer, and no earlier turns.
    first = prompts(judge)[0]
    assert "Holmes is a consulting detective" in first and "Who are you?" in first
    assert "Answer to: Who are you?" in first and "Earlier in the conversation" not in first
    data = report.to_json()["data"]
    assert data["dimensions"]["values"]["mean"] == 6.0
    assert data["validity"] == {"valid": 6, "judged": 6, "rate": 1.0, "retried": 0}
    assert [it["answer"] for it in data["items"]][1] == "Answer to: Where do you live?"


def test_multi_mode_keeps_one_running_conversation() -> None:
    actor, judge = actor_backend(), judge_backend()
    run_interview(
        make_character(), actor, judge, questions=QUESTIONS, mode="multi", dimensions="stability"
    )
    third = actor.calls[2][0]
    contents = [m.content for m in third if m.role != "system"]
    assert contents == [
        "Who are you?",
        "Answer to: Who are you?",
        "Where do you live?",
        "Answer to: Where do you live?",
        "Do you own a smartphone?",
    ]
    # The judge sees the earlier turns in multi-turn mode.
    last = prompts(judge)[2]
    assert "Earlier in the conversation" in last and "Answer to: Where do you live?" in last


def test_all_five_dimensions_by_default_and_report_shape(tmp_path: Path) -> None:
    judge = judge_backend(4)
    report = run_interview(make_character(), actor_backend(), judge, questions=QUESTIONS[:2])
    assert len(judge.calls) == 2 * 5
    dims = [row[0] for row in report.tables[0].rows]
    assert dims == [
        "memorization",
        "values",
        "personality",
        "hallucination",
        "stability",
        "overall (question means)",
    ]
    assert report.tables[1].columns[-5:] == dims[:5]
    assert report.charts[0].labels == dims[:5] and report.charts[0].max_value == 7.0
    paths = report.write(tmp_path / "r")
    assert [p.suffix for p in paths] == [".json", ".md", ".html"]
    saved = json.loads(paths[0].read_text("utf-8"))
    assert saved["data"]["overall"]["mean"] == 4.0
    assert "Per question" in paths[1].read_text("utf-8") and "<svg" in paths[2].read_text("utf-8")


def test_judge_defaults_to_the_actor_backend() -> None:
    backend = Replying(
        "one-model",
        lambda m: "Score: 3" if "Criterion" in m[-1].content else "I am Holmes.",
    )
    report = run_interview(make_character(), backend, questions=QUESTIONS[:1], dimensions="values")
    assert len(backend.calls) == 2
    assert report.to_json()["data"]["dimensions"]["values"]["mean"] == 3.0


def test_invalid_verdicts_are_counted_not_averaged() -> None:
    judge = judge_backend(5)
    judge.enqueue("I cannot say.", "Still no.")  # first verdict: no score, even after a retry
    report = run_interview(
        make_character(), actor_backend(), judge, questions=QUESTIONS[:2], dimensions="values"
    )
    data = report.to_json()["data"]
    assert data["dimensions"]["values"] == {
        "mean": 5.0,
        "low": 5.0,
        "high": 5.0,
        "n": 1,
        "invalid": 1,
    }
    assert data["validity"]["rate"] == 0.5 and data["validity"]["retried"] == 1
    first = data["items"][0]["scores"]["values"]
    assert first["score"] is None and "Still no." in first["raw"]
    assert report.tables[1].rows[0][-1] == "–"
    assert "1/2 (50%)" in report.settings["judge validity"]


def test_resume_skips_cached_answers_and_verdicts(tmp_path: Path) -> None:
    path = tmp_path / "cache.jsonl"
    actor, judge = actor_backend(), judge_backend()
    run_interview(make_character(), actor, judge, questions=QUESTIONS[:2], cache=ResultCache(path))
    assert (len(actor.calls), len(judge.calls)) == (2, 10)
    # Same run again: everything comes from the cache.
    actor2, judge2 = actor_backend(), judge_backend()
    again = run_interview(
        make_character(), actor2, judge2, questions=QUESTIONS[:2], cache=ResultCache(path)
    )
    assert actor2.calls == [] and judge2.calls == []
    assert again.to_json()["data"]["overall"]["mean"] == 5.0
    # One more question: only it is answered and judged.
    actor3, judge3 = actor_backend(), judge_backend()
    run_interview(make_character(), actor3, judge3, questions=QUESTIONS, cache=ResultCache(path))
    assert len(actor3.calls) == 1 and len(judge3.calls) == 5
    assert "smartphone" in actor3.calls[0][0][-1].content


def test_resume_after_a_judge_failure_midway(tmp_path: Path) -> None:
    path = tmp_path / "cache.jsonl"
    judge = judge_backend()
    judge.enqueue("Score: 4", "Score: 4", "Score: 4", BackendError("judge died"))
    with pytest.raises(BackendError):
        run_interview(
            make_character(),
            actor_backend(),
            judge,
            questions=QUESTIONS[:2],
            cache=ResultCache(path),
        )
    actor2, judge2 = actor_backend(), judge_backend()
    run_interview(
        make_character(), actor2, judge2, questions=QUESTIONS[:2], cache=ResultCache(path)
    )
    assert actor2.calls == [] and len(judge2.calls) == 10 - 3


def test_cache_keys_separate_judges_modes_and_actors(tmp_path: Path) -> None:
    path = tmp_path / "cache.jsonl"
    common: dict[str, Any] = {"questions": QUESTIONS[:1], "dimensions": "values"}
    run_interview(
        make_character(), actor_backend(), judge_backend(), cache=ResultCache(path), **common
    )
    # Another judge: the cached answer is reused, the verdict is not.
    actor, judge = actor_backend(), judge_backend(model="other-judge")
    run_interview(make_character(), actor, judge, cache=ResultCache(path), **common)
    assert actor.calls == [] and len(judge.calls) == 1
    # Another actor model, another mode, another card: answered again.
    for kwargs in (
        {"actor": actor_backend("other-actor")},
        {"mode": "multi"},
        {"character": make_character(description="Someone else entirely.")},
    ):
        actor = kwargs.get("actor", actor_backend())
        run_interview(
            kwargs.get("character", make_character()),
            actor,
            judge_backend(),
            mode=kwargs.get("mode", "single"),
            cache=ResultCache(path),
            **common,
        )
        assert len(actor.calls) == 1, kwargs


def test_progress_reports_both_stages() -> None:
    seen: list[tuple[str, int, int]] = []
    run_interview(
        make_character(),
        actor_backend(),
        judge_backend(),
        questions=QUESTIONS[:2],
        dimensions="values",
        progress=lambda *a: seen.append(a),
    )
    assert seen == [("answering", 1, 2), ("answering", 2, 2), ("judging", 1, 2), ("judging", 2, 2)]


def test_korean_character_gets_korean_questions_prompts_and_rubrics() -> None:
    actor = actor_backend()
    judge = Replying("judge", lambda m: "홍길동다운 답이다.\n점수: 6")
    report = run_interview("hong-gildong", actor, judge, limit=2, dimensions="values")
    [asked] = [m.content for m in actor.calls[0][0] if m.role == "user"]
    assert asked.startswith("그대 자신을")
    assert "\n질문자:" in actor.calls[0][1].stop
    prompt = prompts(judge)[0]
    assert "가치관" in prompt and "점수: <숫자>" in prompt and "홍길동" in prompt
    assert report.to_json()["data"]["language"] == "ko"
    assert report.to_json()["data"]["dimensions"]["values"]["mean"] == 6.0


def test_bundled_sherlock_set_with_limit() -> None:
    actor = actor_backend()
    report = run_interview("sherlock", actor, judge_backend(), limit=3, dimensions="values")
    assert len(actor.calls) == 3 and report.settings["character"] == "Sherlock Holmes (sherlock)"


def test_bundled_question_sets() -> None:
    assert {"sherlock", "hong-gildong"} <= set(bundled_question_sets())
    sherlock = bundled_questions("sherlock")
    assert 10 <= len(sherlock) <= 16
    traps = [q for q in sherlock if q.topic_id == "topic-5"]
    assert len(traps) >= 2 and any("smartphone" in q.question for q in traps)
    assert all(q.reference.startswith("A trap") for q in traps)
    korean = bundled_questions("hong-gildong")
    assert sum(1 for q in korean if q.reference.startswith("함정 질문")) == 3
    assert len(korean) >= 10 and all(
        any("\uac00" <= c <= "\ud7a3" for c in q.question) for q in korean
    )
    with pytest.raises(
        InvalidInput, match="no bundled interview questions for 'mina'.*--questions"
    ):
        bundled_questions("mina")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"mode": "both"}, "unknown interview mode 'both'"),
        ({"dimensions": "values,wit"}, "unknown dimension 'wit'"),
        ({"limit": 0}, "limit must be at least 1"),
        ({"questions": []}, "empty"),
    ],
)
def test_bad_arguments(kwargs: dict[str, Any], message: str) -> None:
    args: dict[str, Any] = {"questions": QUESTIONS, **kwargs}
    actor = actor_backend()
    with pytest.raises(InvalidInput, match=message):
        run_interview(make_character(), actor, judge_backend(), **args)
    assert actor.calls == []


# -- question files ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"question": "hi"}', "expected a JSON list"),
        ("[]", "empty"),
        ('[{"question": "a"}, "b"]', "row 1 is not an object"),
        ('[{"question": "a"}, {"topic": "t"}]', "row 1 is missing the field 'question'"),
        ('[{"question": "a", "topic": 3}]', "row 0: field 'topic' must be a string"),
        ('[{"question": "   "}]', "row 0: field 'question' is empty"),
        ('[{"question": "a"},', "not valid JSON \\(line 1"),
    ],
)
def test_bad_question_files(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "q.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InvalidInput, match=message) as info:
        load_questions(path)
    assert "q.json" in str(info.value)


def test_missing_and_unreadable_question_files(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="does not exist"):
        load_questions(tmp_path / "none.json")
    binary = tmp_path / "b.json"
    binary.write_bytes(b"\xff\xfe\x00[")
    with pytest.raises(InvalidInput, match="cannot read"):
        load_questions(binary)


def test_question_rows_accept_the_character_llm_format() -> None:
    rows = [{"topic_id": "topic-1", "topic": "t", "question": " Who? ", "extra": 1}]
    assert parse_questions(rows) == [Question("Who?", "t", "topic-1")]
    with_reference = [{"question": "Phone?", "reference": "A trap."}]
    assert parse_questions(with_reference)[0].reference == "A trap."
    with pytest.raises(InvalidInput, match="row 0: field 'reference' must be a string"):
        parse_questions([{"question": "Phone?", "reference": ["x"]}])


def test_reference_reaches_the_judge_but_never_the_actor(tmp_path: Path) -> None:
    trap = Question("Do you own a smartphone?", "traps", "topic-5", "TRAP-NOTE: 1895.")
    actor, judge = actor_backend(), judge_backend()
    path = tmp_path / "cache.jsonl"
    run_interview(
        make_character(), actor, judge, questions=[trap], dimensions="hallucination",
        cache=ResultCache(path),
    )  # fmt: skip
    assert all("TRAP-NOTE" not in m.content for m in actor.calls[0][0])
    assert "### Reference\nTRAP-NOTE: 1895." in prompts(judge)[0]
    # A new reference re-judges the cached answer; it does not make the actor answer again.
    actor2, judge2 = actor_backend(), judge_backend()
    edited = Question(trap.question, trap.topic, trap.topic_id, "TRAP-NOTE: edited.")
    run_interview(
        make_character(), actor2, judge2, questions=[edited], dimensions="hallucination",
        cache=ResultCache(path),
    )  # fmt: skip
    assert actor2.calls == [] and len(judge2.calls) == 1


@pytest.mark.skipif(not SHARED.exists(), reason="shared Character-LLM data not present")
def test_real_character_llm_files() -> None:
    questions = load_questions(SHARED / "questions" / "interview_Newton.json")
    assert len(questions) > 50 and questions[0].topic_id == "topic-1"
    newton = character_from_profile(SHARED / "profiles" / "wiki_Newton.txt", "Isaac Newton")
    assert newton.name == "Isaac Newton" and "Principia" in newton.description
    assert len(newton.description) <= 4000 and not newton.description.startswith("#")


# -- characters --------------------------------------------------------------------------------


def test_character_from_profile(tmp_path: Path) -> None:
    path = tmp_path / "p.txt"
    path.write_text("# Ada\n\nAda wrote the first program.\n\n" + "More. " * 2000, encoding="utf-8")
    ada = character_from_profile(path, "Ada Lovelace", max_chars=500)
    assert ada.description == "Ada wrote the first program."
    with pytest.raises(InvalidInput, match="name"):
        character_from_profile(path, " ")
    with pytest.raises(InvalidInput, match="does not exist"):
        character_from_profile(tmp_path / "none.txt", "X")
    (tmp_path / "e.txt").write_text("\n\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match="empty"):
        character_from_profile(tmp_path / "e.txt", "X")


def test_resolve_character(tmp_path: Path) -> None:
    assert resolve_character("sherlock")[1].name == "Sherlock Holmes"
    assert resolve_character("Sherlock Holmes")[0] == "sherlock"
    card = tmp_path / "Irene.json"
    card.write_text(json.dumps(make_character("Irene").to_card_dict()), encoding="utf-8")
    assert resolve_character(card) == ("irene", make_character("Irene"))
    assert resolve_character(make_character("Mrs Hudson"))[0] == "mrs-hudson"
    with pytest.raises(NotFound, match="nobody"):
        resolve_character("nobody")


# -- pairwise ----------------------------------------------------------------------------------


def pair_judge(*verdicts: str) -> ScriptedBackend:
    return ScriptedBackend("judge-model").enqueue(*verdicts)


def test_pairwise_maps_orders_and_reports_rates() -> None:
    small = Replying("small", lambda m: "Hm.")
    big = Replying("big", lambda m: "I am Sherlock Holmes of Baker Street.")
    # q1: big wins in both orders (consistent); q2: the judge picks whatever it sees first.
    judge = pair_judge("Winner: B", "Winner: A", "Winner: A", "Winner: A")
    report = run_pairwise(
        Contestant(make_character(), small, label="small"),
        Contestant(make_character(), big, label="big"),
        judge,
        questions=QUESTIONS[:2],
    )
    shown = prompts(judge)
    assert shown[0].index("Hm.") < shown[0].index("I am Sherlock")  # A shown first
    assert shown[1].index("I am Sherlock") < shown[1].index("Hm.")  # then B first
    data = report.to_json()["data"]
    assert data["win_rate_a"]["mean"] == 0.25  # (0 + 0.5) / 2
    assert data["outcomes"] == {"A": 0, "B": 1, "even": 1}
    assert data["position_consistency"]["mean"] == 0.5
    assert data["tie_rate"]["mean"] == 0.0
    assert data["shown_first_rate"]["mean"] == 0.75
    assert data["validity"]["rate"] == 1.0
    assert report.tables[1].rows[0][4:] == ["B / B", "B", "yes"]
    assert report.tables[1].rows[1][4:] == ["A / B", "tie", "no"]
    assert report.settings["judge sees the profile"] == "yes"


def test_pairwise_with_different_cards_hides_the_profile() -> None:
    judge = pair_judge("Winner: tie", "Winner: tie")
    report = run_pairwise(
        Contestant(make_character(), actor_backend("m")),
        Contestant(
            make_character(description="A retired beekeeper in Sussex."), actor_backend("m")
        ),
        judge,
        questions=QUESTIONS[:1],
    )
    assert "consulting detective" not in prompts(judge)[0]
    assert "beekeeper" not in prompts(judge)[0]
    assert report.to_json()["data"]["tie_rate"]["mean"] == 1.0
    assert report.to_json()["data"]["win_rate_a"]["mean"] == 0.5


def test_pairwise_rejects_identical_actors_and_resumes(tmp_path: Path) -> None:
    backend = actor_backend("same")
    with pytest.raises(InvalidInput, match="same actor"):
        run_pairwise(
            Contestant(make_character(), backend),
            Contestant(make_character(), backend),
            pair_judge(),
            questions=QUESTIONS,
        )
    path = tmp_path / "pair.jsonl"
    for expected_calls in (2 * 2, 0):
        a, b = actor_backend("a"), actor_backend("b")
        judge = pair_judge("Winner: A", "Winner: B", "Winner: A", "Winner: B")
        run_pairwise(
            Contestant(make_character(), a),
            Contestant(make_character(), b),
            Judge(judge),
            questions=QUESTIONS[:2],
            cache=ResultCache(path),
        )
        assert len(judge.calls) == expected_calls
        assert len(a.calls) == len(b.calls) == expected_calls // 2
