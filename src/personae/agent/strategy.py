"""How a reply is made: one try, or more compute at reply time (issue 15).

- ``single``: one reply, streamed as it passes the reply guards (:mod:`personae.agent.guards`).
- ``best-of-n``: ``n`` candidates generated together (:mod:`personae.backends.candidates`: the
  embedded model decodes them in parallel slots from one reading of the prompt), each through
  the same guards; the verifiers (:mod:`personae.agent.verifiers`) rank them and the best is the
  reply. The others are kept, ranked, as the turn's swipes: ``/regenerate`` shows the next one
  at once.
- ``refine``: draft, critique, revise: a reply whose verifiers fail a gate is written again with
  the draft and the verifiers' reasons in a note, at most ``rounds`` times.
- ``auto``: best-of-n; only when every candidate fails a gate, the best one is refined.

Budgets bound the extra compute: ``time_budget_s`` (candidates still running then are judged on
the whole sentences they have) and ``token_budget`` (generated tokens over all candidates and
rounds).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, cast, get_args

from personae.errors import InvalidInput

StrategyName = Literal["single", "best-of-n", "refine", "auto"]
STRATEGIES: tuple[str, ...] = get_args(StrategyName)
MAX_N = 8
MAX_ROUNDS = 3
MAX_TIME_BUDGET_S = 600.0
MAX_TOKEN_BUDGET = 65536


@dataclass(frozen=True)
class ReplyStrategy:
    """The ``[reply]`` settings: which strategy and its budgets (validated on creation)."""

    name: StrategyName = "single"
    n: int = 4
    rounds: int = 1
    time_budget_s: float | None = None
    token_budget: int | None = None

    def __post_init__(self) -> None:
        if self.name not in STRATEGIES:
            raise InvalidInput(
                f"unknown reply strategy {self.name!r}: use one of {', '.join(STRATEGIES)}",
                param="strategy",
            )
        if isinstance(self.n, bool) or not isinstance(self.n, int) or not 1 <= self.n <= MAX_N:
            raise InvalidInput(f"n must be a whole number from 1 to {MAX_N}", param="n")
        if (
            isinstance(self.rounds, bool)
            or not isinstance(self.rounds, int)
            or not 0 <= self.rounds <= MAX_ROUNDS
        ):
            raise InvalidInput(
                f"rounds must be a whole number from 0 to {MAX_ROUNDS}", param="rounds"
            )
        budget = self.time_budget_s
        if budget is not None and (
            isinstance(budget, bool)
            or not isinstance(budget, int | float)
            or not math.isfinite(budget)
            or not 0 < budget <= MAX_TIME_BUDGET_S
        ):
            raise InvalidInput(
                f"time_budget_s must be a number of seconds above 0 and at most "
                f"{MAX_TIME_BUDGET_S:g}",
                param="time_budget_s",
            )
        tokens = self.token_budget
        if tokens is not None and (
            isinstance(tokens, bool)
            or not isinstance(tokens, int)
            or not 1 <= tokens <= MAX_TOKEN_BUDGET
        ):
            raise InvalidInput(
                f"token_budget must be a whole number from 1 to {MAX_TOKEN_BUDGET}",
                param="token_budget",
            )

    @property
    def candidates(self) -> int:
        """How many candidates a turn generates at once (1 for single and refine)."""
        return self.n if self.name in ("best-of-n", "auto") else 1

    @classmethod
    def from_mapping(cls, table: Mapping[str, Any], *, where: str = "[reply]") -> ReplyStrategy:
        """From a settings table (``strategy``, ``n``, ``rounds``, ``time_budget_s``,
        ``token_budget``); an unknown key is an error that names it."""
        known = {"strategy", "n", "rounds", "time_budget_s", "token_budget"}
        unknown = sorted(set(table) - known)
        if unknown:
            raise InvalidInput(
                f"{where}: unknown setting {unknown[0]!r} (known: {', '.join(sorted(known))})",
                param=unknown[0],
            )
        name = table.get("strategy", "single")
        if not isinstance(name, str):
            raise InvalidInput(f"{where}: strategy must be text", param="strategy")
        fields: dict[str, Any] = {k: table[k] for k in known - {"strategy"} if k in table}
        return cls(name=cast(StrategyName, name.strip().lower()), **fields)


__all__ = ["MAX_N", "MAX_ROUNDS", "STRATEGIES", "ReplyStrategy", "StrategyName"]
