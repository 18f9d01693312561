"""LLM backends behind one streaming protocol (see :mod:`personae.backends.base`)."""

from personae.backends.base import (
    Backend,
    BackendOptions,
    Chunk,
    GenerationParams,
    Message,
    TokenCounter,
    Usage,
    collect,
)
from personae.backends.registry import backend_names, get_backend, register_backend

__all__ = [
    "Backend",
    "BackendOptions",
    "Chunk",
    "GenerationParams",
    "Message",
    "TokenCounter",
    "Usage",
    "backend_names",
    "collect",
    "get_backend",
    "register_backend",
]
