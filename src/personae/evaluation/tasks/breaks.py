"""Character-break evaluation: put probes to characters and count the breaks.

Each character gets the probe set of its card's language (or the one given): identity questions
("Are you an AI?", "너 챗GPT지?"), instructions to leave the role, anachronism questions for its
era, and plain control questions. Every reply is checked by the rule detectors of
:mod:`personae.checks.breaks`; anachronism replies can also be rated by a judge on a rubric
"does the answer stay within the character's era and knowledge".

Replies go through the real :class:`~personae.agent.Agent`, so what is checked is what a user
would see. The user-line stop strings are lifted, though: the agent's reply filter still cuts a
reply the moment the model starts a user line, exactly as the stop strings would, but the raw
model text then shows the attempt, which is reported separately ("raw" impersonation).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from personae.agent import Agent, Turn
from personae.agent.prompt import card_language
from personae.agent.stops import stop_strings
from personae.backends.base import Backend, Chunk, GenerationParams, Message
from personae.characters import Character
from personae.checks.breaks import KINDS, BreakHit, detect_breaks, detect_user_impersonation
from personae.checks.judge import Judge, Rubric
from personae.errors import InvalidInput
from personae.evaluation.cache import ResultCache
from personae.evaluation.probes import PROBE_KINDS, Probe, ProbeSet, bundled_probes, infer_era
from personae.evaluation.report import BarChart, Report, Table
from personae.metrics.stats import Estimate, bootstrap_mean

REPLY_PARAMS = GenerationParams(max_tokens=120, temperature=0.0, seed=0)
PROMPT_VERSION = "breaks-v1"
ERA_RUBRIC_EN = Rubric(
    "era",
    "Stays within the character's era and knowledge",
    "The question mentions something from after the character's time. Does the answer stay "
    "within what the character could know in their era?\n"
    "7: the character plainly does not know the modern thing: confused, asks what it is, or "
    "answers only in terms of their own time.\n"
    "4: vague; neither explains the modern thing nor shows it is unknown.\n"
    "1: explains or uses the modern thing knowledgeably, as someone from today would.",
)
ERA_RUBRIC_KO = Rubric(
    "era",
    "캐릭터의 시대와 지식 안에 머무르는가",
    "질문에는 캐릭터가 살던 때보다 뒤에 나온 것이 나옵니다. 답이 캐릭터가 자기 시대에 알 수 "
    "있었던 것 안에 머무르는지 평가하세요.\n"
    "7: 그 현대의 것을 분명히 모른다. 어리둥절해하거나, 무엇이냐고 묻거나, 자기 시대의 말로만 "
    "답한다.\n"
    "4: 모호하다. 현대의 것을 설명하지도, 모른다는 것을 드러내지도 않는다.\n"
    "1: 현대의 것을 오늘날 사람처럼 잘 알고 설명하거나 쓴다.",
)
# A judge score below the midpoint of 1..7 counts as a break.
JUDGE_BREAK_BELOW = 4.0


class _Tap:
    """Wraps a backend: lifts the user-line stop strings (the reply filter still cuts there)
    and keeps the raw text of the last reply. Other stops ("<START>") stay: the filter does not
    stand in for them."""

    name: ClassVar[str] = "tap"

    def __init__(self, inner: Backend, user_name: str) -> None:
        self.inner = inner
        self.model = inner.model
        self.last = ""
        # The agent may call the user something else than ``user_name`` ("User" is said as
        # "you"), so every "\nName:" stop is lifted, not only those of this name.
        self._lifted = {s for s in stop_strings(user_name) if s.rstrip().endswith((":", "："))}

    def __getattr__(self, attr: str) -> Any:  # count_tokens, n_ctx …: those of the real one
        return getattr(self.inner, attr)

    def stream(self, messages: Sequence[Message], params: GenerationParams) -> Iterator[Chunk]:
        parts: list[str] = []
        kept = tuple(
            s
            for s in params.stop
            if s not in self._lifted and not (s.startswith("\n") and s.endswith((":", "：")))
        )
        inner = self.inner.stream(messages, params.model_copy(update={"stop": kept}))
        try:
            for chunk in inner:
                parts.append(chunk.text)
                yield chunk
        finally:
            self.last = "".join(parts)
            close = getattr(inner, "close", None)
            if close is not None:
                close()


@dataclass
class ProbeResult:
    character_id: str
    character: str
    era: str | None
    probe: Probe
    reply: str
    raw: str
    hits: list[BreakHit]
    raw_impersonation: BreakHit | None
    judge_score: float | None = None
    judge_reasoning: str = ""
    judged: bool = False

    @property
    def judge_break(self) -> bool | None:
        if not self.judged or self.judge_score is None:
            return None
        return self.judge_score < JUDGE_BREAK_BELOW

    def kinds(self) -> set[str]:
        return {h.kind for h in self.hits}

    def as_dict(self) -> dict[str, Any]:
        return {
            "character": self.character_id,
            "era": self.era,
            "probe": self.probe.id,
            "kind": self.probe.kind,
            "question": self.probe.question,
            "reply": self.reply,
            "raw": self.raw,
            "hits": [h.as_dict() for h in self.hits],
            "raw_impersonation": self.raw_impersonation.as_dict()
            if self.raw_impersonation
            else None,
            "judge_score": self.judge_score if self.judged else None,
            "judge_break": self.judge_break,
            "judge_reasoning": self.judge_reasoning if self.judged else None,
        }


@dataclass
class CharacterPlan:
    character_id: str
    character: Character
    era: str | None
    probes: list[Probe]
    language: str
    probe_source: str = ""
    notes: list[str] = field(default_factory=list)


def plan_character(
    character_id: str,
    character: Character,
    *,
    probes: ProbeSet | None = None,
    era: str | None = None,
    probe_ids: Sequence[str] | None = None,
) -> CharacterPlan:
    """Which probes this character gets: its language's set (or ``probes``), anachronism ones
    only for its era (``era``, else the probe file's entry for it, else a guess from the card)."""
    language = card_language(character)
    chosen = probes or bundled_probes(language)
    found_era = era or chosen.characters.get(character_id)
    if found_era is None:
        card = " ".join([character.description, character.scenario])
        found_era = infer_era(card, chosen.eras)
    selected = chosen.for_era(found_era)
    if probe_ids:
        wanted = set(probe_ids)
        selected = [p for p in selected if p.id in wanted]
    return CharacterPlan(character_id, character, found_era, selected, language, chosen.source)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def run_breaks(
    characters: Mapping[str, Character],
    backend: Backend,
    *,
    probes: ProbeSet | None = None,
    eras: Mapping[str, str] | None = None,
    probe_ids: Sequence[str] | None = None,
    judge: Judge | None = None,
    judge_probe_ids: Sequence[str] | None = None,
    cache: ResultCache | None = None,
    params: GenerationParams | None = None,
    user_name: str = "User",
    on_probe: Callable[[int, int], None] | None = None,
) -> Report:
    """Probe every character in ``characters`` (id → card) played on ``backend``.

    The judge (when given) rates anachronism replies, all of them or those in
    ``judge_probe_ids``."""
    if not characters:
        raise InvalidInput("name at least one character to probe")
    params = params or REPLY_PARAMS
    plans = [
        plan_character(
            cid,
            card,
            probes=probes,
            era=(eras or {}).get(cid),
            probe_ids=probe_ids,
        )
        for cid, card in characters.items()
    ]
    total = sum(len(p.probes) for p in plans)
    if total == 0:
        raise InvalidInput("no probe applies to these characters (check --probe ids and eras)")
    tap = _Tap(backend, user_name)
    actor = (
        f"{backend.model}|{PROMPT_VERSION}|t={params.temperature}|seed={params.seed}|"
        f"max={params.max_tokens}|user={user_name}"
    )
    results: list[ProbeResult] = []
    done = 0
    for plan in plans:
        agent = Agent(plan.character, tap, user_name=user_name, params=params)
        for probe in plan.probes:
            key = f"reply|{actor}|{plan.character_id}|{probe.id}|{_digest(probe.question)}"
            hit = cache.get(key) if cache is not None else None
            if isinstance(hit, dict):
                reply, raw = str(hit["reply"]), str(hit["raw"])
            else:
                reply = agent.reply([Turn("user", probe.question)]).read()
                raw = tap.last
                if cache is not None:
                    cache.put(key, {"reply": reply, "raw": raw})
            terms = probe.terms if probe.kind == "anachronism" else ()
            result = ProbeResult(
                plan.character_id,
                plan.character.name,
                plan.era,
                probe,
                reply,
                raw,
                detect_breaks(
                    reply, user_name=user_name, anachronism_terms=terms, question=probe.question
                ),
                detect_user_impersonation(raw, user_name),
            )
            wants_judge = judge_probe_ids is None or probe.id in set(judge_probe_ids)
            if judge is not None and probe.kind == "anachronism" and wants_judge:
                _judge(result, judge, plan, cache, actor)
            results.append(result)
            done += 1
            if on_probe is not None:
                on_probe(done, total)
    return build_report(plans, results, actor=backend.model, judge=judge)


def _judge(
    result: ProbeResult, judge: Judge, plan: CharacterPlan, cache: ResultCache | None, actor: str
) -> None:
    key = f"judge|{judge.fingerprint}|{actor}|{plan.character_id}|{result.probe.id}|" + _digest(
        result.reply
    )
    hit = cache.get(key) if cache is not None else None
    if not isinstance(hit, dict):
        ko = plan.language == "ko"
        era = plan.era or "unknown"
        verdict = judge.score(
            ERA_RUBRIC_KO if ko else ERA_RUBRIC_EN,
            context=(
                f"Character: {plan.character.name} (era: {era})\n"
                f"{plan.character.description.strip()[:600]}\n\n"
                f"Question: {result.probe.question}"
            ),
            response=result.reply,
            language="ko" if ko else "en",
        )
        hit = {"score": verdict.score, "reasoning": verdict.reasoning}
        if cache is not None:
            cache.put(key, hit)
    score = hit.get("score")
    result.judge_score = None if score is None else float(score)
    result.judge_reasoning = str(hit.get("reasoning", ""))
    result.judged = True


def _rate(flags: Sequence[bool]) -> Estimate:
    return bootstrap_mean([1.0 if f else 0.0 for f in flags])


def kind_rates(results: Sequence[ProbeResult]) -> dict[str, tuple[int, int, Estimate]]:
    """Per break kind: (replies checked, breaks, rate with CI). Anachronism counts only replies
    to anachronism probes; the judge line only judged replies with a valid score."""
    out: dict[str, tuple[int, int, Estimate]] = {}
    for kind in KINDS:
        pool = [r for r in results if kind != "anachronism" or r.probe.kind == "anachronism"]
        flags = [kind in r.kinds() for r in pool]
        out[kind] = (len(flags), sum(flags), _rate(flags))
    raw = [r.raw_impersonation is not None for r in results]
    out["user_impersonation (raw, before the reply filter)"] = (len(raw), sum(raw), _rate(raw))
    judged = [r.judge_break for r in results if r.judge_break is not None]
    if any(r.judged for r in results):
        flags = [bool(j) for j in judged]
        out["anachronism (judge)"] = (len(flags), sum(flags), _rate(flags))
    return out


def build_report(
    plans: Sequence[CharacterPlan],
    results: Sequence[ProbeResult],
    *,
    actor: str,
    judge: Judge | None,
) -> Report:
    rates = kind_rates(results)
    kind_rows = [[k, n, b, est] for k, (n, b, est) in rates.items()]
    probe_kind_rows = []
    for pk in PROBE_KINDS:
        pool = [r for r in results if r.probe.kind == pk]
        if pool:
            flags = [bool(r.hits) for r in pool]
            probe_kind_rows.append([pk, len(pool), sum(flags), _rate(flags)])
    char_rows = []
    for plan in plans:
        mine = [r for r in results if r.character_id == plan.character_id]
        per_kind = kind_rates(mine)
        row: list[Any] = [
            plan.character.name,
            plan.era or "–",
            plan.language,
            len(mine),
            _rate([bool(r.hits) for r in mine]),
        ]
        for kind in KINDS:
            n, b, _ = per_kind[kind]
            row.append(f"{b}/{n}" if n else "–")
        judged = per_kind.get("anachronism (judge)")
        row.append(f"{judged[1]}/{judged[0]}" if judged else "–")
        char_rows.append(row)
    probe_rows = []
    for r in results:
        judge_cell = "–"
        if r.judged:
            judge_cell = "invalid" if r.judge_score is None else f"{r.judge_score:g}"
        probe_rows.append(
            [
                r.character,
                r.probe.id,
                r.probe.kind,
                r.probe.question,
                _short(r.reply),
                ", ".join(f"{h.kind} ({h.rule})" for h in r.hits) or "–",
                "yes" if r.raw_impersonation else "",
                judge_cell,
            ]
        )
    settings: dict[str, Any] = {
        "characters": ", ".join(p.character_id for p in plans),
        "actor model": actor,
        "replies": len(results),
        "probe sets": ", ".join(sorted({p.probe_source for p in plans if p.probe_source})),
    }
    if judge is not None:
        settings["judge model"] = judge.model
        settings["judge break"] = f"era score below {JUDGE_BREAK_BELOW:g} of 7"
    return Report(
        title="Character breaks",
        description=(
            "Adversarial, instruction, anachronism and control probes, one single-turn chat "
            "each, greedy decoding. Rates are the share of replies with a break of that kind "
            "(95% bootstrap CI); anachronism is counted over anachronism probes only. Rule "
            "detectors favour precision: a rate is a lower bound."
        ),
        settings=settings,
        tables=[
            Table("Break rates by kind", ["kind", "replies", "breaks", "rate [95% CI]"], kind_rows),
            Table(
                "Any break, by probe kind",
                ["probe kind", "replies", "with a break", "rate [95% CI]"],
                probe_kind_rows,
            ),
            Table(
                "By character",
                [
                    "character",
                    "era",
                    "language",
                    "replies",
                    "any break [95% CI]",
                    *KINDS,
                    "anachronism (judge)",
                ],
                char_rows,
            ),
            Table(
                "Probes",
                ["character", "probe", "kind", "question", "reply", "breaks", "raw", "judge"],
                probe_rows,
            ),
        ],
        charts=[
            BarChart.of_estimates(
                "Break rate by kind (%)",
                {k: est for k, (n, _, est) in rates.items() if n},
                scale=100.0,
                max_value=100.0,
                unit="%",
            )
        ],
        data={
            "rates": {
                k: {"replies": n, "breaks": b, "rate": est.as_dict()}
                for k, (n, b, est) in rates.items()
            },
            "characters": [
                {
                    "id": p.character_id,
                    "name": p.character.name,
                    "era": p.era,
                    "language": p.language,
                    "probes": [x.id for x in p.probes],
                }
                for p in plans
            ],
            "results": [r.as_dict() for r in results],
        },
    )


def _short(text: str, limit: int = 160) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
