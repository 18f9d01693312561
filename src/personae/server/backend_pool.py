"""Which backend answers a request: model ids are ``character`` or ``character@model`` (or
``raw:`` / ``raw:model``, the model with no character), and one backend per model is built on
first use and kept (loading an embedded model takes seconds and hundreds of MB, so never
twice)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from personae.backends.base import AdapterServer, Backend
from personae.backends.from_settings import build_backend
from personae.config import Settings
from personae.errors import AdapterError, InvalidInput, ModelError
from personae.training.adapters import AdapterInfo, AdapterRegistry
from personae.training.serving import served_adapter

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

    def get(self, model: str | None = None, *, build: BackendFactory | None = None) -> Backend:
        """The backend for ``model`` (None: the default), built on first use by the pool's
        factory, or by ``build`` when the caller knows better (a remote server's adapter)."""
        name = model or self.default_model
        with self._guard:
            if name in self._built:
                return self._built[name]
            lock = self._locks.setdefault(name, threading.Lock())
        with lock:
            if name not in self._built:
                # A failed build is not cached: the next request tries again.
                backend = (build or self._factory)(name)
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
        if settings.backend != "embedded":
            return build_backend(settings.with_overrides(model=model))
        from personae.backends.from_settings import backend_options
        from personae.backends.registry import get_backend

        options = backend_options(settings.with_overrides(model=model), check=True)
        # Every finished adapter trained on this model is loaded (at scale 0: none applies
        # unless a request asks), so one model in memory serves every character's adapter.
        adapters = {
            a.label: a.gguf for a in AdapterRegistry().list() if a.ready and a.base == model
        }
        if adapters:
            options["adapters"] = adapters
        return get_backend("embedded", **options)

    return build


def served_adapters(model: str) -> dict[str, Path]:
    """Every finished adapter trained on ``model``, by ``character@adapter``: what a server
    loads with the model."""
    return {a.label: a.gguf for a in AdapterRegistry().list() if a.ready and a.base == model}


def character_backend(pool: BackendPool, character: str, model: str | None) -> Backend:
    """The backend that answers as ``character`` for a model id's ``@`` part ``model``: an
    adapter of the character's by name, else a backend model; with no ``@`` part, the
    character's active adapter, else the default model alone.

    The embedded backend applies an adapter to the base it was trained on (an active one only
    when that is the default model). A remote server that holds adapters (vLLM, SGLang) is
    asked for ``character@adapter`` by name (see :mod:`personae.training.serving`), once it
    lists it."""
    registry = AdapterRegistry()
    info: AdapterInfo | None = None
    if model is not None:
        info = registry.find(character, model)
        if info is None:
            return pool.get(model)
        info = registry.usable(character, model)  # an unfinished one is a clear error
    else:
        info = registry.active(character)
        if info is None:
            return pool.get(None)
    default = pool.get(None)
    if isinstance(default, AdapterServer):
        chosen = info
        otherwise = (
            "" if model is not None else f", or `personae adapters activate {character} none`"
        )
        # Kept once the server has it; a check that failed is not (start the server with the
        # adapter, and the next request finds it).
        return pool.get(
            chosen.label, build=lambda _: served_adapter(default, chosen, otherwise=otherwise)
        )
    if model is None and info.base != pool.default_model:
        return default
    backend = pool.get(info.base)
    with_adapters = getattr(backend, "with_adapters", None)
    if with_adapters is None:
        raise InvalidInput(
            f"{info.label} is a LoRA adapter: it is served by the embedded backend or a server "
            "that holds it (vLLM, SGLang: see `personae adapters serve-args`)",
            param="model",
        )
    try:
        view: Backend = with_adapters(info.label)
    except AdapterError:
        raise InvalidInput(
            f"{info.label} was trained after this server loaded {info.base}: restart the server "
            "to serve it",
            param="model",
        ) from None
    return view
