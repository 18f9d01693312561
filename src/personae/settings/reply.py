"""How a reply is made (issue 15), and the ``[reply]`` table that chooses it.

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

:class:`ReplyStrategy` is the one check of these values, whoever gives them: the ``[reply]``
table and each ``[server.reply.<id>]`` (as a :class:`ReplyTable`), the ``chat``/``ask`` flags and
a server request's ``personae`` field. It lives with the settings, below the agent, so that the
settings need not import the agent; the agent's strategies (:mod:`personae.agent.best_of_n`)
import it from here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Annotated, Any, Literal, cast, get_args

from pydantic import BeforeValidator, model_validator

from personae.errors import InvalidInput, PersonaeError
from personae.settings.base import Allowed, Section, SettingError

StrategyName = Literal["single", "best-of-n", "refine", "auto"]
STRATEGIES: tuple[str, ...] = get_args(StrategyName)
MAX_N = 8
MAX_ROUNDS = 3
MAX_TIME_BUDGET_S = 600.0
MAX_TOKEN_BUDGET = 65536
# What each value allows, said once for the checks below and for the table's type errors.
ALLOWED = {
    "n": f"a whole number from 1 to {MAX_N}",
    "rounds": f"a whole number from 0 to {MAX_ROUNDS}",
    "time_budget_s": f"a number of seconds above 0 and at most {MAX_TIME_BUDGET_S:g}",
    "token_budget": f"a whole number from 1 to {MAX_TOKEN_BUDGET}",
}


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
        if not _whole(self.n, 1, MAX_N):
            raise InvalidInput(f"n must be {ALLOWED['n']}", param="n")
        if not _whole(self.rounds, 0, MAX_ROUNDS):
            raise InvalidInput(f"rounds must be {ALLOWED['rounds']}", param="rounds")
        budget = self.time_budget_s
        if budget is not None and (
            isinstance(budget, bool)
            or not isinstance(budget, int | float)
            or not math.isfinite(budget)
            or not 0 < budget <= MAX_TIME_BUDGET_S
        ):
            raise InvalidInput(
                f"time_budget_s must be {ALLOWED['time_budget_s']}", param="time_budget_s"
            )
        if self.token_budget is not None and not _whole(self.token_budget, 1, MAX_TOKEN_BUDGET):
            raise InvalidInput(
                f"token_budget must be {ALLOWED['token_budget']}", param="token_budget"
            )

    @property
    def candidates(self) -> int:
        """How many candidates a turn generates at once (1 for single and refine)."""
        return self.n if self.name in ("best-of-n", "auto") else 1

    @classmethod
    def from_mapping(cls, table: Mapping[str, Any], *, where: str = "[reply]") -> ReplyStrategy:
        """From a settings table (``strategy``, ``n``, ``rounds``, ``time_budget_s``,
        ``token_budget``); a bad or unknown key is a :class:`~personae.errors.ConfigError`
        that names it (and ``where``)."""
        return ReplyTable.parse(table, table=where.strip("[]")).over(cls())


def _whole(value: object, low: int, high: int) -> bool:
    return not isinstance(value, bool) and isinstance(value, int) and low <= value <= high


def _strategy_name(value: Any) -> Any:
    return value.strip().lower().replace("_", "-") if isinstance(value, str) else value


class ReplyTable(Section):
    """``[reply]``, and each character's ``[server.reply.<id>]`` laid over it: the keys given
    replace the strategy's own (:meth:`over`). Types are checked here, ranges by
    :class:`ReplyStrategy` (one check for the file, the flags and requests)."""

    TABLE = "reply"

    strategy: Annotated[StrategyName | None, BeforeValidator(_strategy_name)] = None
    n: Annotated[int | None, Allowed(ALLOWED["n"])] = None
    rounds: Annotated[int | None, Allowed(ALLOWED["rounds"])] = None
    time_budget_s: Annotated[float | None, Allowed(ALLOWED["time_budget_s"])] = None
    token_budget: Annotated[int | None, Allowed(ALLOWED["token_budget"])] = None

    @model_validator(mode="after")
    def _in_range(self) -> ReplyTable:
        self.over(ReplyStrategy())  # every range is checked alone, whatever it is laid over
        return self

    def over(self, base: ReplyStrategy) -> ReplyStrategy:
        """``base`` with the keys given here; a value out of range is a :class:`SettingError`
        naming its key."""
        values = self.given()
        if "strategy" in values:
            values["name"] = cast(StrategyName, values.pop("strategy"))
        try:
            return replace(base, **values)
        except PersonaeError as exc:
            key = exc.param or "strategy"
            text = str(exc).removeprefix(f"{key} ")
            shown = values.get("name" if key == "strategy" else key)
            raise SettingError(f"{text}, not {shown!r}", key) from None


__all__ = [
    "ALLOWED",
    "MAX_N",
    "MAX_ROUNDS",
    "MAX_TIME_BUDGET_S",
    "MAX_TOKEN_BUDGET",
    "STRATEGIES",
    "ReplyStrategy",
    "ReplyTable",
    "StrategyName",
]
