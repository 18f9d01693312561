"""How a reply is made: one try, or more compute at reply time (issue 15).

The strategy and its one check live with the settings (:mod:`personae.settings.reply`), which
read it from ``[reply]`` without importing the agent; they are re-exported here, where the
agent's strategies (:mod:`.best_of_n`, :mod:`.agent`) use them.
"""

from __future__ import annotations

from personae.settings.reply import (
    MAX_N,
    MAX_ROUNDS,
    MAX_TIME_BUDGET_S,
    MAX_TOKEN_BUDGET,
    STRATEGIES,
    ReplyStrategy,
    StrategyName,
)

__all__ = [
    "MAX_N",
    "MAX_ROUNDS",
    "MAX_TIME_BUDGET_S",
    "MAX_TOKEN_BUDGET",
    "STRATEGIES",
    "ReplyStrategy",
    "StrategyName",
]
