"""A turn's swipes: the candidates best-of-N did not show, kept for ``/regenerate``.

The turn a reply belongs to is the visible message before it (the user's message, or the
character's previous one when it spoke again); its swipes are stored under that message's id
(:class:`~personae.store.swipes.SwipeRepository`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from personae.store import StoredMessage
from personae.store.swipes import SwipeRepository

if TYPE_CHECKING:
    from personae.agent.best_of_n import ChosenReplyStream
    from personae.agent.verifiers import Ranked


def last_turn(visible: Sequence[StoredMessage]) -> tuple[StoredMessage | None, int | None]:
    """The chat's last reply (None when the chat ends with another message) and the id of
    the message before it, whose swipes regenerating would show (None when there is none)."""
    replaced = visible[-1] if visible and visible[-1].role == "assistant" else None
    before = [m for m in visible if replaced is None or m.id < replaced.id]
    return replaced, (before[-1].id if before else None)


def keep_candidates(
    swipes: SwipeRepository, chat_id: int, after_id: int, stream: ChosenReplyStream
) -> int:
    """Keep the candidates ``stream`` did not show as the turn's swipes, best first, each with
    its verifiers' scores; returns how many."""
    others = stream.others
    return swipes.replace(
        chat_id,
        after_id,
        [r.candidate.text.strip() for r in others],
        [_detail(r) for r in others],
    )


def _detail(ranked: Ranked) -> dict[str, object]:
    detail = ranked.as_dict()
    detail.pop("text", None)
    return detail


__all__ = ["keep_candidates", "last_turn"]
