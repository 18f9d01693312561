"""A resumed build checks what it kept before against today's gates.

Gates get stricter as we read what small models write (the 1.5B's "Yes, that is true." opening
every other line was caught only after a first dataset was built). A directory built with older
gates would keep such experiences for ever, and a model fine-tuned on it would learn them, so on
resume every kept experience is judged again; one that fails now is moved to ``dropped.jsonl``
with its reason and ``"rechecked": true``, counted like any other drop.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from personae.experience.export import interaction_of
from personae.experience.gates import GateRules, judge
from personae.experience.interaction import render_interaction
from personae.experience.prompts import Topic
from personae.experience.records import DROPPED, EXPERIENCES, ExperienceDir

SAMPLE_CHARS = 1500


def recheck_kept(
    directory: ExperienceDir, rules: GateRules, topics: Sequence[Topic]
) -> Counter[str]:
    """Move the kept experiences that ``rules`` now turn away to the dropped ones; the
    reasons, counted."""
    terms = {t.topic: t.terms for t in topics}
    kept: list[dict[str, Any]] = []
    failed: list[dict[str, Any]] = []
    moved: Counter[str] = Counter()
    for row in directory.rows(EXPERIENCES):
        scene = row.get("scene", {})
        topic_terms = terms.get(str(scene.get("topic")), ()) if scene.get("protective") else ()
        interaction = interaction_of(row)
        verdict = judge(interaction, rules, topic_terms=topic_terms)
        if verdict.passed:
            kept.append(row)
            continue
        reason = verdict.reasons[0]
        moved[reason] += 1
        failed.append(
            {
                "scene_id": scene.get("id"),
                "reason": reason,
                "rejected": {reason: 1},
                "sample": render_interaction(interaction, rules.language)[:SAMPLE_CHARS],
                "rechecked": True,
            }
        )
    if failed:
        # Kept rows first: a kill between the two steps leaves the scene pending (asked again),
        # never both kept and dropped.
        directory.replace(EXPERIENCES, kept)
        for row in failed:
            directory.append(DROPPED, row)
    return moved


__all__ = ["recheck_kept"]
