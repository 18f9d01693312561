"""What an experience build is asked to do (:class:`BuildOptions`, checked when made) and what
one run of it did (:class:`BuildReport`)."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

from personae.errors import InvalidInput

MAX_SCENES = 5000


@dataclass(frozen=True)
class BuildOptions:
    """How much to build and how. ``limit``: at most this many experiences in this run (a
    trial; the next run continues)."""

    scenes: int = 50
    protective_ratio: float = 0.2
    candidates: int = 2
    rounds: int = 2
    parallel: int = 1
    limit: int | None = None
    turns: int = 6
    max_tokens: int = 700
    scene_tokens: int = 900
    temperature: float = 0.8
    seed: int = 0
    scene_similarity: float = 0.6
    experience_similarity: float = 0.5
    sampling: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        checks = [
            (1 <= self.scenes <= MAX_SCENES, f"--scenes must be 1 to {MAX_SCENES}"),
            (0.0 <= self.protective_ratio <= 1.0, "--protective-ratio must be 0 to 1"),
            (1 <= self.candidates <= 8, "--candidates must be 1 to 8"),
            (1 <= self.rounds <= 5, "--rounds must be 1 to 5"),
            (1 <= self.parallel <= 16, "--parallel must be 1 to 16"),
            (self.limit is None or self.limit >= 1, "--limit must be at least 1"),
            (2 <= self.turns <= 40, "--turns must be 2 to 40"),
            (64 <= self.max_tokens <= 8192, "--max-tokens must be 64 to 8192"),
        ]
        for ok, message in checks:
            if not ok:
                raise InvalidInput(message)

    def manifest(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("limit")
        return data


@dataclass
class BuildReport:
    """What one run did (the directory's totals are :func:`.stats.dataset_stats`)."""

    resumed: bool
    new_scenes: int = 0
    kept: int = 0
    dropped: Counter[str] = field(default_factory=Counter)
    generated: int = 0  # candidates generated
    completion_tokens: int = 0
    seconds: float = 0.0


__all__ = ["MAX_SCENES", "BuildOptions", "BuildReport"]
