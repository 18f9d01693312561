"""Personality tests in character (InCharacter's interview method).

Each item of a questionnaire is put to the character as an open interview question ("Do you see
yourself as someone who is talkative? Why, or why not?"), answered in character, in its own
words. The answer then becomes a number on the questionnaire's scale in one of two ways:

- ``option``: the actor is asked, in the same conversation, to pick a number on the scale, and
  :func:`~personae.evaluation.questionnaire.parse_option` reads it (one stricter re-ask when the
  reply holds no usable number);
- ``judge``: a :class:`~personae.checks.judge.Judge` rates how much the answer agrees with the
  statement, on the questionnaire's own scale.

Korean characters are asked in Korean, but the statement itself is quoted as the questionnaire
gives it (English) unless the file has a ``rewritten_ko``/``origin_ko`` text: a translation made
on the fly could shift an item's meaning, and a quoted statement keeps every character on the same
items. Every answer and every score is written to a :class:`ResultCache` as soon as it exists, so an
interrupted run resumes, and option and judge scoring share the interview answers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from personae.agent import Agent, Turn
from personae.agent.prompt import card_language
from personae.backends.base import Backend, GenerationParams
from personae.characters import Character
from personae.checks.judge import Judge, Rubric
from personae.errors import InvalidInput
from personae.evaluation.cache import ResultCache
from personae.evaluation.labels import LabelCheck, accuracy, compare_label
from personae.evaluation.questionnaire import Item, Questionnaire, parse_option, pole_name
from personae.evaluation.report import BarChart, Report, Table

Scoring = Literal["option", "judge"]
ANSWER_PARAMS = GenerationParams(max_tokens=160, temperature=0.0, seed=0)
CHOICE_PARAMS = GenerationParams(max_tokens=24, temperature=0.0, seed=0)
PROMPT_VERSION = "personality-v1"
# Bumped when the agreement rubric changes, so old verdicts are not reused (answers still are).
RUBRIC_VERSION = "agreement-v2"


@dataclass
class ItemResult:
    item: Item
    question: str
    answer: str
    choice: float | None  # the answer on the scale as given (before reverse scoring)
    scored: float | None  # as it counts toward the dimension
    detail: str  # the option reply, or the judge's reasoning

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.item.id,
            "dimension": self.item.dimension,
            "reverse": self.item.reverse,
            "statement": self.item.statement,
            "question": self.question,
            "answer": self.answer,
            "choice": self.choice,
            "scored": self.scored,
            "detail": self.detail,
        }


def _as_sentence(statement: str) -> str | None:
    """BFI statements are predicates ("Is talkative."); they read as "someone who is …"."""
    first = statement.split(maxsplit=1)[0] if statement.split() else ""
    if first.lower() in ("you", "your") or not first.endswith("s") or not first[:1].isupper():
        return None
    return statement[0].lower() + statement[1:].rstrip(" .")


def self_statement(item: Item) -> str:
    """The statement as the character would say it of themselves, when it is a bare predicate
    ("Is talkative." → "I see myself as someone who is talkative."), else as given."""
    predicate = _as_sentence(item.statement)
    return f"I see myself as someone who {predicate}." if predicate else item.statement


def interview_question(item: Item, language: str) -> str:
    """The open question that puts ``item`` to the character, in ``language``."""
    own = item.texts.get(f"rewritten_{language}") or item.texts.get(f"origin_{language}")
    if language == "ko":
        if own:
            return f"{own} 왜 그런지 당신의 말로 이야기해 주세요."
        return (
            f'다음 말이 당신을 얼마나 잘 설명하나요? "{self_statement(item)}" '
            "왜 그런지 당신의 말로 이야기해 주세요."
        )
    if own and language != "en":
        return f"{own} Why, or why not?"
    predicate = _as_sentence(item.statement)
    if predicate:
        return f"Do you see yourself as someone who {predicate}? Why, or why not?"
    if item.question:
        return f"{item.question} Why, or why not?"
    return f'Would you say this describes you: "{item.statement}"? Why, or why not?'


def _anchors(q: Questionnaire, language: str) -> str:
    mid = q.midpoint
    mid_text = f"{mid:g}"
    if language == "ko":
        return f"{q.low} = 전혀 그렇지 않다, {mid_text} = 보통이다, {q.high} = 매우 그렇다"
    return (
        f"{q.low} = strongly disagree, {mid_text} = neither agree nor disagree, "
        f"{q.high} = strongly agree"
    )


def choice_question(item: Item, q: Questionnaire, language: str) -> str:
    own = item.texts.get(f"origin_{language}") if language != "en" else None
    statement = own or self_statement(item)
    if language == "ko":
        return (
            f'고맙습니다. 그럼 "{statement}"라는 말이 당신을 얼마나 잘 설명하는지 {q.low}부터 '
            f"{q.high}까지의 숫자 하나로 답해 주세요 ({_anchors(q, language)}). 숫자만 쓰세요."
        )
    return (
        f"Thank you. Now, on a scale from {q.low} to {q.high}, how well does the statement "
        f'"{statement}" describe you? ({_anchors(q, language)}.) Reply with the number only.'
    )


def _retry_question(q: Questionnaire, language: str) -> str:
    if language == "ko":
        return f"{q.low}부터 {q.high}까지의 숫자 하나만 써 주세요."
    return f"Please reply with a single number from {q.low} to {q.high}."


def agreement_rubric(item: Item, q: Questionnaire, language: str) -> Rubric:
    """How much an answer agrees that ``item``'s statement describes the character.

    Small judges tend to reward an answer for being *about* the statement ("I am not a talkative
    person" got 5 of 5 for "Is talkative"), so the rubric says outright that a denial scores low.
    """
    mid = f"{q.midpoint:g}"
    statement = self_statement(item)
    if language == "ko":
        text = (
            f'캐릭터에게 다음 문장이 자신을 설명하는지 물었습니다: "{statement}"\n'
            "답이 그 문장을 자기에게 맞다고 하는지, 틀리다고 하는지, 반반이라고 하는지 먼저 "
            "판단하세요. 답이 얼마나 관련 있거나 잘 쓰였는지가 아니라 문장에 대한 동의 정도를 "
            '평가합니다. 문장을 부정하는 답("나는 그렇지 않다", "아니오")은 그 주제를 길게 '
            f"이야기하더라도 낮은 점수입니다.\n{q.high}: 문장이 자기를 잘 설명한다고 분명히 "
            f"말한다.\n{mid}: 반반이거나, 분명하지 않거나, 질문을 피한다.\n{q.low}: 문장이 "
            "자기에게 맞지 않는다고(또는 그 반대라고) 분명히 말한다."
        )
    else:
        text = (
            f'The character was asked whether this statement describes them: "{statement}"\n'
            "First decide what the answer says: that the statement is true of the character, "
            "false of them, or partly true. Rate agreement with the statement, not how relevant "
            'or well written the answer is. An answer that denies the statement ("I am not …", '
            '"No, …", "I would not say so") gets a low score even when it discusses the topic '
            f"at length.\n{q.high}: clearly says the statement describes them.\n"
            f"{mid}: mixed, unclear, or avoids the question.\n"
            f"{q.low}: clearly says the statement does not describe them, or that the opposite "
            "is true."
        )
    return Rubric("agreement", "Agreement with the statement", text, low=q.low, high=q.high)


class _Interview:
    def __init__(
        self,
        character: Character,
        backend: Backend,
        q: Questionnaire,
        *,
        character_id: str,
        language: str,
        cache: ResultCache | None,
        params: GenerationParams,
        user_name: str,
    ) -> None:
        self.agent = Agent(character, backend, user_name=user_name, params=params)
        self.q = q
        self.language = language
        self.cache = cache
        self.params = params
        self.actor = (
            f"{character_id}|{q.name}|{backend.model}|{language}|{PROMPT_VERSION}|"
            f"t={params.temperature}|seed={params.seed}|max={params.max_tokens}"
        )

    def _cached(self, key: str, make: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        if self.cache is not None:
            hit = self.cache.get(key)
            if isinstance(hit, dict):
                return hit
        value = make()
        if self.cache is not None:
            self.cache.put(key, value)
        return value

    def answer(self, item: Item) -> dict[str, Any]:
        question = interview_question(item, self.language)

        def ask() -> dict[str, Any]:
            text = self.agent.reply([Turn("user", question)]).read()
            return {"question": question, "answer": text}

        return self._cached(f"answer|{self.actor}|{item.id}", ask)

    def option(self, item: Item, answered: Mapping[str, Any]) -> dict[str, Any]:
        """Ask for the number (and once more if the reply holds none). The replies are cached
        and parsed afresh on every run, so a better parser needs no new model calls."""
        key = f"option|{self.actor}|{item.id}"
        hit = self.cache.get(key) if self.cache is not None else None
        replies: list[str] = list(hit.get("replies", [])) if isinstance(hit, dict) else []
        history = [
            Turn("user", answered["question"]),
            Turn("assistant", answered["answer"] or "..."),
            Turn("user", choice_question(item, self.q, self.language)),
        ]
        params = CHOICE_PARAMS.model_copy(update={"seed": self.params.seed})

        def ask(turns: list[Turn]) -> None:
            replies.append(self.agent.reply(turns, params).read())
            if self.cache is not None:
                self.cache.put(key, {"replies": replies})

        if not replies:
            ask(history)
        value = parse_option(replies[0], self.q.low, self.q.high)
        if value is None:
            if len(replies) < 2:
                retry = [
                    Turn("assistant", replies[0] or "..."),
                    Turn("user", _retry_question(self.q, self.language)),
                ]
                ask(history + retry)
            value = parse_option(replies[1], self.q.low, self.q.high)
        return {"choice": value, "detail": " | ".join(replies)}

    def judged(self, item: Item, answered: Mapping[str, Any], judge: Judge) -> dict[str, Any]:
        def ask() -> dict[str, Any]:
            name = self.agent.character.name
            verdict = judge.score(
                agreement_rubric(item, self.q, self.language),
                context=f"Character: {name}\nQuestion: {answered['question']}",
                response=answered["answer"],
                reference=f'Statement: "{item.statement}"',
                language="ko" if self.language == "ko" else "en",
            )
            return {"choice": verdict.score, "detail": verdict.reasoning}

        key = f"judge|{judge.fingerprint}|{RUBRIC_VERSION}|{self.actor}|{item.id}"
        return self._cached(key, ask)


def run_personality(
    character: Character,
    backend: Backend,
    questionnaire: Questionnaire,
    *,
    character_id: str | None = None,
    scoring: Scoring = "option",
    judge: Judge | None = None,
    label: Mapping[str, Any] | None = None,
    label_source: str = "",
    limit: int | None = None,
    cache: ResultCache | None = None,
    params: GenerationParams | None = None,
    user_name: str = "Interviewer",
    language: str | None = None,
    on_item: Callable[[int, int], None] | None = None,
) -> Report:
    """Administer ``questionnaire`` to ``character`` played on ``backend`` and report.

    ``label`` maps dimension → ``"high"``/``"low"`` or a number (see
    :func:`~personae.evaluation.questionnaire.parse_label`)."""
    if scoring not in ("option", "judge"):
        raise InvalidInput(f"scoring must be 'option' or 'judge', not {scoring!r}")
    if scoring == "judge" and judge is None:
        raise InvalidInput("judge scoring needs a judge model: pass --judge-model")
    lang = language or card_language(character)
    items = questionnaire.subset(limit)
    run = _Interview(
        character,
        backend,
        questionnaire,
        character_id=character_id or character.name,
        language=lang,
        cache=cache,
        params=params or ANSWER_PARAMS,
        user_name=user_name,
    )
    results: list[ItemResult] = []
    for n, item in enumerate(items):
        answered = run.answer(item)
        if scoring == "judge":
            assert judge is not None
            scored = run.judged(item, answered, judge)
        else:
            scored = run.option(item, answered)
        choice = scored.get("choice")
        value = None if choice is None else questionnaire.scored(item.id, float(choice))
        results.append(
            ItemResult(
                item,
                answered["question"],
                answered["answer"],
                None if choice is None else float(choice),
                value,
                str(scored.get("detail", "")),
            )
        )
        if on_item is not None:
            on_item(n + 1, len(items))
    return build_report(
        character,
        questionnaire,
        results,
        scoring=scoring,
        actor=backend.model,
        judge_model=judge.model if judge is not None and scoring == "judge" else None,
        label=label,
        label_source=label_source,
        language=lang,
    )


def build_report(
    character: Character,
    q: Questionnaire,
    results: list[ItemResult],
    *,
    scoring: str,
    actor: str,
    judge_model: str | None,
    label: Mapping[str, Any] | None,
    label_source: str,
    language: str,
) -> Report:
    answers = {r.item.id: r.choice for r in results}
    scores = q.score(answers)
    checks: list[LabelCheck] = compare_label(scores, label, q) if label else []
    by_dim = {c.dimension: c for c in checks}
    dim_rows = []
    for dim in q.dimensions:
        s = scores[dim.name]
        check = by_dim.get(dim.name)
        dim_rows.append(
            [
                dim.name,
                s.value,
                s.mean,
                pole_name(dim, s.level),
                f"{s.answered}/{s.total}",
                pole_name(dim, check.expected) if check else "",
                ("yes" if check.agrees else "no") if check else "",
            ]
        )
    unanswered = sum(1 for r in results if r.choice is None)
    acc = accuracy(checks)
    tables = [
        Table(
            "Dimensions",
            [
                "dimension",
                f"score ({q.mode.lower()})",
                "mean item score [95% CI]",
                "result",
                "items scored",
                "label",
                "agrees",
            ],
            dim_rows,
        )
    ]
    if checks:
        tables.append(
            Table(
                "Agreement with the label",
                ["labelled dimensions", "agree", "accuracy", "all agree"],
                [[len(checks), sum(c.agrees for c in checks), acc, all(c.agrees for c in checks)]],
            )
        )
    tables.append(
        Table(
            "Items",
            ["id", "dimension", "reverse", "statement", "answer", "choice", "scored"],
            [
                [
                    r.item.id,
                    r.item.dimension,
                    "R" if r.item.reverse else "",
                    r.item.statement,
                    _short(r.answer),
                    "–" if r.choice is None else f"{r.choice:g}",
                    "–" if r.scored is None else f"{r.scored:g}",
                ]
                for r in results
            ],
        )
    )
    if q.notes:
        tables.append(Table("Questionnaire notes", ["note"], [[n] for n in q.notes]))
    method = (
        "the actor picked a number on the scale after answering"
        if scoring == "option"
        else f"the judge ({judge_model}) rated how much each answer agrees with its statement"
    )
    framing = "Korean frame, statement quoted as given" if language == "ko" else language
    description = (
        f"{character.name} answered {len(results)} of {len(q.items)} {q.full_name} items as "
        f"open interview questions, in character ({framing}); "
        f"{method}. Reverse-scored items count as {q.scale} − answer; a dimension is high when "
        f"its mean item score is above {q.midpoint:g}. {unanswered} item(s) gave no usable score."
    )
    settings: dict[str, Any] = {
        "character": character.name,
        "questionnaire": q.name,
        "items": f"{len(results)}/{len(q.items)}",
        "scale": f"{q.low}..{q.high} ({q.mode})",
        "scoring": scoring,
        "actor model": actor,
        "language": language,
    }
    if judge_model:
        settings["judge model"] = judge_model
    if label_source:
        settings["label"] = label_source
    return Report(
        title=f"Personality: {character.name} — {q.name}",
        description=description,
        settings=settings,
        tables=tables,
        charts=[
            BarChart.of_estimates(
                "Mean item score per dimension (95% CI)",
                {d.name: scores[d.name].mean for d in q.dimensions},
                max_value=float(q.high),
            )
        ],
        data={
            "dimensions": {
                name: {
                    "value": s.value,
                    "mean": s.mean.as_dict(),
                    "level": s.level,
                    "answered": s.answered,
                    "total": s.total,
                }
                for name, s in scores.items()
            },
            "label": dict(label) if label else None,
            "label_checks": [
                {
                    "dimension": c.dimension,
                    "expected": c.expected,
                    "predicted": c.predicted,
                    "agrees": c.agrees,
                }
                for c in checks
            ],
            "accuracy": acc if checks else None,
            "unanswered": unanswered,
            "items": [r.as_dict() for r in results],
            "notes": list(q.notes),
        },
    )


def _short(text: str, limit: int = 160) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
