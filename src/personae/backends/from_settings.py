"""Settings → a backend: the one rule, for the CLI (``personae chat``, ``ask`` …) and the server.

A backend gets ``model`` and the options of ``settings.backend_options`` (``[backend_options]``,
with ``PERSONAE_CTX``, ``--base-url``, the server's ``n_parallel`` … laid over it), less those
of *personae's* options that its own options model (``options_model``, see
:mod:`.registry`) does not declare. Personae's options are the ones the built-in backends
declare: set for one backend, from a flag or the environment, they are no business of another
(``--ctx`` means nothing to a remote server). Any other key is passed on, so that the backend's
model reports a typo as an unknown option instead of it being dropped quietly. A backend that
declares no options model gets every option, as it always did.
"""

from __future__ import annotations

import functools
from typing import Any

from personae.backends.base import Backend, parse_options
from personae.backends.registry import backend_class, builtin_backends, get_backend, options_model
from personae.settings.root import Settings


@functools.cache
def personae_options() -> frozenset[str]:
    """The options the built-in backends declare (``n_ctx``, ``base_url``, ``api_key`` …)."""
    names: set[str] = set()
    for cls in builtin_backends():
        model = options_model(cls)
        if model is not None:
            names |= set(model.model_fields)
    return frozenset(names)


def backend_options(settings: Settings, *, check: bool = False) -> dict[str, Any]:
    """The options ``settings`` give the backend they name, ``model`` included. ``check``:
    validate them with the backend's options model first (a bad one is a one-line
    :class:`~personae.errors.ConfigError` naming it), e.g. before a long download."""
    cls = backend_class(settings.backend)
    options: dict[str, Any] = {**settings.backend_options, "model": settings.model}
    model = options_model(cls)
    if model is None:
        return options
    declared = set(model.model_fields)
    ours = personae_options()
    options = {k: v for k, v in options.items() if k in declared or k not in ours}
    if check:
        parse_options(model, settings.backend, options)
    return options


def build_backend(settings: Settings) -> Backend:
    """The backend ``settings`` describe, built with :func:`backend_options` (checked first,
    so that a bad option is one line whatever the backend's own ``from_options`` does)."""
    return get_backend(settings.backend, **backend_options(settings, check=True))


__all__ = ["backend_options", "build_backend", "personae_options"]
