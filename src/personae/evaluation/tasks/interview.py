"""The Character-LLM interview: a character answers interview questions, an LLM judge scores
every answer 1–7 on memorization, values, personality, hallucination and stability.

Two modes: ``single`` asks each question in a fresh chat; ``multi`` asks them in order in one
running conversation (so stability is tested against what the character already said). All
answers are produced first, then judged; every finished answer and verdict goes to a
:class:`~personae.evaluation.cache.ResultCache` at once, so an interrupted run resumes where it
stopped. Question files use the Character-LLM format: a JSON list of
``{"topic_id", "topic", "question"}``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, cast

from personae.agent import Agent, Turn
from personae.backends.base import Backend, GenerationParams
from personae.characters import Character
from personae.checks.judge import Judge, Language, Verdict, material_language
from personae.errors import InvalidInput
from personae.evaluation.report import BarChart, Report, Table
from personae.evaluation.rubrics import get_rubric, parse_dimensions
from personae.evaluation.tasks._roleplay import (
    ACTOR_PARAMS,
    INTERVIEWER,
    MODES,
    Cache,
    MemoryCache,
    Mode,
    ProgressFn,
    Question,
    as_judge,
    bundled_questions,
    cache_key,
    card_hash,
    character_profile,
    digest,
    excerpt,
    get_answers,
    judge_context,
    load_questions,
    params_tag,
    resolve_character,
)
from personae.metrics.stats import Estimate, bootstrap_mean


def _verdict_dict(verdict: Verdict) -> dict[str, Any]:
    out: dict[str, Any] = {
        "score": verdict.score,
        "reasoning": verdict.reasoning,
        "attempts": verdict.attempts,
    }
    if not verdict.valid:
        out["raw"] = verdict.raw  # only kept when it explains a failure
    return out


def run_interview(
    character: Character | str | Path,
    actor: Backend,
    judge: Judge | Backend | None = None,
    *,
    questions: Sequence[Question] | str | Path | None = None,
    mode: str = "single",
    dimensions: Sequence[str] | str | None = None,
    limit: int | None = None,
    cache: Cache | None = None,
    actor_params: GenerationParams | None = None,
    user_name: str | None = None,
    character_id: str | None = None,
    progress: ProgressFn | None = None,
) -> Report:
    """Interview ``character`` played by ``actor``; ``judge`` (default: the actor's backend)
    scores each answer on ``dimensions`` (default: all five). ``questions`` default to the
    set bundled for the character; ``limit`` keeps the first N."""
    if mode not in MODES:
        raise InvalidInput(f"unknown interview mode {mode!r}; choose single or multi")
    dims = parse_dimensions(dimensions)
    if limit is not None and limit < 1:
        raise InvalidInput(f"limit must be at least 1, not {limit}")
    cid, char = resolve_character(character)
    cid = character_id or cid
    if questions is None:
        qs = bundled_questions(cid)
    elif isinstance(questions, (str, Path)):
        qs = load_questions(questions)
    else:
        qs = list(questions)
        if not qs:
            raise InvalidInput("the list of questions is empty")
    qs = qs[:limit] if limit else qs
    language = material_language(char.description, char.personality, char.scenario)
    user = user_name or INTERVIEWER[language]
    params = actor_params or ACTOR_PARAMS
    the_judge = as_judge(judge if judge is not None else actor)
    store: Cache = cache if cache is not None else MemoryCache()
    char_key = f"{cid}:{card_hash(char)}"

    agent = Agent(char, actor, user_name=user, params=params)
    answers = get_answers(
        agent,
        qs,
        mode=cast(Mode, mode),
        char_key=char_key,
        cache=store,
        params=params,
        progress=progress,
    )

    profile = character_profile(char, language, user)
    rubrics = [get_rubric(d, language) for d in dims]
    total = len(qs) * len(dims)
    done = 0
    items: list[dict[str, Any]] = []
    history: list[Turn] = []
    for index, (q, item) in enumerate(zip(qs, answers, strict=True)):
        context = judge_context(
            profile,
            q.question,
            language=language,
            speaker=char.name,
            user_name=user,
            earlier=history if mode == "multi" else (),
        )
        scores: dict[str, dict[str, Any]] = {}
        for rubric in rubrics:
            key = cache_key(
                "score", char_key, mode, index, q.digest, rubric.name, actor.model,
                the_judge.fingerprint, digest(item["answer"]), language,
            )  # fmt: skip
            cached = store.get(key)
            if cached is None:
                verdict = the_judge.score(
                    rubric,
                    context=context,
                    response=item["answer"],
                    reference=q.reference,
                    language=language,
                )
                cached = _verdict_dict(verdict)
                store.put(key, cached)
            scores[rubric.name] = cached
            done += 1
            if progress is not None:
                progress("judging", done, total)
        history += [Turn("user", q.question), Turn("assistant", item["answer"])]
        items.append(
            {
                "index": index,
                "topic_id": q.topic_id,
                "topic": q.topic,
                "question": q.question,
                "answer": item["answer"],
                "finish_reason": item.get("finish_reason"),
                "scores": scores,
            }
        )
    settings = {
        "character": f"{char.name} ({cid})",
        "mode": mode,
        "questions": len(qs),
        "actor": f"{actor.name}:{actor.model} ({params_tag(params)})",
        "judge": the_judge.fingerprint,
        "dimensions": ", ".join(dims),
        "language": language,
    }
    return interview_report(char.name, items, dims, settings, language)


def interview_report(
    name: str,
    items: Sequence[Mapping[str, Any]],
    dims: Sequence[str],
    settings: dict[str, Any],
    language: Language,
) -> Report:
    """Per-dimension means with 95% bootstrap CIs, a per-question table, judge validity."""
    estimates: dict[str, Estimate] = {}
    rows: list[list[Any]] = []
    summary: dict[str, Any] = {}
    valid_total = 0
    for dim in dims:
        values = [
            it["scores"][dim]["score"] for it in items if it["scores"][dim]["score"] is not None
        ]
        estimates[dim] = bootstrap_mean(values)
        valid_total += len(values)
        invalid = len(items) - len(values)
        rows.append([dim, estimates[dim], len(values), invalid])
        summary[dim] = {**estimates[dim].as_dict(), "invalid": invalid}
    # Overall: each question's mean over its valid dimensions, then the mean over questions.
    per_question = []
    for it in items:
        valid = [it["scores"][d]["score"] for d in dims if it["scores"][d]["score"] is not None]
        if valid:
            per_question.append(sum(valid) / len(valid))
    overall = bootstrap_mean(per_question)
    rows.append(
        ["overall (question means)", overall, len(per_question), len(items) - len(per_question)]
    )
    judged = len(items) * len(dims)
    validity = valid_total / judged if judged else float("nan")
    retried = sum(1 for it in items for d in dims if it["scores"][d].get("attempts", 1) > 1)
    settings = {**settings, "judge validity": f"{valid_total}/{judged} ({validity:.0%})"}

    question_rows = []
    for it in items:
        cells: list[Any] = [
            it["index"] + 1,
            it["topic"],
            excerpt(it["question"], 90),
            excerpt(it["answer"]),
        ]
        for d in dims:
            score = it["scores"][d]["score"]
            cells.append("–" if score is None else score)
        question_rows.append(cells)

    return Report(
        title=f"Interview: {name}",
        description=(
            "Each answer was scored 1–7 by an LLM judge on the Character-LLM dimensions "
            "(7 is best; for hallucination, 7 means none). Means over questions with 95% "
            "bootstrap confidence intervals; a verdict without a usable score after one retry "
            "is left out of the means and counted as invalid."
        ),
        settings=settings,
        tables=[
            Table("Scores by dimension", ["dimension", "mean [95% CI]", "valid", "invalid"], rows),
            Table("Per question", ["#", "topic", "question", "answer", *dims], question_rows),
        ],
        charts=[
            BarChart.of_estimates("Mean score by dimension (1–7, 95% CI)", estimates, max_value=7.0)
        ],
        data={
            "language": language,
            "dimensions": summary,
            "overall": overall.as_dict(),
            "validity": {
                "valid": valid_total,
                "judged": judged,
                "rate": validity,
                "retried": retried,
            },
            "items": list(items),
        },
    )
