"""The ``[memory]`` table as the :class:`MemorySettings` a chat runs with (and ``[privacy]``'s
policy, re-exported for the memory code's callers).

The table is typed and checked with the rest of ``config.toml``
(:class:`~personae.settings.memory.MemorySection`, read when a command starts), so a bad
``decay`` is one line naming the key then, not an error at the first recall; here it only
becomes the memory code's own settings.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from personae.memory.episodic import Weights
from personae.memory.manager import MemorySettings
from personae.settings.memory import MemorySection
from personae.settings.privacy import redaction_policy

__all__ = ["KEYS", "memory_section", "memory_settings", "redaction_policy"]

KEYS = tuple(MemorySection.model_fields)  # redaction_policy: [privacy]


def memory_section(table: MemorySection | Mapping[str, Any]) -> MemorySection:
    """``table`` as a checked section (a mapping: a ``[memory]`` table as read)."""
    return table if isinstance(table, MemorySection) else MemorySection.parse(table)


def memory_settings(
    table: MemorySection | Mapping[str, Any], kinds: Sequence[str] | None = None
) -> MemorySettings:
    """``[memory]`` → settings; ``kinds`` (e.g. from ``--memories``) overrides the table's.
    A bad ``kinds`` argument is an error of its own (it names no file)."""
    section = memory_section(table)
    values = section.model_dump(exclude={"kinds", "weights"})
    chosen = list(kinds) if kinds is not None else list(section.kinds)
    return MemorySettings.only(chosen, weights=Weights(**section.weights.model_dump()), **values)
