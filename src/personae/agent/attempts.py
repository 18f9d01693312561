"""The tries a reply takes: each :class:`Attempt`'s outcome and usage, the parameters of the
next try (:func:`retry_params`), and the usage of them all (:func:`merged_usage`). Shared by a
single reply (:mod:`.agent`) and best-of-N or refine (:mod:`.best_of_n`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from personae.agent.guards import GuardEvent
from personae.backends.base import GenerationParams, Usage

RETRY_TEMPERATURE = 0.8
# Each further try is this much warmer (a copy that the sampling chose once is likely again).
RETRY_WARMER = 0.1


def retry_params(params: GenerationParams, attempt: int = 1) -> GenerationParams:
    """Try number ``attempt`` + 1 after an empty or guarded reply: at least
    :data:`RETRY_TEMPERATURE`, warmer each time, the next seed."""
    seed = None if params.seed is None else params.seed + attempt
    temperature = min(
        max(params.temperature, RETRY_TEMPERATURE) + RETRY_WARMER * (attempt - 1), 1.5
    )
    return params.model_copy(update={"temperature": temperature, "seed": seed})


@dataclass
class Attempt:
    """One try at the reply: how it ended ("shown", "retry" after a failed opening, "cut"
    at a failed sentence, "empty"), the backend's usage (None when it was cancelled) and what
    the guard found."""

    outcome: str
    usage: Usage | None = None
    events: list[GuardEvent] = field(default_factory=list)


def merged_usage(attempts: Sequence[Attempt]) -> Usage | None:
    """The reply's usage over its tries: the prompt as the first try that reported one saw it
    (a retry finds the prompt cached), the completion tokens of every try that reported."""
    reported = [a.usage for a in attempts if a.usage is not None]
    if not reported:
        return None
    first = reported[0]
    return Usage(
        prompt_tokens=first.prompt_tokens,
        completion_tokens=sum(u.completion_tokens for u in reported),
        cached_tokens=first.cached_tokens,
        prompt_ms=first.prompt_ms,
        generation_ms=sum(u.generation_ms or 0.0 for u in reported) or None,
    )


__all__ = ["RETRY_TEMPERATURE", "RETRY_WARMER", "Attempt", "merged_usage", "retry_params"]
