"""The server's own settings: generation slots, the wait queue, CORS and allowed Host names.

Each comes from an argument (``personae serve`` flags, :func:`~personae.server.create_app`
keywords), else the ``[server]`` table of ``config.toml`` (typed and checked with the rest of
the file: :class:`~personae.settings.server.ServerSection`, where the table is described), else
a default. An argument is checked by the same rules as the table's key.

``parallel`` defaults to the embedded backend's ``n_parallel`` (1 unless set in
``[backend_options]``), or 8 with a remote backend. With the embedded backend it also *sets*
``n_parallel``, so that llama.cpp has one slot for every reply the server lets generate; each
slot gets the whole context (``n_ctx`` is per slot). When a configured reply strategy decodes
more candidates at once than that (best-of-N), ``n_parallel`` is raised to its ``n`` so that they
still decode together; admission still lets ``parallel`` slots' worth of replies generate, a
best-of-N reply counting as ``n`` of them (see :mod:`.strategies`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from personae.config import Settings
from personae.server.strategies import Strategies, backend_slots
from personae.settings.server import DEFAULT_MAX_QUEUE, MAX_PARALLEL, MAX_QUEUE, whole

__all__ = ["DEFAULT_REMOTE_PARALLEL", "MAX_PARALLEL", "MAX_QUEUE", "ServerOptions", "resolve"]

DEFAULT_REMOTE_PARALLEL = 8


@dataclass(frozen=True)
class ServerOptions:
    parallel: int
    max_queue: int = DEFAULT_MAX_QUEUE
    max_queue_per_user: int | None = None  # None: half the queue
    cors_origins: tuple[str, ...] = ()
    allowed_hosts: tuple[str, ...] = ()
    strategies: Strategies = field(default_factory=Strategies)


def resolve(
    settings: Settings,
    *,
    parallel: int | None = None,
    max_queue: int | None = None,
    max_queue_per_user: int | None = None,
    cors_origins: Sequence[str] | None = None,
    allowed_hosts: Sequence[str] | None = None,
) -> tuple[Settings, ServerOptions]:
    """The options to serve with, and ``settings`` with the embedded backend's ``n_parallel``
    set to match. Bad values are a :class:`ConfigError` naming where they came from."""
    given = {
        key: value
        for key, value in (
            ("parallel", parallel),
            ("max_queue", max_queue),
            ("max_queue_per_user", max_queue_per_user),
            ("cors_origins", cors_origins),
            ("allowed_hosts", allowed_hosts),
        )
        if value is not None
    }
    # The arguments win over the table; an error names the argument (no table).
    server = settings.server.with_values(given) if given else settings.server
    embedded = settings.backend == "embedded"
    if server.parallel is not None:
        slots = server.parallel
    elif embedded and settings.backend_options.get("n_parallel") is not None:
        slots = whole(
            _int(settings.backend_options["n_parallel"]),
            "[backend_options] n_parallel",
            1,
            MAX_PARALLEL,
        )
    else:
        slots = 1 if embedded else DEFAULT_REMOTE_PARALLEL
    strategies = Strategies.from_settings(settings.reply, server)
    if embedded:
        settings = settings.with_overrides(n_parallel=backend_slots(slots, strategies))
    options = ServerOptions(
        slots,
        server.max_queue,
        server.max_queue_per_user,
        server.cors_origins,
        server.allowed_hosts,
        strategies,
    )
    return settings, options


def _int(value: Any) -> Any:
    # Environment and CLI overrides arrive as text.
    return int(value) if isinstance(value, str) and value.strip().isdecimal() else value
