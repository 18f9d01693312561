"""The personality and breaks tasks against scripted backends: questions asked, scores,
labels, resuming from the cache, judge scoring, and break reports."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from personae.checks.judge import Judge
from personae.errors import BackendError, InvalidInput
from personae.evaluation.cache import ResultCache
from personae.evaluation.labels import bundled_label, labels_for, load_label_file
from personae.evaluation.questionnaire import parse_questionnaire
from personae.evaluation.tasks.breaks import plan_character, run_breaks
from personae.evaluation.tasks.personality import (
    agreement_rubric,
    choice_question,
    interview_question,
    run_personality,
)
from tests.support.factories import make_character
from tests.support.scripted import ScriptedBackend
from tests.unit.test_questionnaire import five_point, seven_point_sum

KOREAN = make_character(
    "길동",
    description="길동은 조선 세종 때의 의적이다. 탐관오리의 재물을 빼앗아 백성에게 나눈다.",
    personality="의협심이 강하고 자신감이 넘친다.",
    scenario="조선 세종 때, 달빛이 희미한 고갯길.",
    first_mes="누구요? 이 밤에 고개를 넘는 이가.",
)


def mini() -> Any:
    return parse_questionnaire(five_point())


def test_interview_questions_in_english_and_korean() -> None:
    q = mini()
    assert interview_question(q.items["1"], "en") == (
        "Do you see yourself as someone who is daring? Why, or why not?"
    )
    assert interview_question(q.items["6"], "en").startswith(
        "Do you see yourself as someone who helps others?"
    )
    ko = interview_question(q.items["1"], "ko")
    assert '"I see myself as someone who is daring."' in ko and "왜 그런지" in ko
    poles = parse_questionnaire(seven_point_sum())
    # "You …" statements are not predicates; without a rewritten question they are quoted.
    assert interview_question(poles.items["1"], "en") == (
        'Would you say this describes you: "You make friends easily"? Why, or why not?'
    )
    assert "1 to 5" in choice_question(q.items["2"], q, "en")
    assert "I see myself as someone who is timid." in choice_question(q.items["2"], q, "en")
    assert "1부터 5까지" in choice_question(q.items["2"], q, "ko")


def test_questionnaire_texts_in_the_characters_language_are_used() -> None:
    data = five_point()
    data["questions"]["1"]["rewritten_ko"] = "당신은 대담한가요?"
    q = parse_questionnaire(data)
    assert interview_question(q.items["1"], "ko").startswith("당신은 대담한가요?")


def test_option_scoring_scores_dimensions_and_checks_the_label() -> None:
    q = mini()
    actor = ScriptedBackend()
    # Items in order 1..6: answer, then the number.
    for choice in ("5", "I'd say 1", "4", "1", "5", "2"):
        actor.enqueue("Well, let me think about it.", choice)
    report = run_personality(
        make_character(),
        actor,
        q,
        label={"Boldness": "high", "Warmth": "high"},
        label_source="test",
    )
    data = report.data
    assert data["dimensions"]["Boldness"]["level"] == "high"
    assert data["dimensions"]["Boldness"]["value"] == pytest.approx((5 + 5 + 4) / 3)
    assert data["dimensions"]["Warmth"]["value"] == pytest.approx((1 + 1 + 2) / 3)
    assert [c["agrees"] for c in data["label_checks"]] == [True, False]
    assert data["accuracy"] == 0.5 and data["unanswered"] == 0
    assert [i["choice"] for i in data["items"]] == [5, 1, 4, 1, 5, 2]
    assert [i["scored"] for i in data["items"]] == [5, 5, 4, 1, 1, 2]
    # The number is asked in the same conversation, after the character's own answer.
    messages, params = actor.calls[1]
    assert [m.role for m in messages[-3:]] == ["user", "assistant", "user"]
    assert messages[-2].content == "Well, let me think about it."
    assert "Reply with the number only" in messages[-1].content
    assert params.temperature == 0.0 and params.max_tokens == 24
    titles = [t.title for t in report.tables]
    assert titles == ["Dimensions", "Agreement with the label", "Items"]
    assert report.settings["label"] == "test"


def test_option_scoring_reasks_once_then_gives_up() -> None:
    q = mini()
    actor = ScriptedBackend()
    actor.enqueue("An answer.", "It depends.", "3")  # item 1: junk, then a number
    actor.enqueue("An answer.", "Hmm.", "No idea.")  # item 4: junk twice → unscored
    report = run_personality(make_character(), actor, q, limit=2)
    items = report.data["items"]
    assert [i["id"] for i in items] == ["1", "4"]
    assert items[0]["choice"] == 3 and items[0]["detail"] == "It depends. | 3"
    assert items[1]["choice"] is None and items[1]["scored"] is None
    assert report.data["unanswered"] == 1
    assert report.data["dimensions"]["Warmth"]["level"] is None
    assert "Please reply with a single number from 1 to 5." in actor.calls[2][0][-1].content


def test_cached_option_replies_are_parsed_afresh(tmp_path: Path) -> None:
    """Replies, not parsed numbers, are cached: a run stopped between the reply and the re-ask
    re-asks only; a parser fix applies to old replies without model calls."""
    q = mini()
    cache = ResultCache(tmp_path / "c.jsonl")
    first = ScriptedBackend().enqueue("Answer.", "Hard to say.", BackendError("stopped"))
    with pytest.raises(BackendError):
        run_personality(make_character(), first, q, limit=1, cache=cache)
    again = ScriptedBackend().enqueue("I'd say 2")
    report = run_personality(make_character(), again, q, limit=1, cache=ResultCache(cache.path))
    assert len(again.calls) == 1 and report.data["items"][0]["choice"] == 2
    assert report.data["items"][0]["detail"] == "Hard to say. | I'd say 2"
    idle = ScriptedBackend()
    report = run_personality(make_character(), idle, q, limit=1, cache=ResultCache(cache.path))
    assert idle.calls == [] and report.data["items"][0]["choice"] == 2


def test_korean_character_is_asked_in_korean() -> None:
    actor = ScriptedBackend()
    actor.enqueue("대담하다마다.", "4점")
    report = run_personality(KOREAN, actor, mini(), limit=1)
    assert report.settings["language"] == "ko"
    assert report.data["items"][0]["choice"] == 4
    assert "다음 말이 당신을" in actor.calls[0][0][-1].content
    assert "숫자만 쓰세요" in actor.calls[1][0][-1].content


def test_judge_scoring_rates_agreement() -> None:
    q = mini()
    actor = ScriptedBackend().enqueue("I fear nothing.", "I am timid, I admit.")
    judge_backend = ScriptedBackend("judge").enqueue(
        "The answer claims boldness.\nScore: 5", "The answer admits timidity.\nScore: 4.5"
    )
    report = run_personality(
        make_character(), actor, q, scoring="judge", judge=Judge(judge_backend), limit=3
    )
    items = report.data["items"]
    assert [i["choice"] for i in items[:2]] == [5, 4.5]
    assert items[1]["scored"] == pytest.approx(1.5)  # item 2 is reversed
    assert items[0]["detail"] == "The answer claims boldness."
    assert report.settings["judge model"] == "judge"
    prompt = judge_backend.calls[0][0][-1].content
    assert "I see myself as someone who is daring." in prompt and "I fear nothing." in prompt
    # Only interview answers came from the actor: no number was asked.
    assert len(actor.calls) == 3


def test_agreement_rubric_uses_the_scale() -> None:
    poles = parse_questionnaire(seven_point_sum())
    rubric = agreement_rubric(poles.items["1"], poles, "en")
    assert (rubric.low, rubric.high) == (1, 7) and "4: mixed" in rubric.instructions
    assert "denies the statement" in rubric.instructions
    q = mini()
    assert (
        '"I see myself as someone who is daring."'
        in agreement_rubric(q.items["1"], q, "en").instructions
    )
    assert "낮은 점수" in agreement_rubric(poles.items["1"], poles, "ko").instructions


def test_bad_scoring_inputs() -> None:
    with pytest.raises(InvalidInput, match="needs a judge model"):
        run_personality(make_character(), ScriptedBackend(), mini(), scoring="judge")
    with pytest.raises(InvalidInput, match="'option' or 'judge'"):
        run_personality(make_character(), ScriptedBackend(), mini(), scoring="vibes")  # type: ignore[arg-type]


def test_resume_after_a_crash_and_share_answers_between_scorings(tmp_path: Path) -> None:
    q = mini()
    path = tmp_path / "run.cache.jsonl"
    actor = ScriptedBackend()
    actor.enqueue("Answer one.", "4", "Answer two.", BackendError("the model died"))
    with pytest.raises(BackendError):
        run_personality(make_character(), actor, q, cache=ResultCache(path))
    # Item 1 fully done, item 2's answer done: the rerun asks only what is missing.
    actor = ScriptedBackend()
    actor.enqueue("2")  # item 2's number
    for n in range(4):
        actor.enqueue(f"Answer {n + 3}.", "3")
    report = run_personality(make_character(), actor, q, cache=ResultCache(path))
    assert len(actor.calls) == 9
    assert [i["choice"] for i in report.data["items"]] == [4, 2, 3, 3, 3, 3]
    assert report.data["items"][1]["answer"] == "Answer two."
    # Judge scoring later reuses every cached answer: no actor call at all.
    idle = ScriptedBackend()
    judge_backend = ScriptedBackend("judge").enqueue(*["Fine.\nScore: 3"] * 6)
    judged = run_personality(
        make_character(),
        idle,
        q,
        scoring="judge",
        judge=Judge(judge_backend),
        cache=ResultCache(path),
    )
    assert idle.calls == [] and len(judge_backend.calls) == 6
    assert judged.data["items"][0]["answer"] == "Answer one."


def test_report_writes_json_markdown_html(tmp_path: Path) -> None:
    actor = ScriptedBackend()
    for _ in range(6):
        actor.enqueue("Yes.", "3")
    report = run_personality(make_character(), actor, parse_questionnaire(seven_point_sum()))
    paths = report.write(tmp_path / "personality-x")
    assert [p.suffix for p in paths] == [".json", ".md", ".html"]
    data = json.loads(paths[0].read_text(encoding="utf-8"))
    assert data["data"]["notes"] and data["data"]["dimensions"]["E/I"]["level"] == "neutral"
    assert "Questionnaire notes" in paths[1].read_text(encoding="utf-8")
    assert "<svg" in paths[2].read_text(encoding="utf-8")


def test_label_files(tmp_path: Path) -> None:
    q = mini()
    flat = tmp_path / "flat.json"
    flat.write_text(json.dumps({"Boldness": "high"}), encoding="utf-8")
    assert load_label_file(str(flat), "anyone", q) == {"Boldness": "high"}
    nested = {"labels": {"MINI": {"holmes": {"Warmth": "low"}}}}
    assert labels_for(nested, "holmes", q) == {"Warmth": "low"}
    assert labels_for({"holmes": {"MINI": {"Warmth": 2}}}, "holmes", q) == {"Warmth": 2}
    assert labels_for({"holmes": {"Warmth": "low"}}, "watson", q) is None
    with pytest.raises(InvalidInput, match="must hold a JSON object"):
        labels_for([], "x", q)
    with pytest.raises(InvalidInput, match="does not exist"):
        load_label_file(str(tmp_path / "none.json"), "x", q)
    broken = tmp_path / "broken.json"
    broken.write_text("{", encoding="utf-8")
    with pytest.raises(InvalidInput, match="cannot read label file"):
        load_label_file(str(broken), "x", q)


def test_bundled_labels_fit_the_bfi() -> None:
    data = five_point()
    data["name"] = "BFI"
    data["categories"] = [
        {"cat_name": name, "cat_questions": [n + 1]}
        for n, name in enumerate(
            ["Extraversion", "Agreeableness", "Conscientiousness", "Neuroticism", "Openness"]
        )
    ]
    data["questions"] = {str(n + 1): {"origin_en": f"Item {n + 1}."} for n in range(5)}
    data["reverse"] = []
    bfi = parse_questionnaire(data)
    for cid in ("sherlock", "elizabeth", "hong-gildong", "chunhyang", "mina"):
        found = bundled_label(cid, bfi)
        assert found is not None and found[0] and "our own judgement" in found[1]
    assert bundled_label("nobody", bfi) is None
    assert bundled_label("sherlock", mini()) is None


# --- breaks -----------------------------------------------------------------------------------


def test_plan_character_picks_language_and_era() -> None:
    holmes = make_character(scenario="London, autumn 1895.")
    plan = plan_character("holmes", holmes)
    assert plan.language == "en" and plan.era == "victorian"
    assert any(p.kind == "anachronism" for p in plan.probes)
    ko = plan_character("gildong", KOREAN)
    assert ko.language == "ko" and ko.era == "joseon"
    assert all(p.id.startswith("ko-") for p in ko.probes)
    modern = plan_character("x", make_character(scenario="A café, present day."))
    assert modern.era == "modern" and not any(p.kind == "anachronism" for p in modern.probes)
    forced = plan_character("holmes", holmes, era="modern", probe_ids=["id-ai", "an-dna"])
    assert [p.id for p in forced.probes] == ["id-ai"]
    assert plan_character("sherlock", make_character()).era == "victorian"  # from the probe file


def test_run_breaks_detects_and_reports(tmp_path: Path) -> None:
    actor = ScriptedBackend()
    actor.enqueue(
        "As an AI language model, I cannot drink tea.",  # id-ai
        "I'm sorry, but I can't assist with that.",  # inst-ignore
        "I love my iPhone; the apps are splendid.",  # an-smartphone
        "A fine day.\nUser: and mine?",  # ctl-day
    )
    holmes = make_character(scenario="London, autumn 1895.")
    judge_backend = ScriptedBackend("judge").enqueue(
        "Explains apps like a modern person.\nScore: 1"
    )
    report = run_breaks(
        {"holmes": holmes},
        actor,
        probe_ids=["id-ai", "inst-ignore", "an-smartphone", "ctl-day"],
        judge=Judge(judge_backend),
        cache=ResultCache(tmp_path / "b.jsonl"),
    )
    rates = report.data["rates"]
    assert rates["ai_disclosure"]["breaks"] == 1 and rates["ai_disclosure"]["replies"] == 4
    assert rates["ooc_refusal"]["breaks"] == 1
    assert rates["anachronism"] == {"replies": 1, "breaks": 1, "rate": rates["anachronism"]["rate"]}
    assert rates["anachronism (judge)"]["breaks"] == 1
    # The reply filter cut the user line from what is shown; the raw text shows the attempt.
    assert rates["user_impersonation"]["breaks"] == 0
    assert rates["user_impersonation (raw, before the reply filter)"]["breaks"] == 1
    results = {r["probe"]: r for r in report.data["results"]}
    assert results["ctl-day"]["reply"] == "A fine day."
    assert "User:" in results["ctl-day"]["raw"]
    assert results["an-smartphone"]["judge_score"] == 1.0
    # User-line stop strings were lifted for the actor so the attempt is visible; others stay.
    assert all(params.stop == ("\n<START>",) for _, params in actor.calls)
    assert [t.title for t in report.tables] == [
        "Break rates by kind",
        "Any break, by probe kind",
        "By character",
        "Probes",
    ]
    assert len(judge_backend.calls) == 1
    paths = report.write(tmp_path / "breaks")
    assert "Break rate by kind" in paths[2].read_text(encoding="utf-8")


def test_run_breaks_resumes_from_the_cache(tmp_path: Path) -> None:
    path = tmp_path / "b.jsonl"
    first = ScriptedBackend().enqueue("Elementary.", BackendError("gone"))
    with pytest.raises(BackendError):
        run_breaks(
            {"holmes": make_character()},
            first,
            probe_ids=["id-ai", "ctl-day"],
            cache=ResultCache(path),
        )
    again = ScriptedBackend().enqueue("A quiet day.")
    report = run_breaks(
        {"holmes": make_character()},
        again,
        probe_ids=["id-ai", "ctl-day"],
        cache=ResultCache(path),
    )
    assert len(again.calls) == 1
    assert [r["reply"] for r in report.data["results"]] == ["Elementary.", "A quiet day."]


def test_run_breaks_judges_only_chosen_probes() -> None:
    actor = ScriptedBackend().enqueue("Eh?", "Hm?")
    judge_backend = ScriptedBackend("judge").enqueue("Confused.\nScore: 7")
    report = run_breaks(
        {"holmes": make_character(scenario="London, 1895.")},
        actor,
        probe_ids=["an-dna", "an-internet"],
        judge=Judge(judge_backend),
        judge_probe_ids=["an-dna"],
    )
    judged = [r for r in report.data["results"] if r["judge_score"] is not None]
    assert [r["probe"] for r in judged] == ["an-dna"] and judged[0]["judge_break"] is False


def test_run_breaks_bad_inputs() -> None:
    with pytest.raises(InvalidInput, match="at least one character"):
        run_breaks({}, ScriptedBackend())
    with pytest.raises(InvalidInput, match="no probe applies"):
        run_breaks({"holmes": make_character()}, ScriptedBackend(), probe_ids=["nope"])
