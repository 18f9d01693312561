"""`personae eval …`: metrics, benchmarks and role-play evaluations."""

from __future__ import annotations

import click


@click.group("eval")
def eval_group() -> None:
    """Measure: ROUGE, the DialogSum benchmark, and role-play evaluations."""


@eval_group.group("roleplay")
def roleplay_group() -> None:
    """Evaluate a character: interviews, pairwise judging, personality tests, character breaks."""


from personae.cli.eval_interview import interview_command, pairwise_command  # noqa: E402

roleplay_group.add_command(interview_command)
roleplay_group.add_command(pairwise_command)

from personae.cli.eval_rouge import rouge_command  # noqa: E402

eval_group.add_command(rouge_command)

from personae.cli.eval_personality import breaks_command, personality_command  # noqa: E402

roleplay_group.add_command(personality_command)
roleplay_group.add_command(breaks_command)

from personae.cli.eval_dialogsum import dialogsum_command  # noqa: E402

eval_group.add_command(dialogsum_command)

from personae.cli.eval_fidelity import fidelity_group  # noqa: E402
from personae.cli.eval_fidelity_play import play_command  # noqa: E402

fidelity_group.add_command(play_command)

eval_group.add_command(fidelity_group)
