"""The ``[server]`` table (``personae serve``): generation slots, the wait queue, CORS, allowed
Host names and each character's own reply strategy::

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

The same checks apply to ``personae serve``'s flags and :func:`~personae.server.create_app`'s
keywords (:meth:`ServerSection.with_values`); how the server uses the values, and the defaults
that depend on the backend, are :mod:`personae.server.options`'s.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import BeforeValidator, Field

from personae.errors import ConfigError
from personae.settings.base import Allowed, Section, SettingError
from personae.settings.reply import ReplyTable

MAX_PARALLEL = 64  # the embedded backend's limit on n_parallel
MAX_QUEUE = 10_000
DEFAULT_MAX_QUEUE = 64
# A host name (or .domain for it and its subdomains), an IP address, optionally with a port.
_HOST = re.compile(r"\.?[\w.-]+(:\d{1,5})?|\[[0-9a-fA-F:.]+\](:\d{1,5})?")


def origins(values: Any) -> tuple[str, ...]:
    """Origins as browsers send them: ``scheme://host[:port]``, nothing after; or ``*``."""
    if isinstance(values, str) or not isinstance(values, Sequence):
        raise SettingError(
            f"must be a list of origins, e.g. ['http://localhost:3000'], not {values!r}"
        )
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
                raise SettingError(
                    f"{value!r} is not an origin: give scheme, host and port only, "
                    "e.g. http://localhost:3000 (no path, no trailing slash), or * for any"
                )
            text = f"{parts.scheme.lower()}://{parts.netloc.lower()}"
        if text not in out:
            out.append(text)
    return tuple(out)


def hosts(values: Any) -> tuple[str, ...]:
    """Host names as a Host header carries them (a port is allowed and ignored); ``*``: any."""
    if isinstance(values, str) or not isinstance(values, Sequence):
        raise SettingError(f"must be a list of host names, e.g. ['mybox.lan'], not {values!r}")
    out: list[str] = []
    for value in values:
        text = value.strip().lower() if isinstance(value, str) else ""
        if text != "*" and not _HOST.fullmatch(text):
            raise SettingError(
                f"{value!r} is not a host name: give a name such as mybox.lan "
                "(.example.com: the domain and its subdomains), or * for any"
            )
        if text not in out:
            out.append(text)
    return tuple(out)


class ServerSection(Section):
    """``[server]``. ``parallel`` None: the backend's default (see
    :func:`personae.server.options.resolve`); ``max_queue_per_user`` None: half the queue."""

    TABLE = "server"

    parallel: int | None = Field(default=None, ge=1, le=MAX_PARALLEL)
    max_queue: int = Field(default=DEFAULT_MAX_QUEUE, ge=0, le=MAX_QUEUE)
    max_queue_per_user: int | None = Field(default=None, ge=1, le=MAX_QUEUE)
    cors_origins: Annotated[tuple[str, ...], BeforeValidator(origins)] = ()
    allowed_hosts: Annotated[tuple[str, ...], BeforeValidator(hosts)] = ()
    # Keyed by character id (checked when the server starts: ids are the store's).
    reply: Annotated[
        dict[str, ReplyTable],
        Allowed("a table of tables, one per character id, e.g. [server.reply.sherlock]"),
    ] = Field(default_factory=dict)


def whole(value: Any, where: str, low: int, high: int) -> int:
    """``value`` if it is a whole number from ``low`` to ``high``, else a :class:`ConfigError`
    naming ``where`` (for values that are not a section's, such as ``n_parallel``)."""
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ConfigError(
            f"{where} must be a whole number from {low} to {high:,}, not {value!r}", param=where
        )
    return value


__all__ = [
    "DEFAULT_MAX_QUEUE",
    "MAX_PARALLEL",
    "MAX_QUEUE",
    "ServerSection",
    "hosts",
    "origins",
    "whole",
]
