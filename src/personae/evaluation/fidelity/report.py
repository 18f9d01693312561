"""The corpus report: how often each flag fires, with bootstrap 95% intervals, overall, per
(character, language) and per model, next to the issue's goals, and every flagged reply with
its evidence so a reader can check the rule was right."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from personae.checks.reply import FLAGS, SCORES, CardReference, ReplyCheck, check_reply
from personae.evaluation.fidelity.transcripts import TranscriptRow
from personae.evaluation.report import BarChart, Report, Table
from personae.metrics.stats import Estimate, bootstrap_mean


@dataclass(frozen=True)
class Goal:
    """A rate the issue asks for: the share of replies raising any of ``flags`` is at most
    ``limit``."""

    name: str
    flags: tuple[str, ...]
    limit: float

    def hit(self, check: ReplyCheck) -> bool:
        return any(check.flagged(f) for f in self.flags)


GOALS: tuple[Goal, ...] = (
    Goal("copy of an earlier reply or the greeting", ("copy_previous", "copy_greeting"), 0.02),
    Goal("verbatim repeat", ("verbatim_repeat",), 0.0),
    Goal("echo of the user", ("echo_user", "copy_user"), 0.02),
    Goal("AI disclosure or assistant-speak", ("ai_disclosure", "assistant_speak"), 0.02),
    Goal("wrong language", ("wrong_language",), 0.01),
)
"""Issue 14's goals on the 1.5B, both languages."""


@dataclass(frozen=True)
class ScoredReply:
    row: TranscriptRow
    check: ReplyCheck


def score_rows(rows: Sequence[TranscriptRow]) -> list[ScoredReply]:
    """Run :func:`check_reply` on every transcript row."""
    out = []
    for row in rows:
        card = CardReference.from_fields(
            name=row.card["name"],
            first_mes=row.card["first_mes"],
            mes_example=row.card["mes_example"],
            description=row.card["description"],
            user_name=row.user_name,
            instructions=row.card,
        )
        check = check_reply(
            row.reply,
            user=row.user,
            history=row.history,
            card=card,
            language=row.language,
            user_name=row.user_name,
            finish_reason=row.finish_reason,
            probe_terms=row.probe_terms,
        )
        out.append(ScoredReply(row, check))
    return out


def _rate(scored: Sequence[ScoredReply], hit: Callable[[ReplyCheck], bool]) -> Estimate:
    return bootstrap_mean([1.0 if hit(s.check) else 0.0 for s in scored])


def _mean_score(scored: Sequence[ScoredReply], name: str) -> Estimate:
    return bootstrap_mean([v for s in scored if not math.isnan(v := s.check.scores[name])])


def _count(e: Estimate) -> int:
    """How many replies were flagged (0 when the rate has no replies to count over)."""
    return round(e.mean * e.n) if e.n else 0


def _percent(e: Estimate) -> str:
    return e.format(scale=100, digits=1)


def _groups(
    scored: Sequence[ScoredReply], key: Callable[[TranscriptRow], str]
) -> dict[str, list[ScoredReply]]:
    groups: dict[str, list[ScoredReply]] = {}
    for s in scored:
        groups.setdefault(key(s.row), []).append(s)
    return dict(sorted(groups.items()))


def _flag_test(flag: str) -> Callable[[ReplyCheck], bool]:
    return lambda check: check.flagged(flag)


def _rates(scored: Sequence[ScoredReply]) -> dict[str, Estimate]:
    rates = {flag: _rate(scored, _flag_test(flag)) for flag in FLAGS}
    # An anachronism can only be seen on a probe turn that names its modern terms: its rate is
    # over those turns (as in the roleplay breaks report), NaN when there are none.
    probed = [s for s in scored if s.row.probe_terms]
    rates["anachronism"] = _rate(probed, _flag_test("anachronism"))
    rates["any flag"] = _rate(scored, lambda c: bool(c.hits))
    return rates


