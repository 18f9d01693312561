"""personae: role-playing language agents, offline first.

The small public API (imported lazily, so ``import personae`` stays cheap)::

    from personae import Agent, Chat, Turn, get_backend, load_character, open_library
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "Agent": "personae.agent",
    "Chat": "personae.agent",
    "Reply": "personae.agent",
    "ReplyStream": "personae.agent",
    "Turn": "personae.agent",
    "restyle": "personae.agent",
    "GenerationParams": "personae.backends",
    "Message": "personae.backends",
    "get_backend": "personae.backends",
    "Character": "personae.characters",
    "PersonaeError": "personae.errors",
    "open_library": "personae.store.library",
}

if TYPE_CHECKING:
    from personae.agent import Agent, Chat, Reply, ReplyStream, Turn
    from personae.agent.restyle import restyle
    from personae.backends import GenerationParams, Message, get_backend
    from personae.characters import Character
    from personae.errors import PersonaeError
    from personae.store.library import open_library


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'personae' has no attribute {name!r}")


def load_character(id_or_path: str | Path) -> Character:
    """A character by library id (``"sherlock"``), by name, or from a card file
    (JSON, PNG or CHARX)."""
    from personae.characters import read_card
    from personae.store import CharacterRepository
    from personae.store.library import open_library

    path = Path(id_or_path)
    if path.suffix.lower() in (".json", ".png", ".charx") or path.exists():
        return read_card(path).character
    with open_library() as db:
        return CharacterRepository(db).find(str(id_or_path)).character


__all__ = [
    "Agent",
    "Character",
    "Chat",
    "GenerationParams",
    "Message",
    "PersonaeError",
    "Reply",
    "ReplyStream",
    "Turn",
    "__version__",
    "get_backend",
    "load_character",
    "open_library",
    "restyle",
]
