"""The tries a reply takes: each :class:`Attempt`'s outcome and usage, the parameters of the
next try (:func:`retry_params`), and the usage of them all (:func:`merged_usage`). Shared by a
single reply (:mod:`.agent`) and best-of-N or refine (:mod:`.best_of_n`)."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
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


class StreamRecord:
    """What every reply stream reports once iterated: its shown ``text``, ``finish_reason``,
    ``usage``, timings (``ttft_ms``: the first token from the backend, on any try;
    ``shown_ms``: the first text the caller got, later when the guards held a sentence back or
    a try was thrown away) and its ``attempts``. A stream can be iterated once."""

    def __init__(self) -> None:
        self._shown = ""
        self.finish_reason: str | None = None
        self.usage: Usage | None = None
        self.ttft_ms: float | None = None
        self.shown_ms: float | None = None
        self.duration_ms: float | None = None
        self.retried = False  # a try was thrown away (empty, guarded, or a failed round)
        self.attempts: list[Attempt] = []
        self._started = False
        self._start = 0.0

    @property
    def text(self) -> str:
        """The (cleaned, guarded) reply so far: what has been shown."""
        return self._shown

    @property
    def done(self) -> bool:
        return self.finish_reason is not None

    def _begin(self) -> float:
        """Mark the stream started (a second iteration is an error); the start time."""
        if self._started:
            raise RuntimeError("a reply stream can be iterated once")
        self._started = True
        self._start = time.perf_counter()
        return self._start

    def __iter__(self) -> Iterator[str]:
        raise NotImplementedError

    def read(self) -> str:
        """Consume the whole reply and return its text."""
        for _ in self:
            pass
        return self.text


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


__all__ = [
    "RETRY_TEMPERATURE",
    "RETRY_WARMER",
    "Attempt",
    "StreamRecord",
    "merged_usage",
    "retry_params",
]
