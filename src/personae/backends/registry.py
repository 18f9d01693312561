"""Find backends by name. Built-ins register through the same entry-point group
(``personae.backends``) a third-party package would use; ``register_backend`` adds one at run
time (tests, notebooks)."""

from __future__ import annotations

from importlib.metadata import entry_points
from typing import Any

from pydantic import BaseModel

from personae.backends.base import Backend
from personae.errors import ConfigError, InvalidInput

ENTRY_POINT_GROUP = "personae.backends"

_registered: dict[str, type[Any]] = {}

# Imported lazily so that listing backends never loads a native runtime.
_BUILTIN = {
    "embedded": "personae.backends.embedded:EmbeddedBackend",
    "openai": "personae.backends.openai_compat:OpenAICompatBackend",
}


def register_backend(name: str, cls: type[Any]) -> None:
    _registered[name] = cls


def backend_names() -> list[str]:
    names = set(_registered) | set(_BUILTIN)
    names |= {ep.name for ep in entry_points(group=ENTRY_POINT_GROUP)}
    return sorted(names)


def _load(spec: str) -> type[Any]:
    module_name, _, attr = spec.partition(":")
    module = __import__(module_name, fromlist=[attr])
    cls: type[Any] = getattr(module, attr)
    return cls


def backend_class(name: str) -> type[Any]:
    if name in _registered:
        return _registered[name]
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name == name:
            cls: type[Any] = ep.load()
            return cls
    if name in _BUILTIN:
        return _load(_BUILTIN[name])
    raise InvalidInput(
        f"unknown backend {name!r}; choose one of: {', '.join(backend_names())}", param="backend"
    )


def builtin_backends() -> list[type[Any]]:
    """The classes of the backends that come with personae."""
    return [_load(spec) for spec in _BUILTIN.values()]


def options_model(cls: type[Any]) -> type[BaseModel] | None:
    """The options model backend class ``cls`` declares (``options_model``), or None."""
    model = getattr(cls, "options_model", None)
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def check_backend_name(name: str | None, *, where: str = "PERSONAE_BACKEND") -> None:
    """A :class:`ConfigError` naming ``where`` when ``name`` is set but no installed backend
    has it (the environment checks only a name's shape: it sits below the backends)."""
    if name and name not in backend_names():
        raise ConfigError(
            f"{where}={name!r} is not allowed: use one of {', '.join(backend_names())}, or unset it"
        )


def get_backend(name: str = "embedded", **options: Any) -> Backend:
    """Build a backend by registry name, e.g. ``get_backend("embedded", model="smollm2-135m")``
    or ``get_backend("openai", base_url="http://127.0.0.1:11434/v1", model="llama3")``."""
    cls = backend_class(name)
    try:
        backend: Backend = cls.from_options(**options)
    except TypeError as exc:
        raise ConfigError(f"backend {name!r}: {exc}") from exc
    return backend
