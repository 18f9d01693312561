"""Which backend answers a request: model ids are ``character`` or ``character@model`` (or
``raw:`` / ``raw:model``, the model with no character), and one backend per model is built on
first use and kept (loading an embedded model takes seconds and hundreds of MB, so never
twice)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from personae.backends.base import Backend
from personae.backends.from_settings import build_backend
from personae.config import Settings
from personae.errors import ModelError

BackendFactory = Callable[[str], Backend]


RAW_PREFIX = "raw:"


@dataclass(frozen=True)
class ModelId:
    """``sherlock@qwen2.5-coder-1.5b`` → character ``sherlock``, backend model ``qwen2.5…``;
    ``model`` is None when the request leaves it to the server's default.

    ``raw:qwen2.5-coder-1.5b`` (``raw:`` alone: the default model) is the model itself with no
    character (``raw`` is True, ``character`` empty): for clients such as SillyTavern that
    send their own prompt with the card in it. No character id can look like it: ids never
    contain ':' (see personae.store.check_id)."""

    character: str
    model: str | None
    raw: bool = False

    @classmethod
    def parse(cls, text: str) -> ModelId:
        text = text.strip()
        if text[: len(RAW_PREFIX)].lower() == RAW_PREFIX:
            return cls("", text[len(RAW_PREFIX) :].strip() or None, raw=True)
        # Character ids never contain '@' (see personae.store.check_id), so the first one
        # separates them; a backend model name may contain more.
        character, _, model = text.partition("@")
        return cls(character.strip(), model.strip() or None)

    @staticmethod
    def raw_id(model: str) -> str:
        """The id of ``model`` with no character."""
        return f"{RAW_PREFIX}{model}"


class BackendPool:
    """Builds backends with ``factory`` and caches one per model name, thread-safely: two first
    requests for the same model wait for one build instead of loading it twice."""

    def __init__(self, factory: BackendFactory, default_model: str) -> None:
        self._factory = factory
        self.default_model = default_model
        self._built: dict[str, Backend] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def get(self, model: str | None = None) -> Backend:
        name = model or self.default_model
        with self._guard:
            if name in self._built:
                return self._built[name]
            lock = self._locks.setdefault(name, threading.Lock())
        with lock:
            if name not in self._built:
                # A failed build is not cached: the next request tries again.
                backend = self._factory(name)
                with self._guard:
                    self._built[name] = backend
            return self._built[name]

    def put(self, model: str, backend: Backend) -> None:
        """Use ``backend`` for ``model`` (one built already, e.g. at startup)."""
        with self._guard:
            self._built[model] = backend

    def built(self) -> dict[str, Backend]:
        with self._guard:
            return dict(self._built)

    def close(self) -> None:
        """Close every backend built (an embedded one holds a model and a llama.cpp thread)."""
        with self._guard:
            built, self._built = list(self._built.values()), {}
        for backend in built:
            close = getattr(backend, "close", None)
            if close is not None:
                close()


def settings_factory(settings: Settings) -> BackendFactory:
    """Backends as ``settings`` describe them, for any model a client names.

    With the embedded backend a client may only pick catalogue models (or the configured one):
    a model id is client input, and it must not become a path on this machine to load. Models
    that are not pulled yet are an error naming the pull command, never a download mid-request.
    """

    def build(model: str) -> Backend:
        if settings.backend == "embedded" and model != settings.model:
            from personae.models import CATALOGUE

            if model not in CATALOGUE:
                names = ", ".join(sorted(CATALOGUE))
                raise ModelError(
                    f"this server does not offer the model {model!r}: use one of {names}, "
                    "or leave the '@model' part out for the server's default",
                    param="model",
                )
        return build_backend(settings.with_overrides(model=model))

    return build
