"""`personae eval …`: metrics, benchmarks and role-play evaluations."""

from __future__ import annotations

import click


@click.group("eval")
def eval_group() -> None:
    """Measure: ROUGE, the DialogSum benchmark, and role-play evaluations."""


@eval_group.group("roleplay")
def roleplay_group() -> None:
    """Evaluate a character: interviews, pairwise judging, personality tests, character breaks."""
