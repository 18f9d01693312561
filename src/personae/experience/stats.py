"""What a dataset directory holds, counted: the ``personae experience stats`` view."""

from __future__ import annotations

from collections import Counter
from typing import Any

from personae.experience.export import interaction_of
from personae.experience.interaction import render_interaction
from personae.experience.records import DROPPED, EXPERIENCES, SCENES, ExperienceDir
from personae.text.token_estimate import estimate_tokens


def dataset_stats(directory: ExperienceDir) -> dict[str, Any]:
    """``{"scenes", "experiences", "protective", "turns", "tokens", "dropped", "language"}``
    and more: the character, thinking turns, candidates the gates rejected (by reason),
    redacted PII spans, and the scenes still waiting for an experience."""
    manifest = directory.manifest
    scene_rows = directory.rows(SCENES)
    experiences = directory.rows(EXPERIENCES)
    dropped_rows = directory.rows(DROPPED)
    dropped: Counter[str] = Counter()
    scenes = 0
    for row in scene_rows:
        scenes += len(row.get("scenes", ()))
        dropped.update({f"scene_{k}": int(v) for k, v in row.get("dropped", {}).items()})
    rejected: Counter[str] = Counter()
    for row in (*experiences, *dropped_rows):
        rejected.update({k: int(v) for k, v in row.get("rejected", {}).items()})
    dropped.update(str(row.get("reason", "unknown")) for row in dropped_rows)
    turns = thinking = tokens = redacted = protective = 0
    for row in experiences:
        interaction = interaction_of(row)
        turns += len(interaction.turns)
        thinking += sum(1 for t in interaction.turns if t.action == "thinking")
        tokens += estimate_tokens(render_interaction(interaction))
        redacted += int(row.get("redacted", 0))
        protective += bool(row.get("scene", {}).get("protective"))
    done = len(experiences) + len(dropped_rows)
    return {
        "character": manifest.get("character", ""),
        "language": manifest.get("language", ""),
        "model": manifest.get("model", ""),
        "scenes": scenes,
        "experiences": len(experiences),
        "protective": protective,
        "turns": turns,
        "thinking_turns": thinking,
        "tokens": tokens,
        "dropped": dict(sorted(dropped.items())),
        "rejected_candidates": dict(sorted(rejected.items())),
        "redacted": redacted,
        "pending": max(0, scenes - done),
    }


__all__ = ["dataset_stats"]
