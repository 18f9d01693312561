"""Pairwise role-play comparison: two actors (two models, two cards, or both) answer the same
interview questions; an LLM judge says which answer plays the character better, asked in both
orders (see :meth:`~personae.checks.judge.Judge.compare_balanced`).

Reported: A's win rate (win 1, tie 0.5, averaged over both orders, then over questions) with a
95% bootstrap interval; how often the judge said "tie"; and its position consistency — the share
of questions on which both orders named the same winner. A judge that mostly picks whichever
answer it saw first shows up as low consistency and a win rate pulled towards 0.5.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from personae.agent import Agent
from personae.backends.base import Backend, GenerationParams
from personae.characters import Character
from personae.checks.judge import BalancedVerdict, Judge, Language, material_language
from personae.errors import InvalidInput
from personae.evaluation.report import BarChart, Report, Table
from personae.evaluation.tasks._roleplay import (
    ACTOR_PARAMS,
    INTERVIEWER,
    Cache,
    MemoryCache,
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

CRITERION = {
    "en": (
        "Which answer plays {name} better? Prefer the answer that is true to {name}'s facts, "
        "values, personality and way of speaking, stays within what {name} could know, and "
        "never steps out of character."
    ),
    "ko": (
        "어느 답변이 {name}을(를) 더 잘 연기하는가? {name}에 관한 사실, 가치관, 성격과 말투에 "
        "충실하고, {name}이(가) 알 수 있는 범위를 벗어나지 않으며, 끝까지 캐릭터를 지키는 "
        "답변을 고르세요."
    ),
}


_LETTER = {"first": "A", "second": "B", "tie": "tie", None: "–"}


@dataclass(frozen=True)
class Contestant:
    """One side of a comparison: a character (id, card file, or Character) on a backend."""

    character: Character | str | Path
    backend: Backend
    params: GenerationParams | None = None
    label: str = ""
    character_id: str = ""


def _verdict_dict(verdict: BalancedVerdict) -> dict[str, Any]:
    return {
        "winner": verdict.winner,
        "score": verdict.score,
        "consistent": verdict.consistent,
        "mapped": list(verdict.mapped),
        "shown": [v.winner for v in verdict.as_shown],
        "reasoning": [v.reasoning for v in verdict.as_shown],
        "attempts": [v.attempts for v in verdict.as_shown],
    }


def run_pairwise(
    first: Contestant,
    second: Contestant,
    judge: Judge | Backend,
    *,
    questions: Sequence[Question] | str | Path | None = None,
    limit: int | None = None,
    criterion: str | None = None,
    cache: Cache | None = None,
    user_name: str | None = None,
    progress: ProgressFn | None = None,
) -> Report:
    """Compare ``first`` (A) with ``second`` (B) on single-turn interview questions (default:
    the set bundled for A's character; ``limit`` keeps the first N)."""
    if limit is not None and limit < 1:
        raise InvalidInput(f"limit must be at least 1, not {limit}")
    sides = []
    for side in (first, second):
        cid, char = resolve_character(side.character)
        cid = side.character_id or cid
        params = side.params or ACTOR_PARAMS
        label = side.label or f"{cid}@{side.backend.model}"
        sides.append((label, cid, char, side.backend, params))
    (label_a, cid_a, char_a, backend_a, params_a) = sides[0]
    (label_b, cid_b, char_b, backend_b, params_b) = sides[1]
    key_a, key_b = f"{cid_a}:{card_hash(char_a)}", f"{cid_b}:{card_hash(char_b)}"
    if (key_a, backend_a.model, params_a) == (key_b, backend_b.model, params_b):
        raise InvalidInput("A and B are the same actor; change the model or the character of B")
    if label_a == label_b:
        label_a, label_b = f"A: {label_a}", f"B: {label_b}"
    if questions is None:
        qs = bundled_questions(cid_a)
    elif isinstance(questions, (str, Path)):
        qs = load_questions(questions)
    else:
        qs = list(questions)
        if not qs:
            raise InvalidInput("the list of questions is empty")
    qs = qs[:limit] if limit else qs
    language: Language = material_language(char_a.description, char_a.personality)
    user = user_name or INTERVIEWER[language]
    the_judge = as_judge(judge)
    store: Cache = cache if cache is not None else MemoryCache()

    def stage(name: str) -> ProgressFn | None:
        return None if progress is None else lambda _s, d, t: progress(name, d, t)

    answers = []
    for (_, _, char, backend, params), key, name in (
        (sides[0], key_a, "answering A"),
        (sides[1], key_b, "answering B"),
    ):
        agent = Agent(char, backend, user_name=user, params=params)
        answers.append(
            get_answers(
                agent,
                qs,
                mode="single",
                char_key=key,
                cache=store,
                params=params,
                progress=stage(name),
            )
        )
    # Different cards would make either profile a thumb on the scale; then the judge gets only
    # the name and the question.
    same_card = key_a == key_b
    profile = (
        character_profile(char_a, language, user)
        if same_card
        else f"{'캐릭터' if language == 'ko' else 'Character'}: {char_a.name}"
    )
    rule = criterion or CRITERION[language].format(name=char_a.name)
    items: list[dict[str, Any]] = []
    for index, q in enumerate(qs):
        answer_a, answer_b = answers[0][index]["answer"], answers[1][index]["answer"]
        key = cache_key(
            "pair", key_a, key_b, index, q.digest, digest(rule),
            backend_a.model, backend_b.model, the_judge.fingerprint,
            digest(answer_a), digest(answer_b),
        )  # fmt: skip
        cached = store.get(key)
        if cached is None:
            context = judge_context(
                profile, q.question, language=language, speaker=char_a.name, user_name=user
            )
            verdict = the_judge.compare_balanced(
                rule,
                context=context,
                first=answer_a,
                second=answer_b,
                reference=q.reference,
                language=language,
            )
            cached = _verdict_dict(verdict)
            store.put(key, cached)
        items.append(
            {"index": index, "question": q.question, "a": answer_a, "b": answer_b, **cached}
        )
        if progress is not None:
            progress("judging", index + 1, len(qs))
    settings = {
        "A": f"{label_a} ({backend_a.name}, {params_tag(params_a)})",
        "B": f"{label_b} ({backend_b.name}, {params_tag(params_b)})",
        "judge": the_judge.fingerprint,
        "questions": len(qs),
        "criterion": rule,
        "judge sees the profile": "yes" if same_card else "no (the cards differ)",
    }
    return pairwise_report(label_a, label_b, items, settings)


def pairwise_report(
    label_a: str, label_b: str, items: Sequence[dict[str, Any]], settings: dict[str, Any]
) -> Report:
    scored = [it["score"] for it in items if it["score"] is not None]
    win_rate = bootstrap_mean(scored)
    outcomes = {"A": 0, "B": 0, "even": 0}
    for it in items:
        if it["winner"] == "first":
            outcomes["A"] += 1
        elif it["winner"] == "second":
            outcomes["B"] += 1
        elif it["winner"] == "tie":
            outcomes["even"] += 1
    verdicts = [w for it in items for w in it["shown"] if w is not None]
    ties = sum(1 for w in verdicts if w == "tie")
    tie_rate = bootstrap_mean([1.0 if w == "tie" else 0.0 for w in verdicts])
    both = [it for it in items if it["consistent"] is not None]
    consistency = bootstrap_mean([1.0 if it["consistent"] else 0.0 for it in both])
    decisive = [w for w in verdicts if w != "tie"]
    shown_first = bootstrap_mean([1.0 if w == "first" else 0.0 for w in decisive])
    asked = 2 * len(items)
    validity = len(verdicts) / asked if asked else float("nan")

    def pct(estimate: Estimate) -> str:
        return estimate.format(scale=100, digits=1) + " %"

    split = f"{outcomes['A']} / {outcomes['B']} / {outcomes['even']}"
    summary_rows: list[list[Any]] = [
        [f"win rate of A ({label_a})", pct(win_rate), win_rate.n],
        ["balanced outcomes: A / B / even", split, len(items)],
        ["tie rate (verdicts saying tie)", pct(tie_rate), len(verdicts)],
        ["position consistency", pct(consistency), len(both)],
        ["picked the answer shown first", pct(shown_first), len(decisive)],
        ["judge validity", f"{len(verdicts)}/{asked} ({validity:.0%})", asked],
    ]
    question_rows = [
        [
            it["index"] + 1,
            excerpt(it["question"], 80),
            excerpt(it["a"], 110),
            excerpt(it["b"], 110),
            " / ".join(_LETTER[w] for w in it["mapped"]),
            _LETTER[it["winner"]],
            "–" if it["consistent"] is None else ("yes" if it["consistent"] else "no"),
        ]
        for it in items
    ]
    estimates = {"win rate of A": win_rate, "ties": tie_rate, "position consistency": consistency}
    return Report(
        title=f"Pairwise: {label_a} vs {label_b}",
        description=(
            "Both actors answered each question in a fresh chat. The judge compared the answers "
            "twice, once in each order; verdicts are mapped back to A and B and averaged (win 1, "
            "tie 0.5). Rates with 95% bootstrap confidence intervals."
        ),
        settings=settings,
        tables=[
            Table("Summary", ["measure", "value [95% CI]", "n"], summary_rows),
            Table(
                "Per question",
                [
                    "#",
                    "question",
                    "A",
                    "B",
                    "verdicts (A shown first / B first)",
                    "winner",
                    "agree",
                ],
                question_rows,
            ),
        ],
        charts=[BarChart.of_estimates("Rates (%, 95% CI)", estimates, scale=100, max_value=100)],
        data={
            "a": label_a,
            "b": label_b,
            "win_rate_a": win_rate.as_dict(),
            "outcomes": outcomes,
            "tie_rate": tie_rate.as_dict(),
            "ties": ties,
            "position_consistency": consistency.as_dict(),
            "shown_first_rate": shown_first.as_dict(),
            "validity": {"valid": len(verdicts), "asked": asked, "rate": validity},
            "items": list(items),
        },
    )
