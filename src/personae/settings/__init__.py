"""One typed settings tree: every table of ``config.toml`` is a strict pydantic model
(:class:`~personae.settings.base.Section`), composed into :class:`Settings` and checked once,
when the file is read (:func:`personae.config.load_settings`, which also lays the
``PERSONAE_*`` environment and flags over it). A bad value is one line naming the table and
the key: ``[memory] lines_k must be a whole number >= 0, not -1``.

A ground floor: it imports nothing of personae's but the errors and the PII patterns
(:mod:`personae.privacy.pii`), so that the store, the backends, memory, the agent and the server
can all read their settings from it. Where a table's values become objects that need more (the
memory code's ``MemorySettings``, the server's options), the package above converts them.

The names below are imported when first used, so that :mod:`personae.environment` can check a
user id (:mod:`.identity`) without loading pydantic and the PII patterns.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "DEFAULT_BACKEND": "personae.settings.root",
    "DEFAULT_CHAT_MODEL": "personae.settings.root",
    "Settings": "personae.settings.root",
    "LOCAL_USER": "personae.settings.identity",
    "check_user_id": "personae.settings.identity",
    "MEMORY_KINDS": "personae.settings.memory",
    "MemorySection": "personae.settings.memory",
    "MemoryWeights": "personae.settings.memory",
    "PrivacySection": "personae.settings.privacy",
    "redaction_policy": "personae.settings.privacy",
    "transcript_redactor": "personae.settings.privacy",
    "ReplyStrategy": "personae.settings.reply",
    "ReplyTable": "personae.settings.reply",
    "Section": "personae.settings.base",
    "ServerSection": "personae.settings.server",
    "StoreSection": "personae.settings.store",
}

if TYPE_CHECKING:
    from personae.settings.base import Section
    from personae.settings.identity import LOCAL_USER, check_user_id
    from personae.settings.memory import MEMORY_KINDS, MemorySection, MemoryWeights
    from personae.settings.privacy import PrivacySection, redaction_policy, transcript_redactor
    from personae.settings.reply import ReplyStrategy, ReplyTable
    from personae.settings.root import DEFAULT_BACKEND, DEFAULT_CHAT_MODEL, Settings
    from personae.settings.server import ServerSection
    from personae.settings.store import StoreSection


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'personae.settings' has no attribute {name!r}")


__all__ = [
    "DEFAULT_BACKEND",
    "DEFAULT_CHAT_MODEL",
    "LOCAL_USER",
    "MEMORY_KINDS",
    "MemorySection",
    "MemoryWeights",
    "PrivacySection",
    "ReplyStrategy",
    "ReplyTable",
    "Section",
    "ServerSection",
    "Settings",
    "StoreSection",
    "check_user_id",
    "redaction_policy",
    "transcript_redactor",
]
