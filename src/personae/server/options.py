"""The server's own settings: generation slots, the wait queue, CORS and allowed Host names.

Each comes from an argument (``personae serve`` flags, :func:`~personae.server.create_app`
keywords), else the ``[server]`` table of ``config.toml``, else a default::

    [server]
    parallel = 4                 # replies generated at once
    max_queue = 64               # requests that may wait for a slot; more get a 429
    max_queue_per_user = 32      # of those, how many one user may have (default: half)
    cors_origins = ["http://localhost:3000"]   # browser pages on other origins; none: off
    allowed_hosts = ["mybox.lan"]  # Host names a server without API keys answers, besides
                                   # IP addresses and localhost (see personae.server.guard)
    [server.reply.sherlock]      # a character's own reply strategy, over [reply]
    strategy = "best-of-n"       # (see personae.server.strategies)
    n = 4

``parallel`` defaults to the embedded backend's ``n_parallel`` (1 unless set in
``[backend_options]``), or 8 with a remote backend. With the embedded backend it also *sets*
``n_parallel``, so that llama.cpp has one slot for every reply the server lets generate; each
slot gets the whole context (``n_ctx`` is per slot). When a configured reply strategy decodes
more candidates at once than that (best-of-N), ``n_parallel`` is raised to its ``n`` so that they
still decode together; admission still lets ``parallel`` slots' worth of replies generate, a
best-of-N reply counting as ``n`` of them (see :mod:`.strategies`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from personae.config import Settings
from personae.errors import ConfigError
from personae.server.admission import DEFAULT_MAX_QUEUE
from personae.server.strategies import Strategies, backend_slots

MAX_PARALLEL = 64  # the embedded backend's limit on n_parallel
_KNOWN = (
    "parallel",
    "max_queue",
    "max_queue_per_user",
    "cors_origins",
    "allowed_hosts",
    "reply",
)
# A host name (or .domain for it and its subdomains), an IP address, optionally with a port.
_HOST = re.compile(r"\.?[\w.-]+(:\d{1,5})?|\[[0-9a-fA-F:.]+\](:\d{1,5})?")
MAX_QUEUE = 10_000
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
    table = settings.server
    unknown = sorted(set(table) - set(_KNOWN))
    if unknown:
        raise ConfigError(
            f"[server]: unknown setting {unknown[0]!r}: use {', '.join(_KNOWN[:-1])} or "
            f"{_KNOWN[-1]}"
        )
    embedded = settings.backend == "embedded"
    if parallel is not None:
        slots = _whole(parallel, "parallel", 1, MAX_PARALLEL)
    elif "parallel" in table:
        slots = _whole(table["parallel"], "[server] parallel", 1, MAX_PARALLEL)
    elif embedded and settings.backend_options.get("n_parallel") is not None:
        slots = _whole(
            _int(settings.backend_options["n_parallel"]),
            "[backend_options] n_parallel",
            1,
            MAX_PARALLEL,
        )
    else:
        slots = 1 if embedded else DEFAULT_REMOTE_PARALLEL
    queue = (
        _whole(max_queue, "max_queue", 0, MAX_QUEUE)
        if max_queue is not None
        else _whole(table.get("max_queue", DEFAULT_MAX_QUEUE), "[server] max_queue", 0, MAX_QUEUE)
    )
    per_user_given = max_queue_per_user is not None
    per_user_value = max_queue_per_user if per_user_given else table.get("max_queue_per_user")
    per_user = (
        None
        if per_user_value is None
        else _whole(
            per_user_value,
            "max_queue_per_user" if per_user_given else "[server] max_queue_per_user",
            1,
            MAX_QUEUE,
        )
    )
    if cors_origins is not None:
        origins = _origins(cors_origins, "cors origin")
    else:
        origins = _origins(table.get("cors_origins", []), "[server] cors_origins")
    if allowed_hosts is not None:
        hosts = _hosts(allowed_hosts, "allowed host")
    else:
        hosts = _hosts(table.get("allowed_hosts", []), "[server] allowed_hosts")
    strategies = Strategies.from_settings(settings.reply, table)
    if embedded:
        settings = settings.with_overrides(n_parallel=backend_slots(slots, strategies))
    return settings, ServerOptions(slots, queue, per_user, origins, hosts, strategies)


def _int(value: Any) -> Any:
    # Environment and CLI overrides arrive as text.
    return int(value) if isinstance(value, str) and value.strip().isdecimal() else value


def _whole(value: Any, where: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ConfigError(
            f"{where} must be a whole number from {low} to {high:,}, not {value!r}", param=where
        )
    return value


def _origins(values: Any, where: str) -> tuple[str, ...]:
    """Origins as browsers send them: ``scheme://host[:port]``, nothing after; or ``*``."""
    if isinstance(values, str) or not isinstance(values, Sequence):
        raise ConfigError(f"{where} must be a list of origins, e.g. ['http://localhost:3000']")
    out: list[str] = []
    for value in values:
        text = value.strip() if isinstance(value, str) else ""
        if text != "*":
            try:
                parts = urlsplit(text)
                port_ok = parts.port is None or parts.port > 0
            except ValueError:
                parts, port_ok = None, False
            if (
                parts is None
                or not port_ok
                or not parts.scheme
                or not parts.netloc
                or parts.path
                or parts.query
                or parts.fragment
                or parts.username
                or parts.password
            ):
                raise ConfigError(
                    f"{where} {value!r} is not an origin: give scheme, host and port only, "
                    "e.g. http://localhost:3000 (no path, no trailing slash), or * for any"
                )
            text = f"{parts.scheme.lower()}://{parts.netloc.lower()}"
        if text not in out:
            out.append(text)
    return tuple(out)


def _hosts(values: Any, where: str) -> tuple[str, ...]:
    """Host names as a Host header carries them (a port is allowed and ignored); ``*``: any."""
    if isinstance(values, str) or not isinstance(values, Sequence):
        raise ConfigError(f"{where}s must be a list of host names, e.g. ['mybox.lan']")
    out: list[str] = []
    for value in values:
        text = value.strip().lower() if isinstance(value, str) else ""
        if text != "*" and not _HOST.fullmatch(text):
            raise ConfigError(
                f"{where} {value!r} is not a host name: give a name such as mybox.lan "
                "(.example.com: the domain and its subdomains), or * for any"
            )
        if text not in out:
            out.append(text)
    return tuple(out)