def fidelity_report(scored: Sequence[ScoredReply], *, source: str = "") -> Report:
    """The corpus report of ``scored`` replies (JSON, Markdown and HTML through :class:`Report`)."""
    overall = _rates(scored)
    goals = {g.name: _rate(scored, g.hit) for g in GOALS}
    goal_rows = []
    for g in GOALS:
        e = goals[g.name]
        met = "–" if not e.n else ("yes" if e.mean <= g.limit else "no")
        goal_rows.append(
            [
                g.name,
                f"≤ {g.limit:.0%}" if g.limit else "0",
                _percent(e),
                _count(e),
                e.n,
                met,
            ]
        )
    flag_rows = [
        [flag, FLAGS.get(flag, "at least one flag"), _percent(e), _count(e)]
        for flag, e in overall.items()
    ]
    score_rows_ = [
        [name, SCORES[name], _mean_score(scored, name).format(digits=3)] for name in SCORES
    ]
    short = [g.name for g in GOALS]

    def group_table(
        title: str, key: Callable[[TranscriptRow], str]
    ) -> tuple[Table, dict[str, Any]]:
        rows: list[list[Any]] = []
        data: dict[str, Any] = {}
        for label, members in _groups(scored, key).items():
            rates = {g.name: _rate(members, g.hit) for g in GOALS}
            others = _rates(members)
            style = _mean_score(members, "style_similarity")
            fit = _mean_score(members, "length_fit")
            rows.append(
                [label, len(members)]
                + [_percent(rates[n]) for n in short]
                + [_percent(others["any flag"]), style.format(digits=2), fit.format(digits=2)]
            )
            data[label] = {
                "n": len(members),
                "goals": rates,
                "flags": others,
                "style_similarity": style,
                "length_fit": fit,
            }
        columns = ["group", "n", *short, "any flag", "style similarity", "length fit"]
        return Table(title, columns, rows), data

    by_char, by_char_data = group_table(
        "Per character and language (rates in %)", lambda r: f"{r.character} · {r.language}"
    )
    every_flag = Table(
        "Every flag per character and language (% of replies; intervals in the JSON)",
        ["group", "n", *FLAGS],
        [
            [label, data["n"], *(data["flags"][f].mean * 100 for f in FLAGS)]
            for label, data in by_char_data.items()
        ],
    )
    by_model, by_model_data = group_table("Per model (rates in %)", lambda r: r.model)
    by_probe, by_probe_data = group_table(
        "Per probe turn (rates in %)", lambda r: r.probe or "(no probe)"
    )
    evidence_rows = [
        [flag, s.row.conversation, s.row.turn, s.row.model, evidence, _clip(s.row.reply)]
        for s in scored
        for flag, evidence in s.check.hits.items()
    ]
    settings = {
        "replies": len(scored),
        "conversations": len({s.row.conversation for s in scored}),
        "models": ", ".join(sorted({s.row.model for s in scored})),
    }
    if source:
        settings["transcripts"] = source
    return Report(
        title="Role-play fidelity",
        description=(
            "Rule-based checks on every character reply (no judge, no model). Rates are shares "
            "of replies in %, with percentile-bootstrap 95% intervals over replies. Thresholds "
            "and their reasons: personae.checks (overlap.py, reply.py)."
        ),
        settings=settings,
        tables=[
            Table(
                "Goals (issue 14)",
                ["goal", "limit", "rate % [95% CI]", "flagged", "n", "met"],
                goal_rows,
            ),
            Table(
                "Every flag (all replies)",
                ["flag", "meaning", "rate % [95% CI]", "flagged"],
                flag_rows,
            ),
            Table("Scores (mean [95% CI])", ["score", "meaning", "mean"], score_rows_),
            by_char,
            every_flag,
            by_model,
            by_probe,
            Table(
                "Flagged replies",
                ["flag", "conversation", "turn", "model", "evidence", "reply"],
                evidence_rows,
            ),
        ],
        charts=[BarChart.of_estimates("Flag rates (%)", overall, scale=100, unit="%")],
        data={
            "goals": {
                g.name: {"limit": g.limit, "flags": list(g.flags), "rate": goals[g.name]}
                for g in GOALS
            },
            "flags": overall,
            "scores": {name: _mean_score(scored, name) for name in SCORES},
            "by_character_language": by_char_data,
            "by_model": by_model_data,
            "by_probe": by_probe_data,
            "replies": [
                {
                    "conversation": s.row.conversation,
                    "character": s.row.character,
                    "model": s.row.model,
                    "turn": s.row.turn,
                    "language": s.row.language,
                    "probe": s.row.probe,
                    **s.check.as_dict(),
                }
                for s in scored
            ],
        },
    )


def _clip(text: str, width: int = 200) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"
